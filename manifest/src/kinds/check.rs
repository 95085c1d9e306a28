//! Check constraints, compared by their canonical expression.

use serde::{Deserialize, Serialize};

use super::constraint::{drop_and_add, rename};
use super::TablePart;
use crate::diff::{match_by, Plan, Renames};
use crate::{Constraint, Table};

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The constraint's name.
    pub name: String,
    /// The boolean expression.
    pub expr: String,
}

/// Checks come with `CREATE TABLE`.
pub(crate) const PART: TablePart = TablePart {
    created: |_, _| {},
    diff: diff_checks,
};

fn diff_checks(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    // PostgreSQL rewrites checks when a column is renamed, so compare them in
    // the new names; a check that only changed its name is renamed.
    let old_checks: Vec<Check> = before
        .checks
        .iter()
        .map(|c| Check {
            expr: renames.expr_in_new_names(&name, &c.expr),
            ..c.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_checks, &table.checks, |a, b| {
        crate::canonical_expr(&a.expr) == crate::canonical_expr(&b.expr)
    });
    for (a, b) in same {
        rename(plan, &name, &a.name, &b.name);
    }
    // Dropped checks are recorded in the new column names: that is how
    // PostgreSQL holds them by then, and how the down file must restore them
    // before it renames the columns back.
    drop_and_add(plan, &name, gone, added, |c| Constraint::Check(c.clone()));
}
