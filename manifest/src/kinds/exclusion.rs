//! Exclusion constraints (`EXCLUDE USING gist (room WITH =, during WITH
//! &&)`, the booking system's "no two bookings of a room overlap"), one per
//! file of `Builder::sql_dir` as `ALTER TABLE schema.table ADD CONSTRAINT
//! name EXCLUDE …`, held by their table: they move and are renamed with it,
//! go when it goes, and come after `CREATE TABLE` with its other
//! constraints. Added to a table that already has rows, one builds its
//! index under a lock that stops reads and writes, and fails on rows that
//! conflict: a hazard, confirmed by name.

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{match_by, Plan, Renames};
use crate::lexer::significant;
use crate::sql_object::Cursor;
use crate::Unconfirmed;
use crate::{canonical_expr, object_name, quote_ident, QualifiedName, SchemaState, Table};

/// One exclusion constraint of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// Its name.
    pub name: String,
    /// What follows its name: `EXCLUDE USING gist (…) [WHERE (…)]`, as
    /// written (or, read from a database, as the server prints it).
    pub definition: String,
}

impl Exclusion {
    /// The table and the exclusion constraint that `sql` (`ALTER TABLE
    /// [ONLY] schema.table ADD CONSTRAINT name EXCLUDE …`) adds.
    pub fn from_sql(sql: &str) -> Result<(QualifiedName, Exclusion), String> {
        let sql = sql.trim().trim_end_matches(';').trim_end();
        let shape =
            "`ALTER TABLE schema.table ADD CONSTRAINT name EXCLUDE USING gist (column WITH =, …)`";
        let tokens = significant(sql);
        let mut at = Cursor {
            tokens: &tokens,
            i: 0,
        };
        if !(at.eat_word("alter") && at.eat_word("table")) {
            return Err(format!("not an exclusion constraint: write {shape}"));
        }
        at.eat_word("only");
        let Some((schema, table, _)) = at.name() else {
            return Err(format!(
                "`ALTER TABLE` must be followed by its table: {shape}"
            ));
        };
        let Some(schema) = schema else {
            return Err(format!(
                "name the schema of table {table}: `ALTER TABLE app.{table} ADD CONSTRAINT …`"
            ));
        };
        if !(at.eat_word("add") && at.eat_word("constraint")) {
            return Err(format!(
                "an `ALTER TABLE` in sql_dir adds one named exclusion constraint, {shape}; anything else about table {schema}.{table} belongs on its model"
            ));
        }
        let Some(name) = at.peek().and_then(|t| t.name()) else {
            return Err(format!("name the constraint: {shape}"));
        };
        at.i += 1;
        let Some(first) = at.peek().copied().filter(|t| t.is_word("exclude")) else {
            return Err(format!(
                "constraint {name} on {schema}.{table} is not `EXCLUDE …`: sql_dir takes exclusion constraints only, and a table's keys and checks belong on its model"
            ));
        };
        let last = tokens.last().copied().unwrap_or(first);
        let definition = sql
            .get(first.start..last.end())
            .unwrap_or_default()
            .to_owned();
        Ok((
            QualifiedName::new(schema, table),
            Exclusion { name, definition },
        ))
    }

    /// The statement that adds it to `table`.
    pub fn statement(&self, table: &QualifiedName) -> String {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            q(table),
            quote_ident(&self.name),
            self.definition
        )
    }
}

/// Exclusion constraints in `sql_dir` files, on a model's table.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "exclusion constraint",
    opens: &["alter table"],
    several: false,
    take: |sql, state| {
        let (table, exclusion) = Exclusion::from_sql(sql)?;
        let Some(on) = state.table_mut(&table.schema, &table.name) else {
            return Err(format!(
                "exclusion constraint {} is on {}.{}, which no model declares; put it on a model's table (after a move or rename, on the table's new name)",
                exclusion.name, table.schema, table.name
            ));
        };
        let taken = on.exclusions.iter().any(|e| e.name == exclusion.name)
            || on.checks.iter().any(|c| c.name == exclusion.name)
            || on
                .uniques
                .iter()
                .chain(&on.primary_key)
                .any(|k| k.name == exclusion.name)
            || on.foreign_keys.iter().any(|k| k.name == exclusion.name);
        if taken {
            return Err(format!(
                "table {}.{} has a constraint called {} already; give the exclusion constraint a name of its own",
                table.schema, table.name, exclusion.name
            ));
        }
        on.exclusions.push(exclusion);
        Ok(())
    },
    files: |state| {
        state
            .tables
            .iter()
            .flat_map(|t| {
                t.exclusions.iter().map(|e| crate::SqlFile {
                    folder: "exclusions",
                    schema: t.schema.clone(),
                    name: format!("{}.{}", t.name, e.name),
                    stem: vec![t.schema.clone(), t.name.clone(), e.name.clone()],
                    sql: e.statement(&t.qualified_name()),
                })
            })
            .collect()
    },
    retain: |state, keep| {
        for table in &mut state.tables {
            if !keep(&table.schema) {
                table.exclusions.clear();
            }
        }
    },
};

/// A change to a table's exclusion constraints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ExclusionChange {
    /// `ADD CONSTRAINT … EXCLUDE`.
    AddExclusion {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        exclusion: Exclusion,
        /// The table existed before, and may hold rows.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        existing: bool,
    },
    /// `DROP CONSTRAINT`.
    DropExclusion {
        /// The table.
        table: QualifiedName,
        /// The constraint as it was.
        exclusion: Exclusion,
    },
}

pub(crate) const OPS: &[&str] = &["add_exclusion", "drop_exclusion"];

/// A new table's exclusion constraints come after it; a table's own are
/// compared by name and definition, in the table's new column names.
pub(crate) const PART: TablePart = TablePart {
    created: |table, plan| {
        for exclusion in &table.exclusions {
            plan.push(ExclusionChange::AddExclusion {
                table: table.qualified_name(),
                exclusion: exclusion.clone(),
                existing: false,
            });
        }
    },
    diff: diff_exclusions,
};

/// What puts a dropped table's exclusion constraints back, after it.
pub(crate) fn restore(table: &Table) -> Vec<Change> {
    table
        .exclusions
        .iter()
        .map(|exclusion| {
            Change::from(ExclusionChange::AddExclusion {
                table: table.qualified_name(),
                exclusion: exclusion.clone(),
                existing: false,
            })
        })
        .collect()
}

fn diff_exclusions(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    let old: Vec<Exclusion> = before
        .exclusions
        .iter()
        .map(|e| Exclusion {
            definition: renames.expr_in_new_names(&name, &e.definition),
            ..e.clone()
        })
        .collect();
    let (_, gone, added) = match_by(&old, &table.exclusions, |a, b| {
        a.name == b.name && canonical_expr(&a.definition) == canonical_expr(&b.definition)
    });
    for exclusion in gone {
        plan.push(ExclusionChange::DropExclusion {
            table: name.clone(),
            exclusion: exclusion.clone(),
        });
    }
    for exclusion in added {
        plan.hazardous(ExclusionChange::AddExclusion {
            table: name.clone(),
            exclusion: exclusion.clone(),
            existing: true,
        });
    }
}

impl Step for ExclusionChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // With the table's other constraints: dropped before the
            // columns they use, added once the columns are there.
            ExclusionChange::DropExclusion { .. } => (6, 2),
            ExclusionChange::AddExclusion { .. } => (6, 9),
        }
    }

    fn describe(&self) -> String {
        match self {
            ExclusionChange::AddExclusion { exclusion, .. } => format!("add {}", exclusion.name),
            ExclusionChange::DropExclusion { exclusion, .. } => {
                format!("drop {}", exclusion.name)
            }
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            ExclusionChange::AddExclusion { .. } => (4, "add", "constraints"),
            ExclusionChange::DropExclusion { .. } => (4, "drop", "constraints"),
        })
    }

    fn hazard(&self) -> Option<Unconfirmed> {
        let ExclusionChange::AddExclusion {
            table,
            exclusion,
            existing: true,
        } = self
        else {
            return None;
        };
        Some(Unconfirmed {
            object: object_name(&[&table.schema, &table.name, &exclusion.name]),
            what: "add exclusion constraint to a table that may hold rows: its index is built under a lock that stops reads and writes, and rows that conflict make it fail".to_owned(),
            help: "confirm it for a small or quiet table; PostgreSQL cannot add an exclusion constraint NOT VALID or from an index built concurrently".to_owned(),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            ExclusionChange::AddExclusion {
                table, exclusion, ..
            } => ExclusionChange::DropExclusion { table, exclusion },
            ExclusionChange::DropExclusion { table, exclusion } => ExclusionChange::AddExclusion {
                table,
                exclusion,
                existing: true,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            ExclusionChange::AddExclusion {
                table, exclusion, ..
            } => {
                if let Some(t) = table_mut(state, table) {
                    t.exclusions.retain(|e| e.name != exclusion.name);
                    t.exclusions.push(exclusion.clone());
                }
            }
            ExclusionChange::DropExclusion { table, exclusion } => {
                if let Some(t) = table_mut(state, table) {
                    t.exclusions.retain(|e| e.name != exclusion.name);
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            ExclusionChange::AddExclusion {
                table, exclusion, ..
            } => format!("{};", exclusion.statement(table)),
            ExclusionChange::DropExclusion { table, exclusion } => format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                q(table),
                quote_ident(&exclusion.name)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusion_file_gives_its_table_name_and_definition() {
        let (table, exclusion) = Exclusion::from_sql(
            "ALTER TABLE ONLY booking.stays ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (NOT cancelled);",
        )
        .unwrap();
        assert_eq!(table, QualifiedName::new("booking", "stays"));
        assert_eq!(exclusion.name, "no_overlap");
        assert_eq!(
            exclusion.definition,
            "EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (NOT cancelled)"
        );
        assert_eq!(
            exclusion.statement(&table),
            r#"ALTER TABLE "booking"."stays" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (NOT cancelled)"#
        );
    }

    #[test]
    fn any_other_alter_table_is_refused_with_what_to_write() {
        for (sql, says) in [
            (
                "ALTER TABLE stays ADD CONSTRAINT x EXCLUDE (a WITH =)",
                "name the schema",
            ),
            (
                "ALTER TABLE b.stays ADD COLUMN note text",
                "belongs on its model",
            ),
            (
                "ALTER TABLE b.stays ADD CONSTRAINT c CHECK (a > 0)",
                "exclusion constraints only",
            ),
        ] {
            let error = Exclusion::from_sql(sql).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }
}
