//! The drift check compares the kinds it compares table by table
//! ([`Compare::Table`]) while the catalog streams in: as soon as a table's
//! rows of a kind are read, that table is compared and what it held freed.
//! So a check holds one table's columns, keys and indexes at a time, not
//! every table's, however large the schema.
//!
//! A comparison is final only if every expression it met has the server's
//! spelling at hand, from the cache read before the catalog. A table with
//! an expression not yet spelt (new since the last check) keeps its rows
//! and is compared once the catalog is read and the server has spelt it,
//! as every table was before.

use std::collections::{HashMap, HashSet};

use strata_manifest::{SchemaState, Table};

use super::{find, Compare, TableCompare, KINDS};
use crate::canonical::Canonical;
use crate::drift::{Collector, Difference};
use crate::expected::Expected;
use crate::introspect::Catalog;

// A kind's bit in [`Streamed::settled`].
const _: () = assert!(KINDS.len() <= 32);

/// What the streamed comparisons decided.
#[derive(Debug, Default)]
pub(crate) struct Streamed {
    /// Per live table, a bit per kind of [`KINDS`]: compared as its rows came.
    settled: Vec<u32>,
    /// The differences those comparisons found, by kind and live table.
    found: HashMap<(usize, usize), Vec<Difference>>,
}

impl Streamed {
    fn is_settled(&self, kind: usize, table: usize) -> bool {
        self.settled
            .get(table)
            .is_some_and(|bits| bits & (1 << kind) != 0)
    }
}

/// Compares kind `kind` ([`Compare::Table`]) of every expected table that
/// exists: what the stream decided, and the rest now.
pub(crate) fn compare_tables(
    kind: usize,
    how: &TableCompare,
    expected: &Expected<'_>,
    catalog: &Catalog,
    out: &mut Collector,
) {
    for (i, want) in expected.state.tables.iter().enumerate() {
        let Some(at) = find(&catalog.state, &want.schema, &want.name) else {
            continue;
        };
        if catalog.streamed.is_settled(kind, at) {
            if let Some(found) = catalog.streamed.found.get(&(kind, at)) {
                out.extend(found.iter().cloned());
            }
        } else {
            let want = expected.table(i);
            let spelling = catalog.canonical.table(&want);
            (how.compare)(&want, &catalog.state.tables[at], &spelling, out);
        }
    }
}

/// Follows the rows of a drift check's catalog statement.
pub(crate) struct Streamer<'e> {
    expected: &'e Expected<'e>,
    /// The spellings the cache held before the catalog was read.
    early: Canonical,
    /// Tables a view of `expected` reads: their live layout is what the
    /// view's definition is spelt against, after the catalog is read.
    keep: HashSet<(&'e str, &'e str)>,
    /// The kind and live table whose rows are being read.
    open: Option<(usize, usize)>,
}

impl<'e> Streamer<'e> {
    pub(crate) fn new(expected: &'e Expected<'e>, early: Canonical) -> Self {
        let state: &'e SchemaState = &expected.state;
        let keep = state
            .views
            .iter()
            .flat_map(|v| v.reads())
            .filter_map(|read| {
                state
                    .table(&read.schema, &read.name)
                    .map(|t| (t.schema.as_str(), t.name.as_str()))
            })
            .collect();
        Streamer {
            expected,
            early,
            keep,
            open: None,
        }
    }

    /// After a row of kind `kind` was read, which touched the live table
    /// `table`: settles the table before it when the rows moved on. `Err`
    /// when a table's rows come apart (the statement orders them together).
    pub(crate) fn row(
        &mut self,
        kind: usize,
        table: Option<usize>,
        catalog: &mut Catalog,
    ) -> Result<(), ()> {
        let Some(table) = table else {
            return Ok(());
        };
        if self.open == Some((kind, table)) {
            return Ok(());
        }
        self.finish(catalog);
        if completes(kind).next().is_none() {
            return Ok(());
        }
        if catalog.streamed.is_settled(kind, table) {
            return Err(());
        }
        self.open = Some((kind, table));
        Ok(())
    }

    /// Settles the table being read, if any: at the end of a kind's rows.
    pub(crate) fn finish(&mut self, catalog: &mut Catalog) {
        if let Some((kind, table)) = self.open.take() {
            self.settle(kind, table, catalog);
        }
    }

    fn settle(&self, kind: usize, table: usize, catalog: &mut Catalog) {
        let live = &catalog.state.tables[table];
        let want =
            find(&self.expected.state, &live.schema, &live.name).map(|at| self.expected.table(at));
        // An unexpected table's parts are never compared (the table is):
        // nothing to decide, only rows to free.
        let mut decided = Vec::new();
        let mut keep = false;
        if let Some(want) = &want {
            let spelling = self.early.table(want);
            for (j, how) in completes(kind) {
                let mut out = Collector::default();
                (how.compare)(want, live, &spelling, &mut out);
                decided.push((j, out.into_differences()));
            }
            if spelling.missed() {
                // Compared again once the server has spelt it.
                return;
            }
            keep = self
                .keep
                .contains(&(want.schema.as_str(), want.name.as_str()));
        }
        self.record(table, decided, catalog);
        if !keep {
            let live = &mut catalog.state.tables[table];
            for (_, how) in completes(kind) {
                (how.release)(live);
            }
        }
    }

    fn record(&self, table: usize, decided: Vec<(usize, Vec<Difference>)>, catalog: &mut Catalog) {
        let streamed = &mut catalog.streamed;
        if streamed.settled.len() <= table {
            streamed
                .settled
                .resize(catalog.state.tables.len().max(table + 1), 0);
        }
        for (kind, differences) in decided {
            streamed.settled[table] |= 1 << kind;
            if !differences.is_empty() {
                streamed.found.insert((kind, table), differences);
            }
        }
    }
}

/// The kinds compared table by table whose data kind `kind`'s rows complete.
fn completes(kind: usize) -> impl Iterator<Item = (usize, &'static TableCompare)> {
    let name = KINDS[kind].name;
    KINDS
        .iter()
        .enumerate()
        .filter_map(move |(j, part)| match &part.compare {
            Compare::Table(how) if how.complete_with == name => Some((j, how)),
            _ => None,
        })
}

/// Frees nothing: for a kind whose data another kind's release frees.
pub(crate) fn keep_all(_: &mut Table) {}
