//! Row-level security: a model's `rls` (`ENABLE` and `FORCE ROW LEVEL
//! SECURITY`, or `rls = "enabled"` for `ENABLE` alone) and its
//! `#[policy(…)]`s.
//!
//! A policy is compared by what it does (command, permissive or
//! restrictive, roles, `USING` and `WITH CHECK`), in the new column names,
//! so that a column rename (which PostgreSQL carries into the policy) writes
//! nothing. A changed policy is dropped and made again in the same
//! transaction. Policies are dropped before anything is moved, renamed or
//! retyped under them and made after every column and function they may
//! read; `ENABLE`/`FORCE` come after the policies, so a table is never
//! forced without its policies in place.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::column::ColumnChange;
use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::{quote_ident, QualifiedName, SchemaState, Table};

/// Whether a table's row-level security is enabled, and whether it is
/// forced (its owner obeys the policies too). PostgreSQL keeps the two
/// apart: forced without enabled is a state, if one that does nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSecurity {
    /// `ENABLE ROW LEVEL SECURITY`.
    pub enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`.
    pub forced: bool,
}

impl RowSecurity {
    /// How drift and plans spell it.
    pub fn describe(self) -> &'static str {
        match (self.enabled, self.forced) {
            (true, true) => "enabled and forced",
            (true, false) => "enabled, not forced",
            (false, true) => "forced, not enabled",
            (false, false) => "not enabled",
        }
    }

    /// Enabled and forced, or neither: what `SetRowSecurity` writes.
    fn both_or_neither(self) -> bool {
        self.enabled == self.forced
    }

    /// `after` asks more of the table than `self`: policies come first.
    fn tightened_by(self, after: RowSecurity) -> bool {
        (after.enabled && !self.enabled) || (after.forced && !self.forced)
    }
}

/// The change that takes `table`'s row-level security from `before` to
/// `after`, if they differ: `SetRowSecurity` where both are enabled and
/// forced or neither (as every manifest before the two were told apart
/// wrote it), `AlterRowSecurity` otherwise.
pub(crate) fn row_security_change(
    table: &QualifiedName,
    before: RowSecurity,
    after: RowSecurity,
) -> Option<Change> {
    if before == after {
        return None;
    }
    let change = match before.both_or_neither() && after.both_or_neither() {
        true => PolicyChange::SetRowSecurity {
            table: table.clone(),
            enabled: after.enabled,
        },
        false => PolicyChange::AlterRowSecurity {
            table: table.clone(),
            before,
            after,
        },
    };
    Some(change.into())
}

/// The command a policy applies to.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PolicyCommand {
    /// `FOR ALL`, the default.
    #[default]
    All,
    /// `FOR SELECT`.
    Select,
    /// `FOR INSERT`.
    Insert,
    /// `FOR UPDATE`.
    Update,
    /// `FOR DELETE`.
    Delete,
}

impl PolicyCommand {
    /// As SQL spells it.
    pub fn sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }

    /// From `for = "…"` or the catalog's `polcmd` (`*`, `r`, `a`, `w`, `d`).
    pub fn parse(text: &str) -> Option<PolicyCommand> {
        Some(match text.to_ascii_lowercase().as_str() {
            "all" | "*" => PolicyCommand::All,
            "select" | "r" => PolicyCommand::Select,
            "insert" | "a" => PolicyCommand::Insert,
            "update" | "w" => PolicyCommand::Update,
            "delete" | "d" => PolicyCommand::Delete,
            _ => return None,
        })
    }

    /// Whether a policy for it takes `USING` (all but `INSERT`).
    pub fn takes_using(self) -> bool {
        self != PolicyCommand::Insert
    }

    /// Whether a policy for it takes `WITH CHECK` (all but `SELECT` and `DELETE`).
    pub fn takes_with_check(self) -> bool {
        !matches!(self, PolicyCommand::Select | PolicyCommand::Delete)
    }

    fn is_all(&self) -> bool {
        *self == PolicyCommand::All
    }
}

/// One row-level security policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Its name, unique on its table.
    pub name: String,
    /// The command it applies to.
    #[serde(default, skip_serializing_if = "PolicyCommand::is_all")]
    pub command: PolicyCommand,
    /// `AS RESTRICTIVE` (all must pass) rather than permissive (any may).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restrictive: bool,
    /// The roles it applies to, sorted; empty for `PUBLIC`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// `USING (…)`: which existing rows it lets the command see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// `WITH CHECK (…)`: which new rows it lets the command write. Without
    /// it, PostgreSQL checks new rows with `USING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

impl Policy {
    /// Whether `other` does the same, its expressions compared by
    /// `same_expr`.
    pub fn same_as(&self, other: &Policy, same_expr: impl Fn(&str, &str) -> bool) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => same_expr(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        self.command == other.command
            && self.restrictive == other.restrictive
            && self.roles == other.roles
            && same(&self.using, &other.using)
            && same(&self.with_check, &other.with_check)
    }

    /// What it does, in one line: `for select to app_user using (…)`.
    pub fn describe(&self) -> String {
        let mut text = format!("for {}", self.command.sql().to_ascii_lowercase());
        if self.restrictive {
            text.insert_str(0, "restrictive ");
        }
        let roles = match self.roles.is_empty() {
            true => "public".to_owned(),
            false => self.roles.join(", "),
        };
        text.push_str(&format!(" to {roles}"));
        if let Some(using) = &self.using {
            text.push_str(&format!(" using ({using})"));
        }
        if let Some(check) = &self.with_check {
            text.push_str(&format!(" with check ({check})"));
        }
        text
    }

    /// `CREATE POLICY … ON table …;`
    pub fn create_sql(&self, table: &QualifiedName) -> String {
        let roles = match self.roles.is_empty() {
            true => "PUBLIC".to_owned(),
            false => self
                .roles
                .iter()
                .map(|r| quote_ident(r))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut sql = format!(
            "CREATE POLICY {} ON {} AS {} FOR {} TO {roles}",
            quote_ident(&self.name),
            q(table),
            if self.restrictive {
                "RESTRICTIVE"
            } else {
                "PERMISSIVE"
            },
            self.command.sql()
        );
        if let Some(using) = &self.using {
            sql.push_str(&format!(" USING ({using})"));
        }
        if let Some(check) = &self.with_check {
            sql.push_str(&format!(" WITH CHECK ({check})"));
        }
        sql.push(';');
        sql
    }
}

/// A change to a table's row-level security.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PolicyChange {
    /// `CREATE POLICY`.
    CreatePolicy {
        /// Its table.
        table: QualifiedName,
        /// The policy.
        policy: Policy,
    },
    /// `DROP POLICY … ON …`.
    DropPolicy {
        /// Its table, under the name it has when the policy goes.
        table: QualifiedName,
        /// The policy as it was.
        policy: Policy,
    },
    /// `ENABLE` and `FORCE ROW LEVEL SECURITY`, or `NO FORCE` and `DISABLE`.
    SetRowSecurity {
        /// The table.
        table: QualifiedName,
        /// Enabled and forced, or neither.
        enabled: bool,
    },
    /// `ENABLE` or `DISABLE`, `FORCE` or `NO FORCE ROW LEVEL SECURITY`,
    /// where enabled and forced are not the same.
    AlterRowSecurity {
        /// The table.
        table: QualifiedName,
        /// What it was.
        before: RowSecurity,
        /// What it becomes.
        after: RowSecurity,
    },
}

pub(crate) const OPS: &[&str] = &[
    "create_policy",
    "drop_policy",
    "set_row_security",
    "alter_row_security",
];

/// A new table's row security and policies follow its `CREATE TABLE`.
pub(crate) const PART: TablePart = TablePart {
    created,
    diff: diff_policies,
};

fn created(table: &Table, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    for policy in &table.policies {
        plan.push(PolicyChange::CreatePolicy {
            table: name.clone(),
            policy: policy.clone(),
        });
    }
    if let Some(change) = row_security_change(&name, RowSecurity::default(), table.row_security()) {
        plan.push(change);
    }
}

fn diff_policies(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    let old_name = before.qualified_name();
    // PostgreSQL refuses to change the type of a column a policy reads: the
    // policies of a table whose columns change type go and come back.
    let retyped = plan.changes.iter().any(
        |c| matches!(c, Change::Column(ColumnChange::AlterType { table: t, .. }) if *t == name),
    );
    let in_new_names = |p: &Policy| Policy {
        using: p
            .using
            .as_ref()
            .map(|e| renames.expr_in_new_names(&name, e)),
        with_check: p
            .with_check
            .as_ref()
            .map(|e| renames.expr_in_new_names(&name, e)),
        ..p.clone()
    };
    let same = |a: &Policy, b: &Policy| {
        a.same_as(b, |x, y| {
            crate::canonical_expr(x) == crate::canonical_expr(y)
        })
    };
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for old in &before.policies {
        let now = table.policies.iter().find(|p| p.name == old.name);
        match now {
            Some(now) if !retyped && same(&in_new_names(old), now) => {
                kept.insert(&now.name);
            }
            _ => plan.push(PolicyChange::DropPolicy {
                table: old_name.clone(),
                policy: old.clone(),
            }),
        }
    }
    for policy in &table.policies {
        if !kept.contains(policy.name.as_str()) {
            plan.push(PolicyChange::CreatePolicy {
                table: name.clone(),
                policy: policy.clone(),
            });
        }
    }
    let (was, now) = (before.row_security(), table.row_security());
    // Loosened before the table is renamed, tightened after.
    let at = match was.tightened_by(now) {
        true => name,
        false => old_name,
    };
    if let Some(change) = row_security_change(&at, was, now) {
        plan.push(change);
    }
}

impl Step for PolicyChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // Before anything is moved, renamed, retyped or dropped under it.
            PolicyChange::DropPolicy { .. } => (1, 1),
            PolicyChange::SetRowSecurity { enabled: false, .. } => (1, 2),
            // After the columns, functions and triggers it may read.
            PolicyChange::CreatePolicy { .. } => (6, 11),
            // Forced only once its policies are in place.
            PolicyChange::SetRowSecurity { enabled: true, .. } => (6, 12),
            PolicyChange::AlterRowSecurity { before, after, .. } => {
                match before.tightened_by(*after) {
                    true => (6, 12),
                    false => (1, 2),
                }
            }
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("row-level security")
    }

    fn describe(&self) -> String {
        match self {
            PolicyChange::CreatePolicy { table, policy } => {
                format!("create policy {} on {}", policy.name, table.name)
            }
            PolicyChange::DropPolicy { table, policy } => {
                format!("drop policy {} on {}", policy.name, table.name)
            }
            PolicyChange::SetRowSecurity { table, enabled } => format!(
                "{} row-level security on {}",
                if *enabled { "force" } else { "disable" },
                table.name
            ),
            PolicyChange::AlterRowSecurity { table, after, .. } => format!(
                "make row-level security on {} {}",
                table.name,
                after.describe()
            ),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            PolicyChange::CreatePolicy { .. } => (4, "create", "policies"),
            PolicyChange::DropPolicy { .. } => (4, "drop", "policies"),
            PolicyChange::SetRowSecurity { .. } | PolicyChange::AlterRowSecurity { .. } => {
                (5, "change", "row security")
            }
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            PolicyChange::CreatePolicy { table, policy } => {
                PolicyChange::DropPolicy { table, policy }
            }
            PolicyChange::DropPolicy { table, policy } => {
                PolicyChange::CreatePolicy { table, policy }
            }
            PolicyChange::SetRowSecurity { table, enabled } => PolicyChange::SetRowSecurity {
                table,
                enabled: !enabled,
            },
            PolicyChange::AlterRowSecurity {
                table,
                before,
                after,
            } => PolicyChange::AlterRowSecurity {
                table,
                before: after,
                after: before,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            PolicyChange::CreatePolicy { table, policy } => {
                if let Some(t) = table_mut(state, table) {
                    t.add_policy(policy.clone());
                }
            }
            PolicyChange::DropPolicy { table, policy } => {
                if let Some(t) = table_mut(state, table) {
                    t.policies.retain(|p| p.name != policy.name);
                }
            }
            PolicyChange::SetRowSecurity { table, enabled } => {
                if let Some(t) = table_mut(state, table) {
                    t.rls = *enabled;
                    t.rls_forced = None;
                }
            }
            PolicyChange::AlterRowSecurity { table, after, .. } => {
                if let Some(t) = table_mut(state, table) {
                    t.set_row_security(*after);
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            PolicyChange::CreatePolicy { table, policy } => policy.create_sql(table),
            PolicyChange::DropPolicy { table, policy } => {
                format!("DROP POLICY {} ON {};", quote_ident(&policy.name), q(table))
            }
            PolicyChange::SetRowSecurity {
                table,
                enabled: true,
            } => format!(
                "ALTER TABLE {} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
                q(table)
            ),
            PolicyChange::SetRowSecurity {
                table,
                enabled: false,
            } => format!(
                "ALTER TABLE {} NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;",
                q(table)
            ),
            PolicyChange::AlterRowSecurity {
                table,
                before,
                after,
            } => {
                let mut actions = Vec::new();
                if before.enabled != after.enabled {
                    actions.push(match after.enabled {
                        true => "ENABLE ROW LEVEL SECURITY",
                        false => "DISABLE ROW LEVEL SECURITY",
                    });
                }
                if before.forced != after.forced {
                    actions.push(match after.forced {
                        true => "FORCE ROW LEVEL SECURITY",
                        false => "NO FORCE ROW LEVEL SECURITY",
                    });
                }
                format!("ALTER TABLE {} {};", q(table), actions.join(", "))
            }
        }
    }
}
