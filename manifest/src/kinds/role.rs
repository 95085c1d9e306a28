//! Roles the migrations grant to (`Builder::role`): made `NOLOGIN` when
//! missing, before anything names them. A role belongs to the whole
//! cluster, not to one database, so strata never drops one, never alters
//! one it finds, and never makes a superuser; a role no longer declared is
//! only forgotten.

use serde::{Deserialize, Serialize};

use super::{Change, Step};
use crate::diff::Plan;
use crate::{quote_ident, quote_literal, SchemaState};

/// A change to the set of roles the models name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RoleChange {
    /// `CREATE ROLE … NOLOGIN` unless the role exists.
    DeclareRole {
        /// The role.
        role: String,
    },
    /// Nothing in the database: the role stays, for the other databases and
    /// grants that may use it.
    ForgetRole {
        /// The role.
        role: String,
    },
}

pub(crate) const OPS: &[&str] = &["declare_role", "forget_role"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    for role in new.roles.difference(&old.roles) {
        plan.push(RoleChange::DeclareRole { role: role.clone() });
    }
    for role in old.roles.difference(&new.roles) {
        plan.push(RoleChange::ForgetRole { role: role.clone() });
    }
}

impl Step for RoleChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // Before any policy or grant names it.
            RoleChange::DeclareRole { .. } => (0, 1),
            RoleChange::ForgetRole { .. } => (7, 9),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("roles")
    }

    fn describe(&self) -> String {
        match self {
            RoleChange::DeclareRole { role } => format!("declare role {role}"),
            RoleChange::ForgetRole { role } => format!("forget role {role}"),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            RoleChange::DeclareRole { .. } => (5, "declare", "roles"),
            RoleChange::ForgetRole { .. } => (5, "forget", "roles"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            RoleChange::DeclareRole { role } => RoleChange::ForgetRole { role },
            RoleChange::ForgetRole { role } => RoleChange::DeclareRole { role },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            RoleChange::DeclareRole { role } => {
                state.roles.insert(role.clone());
            }
            RoleChange::ForgetRole { role } => {
                state.roles.remove(role);
            }
        }
    }

    fn render(&self) -> String {
        match self {
            // Two services migrating at once may both find it missing: the
            // second's CREATE ROLE then fails, and is taken as done.
            RoleChange::DeclareRole { role } => format!(
                "DO $strata$\nBEGIN\n  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}) THEN\n    CREATE ROLE {} NOLOGIN;\n  END IF;\nEXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;\nEND\n$strata$;",
                quote_literal(role),
                quote_ident(role)
            ),
            RoleChange::ForgetRole { role } => format!(
                "-- role {} stays: roles belong to the whole cluster",
                quote_ident(role)
            ),
        }
    }
}
