//! Views and materialized views declared with `#[strata::view]`: created in
//! the order they read each other, dropped in the reverse, and dropped and
//! made again around a change to what they read (a changed definition, or
//! a type change of a column of a table they read), in the same migration.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::partition::PartitionChange;
use super::{q, Change, Step};
use crate::diff::Plan;
use crate::lexer::significant;
use crate::{quote_ident, ColumnChange, Index, QualifiedName, SchemaState};

/// One view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The schema it lives in.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its `SELECT`, as the model wrote it.
    pub sql: String,
    /// `CREATE MATERIALIZED VIEW`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub materialized: bool,
    /// The columns its struct reads, in order.
    pub columns: Vec<String>,
    /// A materialized view's indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
}

impl View {
    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// The relations its SQL names as `schema.name` (quoted or not).
    pub fn reads(&self) -> BTreeSet<QualifiedName> {
        qualified_names(&self.sql)
    }
}

/// Every `schema.name` (quoted or not) that `sql` names outside strings and
/// comments: the relations a view reads and the functions it calls.
pub(crate) fn qualified_names(sql: &str) -> BTreeSet<QualifiedName> {
    let tokens = significant(sql);
    let mut found = BTreeSet::new();
    for window in tokens.windows(3) {
        if let [schema, dot, name] = window {
            if dot.is_punct(".") {
                if let (Some(schema), Some(name)) = (schema.name(), name.name()) {
                    found.insert(QualifiedName::new(schema, name));
                }
            }
        }
    }
    found
}

/// A change to a view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ViewChange {
    /// `CREATE [MATERIALIZED] VIEW … AS …`, with a materialized view's indexes.
    CreateModelView {
        /// The view.
        view: View,
    },
    /// `DROP [MATERIALIZED] VIEW` (no `CASCADE`: what reads it is dropped first, by name).
    DropModelView {
        /// The view as it was.
        view: View,
    },
}

pub(crate) const OPS: &[&str] = &["create_model_view", "drop_model_view"];

/// `views` in an order where each comes after the views it reads.
fn in_dependency_order<'v>(views: &[&'v View]) -> Vec<&'v View> {
    let names: BTreeSet<QualifiedName> = views.iter().map(|v| v.qualified_name()).collect();
    let mut done: BTreeSet<QualifiedName> = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < views.len() {
        let before = out.len();
        for view in views {
            let name = view.qualified_name();
            if done.contains(&name) {
                continue;
            }
            let ready = view
                .reads()
                .iter()
                .all(|r| *r == name || !names.contains(r) || done.contains(r));
            if ready {
                done.insert(name);
                out.push(*view);
            }
        }
        if out.len() == before {
            // A cycle PostgreSQL will refuse anyway: keep the rest in name order.
            out.extend(views.iter().filter(|v| !done.contains(&v.qualified_name())));
            break;
        }
    }
    out
}

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    // Tables whose columns change type: the views over them go and come back.
    let retyped: BTreeSet<QualifiedName> = plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Column(ColumnChange::AlterType { table, .. }) => Some(table.clone()),
            // A table rebuilt as it is partitioned: its old self is dropped.
            Change::Partition(PartitionChange::Repartition { after, .. }) => {
                Some(after.qualified_name())
            }
            _ => None,
        })
        .collect();
    // Functions dropped to be made again: the views that call them too.
    let retyped: BTreeSet<QualifiedName> = retyped
        .into_iter()
        .chain(super::routine::remade(plan))
        .collect();
    let find = |state: &'_ SchemaState, name: &QualifiedName| {
        state
            .views
            .iter()
            .find(|v| v.schema == name.schema && v.name == name.name)
            .cloned()
    };
    // Which old views must be dropped: gone, changed, over a retyped table,
    // or reading one of those.
    let mut redo: BTreeSet<QualifiedName> = BTreeSet::new();
    for view in &old.views {
        let name = view.qualified_name();
        let changed = find(new, &name).map_or(true, |now| now != *view);
        if changed || view.reads().iter().any(|r| retyped.contains(r)) {
            redo.insert(name);
        }
    }
    loop {
        let more: Vec<QualifiedName> = old
            .views
            .iter()
            .filter(|v| !redo.contains(&v.qualified_name()))
            .filter(|v| v.reads().iter().any(|r| redo.contains(r)))
            .map(View::qualified_name)
            .collect();
        if more.is_empty() {
            break;
        }
        redo.extend(more);
    }
    let dropped: Vec<&View> = old
        .views
        .iter()
        .filter(|v| redo.contains(&v.qualified_name()))
        .collect();
    for view in in_dependency_order(&dropped).into_iter().rev() {
        plan.push(ViewChange::DropModelView { view: view.clone() });
    }
    let created: Vec<&View> = new
        .views
        .iter()
        .filter(|v| {
            let name = v.qualified_name();
            redo.contains(&name) || find(old, &name).is_none()
        })
        .collect();
    for view in in_dependency_order(&created) {
        plan.push(ViewChange::CreateModelView { view: view.clone() });
    }
}

impl Step for ViewChange {
    fn harmless_lock(&self) -> Option<String> {
        match self {
            ViewChange::CreateModelView { view } if !view.indexes.is_empty() => {
                Some("on the materialized view made just above".to_owned())
            }
            _ => None,
        }
    }

    fn order(&self) -> (usize, u8) {
        match self {
            // Before the column changes a view would stop.
            ViewChange::DropModelView { .. } => (2, 9),
            // Last but the drops of what views may use (functions, enum
            // types, extensions): after every column and table drop, so that
            // a view (even `SELECT *`) never holds on to what goes.
            ViewChange::CreateModelView { .. } => (7, 2),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("views")
    }

    fn describe(&self) -> String {
        match self {
            ViewChange::CreateModelView { view } => format!("create view {}", view.name),
            ViewChange::DropModelView { view } => format!("drop view {}", view.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            ViewChange::CreateModelView { .. } => (2, "create", "views"),
            ViewChange::DropModelView { .. } => (2, "drop", "views"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            ViewChange::CreateModelView { view } => ViewChange::DropModelView { view },
            ViewChange::DropModelView { view } => ViewChange::CreateModelView { view },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            ViewChange::CreateModelView { view } => state.add_view(view.clone()),
            ViewChange::DropModelView { view } => state
                .views
                .retain(|v| !(v.schema == view.schema && v.name == view.name)),
        }
    }

    fn render(&self) -> String {
        match self {
            ViewChange::CreateModelView { view } => {
                let kind = if view.materialized {
                    "MATERIALIZED VIEW"
                } else {
                    "VIEW"
                };
                let name = q(&view.qualified_name());
                let sql = view.sql.trim().trim_end_matches(';').trim_end();
                // A `--` comment at the end would hide the `;`: end on a line of its own.
                let end = match crate::lexer::tokenize(sql).last() {
                    Some(t) if t.text.starts_with("--") => "\n;",
                    _ => ";",
                };
                let mut out = format!("CREATE {kind} {name} AS\n{sql}{end}");
                for index in &view.indexes {
                    out.push_str(&format!(
                        "\nCREATE {}INDEX {} ON {name} {};",
                        if index.unique { "UNIQUE " } else { "" },
                        quote_ident(&index.name),
                        index.key_sql()
                    ));
                }
                out
            }
            ViewChange::DropModelView { view } => {
                let kind = if view.materialized {
                    "MATERIALIZED VIEW"
                } else {
                    "VIEW"
                };
                format!("DROP {kind} {};", q(&view.qualified_name()))
            }
        }
    }
}
