//! Extensions (`Builder::extension`): created before anything that may use
//! them. The objects an extension owns are its own, never drift.

use serde::{Deserialize, Serialize};

use super::{Change, Step};
use crate::diff::Plan;
use crate::{quote_ident, SchemaState};

/// A change to the set of extensions the models use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ExtensionChange {
    /// `CREATE EXTENSION IF NOT EXISTS`.
    CreateExtension {
        /// The extension.
        extension: String,
    },
    /// `DROP EXTENSION IF EXISTS`, never `CASCADE`: PostgreSQL refuses it
    /// while anything still uses the extension.
    DropExtension {
        /// The extension.
        extension: String,
    },
}

pub(crate) const OPS: &[&str] = &["create_extension", "drop_extension"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    for extension in new.extensions.difference(&old.extensions) {
        plan.push(ExtensionChange::CreateExtension {
            extension: extension.clone(),
        });
    }
    for extension in old.extensions.difference(&new.extensions) {
        plan.push(ExtensionChange::DropExtension {
            extension: extension.clone(),
        });
    }
}

impl Step for ExtensionChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // After the schemas, before any table, default or index that may use it.
            ExtensionChange::CreateExtension { .. } => (0, 2),
            // After everything that used it is gone.
            ExtensionChange::DropExtension { .. } => (7, 8),
        }
    }

    fn describe(&self) -> String {
        match self {
            ExtensionChange::CreateExtension { extension } => {
                format!("create extension {extension}")
            }
            ExtensionChange::DropExtension { extension } => format!("drop extension {extension}"),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            ExtensionChange::CreateExtension { .. } => (5, "create", "extensions"),
            ExtensionChange::DropExtension { .. } => (5, "drop", "extensions"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            ExtensionChange::CreateExtension { extension } => {
                ExtensionChange::DropExtension { extension }
            }
            ExtensionChange::DropExtension { extension } => {
                ExtensionChange::CreateExtension { extension }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            ExtensionChange::CreateExtension { extension } => {
                state.extensions.insert(extension.clone());
            }
            ExtensionChange::DropExtension { extension } => {
                state.extensions.remove(extension);
            }
        }
    }

    fn render(&self) -> String {
        match self {
            ExtensionChange::CreateExtension { extension } => {
                format!("CREATE EXTENSION IF NOT EXISTS {};", quote_ident(extension))
            }
            ExtensionChange::DropExtension { extension } => {
                format!("DROP EXTENSION IF EXISTS {};", quote_ident(extension))
            }
        }
    }
}
