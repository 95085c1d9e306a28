//! Standalone sequences from the files of `Builder::sql_dir`: created before
//! the tables (a default may call `nextval` on one), given their `OWNED BY`
//! column once the tables exist, altered in place when their options
//! change, and dropped (which loses their current value, so confirmed like
//! a drop) after the tables that used them.

use serde::{Deserialize, Serialize};

use super::{q, Change, Step};
use crate::diff::Plan;
use crate::sql_object::{identify, SequenceOption, SqlObject};
use crate::{object_name, quote_ident, QualifiedName, SchemaState, Unconfirmed};

/// One sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its statement, as its file holds it (without the closing semicolon).
    pub sql: String,
}

/// What a sequence is, with PostgreSQL's defaults filled in: what drift compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceSettings {
    /// Its type: `smallint`, `integer` or `bigint`.
    pub data_type: String,
    /// `INCREMENT BY`.
    pub increment: i128,
    /// `MINVALUE`.
    pub min: i128,
    /// `MAXVALUE`.
    pub max: i128,
    /// `START WITH`.
    pub start: i128,
    /// `CACHE`.
    pub cache: i128,
    /// `CYCLE`.
    pub cycle: bool,
    /// The owning column, `schema.table.column`.
    pub owned_by: Option<String>,
}

impl Sequence {
    /// The sequence `sql` creates, or why `sql` is none.
    pub fn from_sql(sql: &str) -> Result<Sequence, String> {
        let sql = sql.trim().trim_end_matches(';').trim_end();
        match identify(sql)? {
            SqlObject::Sequence { name, .. } => Ok(Sequence {
                schema: name.schema,
                name: name.name,
                sql: sql.to_owned(),
            }),
            _ => Err("not a sequence".to_owned()),
        }
    }

    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    fn options(&self) -> Vec<SequenceOption> {
        match identify(&self.sql) {
            Ok(SqlObject::Sequence { options, .. }) => options,
            _ => Vec::new(),
        }
    }

    fn value(&self, key: &str) -> Option<String> {
        self.options()
            .into_iter()
            .find(|o| o.key == key)
            .map(|o| o.value)
    }

    /// The owning column, `schema.table.column`, if it has one.
    pub fn owned_by(&self) -> Option<String> {
        self.value("owned").filter(|v| v != "none")
    }

    /// Its statement without `OWNED BY` (the column may not exist yet).
    fn without_owner(&self) -> Sequence {
        let mut sql = self.sql.clone();
        if let Some(owned) = self.options().into_iter().find(|o| o.key == "owned") {
            sql = crate::sql_object::replace_spans(&self.sql, &[(owned.span, "")]);
            sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        Sequence {
            sql,
            ..self.clone()
        }
    }

    /// Its settings, each as PostgreSQL fills in what the statement leaves out.
    pub fn settings(&self) -> SequenceSettings {
        let number = |key: &str| self.value(key).and_then(|v| v.parse::<i128>().ok());
        let data_type = self.value("as").unwrap_or_else(|| "bigint".to_owned());
        let (type_min, type_max): (i128, i128) = match data_type.as_str() {
            "smallint" => (i16::MIN.into(), i16::MAX.into()),
            "integer" => (i32::MIN.into(), i32::MAX.into()),
            _ => (i64::MIN.into(), i64::MAX.into()),
        };
        let increment = number("increment").unwrap_or(1);
        let up = increment > 0;
        let min = number("minvalue").unwrap_or(if up { 1 } else { type_min });
        let max = number("maxvalue").unwrap_or(if up { type_max } else { -1 });
        SequenceSettings {
            data_type,
            increment,
            min,
            max,
            start: number("start").unwrap_or(if up { min } else { max }),
            cache: number("cache").unwrap_or(1),
            cycle: self.value("cycle").as_deref() == Some("cycle"),
            owned_by: self.owned_by(),
        }
    }

    /// The settings but the owner, to tell whether `ALTER SEQUENCE` has
    /// anything to do.
    fn options_key(&self) -> SequenceSettings {
        SequenceSettings {
            owned_by: None,
            ..self.settings()
        }
    }
}

/// Sequences in `sql_dir` files.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "sequence",
    opens: &["create sequence"],
    several: false,
    take: |sql, state| {
        let sequence = Sequence::from_sql(sql)?;
        crate::sql_files::checked_schema(&sequence.schema)?;
        let label = format!("sequence {}.{}", sequence.schema, sequence.name);
        if state
            .sequences
            .iter()
            .any(|s| s.schema == sequence.schema && s.name == sequence.name)
        {
            return Err(format!("{label} is declared twice"));
        }
        if let Some(owner) = sequence.owned_by() {
            let found = match owner.split('.').collect::<Vec<_>>().as_slice() {
                [schema, table, column] => state
                    .table(schema, table)
                    .is_some_and(|t| t.column(column).is_some()),
                _ => false,
            };
            if !found {
                return Err(format!(
                    "{label} is OWNED BY {owner}, which is no column of a model; own it by a model's column or say OWNED BY NONE"
                ));
            }
        }
        state.add_sequence(sequence);
        Ok(())
    },
    files: |state| {
        state
            .sequences
            .iter()
            .map(|s| crate::SqlFile {
                folder: "sequences",
                schema: s.schema.clone(),
                name: s.name.clone(),
                stem: vec![s.schema.clone(), s.name.clone()],
                sql: s.sql.clone(),
            })
            .collect()
    },
    retain: |state, keep| state.sequences.retain(|s| keep(&s.schema)),
};

/// A change to a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SequenceChange {
    /// Its statement, without `OWNED BY` (set once the tables exist).
    CreateSequence {
        /// The sequence, without its owner.
        sequence: Sequence,
    },
    /// `ALTER SEQUENCE` with the options that changed, and its owner.
    AlterSequence {
        /// As it was.
        before: Sequence,
        /// As it is now.
        after: Sequence,
    },
    /// `DROP SEQUENCE`: its current value is lost.
    DropSequence {
        /// The sequence as it was, without its owner.
        sequence: Sequence,
    },
}

pub(crate) const OPS: &[&str] = &["create_sequence", "alter_sequence", "drop_sequence"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let find = |state: &'_ SchemaState, s: &Sequence| {
        state
            .sequences
            .iter()
            .find(|o| o.schema == s.schema && o.name == s.name)
            .cloned()
    };
    for sequence in &new.sequences {
        match find(old, sequence) {
            None => {
                let bare = sequence.without_owner();
                plan.push(SequenceChange::CreateSequence {
                    sequence: bare.clone(),
                });
                if sequence.owned_by().is_some() {
                    plan.push(SequenceChange::AlterSequence {
                        before: bare,
                        after: sequence.clone(),
                    });
                }
            }
            Some(before) => {
                if before.settings() != sequence.settings() {
                    plan.push(SequenceChange::AlterSequence {
                        before,
                        after: sequence.clone(),
                    });
                }
            }
        }
    }
    for sequence in &old.sequences {
        if find(new, sequence).is_none() {
            let bare = sequence.without_owner();
            if sequence.owned_by().is_some() {
                plan.push(SequenceChange::AlterSequence {
                    before: sequence.clone(),
                    after: bare.clone(),
                });
            }
            plan.lossy(
                SequenceChange::DropSequence { sequence: bare },
                "restore its file in the sql_dir if the sequence should stay",
            );
        }
    }
}

/// `ALTER SEQUENCE`'s clauses from `before` to `after`: each option that
/// differs, set to its new value (or back to PostgreSQL's default).
fn alter_clauses(before: &Sequence, after: &Sequence) -> Vec<String> {
    let (b, a) = (before.options_key(), after.options_key());
    let mut clauses = Vec::new();
    if b.data_type != a.data_type {
        clauses.push(format!("AS {}", a.data_type));
    }
    if b.increment != a.increment {
        clauses.push(format!("INCREMENT BY {}", a.increment));
    }
    if b.min != a.min {
        clauses.push(format!("MINVALUE {}", a.min));
    }
    if b.max != a.max {
        clauses.push(format!("MAXVALUE {}", a.max));
    }
    if b.start != a.start {
        // The value a RESTART goes back to; the current value stays.
        clauses.push(format!("START WITH {}", a.start));
    }
    if b.cache != a.cache {
        clauses.push(format!("CACHE {}", a.cache));
    }
    if b.cycle != a.cycle {
        clauses.push(if a.cycle { "CYCLE" } else { "NO CYCLE" }.to_owned());
    }
    if before.owned_by() != after.owned_by() {
        clauses.push(match after.owned_by() {
            Some(column) => {
                let parts: Vec<String> = column.split('.').map(quote_ident).collect();
                format!("OWNED BY {}", parts.join("."))
            }
            None => "OWNED BY NONE".to_owned(),
        });
    }
    clauses
}

impl Step for SequenceChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // Before the tables whose defaults call nextval on it.
            SequenceChange::CreateSequence { .. } => (0, 6),
            // Once the owning column exists, and before a table that owned it is dropped.
            SequenceChange::AlterSequence { .. } => (3, 6),
            // After the tables and columns whose defaults used it.
            SequenceChange::DropSequence { .. } => (7, 5),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("sequences")
    }

    fn describe(&self) -> String {
        match self {
            SequenceChange::CreateSequence { sequence } => {
                format!("create sequence {}", sequence.name)
            }
            SequenceChange::AlterSequence { after, .. } => format!("alter sequence {}", after.name),
            SequenceChange::DropSequence { sequence } => format!("drop sequence {}", sequence.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            SequenceChange::CreateSequence { .. } => (3, "create", "sequences"),
            SequenceChange::AlterSequence { .. } => (3, "change", "sequences"),
            SequenceChange::DropSequence { .. } => (3, "drop", "sequences"),
        })
    }

    fn data_loss(&self) -> Option<Unconfirmed> {
        let SequenceChange::DropSequence { sequence } = self else {
            return None;
        };
        Some(Unconfirmed {
            object: object_name(&[&sequence.schema, &sequence.name]),
            what: "drop sequence: its current value is lost".to_owned(),
            help: String::new(),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            SequenceChange::CreateSequence { sequence } => {
                SequenceChange::DropSequence { sequence }
            }
            SequenceChange::AlterSequence { before, after } => SequenceChange::AlterSequence {
                before: after,
                after: before,
            },
            SequenceChange::DropSequence { sequence } => {
                SequenceChange::CreateSequence { sequence }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            SequenceChange::CreateSequence { sequence } => state.add_sequence(sequence.clone()),
            SequenceChange::AlterSequence { after, .. } => {
                state
                    .sequences
                    .retain(|s| !(s.schema == after.schema && s.name == after.name));
                state.add_sequence(after.clone());
            }
            SequenceChange::DropSequence { sequence } => state
                .sequences
                .retain(|s| !(s.schema == sequence.schema && s.name == sequence.name)),
        }
    }

    fn render(&self) -> String {
        match self {
            SequenceChange::CreateSequence { sequence } => format!("{};", sequence.sql),
            SequenceChange::AlterSequence { before, after } => format!(
                "ALTER SEQUENCE {} {};",
                q(&after.qualified_name()),
                alter_clauses(before, after).join(" ")
            ),
            SequenceChange::DropSequence { sequence } => {
                format!("DROP SEQUENCE {};", q(&sequence.qualified_name()))
            }
        }
    }
}
