//! The state a drift check compares with.
//!
//! Read from the compact state a build embeds, it holds, for most tables,
//! only what names them (and their compat view and grants): a table's columns, keys,
//! indexes, checks and comments are read again from its own JSON when its
//! live rows have come (`catalog/stream.rs`), and dropped once compared. So a
//! check of 11,000 tables never holds every table's columns, expected or
//! live. Tables that views read or that carry triggers are held whole: the
//! server's spelling of those definitions depends on their columns.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::value::RawValue;
use strata_manifest::{SchemaState, Table};

use crate::canonical::{requests_of_table, state_requests, table_requests, Request, Source};

/// The expected state, whole or with most tables read when needed.
pub(crate) struct Expected<'s> {
    /// Every object; with [`Expected::raw`], most tables hold only their
    /// schema, name and compat view.
    pub(crate) state: Cow<'s, SchemaState>,
    /// Each table's JSON, in `state.tables` order, when some are held only
    /// by name; `None` when `state` is whole.
    raw: Option<Vec<&'s RawValue>>,
    /// Which tables `state` holds whole (with [`Expected::raw`]).
    whole: Vec<bool>,
    /// The expressions of the tables (and triggers) the server spells:
    /// found as the tables were read, or when first asked for.
    requests: std::sync::OnceLock<BTreeMap<Request, Source>>,
}

impl<'s> Expected<'s> {
    /// `state`, whole.
    pub(crate) fn whole(state: &'s SchemaState) -> Self {
        Expected {
            requests: Default::default(),
            state: Cow::Borrowed(state),
            raw: None,
            whole: Vec::new(),
        }
    }

    /// `state`, whole and owned.
    pub(crate) fn owned(state: SchemaState) -> Expected<'static> {
        Expected {
            state: Cow::Owned(state),
            raw: None,
            whole: Vec::new(),
            requests: Default::default(),
        }
    }

    /// Reads what `SchemaState::to_compact_json` wrote, one table at a
    /// time: each is read whole once (so a damaged state is an error now,
    /// not halfway through a check), its expressions noted, and all but
    /// its names dropped.
    pub(crate) fn from_compact_json(text: &'s str) -> Result<Self, serde_json::Error> {
        let mut parts: HashMap<&'s str, &'s RawValue> = serde_json::from_str(text)?;
        let tables: Vec<&'s RawValue> = match parts.remove("tables") {
            Some(tables) => serde_json::from_str(tables.get())?,
            None => Vec::new(),
        };
        // Everything but the tables, read as the state reads it.
        let mut rest = String::from("{\"tables\":[]");
        for (key, value) in &parts {
            rest.push(',');
            rest.push_str(&serde_json::to_string(key)?);
            rest.push(':');
            rest.push_str(value.get());
        }
        rest.push('}');
        drop(parts);
        let mut state: SchemaState = serde_json::from_str(&rest)?;
        drop(rest);
        let held: HashSet<(String, String)> = state
            .views
            .iter()
            .flat_map(|v| v.reads())
            .map(|read| (read.schema, read.name))
            .chain(
                state
                    .triggers
                    .iter()
                    .map(|t| (t.schema.clone(), t.table.clone())),
            )
            .collect();
        let mut whole = Vec::with_capacity(tables.len());
        let mut skeletons = Vec::with_capacity(tables.len());
        let mut requests = BTreeMap::new();
        for (i, raw) in tables.iter().enumerate() {
            let table: Table = serde_json::from_str(raw.get())?;
            for (request, source) in requests_of_table(&table, i) {
                requests.entry(request).or_insert(source);
            }
            let keep = held.contains(&(table.schema.clone(), table.name.clone()));
            whole.push(keep);
            skeletons.push(match keep {
                true => table,
                false => skeleton(table),
            });
        }
        state.tables = skeletons;
        // A trigger's spelling needs its table's shape.
        for (request, source) in state_requests(&state) {
            requests.entry(request).or_insert(source);
        }
        Ok(Expected {
            state: Cow::Owned(state),
            raw: Some(tables),
            whole,
            requests: requests.into(),
        })
    }

    /// Table `at` of `state.tables`, whole.
    pub(crate) fn table(&self, at: usize) -> Cow<'_, Table> {
        match &self.raw {
            Some(raw) if !self.whole[at] => match serde_json::from_str(raw[at].get()) {
                Ok(table) => Cow::Owned(table),
                // Read whole once already, when the state was read.
                Err(_) => Cow::Borrowed(&self.state.tables[at]),
            },
            _ => Cow::Borrowed(&self.state.tables[at]),
        }
    }

    /// The expressions of the tables and triggers, each once.
    pub(crate) fn requests(&self) -> &BTreeMap<Request, Source> {
        self.requests.get_or_init(|| table_requests(&self.state))
    }
}

/// A table with only what names it, its compat view and its grants.
fn skeleton(table: Table) -> Table {
    Table {
        compat_view: table.compat_view,
        compat_view_security_invoker: table.compat_view_security_invoker,
        grants: table.grants,
        partition: table.partition,
        ..Table::new(table.schema, table.name)
    }
}
