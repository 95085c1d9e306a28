//! Grants: `#[grant(select, insert, to = "app_user")]` on a model gives the
//! role those privileges on the table, and `USAGE` on the table's schema.
//! A privilege no longer declared is revoked. Only the roles the models
//! name are ever granted to or revoked from: grants to other roles are not
//! strata's.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::{quote_ident, QualifiedName, SchemaState, Table};

/// A privilege on a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    /// `SELECT`.
    Select,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `TRUNCATE`.
    Truncate,
    /// `REFERENCES`.
    References,
    /// `TRIGGER`.
    Trigger,
}

impl Privilege {
    /// Every privilege, for `all`.
    pub const ALL: [Privilege; 7] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Truncate,
        Privilege::References,
        Privilege::Trigger,
    ];

    /// As SQL spells it.
    pub fn sql(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Truncate => "TRUNCATE",
            Privilege::References => "REFERENCES",
            Privilege::Trigger => "TRIGGER",
        }
    }

    /// From `#[grant(select, …)]` or the catalog's `privilege_type`.
    pub fn parse(text: &str) -> Option<Privilege> {
        Privilege::ALL
            .into_iter()
            .find(|p| p.sql().eq_ignore_ascii_case(text))
    }
}

/// What one role may do with a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: String,
    /// Its privileges, sorted.
    pub privileges: Vec<Privilege>,
}

/// What one role may do with the tables made later in a schema
/// (`Builder::default_privileges`): `ALTER DEFAULT PRIVILEGES IN SCHEMA …
/// GRANT … ON TABLES`, for the tables the migrating role makes there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DefaultPrivileges {
    /// The schema.
    pub schema: String,
    /// The role.
    pub role: String,
    /// Its privileges, sorted.
    pub privileges: Vec<Privilege>,
}

/// A change of a role's privileges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GrantChange {
    /// `GRANT … ON table TO role`.
    GrantTable {
        /// The table.
        table: QualifiedName,
        /// The role.
        role: String,
        /// What it gains.
        privileges: Vec<Privilege>,
        /// The table's compat view, which gains the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view: Option<QualifiedName>,
    },
    /// `REVOKE … ON table FROM role`.
    RevokeTable {
        /// The table, under the name it has when the grant goes.
        table: QualifiedName,
        /// The role.
        role: String,
        /// What it loses.
        privileges: Vec<Privilege>,
        /// The table's compat view, which loses the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view: Option<QualifiedName>,
    },
    /// `GRANT USAGE ON SCHEMA … TO role`: it may reach the schema's tables.
    GrantUsage {
        /// The schema.
        schema: String,
        /// The role.
        role: String,
    },
    /// `REVOKE USAGE ON SCHEMA … FROM role`: it has no table there any more.
    RevokeUsage {
        /// The schema.
        schema: String,
        /// The role.
        role: String,
    },
    /// `ALTER DEFAULT PRIVILEGES IN SCHEMA … GRANT … ON TABLES TO role`.
    GrantDefault {
        /// The schema.
        schema: String,
        /// The role.
        role: String,
        /// What it gains on the tables made later.
        privileges: Vec<Privilege>,
    },
    /// `ALTER DEFAULT PRIVILEGES IN SCHEMA … REVOKE … ON TABLES FROM role`.
    RevokeDefault {
        /// The schema.
        schema: String,
        /// The role.
        role: String,
        /// What it no longer gains on the tables made later.
        privileges: Vec<Privilege>,
    },
}

pub(crate) const OPS: &[&str] = &[
    "grant_table",
    "revoke_table",
    "grant_usage",
    "revoke_usage",
    "grant_default",
    "revoke_default",
];

/// A new table's grants follow its `CREATE TABLE`.
pub(crate) const PART: TablePart = TablePart {
    created: |table, plan| {
        for grant in &table.grants {
            // Its compat view, made with it, takes the grants itself.
            plan.push(GrantChange::GrantTable {
                table: table.qualified_name(),
                role: grant.role.clone(),
                privileges: grant.privileges.clone(),
                view: None,
            });
        }
    },
    diff: diff_grants,
};

fn diff_grants(before: &Table, table: &Table, _: &Renames, plan: &mut Plan<'_>) {
    // A compat view that stays follows its table's grants; one made or
    // dropped in this plan takes them, or leaves, with its own change.
    let view = table
        .compat_view
        .clone()
        .filter(|_| before.compat_view == table.compat_view);
    let roles: BTreeSet<&str> = before
        .grants
        .iter()
        .chain(&table.grants)
        .map(|g| g.role.as_str())
        .collect();
    for role in roles {
        let (had, has) = (before.privileges_of(role), table.privileges_of(role));
        let lost: Vec<Privilege> = had.iter().filter(|p| !has.contains(p)).copied().collect();
        let gained: Vec<Privilege> = has.iter().filter(|p| !had.contains(p)).copied().collect();
        if !lost.is_empty() {
            plan.push(GrantChange::RevokeTable {
                table: before.qualified_name(),
                role: role.to_owned(),
                privileges: lost,
                view: view.clone(),
            });
        }
        if !gained.is_empty() {
            plan.push(GrantChange::GrantTable {
                table: table.qualified_name(),
                role: role.to_owned(),
                privileges: gained,
                view: view.clone(),
            });
        }
    }
}

/// The schemas each role needs `USAGE` on: those of the tables granted to
/// it, and those whose tables made later it is granted by default.
pub fn schema_usage(state: &SchemaState) -> BTreeSet<(String, String)> {
    state
        .tables
        .iter()
        .flat_map(|t| {
            let schemas =
                std::iter::once(&t.schema).chain(t.compat_view.as_ref().map(|v| &v.schema));
            schemas.flat_map(move |schema| {
                t.grants
                    .iter()
                    .map(move |g| (schema.clone(), g.role.clone()))
            })
        })
        .chain(
            state
                .default_privileges
                .iter()
                .map(|d| (d.schema.clone(), d.role.clone())),
        )
        .collect()
}

/// The privileges `role` gets by default on the tables made later in `schema`.
fn defaults_of<'s>(state: &'s SchemaState, schema: &str, role: &str) -> &'s [Privilege] {
    state
        .default_privileges
        .iter()
        .find(|d| d.schema == schema && d.role == role)
        .map_or(&[], |d| &d.privileges)
}

/// `USAGE` on the schemas, after the tables' grants are diffed, and the
/// default privileges.
pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let pairs: BTreeSet<(&str, &str)> = old
        .default_privileges
        .iter()
        .chain(&new.default_privileges)
        .map(|d| (d.schema.as_str(), d.role.as_str()))
        .collect();
    for (schema, role) in pairs {
        let (had, has) = (
            defaults_of(old, schema, role),
            defaults_of(new, schema, role),
        );
        let lost: Vec<Privilege> = had.iter().filter(|p| !has.contains(p)).copied().collect();
        let gained: Vec<Privilege> = has.iter().filter(|p| !had.contains(p)).copied().collect();
        // A schema that goes takes its default privileges with it.
        if !lost.is_empty() && new.schemas.contains(schema) {
            plan.push(GrantChange::RevokeDefault {
                schema: schema.to_owned(),
                role: role.to_owned(),
                privileges: lost,
            });
        }
        if !gained.is_empty() {
            plan.push(GrantChange::GrantDefault {
                schema: schema.to_owned(),
                role: role.to_owned(),
                privileges: gained,
            });
        }
    }
    let (had, has) = (schema_usage(old), schema_usage(new));
    for (schema, role) in has.difference(&had) {
        plan.push(GrantChange::GrantUsage {
            schema: schema.clone(),
            role: role.clone(),
        });
    }
    for (schema, role) in had.difference(&has) {
        // A schema that goes takes its privileges with it.
        if new.schemas.contains(schema) {
            plan.push(GrantChange::RevokeUsage {
                schema: schema.clone(),
                role: role.clone(),
            });
        }
    }
}

/// `GRANT … ON TABLE on TO role;` (a table or a view).
pub(crate) fn grant_sql(on: &QualifiedName, role: &str, privileges: &[Privilege]) -> String {
    format!(
        "GRANT {} ON TABLE {} TO {};",
        list(privileges),
        q(on),
        quote_ident(role)
    )
}

fn list(privileges: &[Privilege]) -> String {
    privileges
        .iter()
        .map(|p| p.sql())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Step for GrantChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // Before anything is moved, renamed or dropped under it.
            GrantChange::RevokeTable { .. }
            | GrantChange::RevokeUsage { .. }
            | GrantChange::RevokeDefault { .. } => (1, 3),
            // Once the table and the role exist.
            GrantChange::GrantDefault { .. } => (6, 12),
            GrantChange::GrantUsage { .. } => (6, 13),
            GrantChange::GrantTable { .. } => (6, 14),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("grants")
    }

    fn describe(&self) -> String {
        match self {
            GrantChange::GrantTable {
                table,
                role,
                privileges,
                ..
            } => format!(
                "grant {} on {} to {role}",
                list(privileges).to_lowercase(),
                table.name
            ),
            GrantChange::RevokeTable {
                table,
                role,
                privileges,
                ..
            } => format!(
                "revoke {} on {} from {role}",
                list(privileges).to_lowercase(),
                table.name
            ),
            GrantChange::GrantUsage { schema, role } => {
                format!("grant usage on schema {schema} to {role}")
            }
            GrantChange::RevokeUsage { schema, role } => {
                format!("revoke usage on schema {schema} from {role}")
            }
            GrantChange::GrantDefault {
                schema,
                role,
                privileges,
            } => format!(
                "grant {} on tables made later in {schema} to {role}",
                list(privileges).to_lowercase()
            ),
            GrantChange::RevokeDefault {
                schema,
                role,
                privileges,
            } => format!(
                "revoke {} on tables made later in {schema} from {role}",
                list(privileges).to_lowercase()
            ),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            GrantChange::GrantTable { .. }
            | GrantChange::GrantUsage { .. }
            | GrantChange::GrantDefault { .. }
            | GrantChange::RevokeTable { .. }
            | GrantChange::RevokeUsage { .. }
            | GrantChange::RevokeDefault { .. } => (6, "change", "grants"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            GrantChange::GrantTable {
                table,
                role,
                privileges,
                view,
            } => GrantChange::RevokeTable {
                table,
                role,
                privileges,
                view,
            },
            GrantChange::RevokeTable {
                table,
                role,
                privileges,
                view,
            } => GrantChange::GrantTable {
                table,
                role,
                privileges,
                view,
            },
            GrantChange::GrantUsage { schema, role } => GrantChange::RevokeUsage { schema, role },
            GrantChange::RevokeUsage { schema, role } => GrantChange::GrantUsage { schema, role },
            GrantChange::GrantDefault {
                schema,
                role,
                privileges,
            } => GrantChange::RevokeDefault {
                schema,
                role,
                privileges,
            },
            GrantChange::RevokeDefault {
                schema,
                role,
                privileges,
            } => GrantChange::GrantDefault {
                schema,
                role,
                privileges,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let (table, role, privileges, grant) = match self {
            GrantChange::GrantTable {
                table,
                role,
                privileges,
                ..
            } => (table, role, privileges, true),
            GrantChange::RevokeTable {
                table,
                role,
                privileges,
                ..
            } => (table, role, privileges, false),
            // Derived from the tables' grants.
            GrantChange::GrantUsage { .. } | GrantChange::RevokeUsage { .. } => return,
            GrantChange::GrantDefault {
                schema,
                role,
                privileges,
            } => return apply_defaults(state, schema, role, privileges, true),
            GrantChange::RevokeDefault {
                schema,
                role,
                privileges,
            } => return apply_defaults(state, schema, role, privileges, false),
        };
        let Some(t) = table_mut(state, table) else {
            return;
        };
        let mut now: BTreeSet<Privilege> = t.privileges_of(role).iter().copied().collect();
        for p in privileges {
            match grant {
                true => now.insert(*p),
                false => now.remove(p),
            };
        }
        t.grants.retain(|g| g.role != *role);
        if !now.is_empty() {
            t.add_grant(Grant {
                role: role.clone(),
                privileges: now.into_iter().collect(),
            });
        }
    }

    fn render(&self) -> String {
        match self {
            GrantChange::GrantTable {
                table,
                role,
                privileges,
                view,
            } => std::iter::once(table)
                .chain(view)
                .map(|on| grant_sql(on, role, privileges))
                .collect::<Vec<_>>()
                .join("\n"),
            GrantChange::RevokeTable {
                table,
                role,
                privileges,
                view,
            } => std::iter::once(table)
                .chain(view)
                .map(|on| {
                    format!(
                        "REVOKE {} ON TABLE {} FROM {};",
                        list(privileges),
                        q(on),
                        quote_ident(role)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            GrantChange::GrantUsage { schema, role } => format!(
                "GRANT USAGE ON SCHEMA {} TO {};",
                quote_ident(schema),
                quote_ident(role)
            ),
            GrantChange::RevokeUsage { schema, role } => format!(
                "REVOKE USAGE ON SCHEMA {} FROM {};",
                quote_ident(schema),
                quote_ident(role)
            ),
            GrantChange::GrantDefault {
                schema,
                role,
                privileges,
            } => format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON TABLES TO {};",
                quote_ident(schema),
                list(privileges),
                quote_ident(role)
            ),
            GrantChange::RevokeDefault {
                schema,
                role,
                privileges,
            } => format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} REVOKE {} ON TABLES FROM {};",
                quote_ident(schema),
                list(privileges),
                quote_ident(role)
            ),
        }
    }
}

/// Grants (`grant`) or revokes `privileges` on the tables made later in
/// `schema` to `role`, in `state`.
fn apply_defaults(
    state: &mut SchemaState,
    schema: &str,
    role: &str,
    privileges: &[Privilege],
    grant: bool,
) {
    let mut now: BTreeSet<Privilege> = defaults_of(state, schema, role).iter().copied().collect();
    for p in privileges {
        match grant {
            true => now.insert(*p),
            false => now.remove(p),
        };
    }
    state
        .default_privileges
        .retain(|d| !(d.schema == schema && d.role == role));
    if !now.is_empty() {
        state.default_privileges.push(DefaultPrivileges {
            schema: schema.to_owned(),
            role: role.to_owned(),
            privileges: now.into_iter().collect(),
        });
        state.default_privileges.sort();
    }
}
