//! Triggers from the files of `Builder::sql_dir`, one per file: created
//! after their table and function, dropped before anything is moved,
//! renamed or dropped under them, and dropped and made again when their
//! statement changes or their function is made again. A trigger on a view
//! (`INSTEAD OF`) comes after the views, and is dropped and made again
//! around its view when the view is.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::partition::PartitionChange;
use super::view::ViewChange;
use super::{q, Change, Step};
use crate::diff::Plan;
use crate::sql_object::{identify, SqlObject};
use crate::{quote_ident, QualifiedName, SchemaState};

/// One trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The schema of its table.
    pub schema: String,
    /// Its table.
    pub table: String,
    /// Its name.
    pub name: String,
    /// The function it executes, as its statement names it (`schema.name`,
    /// or `name` alone where the `search_path` finds it).
    pub function: String,
    /// Its statement, as its file holds it (without the closing semicolon).
    pub sql: String,
}

impl Trigger {
    /// The trigger `sql` creates, or why `sql` is none.
    pub fn from_sql(sql: &str) -> Result<Trigger, String> {
        let sql = sql.trim().trim_end_matches(';').trim_end();
        match identify(sql)? {
            SqlObject::Trigger {
                name,
                table,
                function,
                ..
            } => Ok(Trigger {
                schema: table.schema,
                table: table.name,
                name,
                function: match function {
                    (Some(schema), name) => format!("{schema}.{name}"),
                    (None, name) => name,
                },
                sql: sql.to_owned(),
            }),
            _ => Err("not a trigger".to_owned()),
        }
    }

    /// Its table's `schema.name`.
    pub fn table_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.table)
    }

    /// `schema.table.name`, as drift and descriptions name it.
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.schema, self.table, self.name)
    }

    fn same_object(&self, other: &Trigger) -> bool {
        self.schema == other.schema && self.table == other.table && self.name == other.name
    }
}

/// Triggers in `sql_dir` files: on a model's table or view.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "trigger",
    opens: &["create trigger", "create constraint trigger"],
    several: false,
    take: |sql, state| {
        let trigger = Trigger::from_sql(sql)?;
        if state.triggers.iter().any(|t| t.same_object(&trigger)) {
            return Err(format!("trigger {} is declared twice", trigger.full_name()));
        }
        let on_model = state.table(&trigger.schema, &trigger.table).is_some()
            || state
                .views
                .iter()
                .any(|v| v.schema == trigger.schema && v.name == trigger.table);
        if !on_model {
            return Err(format!(
                "trigger {} is on {}.{}, which no model declares; put it on a model's table (after a move or rename, on the table's new name)",
                trigger.name, trigger.schema, trigger.table
            ));
        }
        state.add_trigger(trigger);
        Ok(())
    },
    files: |state| {
        state
            .triggers
            .iter()
            .map(|t| crate::SqlFile {
                folder: "triggers",
                schema: t.schema.clone(),
                name: format!("{}.{}", t.table, t.name),
                stem: vec![t.schema.clone(), t.table.clone(), t.name.clone()],
                sql: t.sql.clone(),
            })
            .collect()
    },
    retain: |state, keep| state.triggers.retain(|t| keep(&t.schema)),
};

/// A change to a trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TriggerChange {
    /// Its statement.
    CreateTrigger {
        /// The trigger.
        trigger: Trigger,
        /// On a view (`INSTEAD OF`): made after the views.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        on_view: bool,
    },
    /// `DROP TRIGGER … ON …`.
    DropTrigger {
        /// The trigger as it was.
        trigger: Trigger,
        /// On a view: made again after the views when undone.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        on_view: bool,
    },
}

pub(crate) const OPS: &[&str] = &["create_trigger", "drop_trigger"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let remade: BTreeSet<String> = super::routine::remade(plan)
        .into_iter()
        .map(|n| format!("{}.{}", n.schema, n.name))
        .collect();
    let uses_remade = |t: &Trigger| {
        remade.contains(&t.function)
            || remade
                .iter()
                .any(|r| r.rsplit('.').next() == Some(t.function.as_str()))
    };
    // Views dropped and made again in this plan: `DROP VIEW` takes their
    // triggers with it, so those are dropped first, by name, and made again
    // after the views.
    let remade_views: BTreeSet<QualifiedName> = plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::View(ViewChange::DropModelView { view }) => Some(view.qualified_name()),
            // A table rebuilt as it is partitioned: the old one's triggers go
            // with it, and the new one gets them after the copy.
            Change::Partition(PartitionChange::Repartition { after, .. }) => {
                Some(after.qualified_name())
            }
            _ => None,
        })
        .collect();
    let on_view = |state: &SchemaState, t: &Trigger| {
        let table = t.table_name();
        state.views.iter().any(|v| v.qualified_name() == table)
    };
    let find = |state: &'_ SchemaState, t: &Trigger| {
        state.triggers.iter().find(|o| o.same_object(t)).cloned()
    };
    let stays = |t: &Trigger| !uses_remade(t) && !remade_views.contains(&t.table_name());
    for trigger in &old.triggers {
        let keep = find(new, trigger).is_some_and(|now| now == *trigger) && stays(trigger);
        if !keep {
            plan.push(TriggerChange::DropTrigger {
                trigger: trigger.clone(),
                on_view: on_view(old, trigger),
            });
        }
    }
    for trigger in &new.triggers {
        let keep = find(old, trigger).is_some_and(|was| was == *trigger) && stays(trigger);
        if !keep {
            plan.push(TriggerChange::CreateTrigger {
                trigger: trigger.clone(),
                on_view: on_view(new, trigger),
            });
        }
    }
}

impl Step for TriggerChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // Before any table is moved, renamed or dropped under it.
            TriggerChange::DropTrigger { .. } => (1, 0),
            // After its table, its columns and its function.
            TriggerChange::CreateTrigger { on_view: false, .. } => (6, 10),
            // After its view, which comes last but the drops.
            TriggerChange::CreateTrigger { on_view: true, .. } => (7, 3),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("triggers")
    }

    fn describe(&self) -> String {
        match self {
            TriggerChange::CreateTrigger { trigger, .. } => {
                format!("create trigger {}", trigger.name)
            }
            TriggerChange::DropTrigger { trigger, .. } => format!("drop trigger {}", trigger.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            TriggerChange::CreateTrigger { .. } => (4, "create", "triggers"),
            TriggerChange::DropTrigger { .. } => (4, "drop", "triggers"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            TriggerChange::CreateTrigger { trigger, on_view } => {
                TriggerChange::DropTrigger { trigger, on_view }
            }
            TriggerChange::DropTrigger { trigger, on_view } => {
                TriggerChange::CreateTrigger { trigger, on_view }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            TriggerChange::CreateTrigger { trigger, .. } => state.add_trigger(trigger.clone()),
            TriggerChange::DropTrigger { trigger, .. } => {
                state.triggers.retain(|t| !t.same_object(trigger));
            }
        }
    }

    fn render(&self) -> String {
        match self {
            TriggerChange::CreateTrigger { trigger, .. } => format!("{};", trigger.sql),
            TriggerChange::DropTrigger { trigger, .. } => format!(
                "DROP TRIGGER {} ON {};",
                quote_ident(&trigger.name),
                q(&trigger.table_name())
            ),
        }
    }
}
