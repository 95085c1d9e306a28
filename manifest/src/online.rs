//! Changes to a table that existed before its migration, in the forms that
//! keep it taking writes: what cannot run in a transaction (`CONCURRENTLY`,
//! `VALIDATE CONSTRAINT` in a transaction of its own) is split off into
//! migrations without one, before and after the rest.

use crate::kinds::constraint::{Constraint, ConstraintChange};
use crate::kinds::index::IndexChange;
use crate::kinds::partition::PartitionChange;
use crate::kinds::table::TableChange;
use crate::{
    object_name, quote_ident, Change, Check, ColumnChange, CommentChange, ObjectRefKind,
    QualifiedName, SchemaState, Unconfirmed,
};

/// Splits a migration's `changes` so that the tables that existed before it
/// keep taking writes: the index drops and builds on such a table become
/// `CONCURRENTLY`, in migrations of their own without a transaction (the
/// drops before the rest, the builds after it). A table the migration
/// creates, moves, renames, drops or rebuilds keeps plain DDL in the rest,
/// and so does a partitioned table, but for its index builds: the runner
/// builds those on each partition `CONCURRENTLY`. Returns `(drops, rest,
/// builds)`.
pub fn split_online(
    old: &SchemaState,
    changes: Vec<Change>,
) -> (Vec<Change>, Vec<Change>, Vec<Change>) {
    split_online_batched(old, changes, BACKFILL_BATCH)
}

/// About how many rows a backfill fills per transaction, unless
/// `Builder::backfill_batch` says otherwise.
pub const BACKFILL_BATCH: u32 = 10_000;

/// [`split_online`], with a column added with a volatile default to such a
/// table in four steps: added nullable without its default (a catalog
/// update), the default set (rows written from then on get it), the rows
/// it had filled in batches of about `batch` rows, each committed on its
/// own, and NOT NULL, if the column is, through a validated check.
pub fn split_online_batched(
    old: &SchemaState,
    changes: Vec<Change>,
    batch: u32,
) -> (Vec<Change>, Vec<Change>, Vec<Change>) {
    split(old, changes, Some(batch))
}

/// [`split_online`] for the tenant stream, whose drops and builds run
/// after each existing tenant's transaction (a new tenant runs them in
/// it). A column with a volatile default stays in the rest, added in
/// place (a hazard): its batched fill commits as it goes, which a new
/// tenant's one transaction cannot.
pub fn split_online_tenant(
    old: &SchemaState,
    changes: Vec<Change>,
) -> (Vec<Change>, Vec<Change>, Vec<Change>) {
    split(old, changes, None)
}

fn split(
    old: &SchemaState,
    changes: Vec<Change>,
    backfill: Option<u32>,
) -> (Vec<Change>, Vec<Change>, Vec<Change>) {
    let mut touched: Vec<QualifiedName> = Vec::new();
    for change in &changes {
        match change {
            Change::Table(
                TableChange::CreateTable { table } | TableChange::DropTable { table },
            ) => {
                touched.push(table.qualified_name());
            }
            Change::Table(TableChange::MoveTable { table, from, to }) => {
                touched.push(QualifiedName::new(from, table));
                touched.push(QualifiedName::new(to, table));
            }
            Change::Table(TableChange::RenameTable { schema, from, to }) => {
                touched.push(QualifiedName::new(schema, from));
                touched.push(QualifiedName::new(schema, to));
            }
            Change::Partition(PartitionChange::Repartition { after, .. }) => {
                touched.push(after.qualified_name());
            }
            _ => {}
        }
    }
    // A foreign key added here needs the key it references now, not after.
    let referenced: Vec<QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Constraint(ConstraintChange::AddConstraint {
                constraint: Constraint::ForeignKey(key),
                ..
            }) => Some(key.references.clone()),
            _ => None,
        })
        .collect();
    let online = |table: &QualifiedName| {
        !touched.contains(table)
            && old
                .table(&table.schema, &table.name)
                .is_some_and(|t| t.partition.is_none())
    };
    // An index is built on each partition of a partitioned table
    // `CONCURRENTLY` by the runner, which attaches each build to the
    // parent's index made `ON ONLY` (see the runtime's `index_target`).
    let online_index = |table: &QualifiedName| {
        !touched.contains(table) && old.table(&table.schema, &table.name).is_some()
    };
    let (mut drops, mut rest, mut builds) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            Change::Index(IndexChange::DropIndex { table, index, .. }) if online(&table) => {
                drops.push(
                    IndexChange::DropIndex {
                        table,
                        index,
                        concurrently: true,
                    }
                    .into(),
                );
            }
            Change::Index(IndexChange::CreateIndex { table, index, .. })
                if online_index(&table) =>
            {
                builds.push(
                    IndexChange::CreateIndex {
                        table,
                        index,
                        concurrently: true,
                    }
                    .into(),
                );
            }
            // A foreign key or check: added NOT VALID (a catalog update),
            // validated after, in a transaction of its own.
            Change::Constraint(ConstraintChange::AddConstraint {
                table,
                constraint: constraint @ (Constraint::ForeignKey(_) | Constraint::Check(_)),
                ..
            }) if online(&table) => {
                if !constraint.left_not_valid() {
                    builds.push(
                        ConstraintChange::ValidateConstraint {
                            table: table.clone(),
                            name: constraint.name().to_owned(),
                        }
                        .into(),
                    );
                }
                rest.push(
                    ConstraintChange::AddConstraint {
                        table,
                        constraint,
                        not_valid: true,
                        using_index: false,
                    }
                    .into(),
                );
            }
            // A unique constraint, or a primary key over columns already NOT
            // NULL (else adding it scans them): its index built concurrently.
            Change::Constraint(ConstraintChange::AddConstraint {
                table,
                constraint: constraint @ (Constraint::Unique(_) | Constraint::PrimaryKey(_)),
                ..
            }) if online(&table)
                && !referenced.contains(&table)
                && keyed_on_required(old, &table, &constraint) =>
            {
                builds.push(
                    ConstraintChange::AddConstraint {
                        table,
                        constraint,
                        not_valid: false,
                        using_index: true,
                    }
                    .into(),
                );
            }
            // A volatile default: PostgreSQL would write every row's value
            // under ACCESS EXCLUSIVE. Added bare, defaulted, filled, then
            // made NOT NULL as below.
            Change::Column(ColumnChange::AddColumn { table, column })
                if online(&table)
                    && backfill.is_some()
                    && column.generated.is_none()
                    && !column.identity
                    && column
                        .default
                        .as_deref()
                        .is_some_and(crate::kinds::column::is_volatile) =>
            {
                let value = column.default.clone().unwrap_or_default();
                let mut bare = column.clone();
                bare.default = None;
                bare.nullable = true;
                rest.push(
                    ColumnChange::AddColumn {
                        table: table.clone(),
                        column: bare,
                    }
                    .into(),
                );
                rest.push(
                    ColumnChange::SetDefault {
                        table: table.clone(),
                        column: column.name.clone(),
                        from: None,
                        to: Some(value.clone()),
                    }
                    .into(),
                );
                builds.push(
                    ColumnChange::Backfill {
                        table: table.clone(),
                        column: column.name.clone(),
                        value,
                        batch: backfill.unwrap_or(BACKFILL_BATCH),
                    }
                    .into(),
                );
                if !column.nullable {
                    not_null(table, column.name.clone(), &mut rest, &mut builds);
                }
            }
            // SET NOT NULL scans the table under ACCESS EXCLUSIVE, unless a
            // valid check already proves no row holds NULL: the check is
            // added NOT VALID, validated, then SET NOT NULL skips the scan,
            // and the check goes.
            Change::Column(ColumnChange::SetNullable {
                table,
                column,
                nullable: false,
            }) if online(&table) => {
                not_null(table, column, &mut rest, &mut builds);
            }
            other => rest.push(other),
        }
    }
    // A comment on an index built concurrently follows the build.
    let built = |change: &Change| match change {
        Change::Comment(CommentChange::SetObjectComment { on, .. })
            if on.kind == ObjectRefKind::Index =>
        {
            builds.iter().any(|b| {
                matches!(b, Change::Index(IndexChange::CreateIndex { table, index, .. })
                    if table.schema == on.schema && index.name == on.name)
            })
        }
        _ => false,
    };
    let (after, kept): (Vec<Change>, Vec<Change>) = rest.into_iter().partition(built);
    let mut rest = kept;
    builds.extend(after);
    // The checks added in place of a step go to their own stage; the builds
    // keep their order (validate, then SET NOT NULL, then drop the check).
    rest.sort_by_key(Change::order);
    (drops, rest, builds)
}

/// `SET NOT NULL` on `column` of `table` in four steps: a check `IS NOT
/// NULL` added `NOT VALID` (to `rest`), then, without a transaction (to
/// `builds`), the check validated, `SET NOT NULL` (which the valid check
/// spares its scan), and the check dropped.
fn not_null(
    table: QualifiedName,
    column: String,
    rest: &mut Vec<Change>,
    builds: &mut Vec<Change>,
) {
    let check = Check {
        name: crate::constraint_name(&table.name, std::slice::from_ref(&column), "not_null"),
        expr: format!("{} IS NOT NULL", quote_ident(&column)),
    };
    rest.push(
        ConstraintChange::AddConstraint {
            table: table.clone(),
            constraint: Constraint::Check(check.clone()),
            not_valid: true,
            using_index: false,
        }
        .into(),
    );
    builds.push(
        ConstraintChange::ValidateConstraint {
            table: table.clone(),
            name: check.name.clone(),
        }
        .into(),
    );
    builds.push(
        ColumnChange::SetNullable {
            table: table.clone(),
            column,
            nullable: false,
        }
        .into(),
    );
    builds.push(
        ConstraintChange::DropConstraint {
            table,
            constraint: Constraint::Check(check),
        }
        .into(),
    );
}

/// Whether `constraint` is a unique constraint, or a primary key whose
/// columns are all NOT NULL already in `old` (a primary key `USING INDEX`
/// over a nullable column scans the table for NULLs under `ACCESS
/// EXCLUSIVE`).
fn keyed_on_required(old: &SchemaState, table: &QualifiedName, constraint: &Constraint) -> bool {
    match constraint {
        Constraint::Unique(_) => true,
        Constraint::PrimaryKey(key) => old.table(&table.schema, &table.name).is_some_and(|t| {
            key.columns
                .iter()
                .all(|c| t.column(c).is_some_and(|c| !c.nullable))
        }),
        _ => false,
    }
}

impl Change {
    /// True for a change that cannot run in a transaction (`CONCURRENTLY`):
    /// its migration is marked `-- strata:no-transaction`.
    pub fn needs_no_transaction(&self) -> bool {
        matches!(
            self,
            Change::Constraint(
                ConstraintChange::ValidateConstraint { .. }
                    | ConstraintChange::AddConstraint {
                        using_index: true,
                        ..
                    }
            ) | Change::Index(
                IndexChange::CreateIndex {
                    concurrently: true,
                    ..
                } | IndexChange::DropIndex {
                    concurrently: true,
                    ..
                }
            ) | Change::Column(ColumnChange::Backfill { .. })
        )
    }
}

/// The table an online form of a change works on: an index built or
/// dropped, a constraint added, validated or dropped, a column made NOT
/// NULL, added or filled.
fn online_table(change: &Change) -> Option<&QualifiedName> {
    match change {
        Change::Column(ColumnChange::AddColumn { table, .. }) => Some(table),
        Change::Index(
            IndexChange::CreateIndex { table, .. } | IndexChange::DropIndex { table, .. },
        )
        | Change::Constraint(
            ConstraintChange::AddConstraint { table, .. }
            | ConstraintChange::ValidateConstraint { table, .. }
            | ConstraintChange::DropConstraint { table, .. },
        )
        | Change::Column(
            ColumnChange::SetNullable { table, .. } | ColumnChange::Backfill { table, .. },
        ) => Some(table),
        _ => None,
    }
}

/// Why `change`'s locks are a confirmed hazard, when it works on a table
/// named in `hazards` (a tenant migration's, from
/// [`residual_lock_hazards`] of its part in the transaction).
pub fn tenant_lock_reason(change: &Change, hazards: &[Unconfirmed]) -> Option<String> {
    let table = online_table(change)?;
    let object = object_name(&[&table.schema, &table.name]);
    hazards
        .iter()
        .any(|h| h.object == object)
        .then(|| format!("a hazard for {object}, gated by its confirmation"))
}

/// The hazards [`split_online`] leaves in `rest` (its second part): a
/// change that still builds or scans a table of `old` in place, under a
/// lock that stops its writes. A key, constraint or `NOT NULL` on a
/// partitioned table (PostgreSQL cannot build a key there `CONCURRENTLY`,
/// nor add a foreign key `NOT VALID`), a unique key a foreign key of the
/// same migration needs at once, a primary key over a
/// column that may hold NULL. Each table is a hazard, confirmed by its
/// name; a table the migration rebuilds is locked by its rebuild, which is
/// confirmed already.
pub fn residual_lock_hazards(old: &SchemaState, rest: &[Change]) -> Vec<Unconfirmed> {
    let rebuilt: Vec<QualifiedName> = rest
        .iter()
        .filter_map(|c| match c {
            Change::Partition(PartitionChange::Repartition { after, .. }) => {
                Some(after.qualified_name())
            }
            _ => None,
        })
        .collect();
    let mut found: std::collections::BTreeMap<&QualifiedName, Vec<&str>> = Default::default();
    for change in rest {
        let (table, what) = match change {
            Change::Index(IndexChange::CreateIndex {
                table,
                concurrently: false,
                ..
            }) => (table, "an index built in place, which stops the table's writes until it is built"),
            Change::Constraint(ConstraintChange::AddConstraint {
                table,
                constraint: Constraint::Unique(_) | Constraint::PrimaryKey(_),
                using_index: false,
                ..
            }) => (table, "a unique key or primary key built in place, under ACCESS EXCLUSIVE, which stops its reads and writes until the index is built"),
            Change::Constraint(ConstraintChange::AddConstraint {
                table,
                constraint: Constraint::ForeignKey(_) | Constraint::Check(_),
                not_valid: false,
                ..
            }) => (table, "a constraint checked in place, which stops the table's writes while every row is read"),
            Change::Column(ColumnChange::SetNullable {
                table,
                nullable: false,
                ..
            }) => (table, "NOT NULL set in place, which reads every row under ACCESS EXCLUSIVE"),
            Change::Column(ColumnChange::AddColumn { table, column })
                if column
                    .default
                    .as_deref()
                    .is_some_and(crate::kinds::column::is_volatile) =>
            {
                (table, "a column with a volatile default added in place, which rewrites the table under ACCESS EXCLUSIVE")
            }
            _ => continue,
        };
        if old.table(&table.schema, &table.name).is_none() || rebuilt.contains(table) {
            continue;
        }
        let whats = found.entry(table).or_default();
        if !whats.contains(&what) {
            whats.push(what);
        }
    }
    found
        .into_iter()
        .map(|(table, whats)| Unconfirmed {
            object: object_name(&[&table.schema, &table.name]),
            what: format!(
                "{} (a key, constraint or NOT NULL on a partitioned table, which PostgreSQL cannot build CONCURRENTLY or, for a foreign key, add NOT VALID, or a key a foreign key of the same migration needs at once, or a primary key over a column that may hold NULL)",
                whats.join("; ")
            ),
            help: "confirm it when the table is small or quiet; otherwise add the key in a migration before the foreign key that needs it, or make the column NOT NULL before the primary key".to_owned(),
        })
        .collect()
}
