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
    /// `CREATE EXTENSION IF NOT EXISTS … [SCHEMA …]`.
    CreateExtension {
        /// The extension.
        extension: String,
        /// Where it goes: the first schema of the database's `search_path`
        /// when the models set one, so that every session finds its types,
        /// functions and operators; else `public` (`None` in manifests
        /// written before: PostgreSQL's choice, the first schema of the
        /// migrating session's path).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
    },
    /// `DROP EXTENSION IF EXISTS`, never `CASCADE`: PostgreSQL refuses it
    /// while anything still uses the extension.
    DropExtension {
        /// The extension.
        extension: String,
        /// The schema a down file makes it again in (as it was created).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
    },
}

pub(crate) const OPS: &[&str] = &["create_extension", "drop_extension"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    // The first schema of the database's `search_path`, or `public`, where
    // every session with PostgreSQL's default path finds it. Left to
    // PostgreSQL, it would go to the migrating session's first schema,
    // `"$user"`: for a role named `strata`, strata's own schema.
    let home = |state: &SchemaState| {
        state
            .search_path
            .iter()
            .flatten()
            .find(|s| !s.starts_with('$'))
            .cloned()
            .or_else(|| Some("public".to_owned()))
    };
    let schema = home(new);
    for extension in new.extensions.difference(&old.extensions) {
        plan.push(ExtensionChange::CreateExtension {
            extension: extension.clone(),
            schema: new
                .extension_schemas
                .get(extension)
                .cloned()
                .or(schema.clone()),
        });
    }
    for extension in old.extensions.difference(&new.extensions) {
        plan.push(ExtensionChange::DropExtension {
            extension: extension.clone(),
            schema: home(old),
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
            ExtensionChange::CreateExtension { extension, .. } => {
                format!("create extension {extension}")
            }
            ExtensionChange::DropExtension { extension, .. } => {
                format!("drop extension {extension}")
            }
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
            ExtensionChange::CreateExtension { extension, schema } => {
                ExtensionChange::DropExtension { extension, schema }
            }
            ExtensionChange::DropExtension { extension, schema } => {
                ExtensionChange::CreateExtension { extension, schema }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            ExtensionChange::CreateExtension { extension, .. } => {
                state.extensions.insert(extension.clone());
            }
            ExtensionChange::DropExtension { extension, .. } => {
                state.extensions.remove(extension);
            }
        }
    }

    fn render(&self) -> String {
        match self {
            ExtensionChange::CreateExtension { extension, schema } => match schema {
                Some(schema) => format!(
                    "CREATE EXTENSION IF NOT EXISTS {} SCHEMA {};",
                    quote_ident(extension),
                    quote_ident(schema)
                ),
                None => format!("CREATE EXTENSION IF NOT EXISTS {};", quote_ident(extension)),
            },
            ExtensionChange::DropExtension { extension, .. } => {
                format!("DROP EXTENSION IF EXISTS {};", quote_ident(extension))
            }
        }
    }
}
