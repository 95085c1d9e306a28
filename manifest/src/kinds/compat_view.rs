//! Compat views: after a table moves or is renamed, a view under its old
//! name keeps old code working. A view over one table with plain columns is
//! updatable, so legacy INSERT, UPDATE and DELETE through the old name work.
//! It is `security_invoker` (PostgreSQL 15+): it reads the table with its
//! caller's privileges and row-level security, not its owner's, so it
//! shows each caller no more than the table would.

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{list, q, Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::{Grant, QualifiedName, SchemaState, Table};

/// A change to a table's compat view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CompatViewChange {
    /// `CREATE VIEW old AS SELECT … FROM table`: a compat view under a moved or renamed table's old name.
    CreateView {
        /// The view.
        view: QualifiedName,
        /// The table it shows.
        table: QualifiedName,
        /// The columns it shows.
        columns: Vec<String>,
        /// `WITH (security_invoker = true)`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        security_invoker: bool,
        /// The table's grants, given on the view too: a `security_invoker`
        /// view needs its caller to hold privileges on both.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        grants: Vec<Grant>,
    },
    /// `DROP VIEW`.
    DropView {
        /// The view.
        view: QualifiedName,
        /// The table it showed.
        table: QualifiedName,
        /// The columns it showed.
        columns: Vec<String>,
        /// Whether it was `security_invoker`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        security_invoker: bool,
        /// The grants it had (given back when a rollback makes it again).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        grants: Vec<Grant>,
    },
    /// `ALTER VIEW … SET (security_invoker = true)`, or `RESET` it.
    SetSecurityInvoker {
        /// The view.
        view: QualifiedName,
        /// The table it shows.
        table: QualifiedName,
        /// Whether it is `security_invoker` afterwards.
        to: bool,
    },
}

pub(crate) const OPS: &[&str] = &["create_view", "drop_view", "set_security_invoker"];

/// A new table's compat view follows it.
pub(crate) const PART: TablePart = TablePart {
    created: |table, plan| {
        if let Some(view) = &table.compat_view {
            plan.push(create_view(view, table));
        }
    },
    diff: diff_view,
};

fn diff_view(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    match (before.compat_view.as_ref(), table.compat_view.as_ref()) {
        (Some(a), Some(b)) if a == b => {
            // A view made before strata wrote `security_invoker` gains it.
            if before.compat_view_security_invoker != table.compat_view_security_invoker {
                plan.push(CompatViewChange::SetSecurityInvoker {
                    view: b.clone(),
                    table: name.clone(),
                    to: table.compat_view_security_invoker,
                });
            }
        }
        (a, b) => {
            if let Some(a) = a {
                plan.push(CompatViewChange::DropView {
                    view: a.clone(),
                    table: name.clone(),
                    columns: before
                        .columns
                        .iter()
                        .map(|c| renames.column(&name, &c.name))
                        .collect(),
                    security_invoker: before.compat_view_security_invoker,
                    grants: before.grants.clone(),
                });
            }
            if let Some(b) = b {
                plan.push(create_view(b, table));
            }
        }
    }
}

fn create_view(view: &QualifiedName, table: &Table) -> CompatViewChange {
    CompatViewChange::CreateView {
        view: view.clone(),
        table: table.qualified_name(),
        columns: table.columns.iter().map(|c| c.name.clone()).collect(),
        security_invoker: table.compat_view_security_invoker,
        grants: table.grants.clone(),
    }
}

impl Step for CompatViewChange {
    fn order(&self) -> (usize, u8) {
        match self {
            CompatViewChange::DropView { .. } => (4, 0),
            CompatViewChange::CreateView { .. } => (4, 1),
            CompatViewChange::SetSecurityInvoker { .. } => (4, 2),
        }
    }

    fn describe(&self) -> String {
        match self {
            CompatViewChange::CreateView { view, .. } => format!("create view {}", view.name),
            CompatViewChange::DropView { view, .. } => format!("drop view {}", view.name),
            CompatViewChange::SetSecurityInvoker { view, to, .. } => {
                let what = if *to { "set" } else { "reset" };
                format!("{what} security_invoker on view {}", view.name)
            }
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            CompatViewChange::CreateView { .. } => (2, "create", "views"),
            CompatViewChange::DropView { .. } => (2, "drop", "views"),
            CompatViewChange::SetSecurityInvoker { .. } => (2, "change", "views"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            CompatViewChange::CreateView {
                view,
                table,
                columns,
                security_invoker,
                grants,
            } => CompatViewChange::DropView {
                view,
                table,
                columns,
                security_invoker,
                grants,
            },
            CompatViewChange::DropView {
                view,
                table,
                columns,
                security_invoker,
                grants,
            } => CompatViewChange::CreateView {
                view,
                table,
                columns,
                security_invoker,
                grants,
            },
            CompatViewChange::SetSecurityInvoker { view, table, to } => {
                CompatViewChange::SetSecurityInvoker {
                    view,
                    table,
                    to: !to,
                }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            CompatViewChange::CreateView {
                view,
                table,
                security_invoker,
                ..
            } => {
                if let Some(t) = table_mut(state, table) {
                    t.compat_view = Some(view.clone());
                    t.compat_view_security_invoker = *security_invoker;
                }
            }
            CompatViewChange::DropView { table, .. } => {
                if let Some(t) = table_mut(state, table) {
                    t.compat_view = None;
                    t.compat_view_security_invoker = false;
                }
            }
            CompatViewChange::SetSecurityInvoker { table, to, .. } => {
                if let Some(t) = table_mut(state, table) {
                    t.compat_view_security_invoker = *to;
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            CompatViewChange::CreateView {
                view,
                table,
                columns,
                security_invoker,
                grants,
            } => {
                let mut sql = format!(
                    "CREATE VIEW {}{} AS SELECT {} FROM {};",
                    q(view),
                    if *security_invoker {
                        " WITH (security_invoker = true)"
                    } else {
                        ""
                    },
                    list(columns),
                    q(table)
                );
                for grant in grants {
                    sql.push('\n');
                    sql.push_str(&super::grant::grant_sql(
                        view,
                        &grant.role,
                        &grant.privileges,
                    ));
                }
                sql
            }
            CompatViewChange::DropView { view, .. } => format!("DROP VIEW {};", q(view)),
            CompatViewChange::SetSecurityInvoker { view, to: true, .. } => {
                format!("ALTER VIEW {} SET (security_invoker = true);", q(view))
            }
            CompatViewChange::SetSecurityInvoker {
                view, to: false, ..
            } => format!("ALTER VIEW {} RESET (security_invoker);", q(view)),
        }
    }
}
