//! Named table constraints — primary keys, uniques, foreign keys and checks —
//! as changes: added, dropped, renamed. Their state and diff live with their
//! kinds (`key`, `check`).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{list, q, Change, Step};
use crate::diff::Plan;
use crate::{quote_ident, Check, ForeignKey, Key, QualifiedName, SchemaState};

/// A named table constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Constraint {
    /// `PRIMARY KEY`.
    PrimaryKey(Key),
    /// `UNIQUE`.
    Unique(Key),
    /// `FOREIGN KEY … REFERENCES`.
    ForeignKey(ForeignKey),
    /// `CHECK`.
    Check(Check),
}

impl Constraint {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Constraint::PrimaryKey(k) | Constraint::Unique(k) => &k.name,
            Constraint::ForeignKey(k) => &k.name,
            Constraint::Check(c) => &c.name,
        }
    }

    /// A foreign key the state keeps `NOT VALID`: added so, never validated.
    pub fn left_not_valid(&self) -> bool {
        matches!(self, Constraint::ForeignKey(k) if k.not_valid)
    }

    /// Drops go foreign keys first (nothing may point at a dropped key),
    /// adds go foreign keys last (what they point at must exist).
    fn rank(&self) -> u8 {
        match self {
            Constraint::PrimaryKey(_) => 0,
            Constraint::Unique(_) => 1,
            Constraint::Check(_) => 2,
            Constraint::ForeignKey(_) => 3,
        }
    }
}

/// A change to a table's named constraints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ConstraintChange {
    /// `ALTER TABLE … RENAME CONSTRAINT`, so that key names follow a renamed table.
    RenameConstraint {
        /// The table.
        table: QualifiedName,
        /// The name before.
        from: String,
        /// The name after.
        to: String,
    },
    /// `ADD CONSTRAINT`.
    AddConstraint {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        constraint: Constraint,
        /// `NOT VALID`: a foreign key or check on a table that existed
        /// before, validated by a [`ConstraintChange::ValidateConstraint`]
        /// in a transaction of its own, which does not stop writes.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        not_valid: bool,
        /// A unique constraint or primary key on a table that existed
        /// before: its index built `CREATE UNIQUE INDEX CONCURRENTLY`, then
        /// `ADD CONSTRAINT … USING INDEX` (a catalog update), outside a
        /// transaction.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        using_index: bool,
    },
    /// `ALTER TABLE … VALIDATE CONSTRAINT`: scans the rows under `SHARE
    /// UPDATE EXCLUSIVE`, which lets writes go on.
    ValidateConstraint {
        /// The table.
        table: QualifiedName,
        /// The constraint.
        name: String,
    },
    /// `DROP CONSTRAINT`.
    DropConstraint {
        /// The table.
        table: QualifiedName,
        /// The constraint as it was.
        constraint: Constraint,
    },
}

pub(crate) const OPS: &[&str] = &[
    "rename_constraint",
    "add_constraint",
    "drop_constraint",
    "validate_constraint",
];

/// Drops what went and adds what came.
pub(crate) fn drop_and_add<T>(
    plan: &mut Plan,
    table: &QualifiedName,
    gone: Vec<&T>,
    added: Vec<&T>,
    wrap: impl Fn(&T) -> Constraint,
) {
    for a in gone {
        plan.push(ConstraintChange::DropConstraint {
            table: table.clone(),
            constraint: wrap(a),
        });
    }
    for b in added {
        plan.push(ConstraintChange::AddConstraint {
            table: table.clone(),
            constraint: wrap(b),
            not_valid: false,
            using_index: false,
        });
    }
}

/// Renames a constraint that kept what it is but not its name.
pub(crate) fn rename(plan: &mut Plan, table: &QualifiedName, from: &str, to: &str) {
    if from != to {
        plan.push(ConstraintChange::RenameConstraint {
            table: table.clone(),
            from: from.to_owned(),
            to: to.to_owned(),
        });
    }
}

impl Step for ConstraintChange {
    fn order(&self) -> (usize, u8) {
        match self {
            ConstraintChange::RenameConstraint { .. } => (2, 3),
            ConstraintChange::DropConstraint { constraint, .. } => (6, 3 - constraint.rank()),
            ConstraintChange::AddConstraint { constraint, .. } => (6, 4 + constraint.rank()),
            ConstraintChange::ValidateConstraint { .. } => (6, 8),
        }
    }

    fn describe(&self) -> String {
        match self {
            ConstraintChange::RenameConstraint { from, to, .. } => format!("rename {from} to {to}"),
            ConstraintChange::AddConstraint { constraint, .. } => {
                format!("add {}", constraint.name())
            }
            ConstraintChange::DropConstraint { constraint, .. } => {
                format!("drop {}", constraint.name())
            }
            ConstraintChange::ValidateConstraint { name, .. } => format!("validate {name}"),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        match self {
            ConstraintChange::RenameConstraint { .. } => None,
            ConstraintChange::AddConstraint { .. } => Some((4, "add", "constraints")),
            ConstraintChange::DropConstraint { .. } => Some((4, "drop", "constraints")),
            ConstraintChange::ValidateConstraint { .. } => Some((5, "validate", "constraints")),
        }
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            // Validating changes nothing a rollback must undo.
            ConstraintChange::ValidateConstraint { .. } => return Vec::new(),
            ConstraintChange::RenameConstraint { table, from, to } => {
                ConstraintChange::RenameConstraint {
                    table,
                    from: to,
                    to: from,
                }
            }
            ConstraintChange::AddConstraint {
                table, constraint, ..
            } => ConstraintChange::DropConstraint { table, constraint },
            ConstraintChange::DropConstraint { table, constraint } => {
                ConstraintChange::AddConstraint {
                    table,
                    constraint,
                    not_valid: false,
                    using_index: false,
                }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let table = match self {
            ConstraintChange::RenameConstraint { table, .. }
            | ConstraintChange::AddConstraint { table, .. }
            | ConstraintChange::DropConstraint { table, .. } => table,
            ConstraintChange::ValidateConstraint { .. } => return,
        };
        let Some(t) = table_mut(state, table) else {
            return;
        };
        match self {
            ConstraintChange::RenameConstraint { from, to, .. } => {
                if let Some(k) = t.primary_key.as_mut().filter(|k| k.name == *from) {
                    k.name = to.clone();
                }
                if let Some(at) = t.uniques.iter().position(|k| k.name == *from) {
                    let mut key = t.uniques.remove(at);
                    key.name = to.clone();
                    super::table::insert_sorted(&mut t.uniques, key, |k| &k.name);
                }
                if let Some(at) = t.foreign_keys.iter().position(|k| k.name == *from) {
                    let mut key = t.foreign_keys.remove(at);
                    key.name = to.clone();
                    t.add_foreign_key(key);
                }
                if let Some(at) = t.checks.iter().position(|c| c.name == *from) {
                    let mut check = t.checks.remove(at);
                    check.name = to.clone();
                    t.add_check(check);
                }
            }
            ConstraintChange::AddConstraint { constraint, .. } => match constraint {
                Constraint::PrimaryKey(k) => t.primary_key = Some(k.clone()),
                Constraint::Unique(k) => {
                    super::table::insert_sorted(&mut t.uniques, k.clone(), |k| &k.name);
                }
                Constraint::ForeignKey(k) => t.add_foreign_key(k.clone()),
                Constraint::Check(c) => t.add_check(c.clone()),
            },
            ConstraintChange::DropConstraint { constraint, .. } => {
                let name = constraint.name();
                if t.primary_key.as_ref().is_some_and(|k| k.name == name) {
                    t.primary_key = None;
                }
                t.uniques.retain(|k| k.name != name);
                t.foreign_keys.retain(|k| k.name != name);
                t.checks.retain(|k| k.name != name);
            }
            ConstraintChange::ValidateConstraint { .. } => {}
        }
    }

    fn render(&self) -> String {
        match self {
            ConstraintChange::RenameConstraint { table, from, to } => format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
                q(table),
                quote_ident(from),
                quote_ident(to)
            ),
            ConstraintChange::AddConstraint {
                table,
                constraint: constraint @ (Constraint::PrimaryKey(key) | Constraint::Unique(key)),
                using_index: true,
                ..
            } => {
                let name = quote_ident(&key.name);
                let kind = match constraint {
                    Constraint::PrimaryKey(_) => "PRIMARY KEY",
                    _ => "UNIQUE",
                };
                format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY {name} ON {} ({});\nALTER TABLE {} ADD CONSTRAINT {name} {kind} USING INDEX {name};",
                    q(table),
                    list(&key.columns),
                    q(table)
                )
            }
            ConstraintChange::AddConstraint {
                table,
                constraint,
                not_valid,
                ..
            } => format!(
                "ALTER TABLE {} ADD {}{};",
                q(table),
                definition(constraint),
                if *not_valid || constraint.left_not_valid() {
                    " NOT VALID"
                } else {
                    ""
                }
            ),
            ConstraintChange::ValidateConstraint { table, name } => format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {};",
                q(table),
                quote_ident(name)
            ),
            ConstraintChange::DropConstraint { table, constraint } => format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                q(table),
                quote_ident(constraint.name())
            ),
        }
    }
}

/// `CONSTRAINT "name" …`, as `CREATE TABLE` and `ADD` write it.
pub(crate) fn definition(constraint: &Constraint) -> String {
    let name = quote_ident(constraint.name());
    match constraint {
        Constraint::PrimaryKey(key) => format!(
            "CONSTRAINT {name} PRIMARY KEY ({}){}",
            list(&key.columns),
            key.deferral.sql()
        ),
        Constraint::Unique(key) => format!(
            "CONSTRAINT {name} UNIQUE ({}){}",
            list(&key.columns),
            key.deferral.sql()
        ),
        Constraint::Check(check) => format!("CONSTRAINT {name} CHECK ({})", check.expr),
        Constraint::ForeignKey(key) => {
            let mut def = format!(
                "CONSTRAINT {name} FOREIGN KEY ({}) REFERENCES {} ({})",
                list(&key.columns),
                q(&key.references),
                list(&key.referenced_columns)
            );
            if !key.on_delete.is_default() {
                let _ = write!(def, " ON DELETE {}", key.on_delete.sql());
            }
            if !key.on_update.is_default() {
                let _ = write!(def, " ON UPDATE {}", key.on_update.sql());
            }
            def.push_str(key.deferral.sql());
            def
        }
    }
}
