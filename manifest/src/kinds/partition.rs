//! Partitioned tables: `partition_by = "range(occurred_at)"` (or `list`,
//! `hash`) on a model. The parent is made `PARTITION BY …` with its
//! table; its partitions are not models: strata makes the ones a range by
//! time needs ahead of time at start-up (`strata::partitions`), and the
//! drift check judges them by rule, never as unexpected tables.

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::{object_name, quote_ident, quote_literal, QualifiedName, SchemaState, Table};

/// How a table is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionMethod {
    /// `RANGE`.
    Range,
    /// `LIST`.
    List,
    /// `HASH`.
    Hash,
}

impl PartitionMethod {
    /// As SQL spells it: `RANGE`, `LIST`, `HASH`.
    pub fn keyword(self) -> &'static str {
        match self {
            PartitionMethod::Range => "RANGE",
            PartitionMethod::List => "LIST",
            PartitionMethod::Hash => "HASH",
        }
    }
}

/// How long one partition of a range by time spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionInterval {
    /// A day: `events_p20261202`.
    Day,
    /// A month: `events_p202612`.
    Month,
    /// A year: `events_p2026`.
    Year,
}

impl PartitionInterval {
    /// As `date_trunc` and `interval` spell it.
    pub fn unit(self) -> &'static str {
        match self {
            PartitionInterval::Day => "day",
            PartitionInterval::Month => "month",
            PartitionInterval::Year => "year",
        }
    }

    /// `to_char`'s pattern for a partition's name suffix.
    pub fn suffix_pattern(self) -> &'static str {
        match self {
            PartitionInterval::Day => "YYYYMMDD",
            PartitionInterval::Month => "YYYYMM",
            PartitionInterval::Year => "YYYY",
        }
    }

    /// From `partition_interval = "…"`.
    pub fn parse(text: &str) -> Option<PartitionInterval> {
        Some(match text {
            "day" | "daily" => PartitionInterval::Day,
            "month" | "monthly" => PartitionInterval::Month,
            "year" | "yearly" => PartitionInterval::Year,
            _ => return None,
        })
    }
}

/// A partitioned table's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partitioning {
    /// Range, list or hash.
    pub method: PartitionMethod,
    /// The partition key's columns.
    pub columns: Vec<String>,
    /// For a range by time: how long each partition spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<PartitionInterval>,
    /// For a range by time: how many partitions after the current one
    /// exist at all times.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ahead: u32,
    /// A `DEFAULT` partition takes the rows no other partition does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default_partition: bool,
    /// For a range by time: how many whole periods before the current one
    /// are kept; older partitions are detached and dropped at start-up,
    /// once confirmed. `None` keeps every partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<u32>,
    /// For a hash: how many partitions (the modulus), made with the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_partitions: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Partitioning {
    /// `PARTITION BY RANGE ("occurred_at")`.
    pub fn clause(&self) -> String {
        let columns: Vec<String> = self.columns.iter().map(|c| quote_ident(c)).collect();
        format!(
            "PARTITION BY {} ({})",
            self.method.keyword(),
            columns.join(", ")
        )
    }

    /// As a model's `partition_by` spells it: `range(occurred_at)`.
    pub fn spelling(&self) -> String {
        format!(
            "{}({})",
            self.method.keyword().to_lowercase(),
            self.columns.join(", ")
        )
    }

    /// The name of hash partition `remainder` of `table`: `events_h3`.
    pub fn hash_partition_name(table: &str, remainder: u32) -> String {
        format!("{table}_h{remainder}")
    }

    /// The `CREATE TABLE … PARTITION OF` of each hash partition of a new
    /// table (new, so the parent's strong lock stops nobody).
    pub fn hash_partitions_sql(&self, table: &QualifiedName) -> Vec<String> {
        let Some(modulus) = self.hash_partitions else {
            return Vec::new();
        };
        (0..modulus)
            .map(|remainder| {
                format!(
                    "CREATE TABLE {}.{} PARTITION OF {} FOR VALUES WITH (MODULUS {modulus}, REMAINDER {remainder});",
                    quote_ident(&table.schema),
                    quote_ident(&Partitioning::hash_partition_name(&table.name, remainder)),
                    super::q(table)
                )
            })
            .collect()
    }

    /// The name of a partition of `table` for the period whose suffix is
    /// `suffix` (`202612`), or of its default partition.
    pub fn partition_name(table: &str, suffix: Option<&str>) -> String {
        match suffix {
            Some(suffix) => format!("{table}_p{suffix}"),
            None => format!("{table}_default"),
        }
    }
}

/// Partitioning is part of `CREATE TABLE`: a table that takes it on,
/// loses it or changes its key is rebuilt ([`rebuild`]); the partitions
/// ahead and the default partition of a table that keeps its key are made
/// at start-up.
pub(crate) const PART: TablePart = TablePart {
    created: |_, _| {},
    diff: diff_partitioning,
};

fn shape(table: &Table) -> Option<(PartitionMethod, Vec<String>, Option<u32>)> {
    table
        .partition
        .as_ref()
        .map(|p| (p.method, p.columns.clone(), p.hash_partitions))
}

/// Whether the table's rows must move to a new table: it becomes
/// partitioned, stops being partitioned, or changes method, key or modulus.
pub(crate) fn reshaped(before: &Table, table: &Table) -> bool {
    shape(before) != shape(table)
}

fn diff_partitioning(before: &Table, table: &Table, _: &Renames, plan: &mut Plan<'_>) {
    if let (Some(from), Some(to)) = (&before.partition, &table.partition) {
        if from != to {
            plan.push(PartitionChange::SetPartitionRule {
                table: table.qualified_name(),
                from: from.clone(),
                to: to.clone(),
            });
        }
    }
}

/// A table whose partitioning changes: a new table, its rows copied, the
/// old one dropped, in one transaction under the old table's `ACCESS
/// EXCLUSIVE` lock. Writes wait rather than being lost, so the rebuild is
/// a hazard the user confirms, for a quiet table. Views over the table and
/// triggers on it are dropped and made again around it (their diffs read
/// this plan); a foreign key from another table is refused.
pub(crate) fn rebuild(
    old: &SchemaState,
    new: &SchemaState,
    before: &Table,
    table: &Table,
    renames: &Renames,
    plan: &mut Plan<'_>,
) {
    let name = table.qualified_name();
    let object = object_name(&[&table.schema, &table.name]);
    let mut stopped = false;
    if let Some(rule) = &table.partition {
        if rule.interval.is_none() && rule.hash_partitions.is_none() && !rule.default_partition {
            plan.problems.push(format!(
                "table {object}: becoming partitioned by {}, its rows would have no partition to go to: strata makes partitions only for a range by time (`partition_interval`) or a hash (`partitions = N`); add `default_partition` to take them",
                rule.spelling()
            ));
            stopped = true;
        }
    }
    let referencing = |state: &SchemaState, target: &QualifiedName| -> Vec<String> {
        state
            .tables
            .iter()
            .filter(|t| t.qualified_name() != *target)
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|k| k.references == *target)
                    .map(|k| object_name(&[&t.schema, &t.name, &k.name]))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let mut keys = referencing(old, &before.qualified_name());
    keys.extend(referencing(new, &name));
    keys.sort();
    keys.dedup();
    if !keys.is_empty() {
        plan.problems.push(format!(
            "table {object}: its rows move to a new table as its partitioning changes, but {} references it; drop that foreign key in one build, change the partitioning in the next, and add the key back after",
            keys.join(", ")
        ));
        stopped = true;
    }
    if stopped {
        return;
    }
    let mut before = before.clone();
    // Moves and renames come first in a migration: by the time of the
    // rebuild, the old table has the new name.
    before.schema.clone_from(&table.schema);
    before.name.clone_from(&table.name);
    let copied = table
        .columns
        .iter()
        .filter(|c| c.generated.is_none())
        .filter_map(|c| {
            before
                .columns
                .iter()
                .find(|b| b.generated.is_none() && renames.column(&name, &b.name) == c.name)
                .map(|b| (b.name.clone(), c.name.clone()))
        })
        .collect();
    plan.hazardous(PartitionChange::Repartition {
        before: Box::new(before),
        after: Box::new(table.clone()),
        copied,
    });
}

/// The hazard of rebuilding `before` as `after`: every read and write waits
/// for the copy.
fn rebuild_hazard(before: &Table, after: &Table) -> crate::Unconfirmed {
    let what = match (&before.partition, &after.partition) {
        (None, Some(rule)) => format!("becomes partitioned by {}", rule.spelling()),
        (Some(_), None) => "stops being partitioned".to_owned(),
        (_, Some(rule)) => format!("is partitioned again, by {}", rule.spelling()),
        (_, None) => "is rebuilt".to_owned(),
    };
    crate::Unconfirmed {
        object: object_name(&[&after.schema, &after.name]),
        what: format!(
            "{what}: a new table is made and every row copied into it, under an ACCESS EXCLUSIVE lock that makes each read and write of the table wait until the copy commits"
        ),
        help: "confirm it for a deploy when the table is quiet; for a large table in constant use, make a new partitioned model, copy the rows in batches while a trigger keeps it in step, and swap the names".to_owned(),
    }
}

/// `name` with `suffix`, within PostgreSQL's 63 bytes.
fn with_suffix(name: &str, suffix: &str) -> String {
    let mut keep = crate::MAX_IDENT_BYTES - suffix.len();
    while !name.is_char_boundary(keep.min(name.len())) {
        keep -= 1;
    }
    let stem = name.get(..keep.min(name.len())).unwrap_or(name);
    format!("{stem}{suffix}")
}

/// The SQL that rebuilds `before` as `after`: see [`rebuild`].
fn render_rebuild(before: &Table, after: &Table, copied: &[(String, String)]) -> String {
    let name = after.qualified_name();
    let table = super::q(&name);
    let held = with_suffix(&after.name, "_strata_old");
    let held_q = crate::qualified(&after.schema, &held);
    let mut sql = vec![format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;")];
    // What reads the old table by name goes first: its compat view.
    let confirm = crate::Confirm::none();
    let mut gone = Plan::scratch(&confirm);
    if let Some(view) = &before.compat_view {
        gone.push(super::compat_view::CompatViewChange::DropView {
            view: view.clone(),
            table: name.clone(),
            columns: before.columns.iter().map(|c| c.name.clone()).collect(),
            security_invoker: before.compat_view_security_invoker,
            grants: before.grants.clone(),
        });
    }
    sql.extend(gone.changes.iter().map(Change::render));
    // The old table's owner reads it all: a forced RLS would hide rows.
    if before.rls {
        sql.push(format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;"));
    }
    sql.push(format!(
        "ALTER TABLE {table} RENAME TO {};",
        quote_ident(&held)
    ));
    // Index names are the schema's: the old table's give theirs up.
    for index in &before.indexes {
        sql.push(format!(
            "DROP INDEX {};",
            crate::qualified(&after.schema, &index.name)
        ));
    }
    for key in before.primary_key.iter().chain(&before.uniques) {
        sql.push(format!(
            "ALTER TABLE {held_q} DROP CONSTRAINT {};",
            quote_ident(&key.name)
        ));
    }
    // The new table; what slows a copy (indexes, foreign keys) and what
    // would hide rows from it (row-level security) come after the copy.
    let mut made = Plan::scratch(&confirm);
    made.push(super::table::TableChange::CreateTable {
        table: after.bare(),
    });
    for part in super::TABLE_PARTS {
        (part.created)(after, &mut made);
    }
    made.changes.sort_by_key(Change::order);
    let (create, rest) = made.changes.split_at(1.min(made.changes.len()));
    sql.extend(create.iter().map(Change::render));
    if let Some(rule) = &after.partition {
        if let (Some(interval), Some(key)) = (rule.interval, rule.columns.first()) {
            let source = copied
                .iter()
                .find(|(_, to)| to == key)
                .map_or(key.as_str(), |(from, _)| from.as_str());
            sql.push(periods_sql(after, &held_q, source, interval));
        }
        if rule.default_partition {
            sql.push(format!(
                "CREATE TABLE {} PARTITION OF {table} DEFAULT;",
                crate::qualified(
                    &after.schema,
                    &Partitioning::partition_name(&after.name, None)
                )
            ));
        }
    }
    let from: Vec<String> = copied.iter().map(|(from, _)| from.clone()).collect();
    let to: Vec<String> = copied.iter().map(|(_, to)| to.clone()).collect();
    let overriding = if after
        .columns
        .iter()
        .any(|c| c.identity && to.contains(&c.name))
    {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    // Every row or an error: under a policy that would hide rows from this
    // role, `row_security = off` makes the copy fail instead of copying fewer.
    sql.push("SET LOCAL row_security = off;".to_owned());
    sql.push(format!(
        "INSERT INTO {table} ({}){overriding}\nSELECT {} FROM {held_q};",
        super::list(&to),
        super::list(&from)
    ));
    sql.push("RESET row_security;".to_owned());
    for column in after.columns.iter().filter(|c| c.identity) {
        sql.push(format!(
            "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({}, {}), m) FROM (SELECT max({}) AS m FROM {table}) AS max WHERE m IS NOT NULL;",
            quote_literal(&table),
            quote_literal(&column.name),
            quote_ident(&column.name)
        ));
    }
    // A sequence a column of the old table owns (a `serial`) outlives it.
    sql.push(format!(
        "DO $strata$\nDECLARE s regclass;\nBEGIN\n    FOR s IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class c ON c.oid = d.objid\n             WHERE d.refobjid = {}::regclass AND d.deptype = 'a' AND c.relkind = 'S' LOOP\n        EXECUTE pg_catalog.format('ALTER SEQUENCE %s OWNED BY NONE', s);\n    END LOOP;\nEND\n$strata$;",
        quote_literal(&held_q)
    ));
    sql.push(format!("DROP TABLE {held_q};"));
    sql.extend(rest.iter().map(Change::render));
    sql.join("\n")
}

/// A `DO` block that makes the partitions of a range by time for every
/// period from the oldest row's to the current one, as start-up names and
/// bounds them, so that the copied rows have somewhere to go and the
/// bounds have no gap.
fn periods_sql(after: &Table, held: &str, source: &str, interval: PartitionInterval) -> String {
    let unit = interval.unit();
    let key = quote_ident(source);
    format!(
        "DO $strata$\nDECLARE b timestamptz;\nBEGIN\n    FOR b IN SELECT pg_catalog.generate_series(pg_catalog.date_trunc('{unit}', min({key})::timestamptz),\n                    greatest(pg_catalog.date_trunc('{unit}', max({key})::timestamptz), pg_catalog.date_trunc('{unit}', now())),\n                    interval '1 {unit}') FROM {held} LOOP\n        CONTINUE WHEN b IS NULL;\n        EXECUTE pg_catalog.format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',\n            {schema}, {prefix} || pg_catalog.to_char(b, '{pattern}'), {schema}, {name}, b::text, (b + interval '1 {unit}')::text);\n    END LOOP;\nEND\n$strata$;",
        schema = quote_literal(&after.schema),
        name = quote_literal(&after.name),
        prefix = quote_literal(&format!("{}_p", after.name)),
        pattern = interval.suffix_pattern(),
    )
}

/// A change of what a partitioned table's partitions must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PartitionChange {
    /// How many partitions ahead, and whether a default one: made at the
    /// next start-up (nothing is dropped here; old partitions stay).
    SetPartitionRule {
        /// The partitioned table.
        table: QualifiedName,
        /// The rule before.
        from: Partitioning,
        /// The rule after.
        to: Partitioning,
    },
    /// A table whose partitioning changes, rebuilt: a new table, the rows
    /// copied, the old one dropped (see `rebuild`).
    Repartition {
        /// The table as it was, under its name at that point of the migration.
        before: Box<Table>,
        /// The table as it becomes.
        after: Box<Table>,
        /// The columns copied: each one's name before, and after.
        copied: Vec<(String, String)>,
    },
}

pub(crate) const OPS: &[&str] = &["set_partition_rule", "repartition"];

impl Step for PartitionChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // After the other tables' keys and the functions and roles its
            // policies and grants name; before the triggers made on it.
            PartitionChange::Repartition { .. } => (6, 9),
            PartitionChange::SetPartitionRule { .. } => (6, 15),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("partitions")
    }

    fn describe(&self) -> String {
        match self {
            PartitionChange::SetPartitionRule { table, .. } => {
                format!("change the partitions of {}", table.name)
            }
            PartitionChange::Repartition { after, .. } => format!("repartition {}", after.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        match self {
            PartitionChange::SetPartitionRule { .. } => Some((6, "change", "partitions")),
            PartitionChange::Repartition { .. } => Some((1, "repartition", "tables")),
        }
    }

    fn hazard(&self) -> Option<crate::Unconfirmed> {
        match self {
            PartitionChange::Repartition { before, after, .. } => {
                Some(rebuild_hazard(before, after))
            }
            PartitionChange::SetPartitionRule { .. } => None,
        }
    }

    fn inverse(&self) -> Vec<Change> {
        match self.clone() {
            PartitionChange::SetPartitionRule { table, from, to } => {
                vec![PartitionChange::SetPartitionRule {
                    table,
                    from: to,
                    to: from,
                }
                .into()]
            }
            PartitionChange::Repartition {
                before,
                after,
                copied,
            } => vec![PartitionChange::Repartition {
                before: after,
                after: before,
                copied: copied.into_iter().map(|(from, to)| (to, from)).collect(),
            }
            .into()],
        }
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            PartitionChange::SetPartitionRule { table, to, .. } => {
                if let Some(t) = table_mut(state, table) {
                    t.partition = Some(to.clone());
                }
            }
            PartitionChange::Repartition { after, .. } => {
                if let Some(t) = table_mut(state, &after.qualified_name()) {
                    *t = (**after).clone();
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            PartitionChange::SetPartitionRule { table, to, .. } => format!(
                "-- partitions of {}: {} ahead{}, made at start-up",
                super::q(table),
                to.ahead,
                if to.default_partition {
                    ", and a default one"
                } else {
                    ""
                }
            ),
            PartitionChange::Repartition {
                before,
                after,
                copied,
            } => render_rebuild(before, after, copied),
        }
    }
}
