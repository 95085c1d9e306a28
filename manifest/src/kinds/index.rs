//! Indexes other than those behind keys: matched by columns, uniqueness and
//! canonical predicate, renamed when only the name changed.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{match_by, Plan, Renames};
use crate::{qualified, quote_ident, QualifiedName, SchemaState, Table};

/// An index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// `UNIQUE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// The `WHERE` of a partial index.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The access method (`USING gin`), when not the default btree.
    #[serde(default, rename = "using", skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The operator class of every column (`gin_trgm_ops`), when not the default.
    #[serde(default, rename = "ops", skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
}

impl Index {
    /// Its access method, `btree` when none is named.
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("btree")
    }

    /// `USING method (column opclass, …)`: the part of `CREATE INDEX` after the table.
    pub(crate) fn key_sql(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| match &self.opclass {
                Some(ops) => format!("{} {ops}", quote_ident(c)),
                None => quote_ident(c),
            })
            .collect();
        match &self.method {
            Some(method) => format!("USING {method} ({})", columns.join(", ")),
            None => format!("({})", columns.join(", ")),
        }
    }
}

/// A change to a table's indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum IndexChange {
    /// `ALTER INDEX … RENAME TO`.
    RenameIndex {
        /// The table.
        table: QualifiedName,
        /// The name before.
        from: String,
        /// The name after.
        to: String,
    },
    /// `CREATE INDEX`.
    CreateIndex {
        /// The table.
        table: QualifiedName,
        /// The index.
        index: Index,
        /// `CONCURRENTLY`, in a migration of its own without a transaction:
        /// a table that existed before keeps taking writes while it builds.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The table.
        table: QualifiedName,
        /// The index as it was.
        index: Index,
        /// `CONCURRENTLY`, in a migration of its own without a transaction.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
}

pub(crate) const OPS: &[&str] = &["rename_index", "create_index", "drop_index"];

/// A new table's indexes follow its `CREATE TABLE`.
pub(crate) const PART: TablePart = TablePart {
    created: |table, plan| {
        for index in &table.indexes {
            plan.push(IndexChange::CreateIndex {
                table: table.qualified_name(),
                index: index.clone(),
                concurrently: false,
            });
        }
    },
    diff: diff_indexes,
};

fn diff_indexes(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    let old_indexes: Vec<Index> = before
        .indexes
        .iter()
        .map(|i| Index {
            columns: renames.columns(&name, &i.columns),
            predicate: i
                .predicate
                .as_deref()
                .map(|p| renames.expr_in_new_names(&name, p)),
            ..i.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_indexes, &table.indexes, |a, b| {
        a.columns == b.columns
            && a.unique == b.unique
            && a.method() == b.method()
            && a.opclass == b.opclass
            && a.predicate.as_deref().map(crate::canonical_expr)
                == b.predicate.as_deref().map(crate::canonical_expr)
    });
    for (a, b) in same {
        if a.name != b.name {
            plan.push(IndexChange::RenameIndex {
                table: name.clone(),
                from: a.name.clone(),
                to: b.name.clone(),
            });
        }
    }
    for a in gone {
        plan.push(IndexChange::DropIndex {
            table: name.clone(),
            index: a.clone(),
            concurrently: false,
        });
    }
    for b in added {
        plan.push(IndexChange::CreateIndex {
            table: name.clone(),
            index: b.clone(),
            concurrently: false,
        });
    }
}

/// Splits a migration's `changes` so that the tables that existed before it
/// keep taking writes: the index drops and builds on such a table become
/// `CONCURRENTLY`, in migrations of their own without a transaction (the
/// drops before the rest, the builds after it). A table the migration
/// creates, moves, renames, drops or rebuilds, and a partitioned table
/// (`CONCURRENTLY` cannot build on one), keep plain DDL in the rest.
/// Returns `(drops, rest, builds)`.
pub fn split_online(
    old: &SchemaState,
    changes: Vec<Change>,
) -> (Vec<Change>, Vec<Change>, Vec<Change>) {
    use super::constraint::{Constraint, ConstraintChange};
    use super::partition::PartitionChange;
    use super::table::TableChange;
    use crate::{Check, ColumnChange};
    let mut touched: Vec<QualifiedName> = Vec::new();
    for change in &changes {
        match change {
            Change::Table(
                TableChange::CreateTable { table } | TableChange::DropTable { table },
            ) => {
                touched.push(table.qualified_name());
            }
            Change::Table(TableChange::MoveTable { table, from, to }) => {
                touched.push(QualifiedName::new(from, table));
                touched.push(QualifiedName::new(to, table));
            }
            Change::Table(TableChange::RenameTable { schema, from, to }) => {
                touched.push(QualifiedName::new(schema, from));
                touched.push(QualifiedName::new(schema, to));
            }
            Change::Partition(PartitionChange::Repartition { after, .. }) => {
                touched.push(after.qualified_name());
            }
            _ => {}
        }
    }
    // A foreign key added here needs the key it references now, not after.
    let referenced: Vec<QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Constraint(ConstraintChange::AddConstraint {
                constraint: Constraint::ForeignKey(key),
                ..
            }) => Some(key.references.clone()),
            _ => None,
        })
        .collect();
    let online = |table: &QualifiedName| {
        !touched.contains(table)
            && old
                .table(&table.schema, &table.name)
                .is_some_and(|t| t.partition.is_none())
    };
    let (mut drops, mut rest, mut builds) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            Change::Index(IndexChange::DropIndex { table, index, .. }) if online(&table) => {
                drops.push(
                    IndexChange::DropIndex {
                        table,
                        index,
                        concurrently: true,
                    }
                    .into(),
                );
            }
            Change::Index(IndexChange::CreateIndex { table, index, .. }) if online(&table) => {
                builds.push(
                    IndexChange::CreateIndex {
                        table,
                        index,
                        concurrently: true,
                    }
                    .into(),
                );
            }
            // A foreign key or check: added NOT VALID (a catalog update),
            // validated after, in a transaction of its own.
            Change::Constraint(ConstraintChange::AddConstraint {
                table,
                constraint: constraint @ (Constraint::ForeignKey(_) | Constraint::Check(_)),
                ..
            }) if online(&table) => {
                builds.push(
                    ConstraintChange::ValidateConstraint {
                        table: table.clone(),
                        name: constraint.name().to_owned(),
                    }
                    .into(),
                );
                rest.push(
                    ConstraintChange::AddConstraint {
                        table,
                        constraint,
                        not_valid: true,
                        using_index: false,
                    }
                    .into(),
                );
            }
            // A unique constraint, or a primary key over columns already NOT
            // NULL (else adding it scans them): its index built concurrently.
            Change::Constraint(ConstraintChange::AddConstraint {
                table,
                constraint: constraint @ (Constraint::Unique(_) | Constraint::PrimaryKey(_)),
                ..
            }) if online(&table)
                && !referenced.contains(&table)
                && keyed_on_required(old, &table, &constraint) =>
            {
                builds.push(
                    ConstraintChange::AddConstraint {
                        table,
                        constraint,
                        not_valid: false,
                        using_index: true,
                    }
                    .into(),
                );
            }
            // SET NOT NULL scans the table under ACCESS EXCLUSIVE, unless a
            // valid check already proves no row holds NULL: the check is
            // added NOT VALID, validated, then SET NOT NULL skips the scan,
            // and the check goes.
            Change::Column(ColumnChange::SetNullable {
                table,
                column,
                nullable: false,
            }) if online(&table) => {
                let check = Check {
                    name: crate::constraint_name(
                        &table.name,
                        std::slice::from_ref(&column),
                        "not_null",
                    ),
                    expr: format!("{} IS NOT NULL", quote_ident(&column)),
                };
                rest.push(
                    ConstraintChange::AddConstraint {
                        table: table.clone(),
                        constraint: Constraint::Check(check.clone()),
                        not_valid: true,
                        using_index: false,
                    }
                    .into(),
                );
                builds.push(
                    ConstraintChange::ValidateConstraint {
                        table: table.clone(),
                        name: check.name.clone(),
                    }
                    .into(),
                );
                builds.push(
                    ColumnChange::SetNullable {
                        table: table.clone(),
                        column,
                        nullable: false,
                    }
                    .into(),
                );
                builds.push(
                    ConstraintChange::DropConstraint {
                        table,
                        constraint: Constraint::Check(check),
                    }
                    .into(),
                );
            }
            other => rest.push(other),
        }
    }
    // The checks added in place of a step go to their own stage; the builds
    // keep their order (validate, then SET NOT NULL, then drop the check).
    rest.sort_by_key(Change::order);
    (drops, rest, builds)
}

/// Whether `constraint` is a unique constraint, or a primary key whose
/// columns are all NOT NULL already in `old` (a primary key `USING INDEX`
/// over a nullable column scans the table for NULLs under `ACCESS
/// EXCLUSIVE`).
fn keyed_on_required(
    old: &SchemaState,
    table: &QualifiedName,
    constraint: &super::constraint::Constraint,
) -> bool {
    use super::constraint::Constraint;
    match constraint {
        Constraint::Unique(_) => true,
        Constraint::PrimaryKey(key) => old.table(&table.schema, &table.name).is_some_and(|t| {
            key.columns
                .iter()
                .all(|c| t.column(c).is_some_and(|c| !c.nullable))
        }),
        _ => false,
    }
}

impl Change {
    /// True for a change that cannot run in a transaction (`CONCURRENTLY`):
    /// its migration is marked `-- strata:no-transaction`.
    pub fn needs_no_transaction(&self) -> bool {
        matches!(
            self,
            Change::Constraint(
                super::constraint::ConstraintChange::ValidateConstraint { .. }
                    | super::constraint::ConstraintChange::AddConstraint {
                        using_index: true,
                        ..
                    }
            ) | Change::Index(
                IndexChange::CreateIndex {
                    concurrently: true,
                    ..
                } | IndexChange::DropIndex {
                    concurrently: true,
                    ..
                }
            )
        )
    }
}

impl Step for IndexChange {
    fn order(&self) -> (usize, u8) {
        match self {
            IndexChange::RenameIndex { .. } => (2, 3),
            IndexChange::DropIndex { .. } => (5, 0),
            IndexChange::CreateIndex { .. } => (5, 1),
        }
    }

    fn describe(&self) -> String {
        match self {
            IndexChange::RenameIndex { from, to, .. } => format!("rename {from} to {to}"),
            IndexChange::CreateIndex { index, .. } => format!("add index {}", index.name),
            IndexChange::DropIndex { index, .. } => format!("drop index {}", index.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        match self {
            IndexChange::RenameIndex { .. } => None,
            IndexChange::CreateIndex { .. } => Some((3, "add", "indexes")),
            IndexChange::DropIndex { .. } => Some((3, "drop", "indexes")),
        }
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            IndexChange::RenameIndex { table, from, to } => IndexChange::RenameIndex {
                table,
                from: to,
                to: from,
            },
            // A down file runs in a transaction: its index changes are plain.
            IndexChange::CreateIndex { table, index, .. } => IndexChange::DropIndex {
                table,
                index,
                concurrently: false,
            },
            IndexChange::DropIndex { table, index, .. } => IndexChange::CreateIndex {
                table,
                index,
                concurrently: false,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let table = match self {
            IndexChange::RenameIndex { table, .. }
            | IndexChange::CreateIndex { table, .. }
            | IndexChange::DropIndex { table, .. } => table,
        };
        let Some(t) = table_mut(state, table) else {
            return;
        };
        match self {
            IndexChange::RenameIndex { from, to, .. } => {
                if let Some(at) = t.indexes.iter().position(|i| i.name == *from) {
                    let mut index = t.indexes.remove(at);
                    index.name = to.clone();
                    t.add_index(index);
                }
            }
            IndexChange::CreateIndex { index, .. } => t.add_index(index.clone()),
            IndexChange::DropIndex { index, .. } => t.indexes.retain(|i| i.name != index.name),
        }
    }

    fn render(&self) -> String {
        match self {
            IndexChange::RenameIndex { table, from, to } => format!(
                "ALTER INDEX {} RENAME TO {};",
                qualified(&table.schema, from),
                quote_ident(to)
            ),
            IndexChange::CreateIndex {
                table,
                index,
                concurrently,
            } => {
                let mut sql = format!(
                    "CREATE {}INDEX {}{} ON {} {}",
                    if index.unique { "UNIQUE " } else { "" },
                    if *concurrently { "CONCURRENTLY " } else { "" },
                    quote_ident(&index.name),
                    q(table),
                    index.key_sql()
                );
                if let Some(predicate) = &index.predicate {
                    let _ = write!(sql, " WHERE {predicate}");
                }
                sql.push(';');
                sql
            }
            IndexChange::DropIndex {
                table,
                index,
                concurrently,
            } => format!(
                // Outside a transaction, a retry runs the file again from
                // its first statement: a drop that already happened is done.
                "DROP INDEX {}{};",
                if *concurrently {
                    "CONCURRENTLY IF EXISTS "
                } else {
                    ""
                },
                qualified(&table.schema, &index.name)
            ),
        }
    }
}
