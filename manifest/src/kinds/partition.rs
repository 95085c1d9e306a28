//! Partitioned tables: `partition_by = "range(occurred_at)"` (or `list`,
//! `hash`) on a model. The parent is made `PARTITION BY …` with its
//! table; its partitions are not models: strata makes the ones a range by
//! time needs ahead of time at start-up (`strata::partitions`), and the
//! drift check judges them by rule, never as unexpected tables.

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::{object_name, quote_ident, QualifiedName, SchemaState, Table};

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

/// Partitioning is part of `CREATE TABLE`; an existing table cannot take
/// it on or lose it here (its rows would have to move: not built yet), but
/// its partitions ahead and default partition may change, at start-up.
pub(crate) const PART: TablePart = TablePart {
    created: |_, _| {},
    diff: diff_partitioning,
};

fn diff_partitioning(before: &Table, table: &Table, _: &Renames, plan: &mut Plan<'_>) {
    let shape = |t: &Table| {
        t.partition
            .as_ref()
            .map(|p| (p.method, p.columns.clone(), p.hash_partitions))
    };
    if shape(before) == shape(table) {
        if let (Some(from), Some(to)) = (&before.partition, &table.partition) {
            if from != to {
                plan.push(PartitionChange::SetPartitionRule {
                    table: table.qualified_name(),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
    } else {
        let name = object_name(&[&table.schema, &table.name]);
        plan.problems.push(match (&before.partition, &table.partition) {
            (None, Some(_)) => format!(
                "table {name}: it exists unpartitioned, and strata does not yet convert a table with rows to partitioned (that needs a new table, a copy and a swap); make a new partitioned model and move the rows with a hand-written migration"
            ),
            (Some(_), None) => format!(
                "table {name}: it is partitioned, and strata does not yet turn a partitioned table back into a plain one; keep `partition_by`, or move the rows with a hand-written migration"
            ),
            _ => format!(
                "table {name}: its partition key changes, which needs its rows moved into a new table; strata does not do that yet: keep the key, or move the rows with a hand-written migration"
            ),
        });
    }
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
}

pub(crate) const OPS: &[&str] = &["set_partition_rule"];

impl Step for PartitionChange {
    fn order(&self) -> (usize, u8) {
        (6, 15)
    }

    fn section(&self) -> Option<&'static str> {
        Some("partitions")
    }

    fn describe(&self) -> String {
        let PartitionChange::SetPartitionRule { table, .. } = self;
        format!("change the partitions of {}", table.name)
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some((6, "change", "partitions"))
    }

    fn inverse(&self) -> Vec<Change> {
        let PartitionChange::SetPartitionRule { table, from, to } = self.clone();
        vec![PartitionChange::SetPartitionRule {
            table,
            from: to,
            to: from,
        }
        .into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let PartitionChange::SetPartitionRule { table, to, .. } = self;
        if let Some(t) = table_mut(state, table) {
            t.partition = Some(to.clone());
        }
    }

    fn render(&self) -> String {
        let PartitionChange::SetPartitionRule { table, to, .. } = self;
        format!(
            "-- partitions of {}: {} ahead{}, made at start-up",
            super::q(table),
            to.ahead,
            if to.default_partition {
                ", and a default one"
            } else {
                ""
            }
        )
    }
}
