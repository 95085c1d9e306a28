//! Event triggers from the files of `Builder::sql_dir` (`CREATE EVENT
//! TRIGGER`): a function of a managed schema run on a DDL event. They
//! belong to the database, not to a schema, so they are made last in a
//! migration (the DDL before them does not fire them), dropped first, and
//! dropped and made again when they change (there is no `OR REPLACE`).
//! strata's own DDL watch (`strata_…`) is none of them.

use serde::{Deserialize, Serialize};

use super::{q, Change, Step};
use crate::diff::Plan;
use crate::lexer::TokenKind;
use crate::sql_object::Cursor;
use crate::{quote_ident, quote_literal, QualifiedName, SchemaState};

/// One event trigger, as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTrigger {
    /// Its name.
    pub name: String,
    /// The event: `ddl_command_start`, `ddl_command_end`, `sql_drop` or
    /// `table_rewrite`.
    pub event: String,
    /// The command tags of `WHEN TAG IN (…)`, as written (upper case);
    /// empty for every command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The function it executes.
    pub function: QualifiedName,
    /// Disabled (`ALTER EVENT TRIGGER … DISABLE`), as a database may hold
    /// it; a file's is always enabled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

const EVENTS: &[&str] = &[
    "ddl_command_start",
    "ddl_command_end",
    "sql_drop",
    "table_rewrite",
];

impl EventTrigger {
    /// The event trigger `sql` creates, or why `sql` is none.
    pub fn from_sql(sql: &str) -> Result<EventTrigger, String> {
        let tokens = crate::lexer::significant(sql);
        let mut at = Cursor {
            tokens: &tokens,
            i: 0,
        };
        if !(at.eat_word("create") && at.eat_word("event") && at.eat_word("trigger")) {
            return Err(crate::sql_files::not_taken(sql));
        }
        let Some((None, name, _)) = at.name() else {
            return Err("`CREATE EVENT TRIGGER` must be followed by its name, which has no schema (an event trigger belongs to the database)".to_owned());
        };
        let event = match (at.eat_word("on"), at.peek().and_then(|t| t.name())) {
            (true, Some(event)) if EVENTS.contains(&event.as_str()) => event,
            _ => {
                return Err(format!(
                    "event trigger {name} must say `ON` one of {}",
                    EVENTS.join(", ")
                ))
            }
        };
        at.i += 1;
        let mut tags = Vec::new();
        if at.eat_word("when") {
            if !(at.eat_word("tag") && at.eat_word("in")) {
                return Err(format!(
                    "event trigger {name}: strata takes `WHEN TAG IN ('CREATE TABLE', …)` as its only filter"
                ));
            }
            let Some(list) = at.parenthesised() else {
                return Err(format!(
                    "event trigger {name}: `WHEN TAG IN` needs its tags in parentheses"
                ));
            };
            for token in list {
                if token.is_punct(",") {
                    continue;
                }
                match literal(token.text).filter(|_| token.kind == TokenKind::String) {
                    Some(tag) => tags.push(tag.to_uppercase()),
                    None => {
                        return Err(format!(
                            "event trigger {name}: each tag is a string in single quotes, not `{}`",
                            token.text
                        ))
                    }
                }
            }
            if at.peek_word("and") {
                return Err(format!(
                    "event trigger {name}: strata takes one filter, `WHEN TAG IN (…)`"
                ));
            }
        }
        if !(at.eat_word("execute") && (at.eat_word("function") || at.eat_word("procedure"))) {
            return Err(format!(
                "event trigger {name} must go on with `EXECUTE FUNCTION schema.function()`"
            ));
        }
        let function = match at.name() {
            Some((Some(schema), function, _)) => QualifiedName::new(schema, function),
            _ => {
                return Err(format!(
                    "name the schema of the function event trigger {name} executes: `EXECUTE FUNCTION app.f()`"
                ))
            }
        };
        if !at.parenthesised().is_some_and(<[_]>::is_empty) || at.peek().is_some() {
            return Err(format!(
                "event trigger {name}: its function takes no arguments, and nothing follows `()`"
            ));
        }
        Ok(EventTrigger {
            name,
            event,
            tags,
            function,
            disabled: false,
        })
    }

    /// Its `CREATE EVENT TRIGGER`, without the closing semicolon.
    pub fn statement(&self) -> String {
        let when = match self.tags.as_slice() {
            [] => String::new(),
            tags => {
                let tags: Vec<String> = tags.iter().map(|t| quote_literal(t)).collect();
                format!("\n    WHEN TAG IN ({})", tags.join(", "))
            }
        };
        format!(
            "CREATE EVENT TRIGGER {} ON {}{when}\n    EXECUTE FUNCTION {}()",
            quote_ident(&self.name),
            self.event,
            q(&self.function)
        )
    }
}

/// The text of a `'…'` literal.
fn literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Event triggers in `sql_dir` files.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "event trigger",
    opens: &["create event trigger"],
    several: false,
    take: |sql, state| {
        let trigger = EventTrigger::from_sql(sql)?;
        crate::sql_files::checked_schema(&trigger.function.schema)?;
        if trigger.name.starts_with("strata_") {
            return Err(format!(
                "event trigger {}: names that start with `strata_` are strata's own; choose another",
                trigger.name
            ));
        }
        if state.event_triggers.iter().any(|t| t.name == trigger.name) {
            return Err(format!("event trigger {} is declared twice", trigger.name));
        }
        let at = state
            .event_triggers
            .partition_point(|t| t.name < trigger.name);
        state.event_triggers.insert(at, trigger);
        Ok(())
    },
    files: |state| {
        state
            .event_triggers
            .iter()
            .map(|t| crate::SqlFile {
                folder: "event_triggers",
                schema: t.function.schema.clone(),
                name: t.name.clone(),
                stem: vec![t.name.clone()],
                sql: t.statement(),
            })
            .collect()
    },
    // Kept with the schema of the function it runs.
    retain: |state, keep| {
        state.event_triggers.retain(|t| keep(&t.function.schema));
    },
};

/// A change to an event trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum EventTriggerChange {
    /// `CREATE EVENT TRIGGER`.
    CreateEventTrigger {
        /// The trigger.
        trigger: EventTrigger,
    },
    /// `DROP EVENT TRIGGER`.
    DropEventTrigger {
        /// The trigger as it was.
        trigger: EventTrigger,
    },
}

pub(crate) const OPS: &[&str] = &["create_event_trigger", "drop_event_trigger"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let find = |state: &'_ SchemaState, name: &str| {
        state
            .event_triggers
            .iter()
            .find(|t| t.name == name)
            .cloned()
    };
    for trigger in &old.event_triggers {
        if find(new, &trigger.name).as_ref() != Some(trigger) {
            plan.push(EventTriggerChange::DropEventTrigger {
                trigger: trigger.clone(),
            });
        }
    }
    for trigger in &new.event_triggers {
        if find(old, &trigger.name).as_ref() != Some(trigger) {
            plan.push(EventTriggerChange::CreateEventTrigger {
                trigger: trigger.clone(),
            });
        }
    }
}

impl Step for EventTriggerChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // Before anything its function may look at changes.
            EventTriggerChange::DropEventTrigger { .. } => (0, 0),
            // Last of all: the migration's own DDL does not fire it.
            EventTriggerChange::CreateEventTrigger { .. } => (7, 255),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("event triggers")
    }

    fn describe(&self) -> String {
        match self {
            EventTriggerChange::CreateEventTrigger { trigger } => {
                format!("create event trigger {}", trigger.name)
            }
            EventTriggerChange::DropEventTrigger { trigger } => {
                format!("drop event trigger {}", trigger.name)
            }
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            EventTriggerChange::CreateEventTrigger { .. } => (4, "create", "event_triggers"),
            EventTriggerChange::DropEventTrigger { .. } => (4, "drop", "event_triggers"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            EventTriggerChange::CreateEventTrigger { trigger } => {
                EventTriggerChange::DropEventTrigger { trigger }
            }
            EventTriggerChange::DropEventTrigger { trigger } => {
                EventTriggerChange::CreateEventTrigger { trigger }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            EventTriggerChange::CreateEventTrigger { trigger } => {
                state.event_triggers.retain(|t| t.name != trigger.name);
                let at = state
                    .event_triggers
                    .partition_point(|t| t.name < trigger.name);
                state.event_triggers.insert(at, trigger.clone());
            }
            EventTriggerChange::DropEventTrigger { trigger } => {
                state.event_triggers.retain(|t| t.name != trigger.name);
            }
        }
    }

    fn render(&self) -> String {
        match self {
            EventTriggerChange::CreateEventTrigger { trigger } => {
                format!("{};", trigger.statement())
            }
            EventTriggerChange::DropEventTrigger { trigger } => {
                format!("DROP EVENT TRIGGER {};", quote_ident(&trigger.name))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_trigger_reads_as_the_catalog_holds_it() {
        let t = EventTrigger::from_sql(
            "create event trigger issue_access on ddl_command_end when tag in ('create extension', 'CREATE FUNCTION') execute procedure extensions.grant_access()",
        )
        .unwrap();
        assert_eq!(t.event, "ddl_command_end");
        assert_eq!(t.tags, ["CREATE EXTENSION", "CREATE FUNCTION"]);
        assert_eq!(t.function, QualifiedName::new("extensions", "grant_access"));
        assert_eq!(EventTrigger::from_sql(&t.statement()), Ok(t));
    }

    #[test]
    fn what_an_event_trigger_file_cannot_say_is_named() {
        for (sql, says) in [
            (
                "CREATE EVENT TRIGGER a.t ON sql_drop EXECUTE FUNCTION a.f()",
                "has no schema",
            ),
            (
                "CREATE EVENT TRIGGER t ON login EXECUTE FUNCTION a.f()",
                "must say `ON` one of",
            ),
            (
                "CREATE EVENT TRIGGER t ON sql_drop EXECUTE FUNCTION f()",
                "name the schema",
            ),
            (
                "CREATE EVENT TRIGGER t ON sql_drop WHEN tag IN (x) EXECUTE FUNCTION a.f()",
                "string in single quotes",
            ),
            (
                "CREATE EVENT TRIGGER t ON sql_drop EXECUTE FUNCTION a.f() x",
                "nothing follows",
            ),
        ] {
            let error = EventTrigger::from_sql(sql).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }
}
