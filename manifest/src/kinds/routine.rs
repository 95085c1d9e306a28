//! Functions and procedures from the files of `Builder::sql_dir`, one per
//! file: created before what calls them, replaced in place when only the
//! body or attributes change, dropped and made again (with exactly the
//! triggers and views that use them) when the argument list or the return
//! type changes, which `CREATE OR REPLACE` refuses. Never `CASCADE`.

use serde::{Deserialize, Serialize};

use super::{q, Change, Step};
use crate::diff::Plan;
use crate::sql_object::{identify, RoutineKind, SqlObject};
use crate::{QualifiedName, SchemaState};

/// One function or procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routine {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its input argument types, as the catalog spells them: with schema and
    /// name, its identity.
    pub args: String,
    /// `CREATE PROCEDURE` rather than `CREATE FUNCTION`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub procedure: bool,
    /// Its statement, as its file holds it (without the closing semicolon).
    pub sql: String,
}

impl Routine {
    /// The routine `sql` creates, or why `sql` is none.
    pub fn from_sql(sql: &str) -> Result<Routine, String> {
        let sql = sql.trim().trim_end_matches(';').trim_end();
        match identify(sql)? {
            SqlObject::Routine {
                kind, name, args, ..
            } => Ok(Routine {
                schema: name.schema,
                name: name.name,
                args,
                procedure: kind == RoutineKind::Procedure,
                sql: sql.to_owned(),
            }),
            _ => Err("not a function or procedure".to_owned()),
        }
    }

    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// `FUNCTION` or `PROCEDURE`.
    pub fn keyword(&self) -> &'static str {
        self.kind().keyword()
    }

    fn kind(&self) -> RoutineKind {
        if self.procedure {
            RoutineKind::Procedure
        } else {
            RoutineKind::Function
        }
    }

    /// `schema.name(types)`, as drift and descriptions name it.
    pub fn signature(&self) -> String {
        format!("{}.{}({})", self.schema, self.name, self.args)
    }

    /// True when `other` is the same object (schema, name, argument types).
    pub fn same_object(&self, other: &Routine) -> bool {
        self.schema == other.schema && self.name == other.name && self.args == other.args
    }

    /// The argument list and return type, which `CREATE OR REPLACE` cannot change.
    fn header(&self) -> String {
        match identify(&self.sql) {
            Ok(SqlObject::Routine { header, .. }) => header,
            _ => String::new(),
        }
    }

    /// Its statement with `OR REPLACE`, so it replaces the one in place.
    fn or_replace(&self) -> String {
        match identify(&self.sql) {
            Ok(SqlObject::Routine {
                or_replace: false,
                after_create,
                ..
            }) => crate::sql_object::replace_spans(
                &self.sql,
                &[(after_create..after_create, " OR REPLACE")],
            ),
            _ => self.sql.clone(),
        }
    }

    /// True when its statement names a table or view of `state` as
    /// `schema.name`: a `LANGUAGE sql` body is checked when it is created,
    /// so such a routine is created after the tables (a model view it reads
    /// comes later still: see the guide's limits).
    fn reads_tables(&self, state: &SchemaState) -> bool {
        names_with_bodies(&self.sql).iter().any(|n| {
            state.table(&n.schema, &n.name).is_some()
                || state
                    .views
                    .iter()
                    .any(|v| v.schema == n.schema && v.name == n.name)
        })
    }
}

/// Functions and procedures in `sql_dir` files.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "function or procedure",
    opens: &["create function", "create procedure"],
    several: false,
    take: |sql, state| {
        let routine = Routine::from_sql(sql)?;
        crate::sql_files::checked_schema(&routine.schema)?;
        if let Some(other) = state.routines.iter().find(|r| r.same_object(&routine)) {
            return Err(format!(
                "{} {} is declared twice; the other file says:\n{}",
                routine.keyword().to_lowercase(),
                routine.signature(),
                other.sql
            ));
        }
        state.add_routine(routine);
        Ok(())
    },
    files: |state| {
        state
            .routines
            .iter()
            .map(|r| crate::SqlFile {
                folder: if r.procedure {
                    "procedures"
                } else {
                    "functions"
                },
                schema: r.schema.clone(),
                name: format!("{}({})", r.name, r.args),
                stem: vec![r.schema.clone(), r.name.clone()],
                sql: r.sql.clone(),
            })
            .collect()
    },
    retain: |state, keep| state.routines.retain(|r| keep(&r.schema)),
};

/// Every `schema.name` that `sql` names, in its text and inside its
/// dollar-quoted or quoted bodies (lexed in their turn).
fn names_with_bodies(sql: &str) -> std::collections::BTreeSet<QualifiedName> {
    let mut names = crate::kinds::view::qualified_names(sql);
    for token in crate::lexer::significant(sql) {
        let body = match token.kind {
            crate::lexer::TokenKind::Dollar => {
                // `$tag$…$tag$`: the tag is the text up to the second `$`.
                let tag_end = token.text.get(1..).and_then(|t| t.find('$')).map(|i| i + 2);
                tag_end.and_then(|end| {
                    let tag = token.text.get(..end)?;
                    token.text.get(end..)?.strip_suffix(tag).map(str::to_owned)
                })
            }
            crate::lexer::TokenKind::String if token.text.starts_with('\'') => token
                .text
                .get(1..)
                .and_then(|t| t.strip_suffix('\''))
                .map(|t| t.replace("''", "'")),
            _ => None,
        };
        if let Some(body) = body {
            names.extend(names_with_bodies(&body));
        }
    }
    names
}

/// A change to a function or procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoutineChange {
    /// Its statement.
    CreateRoutine {
        /// The routine.
        routine: Routine,
        /// Created after the tables, which its body reads.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        after_tables: bool,
    },
    /// `CREATE OR REPLACE`: the same signature and return type, a new body or attributes.
    ReplaceRoutine {
        /// As it was.
        before: Routine,
        /// As it is now.
        after: Routine,
        /// Replaced after the tables, which its body reads.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        after_tables: bool,
    },
    /// Its body checked, once everything the migration makes exists: it
    /// was created with `check_function_bodies` off, as `pg_dump` creates
    /// functions, so that one may call another made after it.
    ValidateRoutine {
        /// The routine.
        routine: Routine,
    },
    /// `DROP FUNCTION` / `DROP PROCEDURE` with its argument types, never `CASCADE`.
    DropRoutine {
        /// The routine as it was.
        routine: Routine,
        /// Dropped before the views and triggers come back (it is made again
        /// after them), rather than at the end.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        to_remake: bool,
    },
}

pub(crate) const OPS: &[&str] = &[
    "create_routine",
    "replace_routine",
    "validate_routine",
    "drop_routine",
];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let find = |state: &'_ SchemaState, r: &Routine| {
        state.routines.iter().find(|o| o.same_object(r)).cloned()
    };
    for routine in &new.routines {
        let after_tables = routine.reads_tables(new);
        match find(old, routine) {
            None => plan.push(RoutineChange::CreateRoutine {
                routine: routine.clone(),
                after_tables,
            }),
            Some(before) if before.sql == routine.sql => continue,
            Some(before)
                if before.header() == routine.header() && before.procedure == routine.procedure =>
            {
                plan.push(RoutineChange::ReplaceRoutine {
                    before,
                    after: routine.clone(),
                    after_tables,
                });
            }
            Some(before) => {
                plan.push(RoutineChange::DropRoutine {
                    routine: before,
                    to_remake: true,
                });
                plan.push(RoutineChange::CreateRoutine {
                    routine: routine.clone(),
                    after_tables: true,
                });
            }
        }
        plan.push(RoutineChange::ValidateRoutine {
            routine: routine.clone(),
        });
    }
    for routine in &old.routines {
        if find(new, routine).is_none() {
            plan.push(RoutineChange::DropRoutine {
                routine: routine.clone(),
                to_remake: false,
            });
        }
    }
}

/// The routines a plan drops to make again: what uses them goes and comes back too.
pub(crate) fn remade(plan: &Plan<'_>) -> Vec<QualifiedName> {
    plan.changes
        .iter()
        .filter_map(|c| match c {
            Change::Routine(RoutineChange::DropRoutine {
                routine,
                to_remake: true,
            }) => Some(routine.qualified_name()),
            _ => None,
        })
        .collect()
}

impl Step for RoutineChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // After the schemas, extensions and enum types its signature may
            // use, before the tables whose defaults and checks may call it.
            RoutineChange::CreateRoutine {
                after_tables: false,
                ..
            }
            | RoutineChange::ReplaceRoutine {
                after_tables: false,
                ..
            } => (0, 5),
            // After the tables and columns, before views, indexes, checks and triggers.
            RoutineChange::CreateRoutine { .. } | RoutineChange::ReplaceRoutine { .. } => (3, 5),
            // After the views and triggers that use it are dropped.
            RoutineChange::DropRoutine {
                to_remake: true, ..
            } => (2, 10),
            // After the tables whose defaults may call it, before the enum
            // types and extensions its signature may use.
            RoutineChange::DropRoutine { .. } => (7, 6),
            // Once everything the migration makes exists.
            RoutineChange::ValidateRoutine { .. } => (7, 250),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("functions")
    }

    fn describe(&self) -> String {
        match self {
            RoutineChange::CreateRoutine { routine, .. } => {
                format!(
                    "create {} {}",
                    routine.keyword().to_lowercase(),
                    routine.name
                )
            }
            RoutineChange::ReplaceRoutine { after, .. } => {
                format!("replace {} {}", after.keyword().to_lowercase(), after.name)
            }
            RoutineChange::ValidateRoutine { routine } => {
                format!(
                    "check {} {}",
                    routine.keyword().to_lowercase(),
                    routine.name
                )
            }
            RoutineChange::DropRoutine { routine, .. } => {
                format!("drop {} {}", routine.keyword().to_lowercase(), routine.name)
            }
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            RoutineChange::CreateRoutine { .. } => (3, "create", "functions"),
            RoutineChange::ReplaceRoutine { .. } => (3, "change", "functions"),
            RoutineChange::DropRoutine { .. } => (3, "drop", "functions"),
            RoutineChange::ValidateRoutine { .. } => return None,
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            // What undoes the rest checks its own.
            RoutineChange::ValidateRoutine { .. } => return Vec::new(),
            RoutineChange::CreateRoutine {
                routine,
                after_tables,
            } => RoutineChange::DropRoutine {
                routine,
                to_remake: after_tables,
            },
            RoutineChange::ReplaceRoutine {
                before,
                after,
                after_tables,
            } => RoutineChange::ReplaceRoutine {
                before: after,
                after: before,
                after_tables,
            },
            RoutineChange::DropRoutine { routine, to_remake } => RoutineChange::CreateRoutine {
                routine,
                after_tables: to_remake,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            RoutineChange::CreateRoutine { routine, .. } => state.add_routine(routine.clone()),
            RoutineChange::ReplaceRoutine { after, .. } => {
                state.routines.retain(|r| !r.same_object(after));
                state.add_routine(after.clone());
            }
            RoutineChange::DropRoutine { routine, .. } => {
                state.routines.retain(|r| !r.same_object(routine));
            }
            RoutineChange::ValidateRoutine { .. } => {}
        }
    }

    fn render(&self) -> String {
        match self {
            RoutineChange::CreateRoutine { routine, .. } => {
                format!("{NO_BODY_CHECK}\n{};", routine.sql)
            }
            RoutineChange::ReplaceRoutine { after, .. } => {
                format!("{NO_BODY_CHECK}\n{};", after.or_replace())
            }
            RoutineChange::ValidateRoutine { routine } => validate(routine),
            RoutineChange::DropRoutine { routine, .. } => format!(
                "DROP {} {}({});",
                routine.keyword(),
                q(&routine.qualified_name()),
                routine.args
            ),
        }
    }
}

/// Set before a function or procedure is made: its body is checked at the
/// end of the migration ([`RoutineChange::ValidateRoutine`]), so that it may
/// call what is made after it, as `pg_dump` does.
const NO_BODY_CHECK: &str = "SET LOCAL check_function_bodies = off;";

/// Checks `routine`'s body by its language's validator, with the checks on
/// again: an error fails the migration, as it would have at `CREATE`.
fn validate(routine: &Routine) -> String {
    let identity = crate::quote_literal(&format!(
        "{}({})",
        q(&routine.qualified_name()),
        routine.args
    ));
    format!(
        "SET LOCAL check_function_bodies = on;\n\
         DO $strata$ DECLARE f regprocedure := {identity}::regprocedure; v regproc; BEGIN\n\
         \x20 SELECT l.lanvalidator INTO v FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE p.oid = f;\n\
         \x20 IF v <> 0 THEN EXECUTE format('SELECT %s(%s)', v, f::oid); END IF;\n\
         END $strata$;"
    )
}
