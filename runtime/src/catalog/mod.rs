//! The live catalog, one module per kind of object: the SQL that reads it,
//! the reading of its rows into a schema state, and its comparison with the
//! expected state.
//!
//! Every kind is listed in [`KINDS`] and nowhere else. The catalog is read in
//! one statement, made of one column per kind (a JSON array of its rows), so
//! one round trip and one snapshot cover every kind however many objects
//! there are; the statement binds `$1` (the managed schemas), `$2` and `$3`
//! (schemas and names of the compat views) as `text[]`, and never has a name
//! spliced into it.

use std::sync::OnceLock;

use strata_manifest::SchemaState;

use crate::drift::Collector;
use crate::introspect::Catalog;

mod checks;
mod columns;
mod comments;
mod compat_views;
mod enums;
mod extensions;
mod indexes;
mod keys;
mod routines;
mod schemas;
mod sequences;
mod settings;
mod tables;
mod triggers;
mod views;

pub(crate) use checks::check_expression;
pub(crate) use compat_views::FoundView;

/// One kind of object in the catalog.
pub(crate) struct Part {
    /// The kind, as the benchmark's breakdown names it.
    pub name: &'static str,
    /// A scalar subquery giving the kind's rows as a JSON array (as text).
    pub sql: &'static str,
    /// Reads those rows into the catalog. Parts read in [`KINDS`] order, so
    /// a table's parts find their table.
    pub read: fn(&str, &mut Catalog) -> serde_json::Result<()>,
    /// Compares the expected state with the catalog.
    pub compare: fn(&SchemaState, &Catalog, &mut Collector),
}

/// Every kind, in the order it is read and compared.
pub(crate) const KINDS: &[Part] = &[
    schemas::PART,
    extensions::PART,
    enums::PART,
    tables::PART,
    columns::PART,
    keys::PART,
    indexes::PART,
    checks::PART,
    compat_views::PART,
    views::PART,
    routines::PART,
    sequences::PART,
    triggers::PART,
    comments::PART,
    settings::PART,
];

/// The kinds' names, in [`KINDS`] order, with their subqueries.
pub(crate) fn named_parts() -> Vec<(&'static str, &'static str)> {
    KINDS.iter().map(|k| (k.name, k.sql)).collect()
}

/// The statement: one column per kind, then whether the expression cache
/// `strata.expressions` exists (column [`KINDS`]`.len()`) and the session's
/// `search_path` schemas (the column after), which the cache keys hold.
pub(crate) fn statement() -> &'static str {
    static STATEMENT: OnceLock<String> = OnceLock::new();
    STATEMENT.get_or_init(|| {
        let mut columns: Vec<String> = KINDS.iter().map(|k| format!("({})::text", k.sql)).collect();
        columns.push(r#"to_regclass('"strata"."expressions"') IS NOT NULL"#.to_owned());
        columns.push("array_to_string(pg_catalog.current_schemas(false), ',')".to_owned());
        format!("SELECT\n{}", columns.join(",\n"))
    })
}

/// The index of the table `schema.name` in the catalog's sorted tables.
pub(crate) fn find(state: &SchemaState, schema: &str, table: &str) -> Option<usize> {
    state
        .tables
        .binary_search_by(|t| (t.schema.as_str(), t.name.as_str()).cmp(&(schema, table)))
        .ok()
}

/// Rows of a kind, as its JSON array gives them.
pub(crate) fn rows<T: serde::de::DeserializeOwned>(json: &str) -> serde_json::Result<Vec<T>> {
    serde_json::from_str(json)
}
