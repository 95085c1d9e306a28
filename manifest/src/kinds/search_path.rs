//! The database's default `search_path`, when the application sets one.

use serde::{Deserialize, Serialize};

use super::{Change, Step};
use crate::diff::Plan;
use crate::{quote_ident, SchemaState};

/// A change of the database's `search_path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SearchPathChange {
    /// `ALTER DATABASE … SET search_path` (or `RESET` for none).
    SetSearchPath {
        /// The search path before.
        from: Option<Vec<String>>,
        /// The search path after.
        to: Option<Vec<String>>,
    },
}

pub(crate) const OPS: &[&str] = &["set_search_path"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    if old.search_path != new.search_path {
        plan.push(SearchPathChange::SetSearchPath {
            from: old.search_path.clone(),
            to: new.search_path.clone(),
        });
    }
}

impl Step for SearchPathChange {
    fn order(&self) -> (usize, u8) {
        (0, 1)
    }

    fn describe(&self) -> String {
        "set search_path".to_owned()
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some((5, "set", "search paths"))
    }

    fn inverse(&self) -> Vec<Change> {
        let SearchPathChange::SetSearchPath { from, to } = self.clone();
        vec![SearchPathChange::SetSearchPath { from: to, to: from }.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let SearchPathChange::SetSearchPath { to, .. } = self;
        state.search_path = to.clone();
    }

    fn render(&self) -> String {
        let SearchPathChange::SetSearchPath { to, .. } = self;
        // ALTER DATABASE needs the database's name, which a migration does
        // not know: look it up where it runs. New sessions see the change.
        let action = match to {
            Some(path) => {
                let list = path
                    .iter()
                    .map(|s| quote_ident(s))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("SET search_path TO {}", list.replace('\'', "''"))
            }
            None => "RESET search_path".to_owned(),
        };
        format!(
            "DO $strata$ BEGIN EXECUTE format('ALTER DATABASE %I {action}', current_database()); END $strata$;"
        )
    }
}
