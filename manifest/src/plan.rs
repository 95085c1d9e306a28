//! The one planner: from the state a database is in and the state it
//! should be in, the migrations that take it there, each with where its
//! statements run (in one transaction, or each on its own). The build and
//! `strata diff` both plan here; they differ only in [`Stream`].

use crate::{
    diff_with, residual_lock_hazards, split_online_batched, split_online_tenant, Change, Confirm,
    DiffError, EnumChange, SchemaChange, SchemaState, Unconfirmed, BACKFILL_BATCH,
};

/// What the changes are for, which decides how they are cut into migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stream {
    /// The shared schemas of a build: added enum values first, in a
    /// migration of their own; index drops and builds on tables that exist
    /// `CONCURRENTLY`, outside a transaction, the drops first and the
    /// builds last; large backfills in batches of `backfill_batch` rows.
    Shared {
        /// Rows per batch of a backfill.
        backfill_batch: u32,
    },
    /// Every tenant's schema: one migration, run in each tenant's
    /// transaction, with the steps on tables every tenant already has
    /// (index drops and builds) after it, each on its own.
    Tenant,
    /// A diff between two live databases: the drops outside a transaction,
    /// the rest, then the builds outside a transaction.
    DatabaseDiff,
}

impl Stream {
    /// The shared stream with the default backfill batch.
    pub fn shared() -> Stream {
        Stream::Shared {
            backfill_batch: BACKFILL_BATCH,
        }
    }
}

/// One migration the plan holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PlannedMigration {
    /// Its changes, in the order they run.
    pub changes: Vec<Change>,
    /// False when a change of it cannot run in a transaction (`CREATE INDEX
    /// CONCURRENTLY`): its statements run each on its own.
    pub in_transaction: bool,
    /// Steps that run after the transaction, each on its own (a tenant
    /// migration's index builds on tables every tenant has).
    pub after: Vec<Change>,
    /// The lock hazards it holds where it stands, beyond its changes' own,
    /// confirmed: recorded with it, and its statements marked.
    pub hazards: Vec<Unconfirmed>,
    /// The state once it has run.
    pub state: SchemaState,
}

/// The migrations that take a database from one state to another.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Plan {
    /// Every change, in the order the diff gave them.
    pub changes: Vec<Change>,
    /// The migrations, in the order they run; none when nothing changes.
    pub migrations: Vec<PlannedMigration>,
    /// Every hazard the plan holds, each confirmed (or it would not be a
    /// plan): the changes' own and the locks left in place.
    pub confirmed_hazards: Vec<Unconfirmed>,
}

/// Plans the migrations from `old` to `desired`, refusing what can lose
/// data or lock a live table unless `confirm` covers it. Pure: the same
/// arguments give the same plan.
pub fn plan(
    old: &SchemaState,
    desired: &SchemaState,
    confirm: &Confirm,
    stream: Stream,
) -> Result<Plan, DiffError> {
    let changes = diff_with(old, desired, confirm)?;
    let own_hazards: Vec<Unconfirmed> = changes.iter().filter_map(Change::hazard).collect();
    let mut plan = Plan {
        changes: changes.clone(),
        ..Plan::default()
    };
    if changes.is_empty() {
        return Ok(plan);
    }
    match stream {
        Stream::Tenant => {
            let (drops, rest, builds) = split_online_tenant(old, changes);
            let hazards = residual_lock_hazards(old, &rest);
            refuse_unconfirmed(&hazards, confirm)?;
            plan.confirmed_hazards = own_hazards.into_iter().chain(hazards.clone()).collect();
            plan.migrations.push(PlannedMigration {
                in_transaction: !rest.iter().any(Change::needs_no_transaction),
                changes: rest,
                after: drops.into_iter().chain(builds).collect(),
                hazards,
                state: desired.clone(),
            });
        }
        Stream::DatabaseDiff => {
            // Two whole databases: a schema the target has not is dropped
            // once what was in it is (`RESTRICT`: anything strata does not
            // read stops it, with PostgreSQL's word), where a build keeps it.
            let changes: Vec<Change> = changes
                .into_iter()
                .map(|change| match change {
                    Change::Schema(SchemaChange::ReleaseSchema { schema }) => {
                        SchemaChange::DropSchema { schema }.into()
                    }
                    other => other,
                })
                .collect();
            plan.changes = changes.clone();
            let (drops, rest, builds) = split_online_batched(old, changes, BACKFILL_BATCH);
            plan.confirmed_hazards = own_hazards;
            plan.migrations = in_order(old, desired, [drops, rest, builds], Vec::new());
        }
        Stream::Shared { backfill_batch } => {
            // A value added to an enum cannot be used in the transaction
            // that adds it: the additions (with the renames they may stand
            // next to) go first, in a migration of their own.
            let adds = changes
                .iter()
                .any(|c| matches!(c, Change::Enum(EnumChange::AddEnumValue { .. })));
            let (added, rest): (Vec<Change>, Vec<Change>) = changes.into_iter().partition(|c| {
                adds && matches!(
                    c,
                    Change::Enum(
                        EnumChange::AddEnumValue { .. } | EnumChange::RenameEnumValue { .. }
                    )
                )
            });
            let (drops, rest, builds) = split_online_batched(old, rest, backfill_batch);
            // What still locks a live table in place is a hazard, refused
            // until confirmed, like the hazards of the diff.
            let hazards = residual_lock_hazards(old, &rest);
            refuse_unconfirmed(&hazards, confirm)?;
            plan.confirmed_hazards = own_hazards.into_iter().chain(hazards.clone()).collect();
            plan.migrations = in_order(old, desired, [added, drops, rest, builds], hazards);
        }
    }
    Ok(plan)
}

/// The non-empty batches as migrations, each with the state after it (the
/// last one's is `desired` itself) and outside a transaction when a change
/// of it cannot run in one; `hazards` go with the batch that runs in place
/// of the rest (the one in a transaction after the drops).
fn in_order<const N: usize>(
    old: &SchemaState,
    desired: &SchemaState,
    batches: [Vec<Change>; N],
    hazards: Vec<Unconfirmed>,
) -> Vec<PlannedMigration> {
    let last = batches.iter().rposition(|changes| !changes.is_empty());
    let rest_at = N.saturating_sub(2);
    let mut state = old.clone();
    let mut migrations = Vec::new();
    for (at, changes) in batches.into_iter().enumerate() {
        if changes.is_empty() {
            continue;
        }
        let after = if Some(at) == last {
            desired.clone()
        } else {
            for change in &changes {
                change.apply_to(&mut state);
            }
            state.clone()
        };
        migrations.push(PlannedMigration {
            in_transaction: !changes.iter().any(Change::needs_no_transaction),
            changes,
            after: Vec::new(),
            hazards: match at == rest_at {
                true => hazards.clone(),
                false => Vec::new(),
            },
            state: after,
        });
    }
    migrations
}

fn refuse_unconfirmed(hazards: &[Unconfirmed], confirm: &Confirm) -> Result<(), DiffError> {
    let refused: Vec<Unconfirmed> = hazards
        .iter()
        .filter(|h| !confirm.covers(&h.object))
        .cloned()
        .collect();
    match refused.is_empty() {
        true => Ok(()),
        false => Err(DiffError::unconfirmed(refused)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, Index, Table};

    /// A table with rows (it is in `old`), and the same with an index.
    fn states() -> (SchemaState, SchemaState) {
        let mut table = Table::new("shop", "item");
        table.columns.push(Column::new("id", "bigint").not_null());
        table.columns.push(Column::new("label", "text"));
        let mut old = SchemaState::default();
        old.add_table(table.clone());
        table.indexes.push(Index {
            name: "item_label".to_owned(),
            columns: vec!["label".to_owned()],
            ..Index::default()
        });
        let mut new = old.clone();
        new.tables = vec![table];
        (old, new)
    }

    #[test]
    fn an_index_on_a_live_table_is_built_outside_a_transaction_in_every_stream() {
        let (old, new) = states();
        for stream in [Stream::shared(), Stream::DatabaseDiff] {
            let planned = plan(&old, &new, &Confirm::none(), stream).unwrap();
            assert_eq!(planned.migrations.len(), 1, "{stream:?}");
            let build = &planned.migrations[0];
            assert!(!build.in_transaction, "{stream:?}");
            assert_eq!(build.state, new, "{stream:?}");
        }
        // A tenant migration runs in each tenant's transaction, the build after it.
        let tenant = plan(&old, &new, &Confirm::none(), Stream::Tenant).unwrap();
        assert_eq!(tenant.migrations.len(), 1);
        assert!(tenant.migrations[0].in_transaction);
        assert!(tenant.migrations[0].changes.is_empty());
        assert_eq!(tenant.migrations[0].after.len(), 1);
    }

    #[test]
    fn nothing_to_do_plans_nothing() {
        let (old, _) = states();
        let planned = plan(&old, &old, &Confirm::none(), Stream::shared()).unwrap();
        assert!(planned.changes.is_empty() && planned.migrations.is_empty());
    }
}
