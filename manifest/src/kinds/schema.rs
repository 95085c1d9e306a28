//! Schemas: created when a model first names one, released (kept, with
//! whatever is left in it) when the last managed table leaves it.

use serde::{Deserialize, Serialize};

use super::{Change, Step};
use crate::diff::Plan;
use crate::{quote_ident, SchemaState};

/// A change to the set of managed schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SchemaChange {
    /// `CREATE SCHEMA IF NOT EXISTS`.
    CreateSchema {
        /// The schema.
        schema: String,
    },
    /// `DROP SCHEMA` (only ever the reverse of a `CreateSchema`).
    DropSchema {
        /// The schema.
        schema: String,
    },
    /// The schema no longer holds managed tables; it is kept, unmanaged.
    ReleaseSchema {
        /// The schema.
        schema: String,
    },
}

pub(crate) const OPS: &[&str] = &["create_schema", "drop_schema", "release_schema"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    for schema in new.schemas.difference(&old.schemas) {
        plan.push(SchemaChange::CreateSchema {
            schema: schema.clone(),
        });
    }
    for schema in old.schemas.difference(&new.schemas) {
        plan.push(SchemaChange::ReleaseSchema {
            schema: schema.clone(),
        });
    }
}

impl Step for SchemaChange {
    fn order(&self) -> (usize, u8) {
        match self {
            SchemaChange::CreateSchema { .. } | SchemaChange::ReleaseSchema { .. } => (0, 0),
            SchemaChange::DropSchema { .. } => (7, 9),
        }
    }

    fn describe(&self) -> String {
        match self {
            SchemaChange::CreateSchema { schema } => format!("create schema {schema}"),
            SchemaChange::DropSchema { schema } => format!("drop schema {schema}"),
            SchemaChange::ReleaseSchema { schema } => format!("release schema {schema}"),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        None
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            SchemaChange::CreateSchema { schema } => SchemaChange::DropSchema { schema },
            SchemaChange::DropSchema { schema } | SchemaChange::ReleaseSchema { schema } => {
                SchemaChange::CreateSchema { schema }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            SchemaChange::CreateSchema { schema } => {
                state.schemas.insert(schema.clone());
            }
            SchemaChange::DropSchema { schema } | SchemaChange::ReleaseSchema { schema } => {
                state.schemas.remove(schema);
            }
        }
    }

    fn render(&self) -> String {
        match self {
            SchemaChange::CreateSchema { schema } => {
                format!("CREATE SCHEMA IF NOT EXISTS {};", quote_ident(schema))
            }
            SchemaChange::DropSchema { schema } if schema == "public" => {
                "-- The public schema is kept.".to_owned()
            }
            SchemaChange::DropSchema { schema } => {
                format!("DROP SCHEMA IF EXISTS {};", quote_ident(schema))
            }
            SchemaChange::ReleaseSchema { schema } => format!(
                "-- {} holds no managed table any more: it is kept, with anything left in it.",
                quote_ident(schema)
            ),
        }
    }
}
