//! Partitioned tables, judged by rule: the table is partitioned as its
//! model says; the partitions its rule needs now (the current period and
//! `partitions_ahead` more, the default one, each hash partition) exist; and the ranges of
//! its partitions follow one another without a gap. Partitions themselves
//! are never unexpected tables, whoever made them.

use serde::Deserialize;
use strata_manifest::{PartitionInterval, Partitioning, SchemaState};

use super::{find, Compare, Part, Read};
use crate::drift::{quoted, Collector, DifferenceKind, ObjectKind};
use crate::introspect::Catalog;

/// What the catalog holds of partitions.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Seen {
    /// The server's date, in its session's time zone: `2026-12-02`.
    today: String,
    /// Schema and name of the parent, name and bound of each partition,
    /// and the parent's indexes it has no index attached to.
    children: Vec<(String, String, String, String, Vec<String>)>,
}

/// The server's date and every partition of a partitioned table in the
/// managed schemas.
pub(crate) const PART: Part = Part {
    name: "partitions",
    sql: "SELECT json_build_object('today', to_char(now(), 'YYYY-MM-DD'), 'children',
            coalesce((SELECT json_agg(json_build_array(pn.nspname, p.relname, c.relname,
                                                       pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                                       ARRAY(SELECT pi.relname::text
                                                               FROM pg_catalog.pg_index px
                                                               JOIN pg_catalog.pg_class pi ON pi.oid = px.indexrelid
                                                              WHERE px.indrelid = p.oid
                                                                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits ii
                                                                                JOIN pg_catalog.pg_index cx ON cx.indexrelid = ii.inhrelid
                                                                                WHERE ii.inhparent = px.indexrelid AND cx.indrelid = c.oid)
                                                              ORDER BY 1))
                                      ORDER BY pn.nspname, p.relname, c.relname)
                        FROM pg_catalog.pg_inherits i
                        JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
                       WHERE pn.nspname = ANY($1::text[]) AND p.relkind = 'p'), '[]'))",
    read: Read::Json(|json, catalog| {
        catalog.partitions = serde_json::from_str(json)?;
        Ok(())
    }),
    compare: Compare::State(compare),
};

fn compare(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    for want in &expected.tables {
        let Some(at) = find(&catalog.state, &want.schema, &want.name) else {
            continue;
        };
        let have = &catalog.state.tables[at];
        let shape = |p: &Option<Partitioning>| p.as_ref().map(Partitioning::spelling);
        let table = quoted(&[&want.schema, &want.name]);
        if shape(&want.partition) != shape(&have.partition) {
            let d = out.push(Changed, ObjectKind::Table, table.clone());
            d.property = Some("partitioning".to_owned());
            d.expected = shape(&want.partition).or(Some("none".to_owned()));
            d.actual = shape(&have.partition).or(Some("none".to_owned()));
            continue;
        }
        let Some(rule) = &want.partition else {
            continue;
        };
        let seen = &catalog.partitions;
        let children: Vec<(&str, &str)> = seen
            .children
            .iter()
            .filter(|(s, p, _, _, _)| *s == want.schema && *p == want.name)
            .map(|(_, _, child, bound, _)| (child.as_str(), bound.as_str()))
            .collect();
        // Each partition has every index of its parent attached: one made
        // `ON ONLY` the parent, or a partition attached without its index,
        // leaves the parent's index invalid.
        for (_, _, child, _, lacking) in seen
            .children
            .iter()
            .filter(|(s, p, _, _, _)| *s == want.schema && *p == want.name)
        {
            for index in lacking {
                let d = out.push(Missing, ObjectKind::Index, quoted(&[&want.schema, child]));
                d.property = Some(format!("index {index}"));
                d.expected = Some(format!("attached from {table}"));
            }
        }
        let mut needed: Vec<String> = Vec::new();
        if let Some(interval) = rule.interval {
            for k in 0..=rule.ahead {
                if let Some(suffix) = suffix(&seen.today, interval, k) {
                    needed.push(Partitioning::partition_name(&want.name, Some(&suffix)));
                }
            }
        }
        if rule.default_partition {
            needed.push(Partitioning::partition_name(&want.name, None));
        }
        for remainder in 0..rule.hash_partitions.unwrap_or(0) {
            needed.push(Partitioning::hash_partition_name(&want.name, remainder));
        }
        for name in needed {
            if !children.iter().any(|(c, _)| *c == name) {
                out.push(
                    Missing,
                    ObjectKind::Partition,
                    quoted(&[&want.schema, &name]),
                )
                .expected = Some("made ahead at start-up".to_owned());
            }
        }
        // The ranges, in order, each ending where the next begins.
        let mut ranges: Vec<(String, String, &str)> = children
            .iter()
            .filter_map(|(child, bound)| range(bound).map(|(from, to)| (from, to, *child)))
            .collect();
        ranges.sort();
        for pair in ranges.windows(2) {
            let ((_, end, before), (start, _, after)) = (&pair[0], &pair[1]);
            if end != start {
                let d = out.push(Missing, ObjectKind::Partition, table.clone());
                d.property = Some(format!("range between {before} and {after}"));
                d.expected = Some(format!("from {end}"));
                d.actual = Some(format!("next from {start}"));
            }
        }
    }
}

/// `FOR VALUES FROM ('a') TO ('b')` → `('a', 'b')`; none for other bounds.
fn range(bound: &str) -> Option<(String, String)> {
    let tokens = strata_manifest::lexer::significant(bound);
    let from = tokens.iter().position(|t| t.is_word("from"))?;
    let to = tokens.iter().position(|t| t.is_word("to"))?;
    let text = |at: usize| tokens.get(at + 2).map(|t| t.text.to_owned());
    Some((text(from)?, text(to)?))
}

/// The name suffix of the period `k` after the one holding `today`
/// (`2026-12-02`): `202612` for a month.
fn suffix(today: &str, interval: PartitionInterval, k: u32) -> Option<String> {
    let mut parts = today.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let k = i64::from(k);
    Some(match interval {
        PartitionInterval::Year => format!("{:04}", y + k),
        PartitionInterval::Month => {
            let months = y * 12 + (m - 1) + k;
            format!(
                "{:04}{:02}",
                months.div_euclid(12),
                months.rem_euclid(12) + 1
            )
        }
        PartitionInterval::Day => {
            let (y, m, d) = civil(days(y, m, d) + k);
            format!("{y:04}{m:02}{d:02}")
        }
    })
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `z` days after 1970-01-01.
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_ahead_cross_months_years_and_leap_days() {
        use PartitionInterval::*;
        assert_eq!(suffix("2026-12-02", Month, 0).as_deref(), Some("202612"));
        assert_eq!(suffix("2026-12-02", Month, 1).as_deref(), Some("202701"));
        assert_eq!(suffix("2026-12-02", Month, 14).as_deref(), Some("202802"));
        assert_eq!(suffix("2026-12-02", Year, 2).as_deref(), Some("2028"));
        assert_eq!(suffix("2028-02-28", Day, 1).as_deref(), Some("20280229"));
        assert_eq!(suffix("2028-02-28", Day, 2).as_deref(), Some("20280301"));
        assert_eq!(suffix("2026-12-31", Day, 1).as_deref(), Some("20270101"));
        assert_eq!(suffix("not a date", Day, 1), None);
    }

    #[test]
    fn reads_a_range_bound_as_the_server_prints_it() {
        assert_eq!(
            range("FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')"),
            Some((
                "'2026-12-01 00:00:00+00'".to_owned(),
                "'2027-01-01 00:00:00+00'".to_owned()
            ))
        );
        assert_eq!(range("DEFAULT"), None);
    }
}
