//! The live catalog, one module per kind of object: the SQL that reads it,
//! the reading of its rows into a schema state, and its comparison with the
//! expected state.
//!
//! Every kind is listed in [`KINDS`] and nowhere else. The catalog is read in
//! one statement, made of one row per kind (a JSON array of its objects), so
//! one round trip and one snapshot cover every kind however many objects
//! there are; the statement binds `$1` (the managed schemas), `$2` and `$3`
//! (schemas and names of the compat views) as `text[]`, and never has a name
//! spliced into it.

use std::sync::OnceLock;

use strata_manifest::{SchemaState, Table};

use crate::canonical::TableSpelling;
use crate::drift::Collector;
use crate::introspect::Catalog;

mod checks;
mod columns;
mod comments;
mod compat_views;
mod domains;
mod enums;
mod event_triggers;
mod exclusions;
mod extensions;
mod grants;
mod indexes;
mod keys;
mod partitions;
mod policies;
mod publications;
mod routines;
mod row;
mod schemas;
mod sequences;
mod settings;
mod stream;
mod tables;
mod triggers;
mod views;

pub(crate) use checks::check_expression;
pub(crate) use compat_views::FoundView;
pub(crate) use partitions::Seen as PartitionsSeen;
pub(crate) use stream::{compare_tables, Streamed, Streamer};

/// One kind of object in the catalog.
pub(crate) struct Part {
    /// The kind, as the benchmark's breakdown names it.
    pub name: &'static str,
    /// For [`Read::Json`], a scalar subquery giving the kind's objects as a
    /// JSON array (as text); for [`Read::Rows`], a query of one `text[]`
    /// column, a row per object, in order; for [`Read::Nothing`], empty.
    pub sql: &'static str,
    /// Reads those objects into the catalog. Parts read in [`KINDS`] order,
    /// so a table's parts find their table.
    pub read: Read,
    /// Compares the expected state with the catalog.
    pub compare: Compare,
}

/// How a part's objects come.
pub(crate) enum Read {
    /// As one JSON array: for kinds with few objects.
    Json(fn(&str, &mut Catalog) -> serde_json::Result<()>),
    /// A row per object, each read as it comes ([`row::read_row`]): for the
    /// kinds with an object or more per table, where building JSON on the
    /// server costs more than reading the catalog. A kind compared table by
    /// table ([`Compare::Table`]) has a table's rows together.
    Rows(fn(&[Option<String>], &mut Catalog) -> Result<(), serde::de::value::Error>),
    /// Not read on its own: its objects come with another kind's rows.
    Nothing,
}

/// How a part compares.
pub(crate) enum Compare {
    /// The whole kind at once, once the catalog is read.
    State(fn(&SchemaState, &Catalog, &mut Collector)),
    /// Table by table (`stream.rs`): while the catalog streams in, as soon
    /// as a table's rows are read, so a drift check never holds every
    /// table's columns, keys and indexes at once.
    Table(TableCompare),
}

/// A kind compared table by table.
pub(crate) struct TableCompare {
    /// The kind ([`Part::name`]) whose rows complete what this kind
    /// compares of a table.
    pub complete_with: &'static str,
    /// Compares an expected table with the live one of the same name.
    pub compare: fn(&Table, &Table, &TableSpelling<'_>, &mut Collector),
    /// Frees what the live table holds for this comparison, once made.
    pub release: fn(&mut Table),
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
    exclusions::PART,
    policies::PART,
    grants::TABLES,
    grants::SCHEMAS,
    grants::DEFAULTS,
    grants::OBJECTS,
    partitions::PART,
    compat_views::PART,
    views::PART,
    routines::PART,
    sequences::PART,
    domains::PART,
    triggers::PART,
    event_triggers::PART,
    publications::PART,
    comments::PART,
    comments::OBJECTS,
    settings::PART,
];

/// How a kind has the server spell what the models say of it, so that
/// drift compares the server's spelling with the server's spelling
/// (`canonical.rs` runs it, caches it, and reads it back).
pub(crate) struct Spell {
    /// The kind, as [`Part::name`] names it.
    pub part: &'static str,
    /// The texts to spell that the state holds outside its tables.
    pub of_state: fn(&SchemaState) -> Vec<String>,
    /// The texts to spell that one table holds, spelt against its shape.
    pub of_table: fn(&Table) -> Vec<String>,
    /// The statement that makes a scratch copy of a text's object, named
    /// `object` in the session's temporary schema; `None` when the text
    /// cannot be made so.
    pub scratch: fn(text: &str, object: &str) -> Option<String>,
    /// Reads back the scratch copies: `(object, spelling)` rows.
    pub read_back: &'static str,
}

/// Every kind that spells its own, one line each.
pub(crate) const SPELLED: &[Spell] = &[
    domains::SPELL,
    exclusions::SPELL,
    indexes::SPELL,
    columns::SPELL,
];

/// The kinds' names, in [`KINDS`] order, with their rows' statements.
#[cfg(feature = "bench")]
pub(crate) fn named_parts() -> Vec<(&'static str, String)> {
    KINDS
        .iter()
        .enumerate()
        .filter(|(_, k)| !matches!(k.read, Read::Nothing))
        .map(|(i, k)| (k.name, part_statement(i)))
        .collect()
}

pub(crate) use row::read_row;

/// The kind that reads only the objects `$2` and `$3` name (the expected
/// compat views): with none named it finds nothing, so the statement for
/// a state without compat views leaves its query out, and the server does
/// not plan it at every check.
const NAMED_ONLY: &str = compat_views::PART.name;

/// The statement: one row per kind, `(index in KINDS, its JSON array)`,
/// then a row at index [`KINDS`]`.len()` whose JSON array holds the
/// statement's snapshot and the DDL watch it saw (`watch.rs`). Rows, not columns, so
/// that the client holds one kind's text at a time, never all of them.
/// `named`: whether `$2` names any view; without, [`NAMED_ONLY`]'s row is
/// an empty array.
pub(crate) fn statement(named: bool) -> &'static str {
    static STATEMENTS: OnceLock<[String; 2]> = OnceLock::new();
    let build = |named: bool| {
        let mut rows: Vec<String> = (0..KINDS.len())
            .filter(|i| !matches!(KINDS[*i].read, Read::Nothing))
            .map(|i| match named || KINDS[i].name != NAMED_ONLY {
                true => part_statement(i),
                false => format!("SELECT {i}, ARRAY['[]'::text]"),
            })
            .collect();
        rows.push(format!(
            r#"SELECT {}, ARRAY[json_build_array(pg_catalog.pg_current_snapshot()::text,
    {})::text]"#,
            KINDS.len(),
            crate::watch::WATCH
        ));
        rows.join("\nUNION ALL\n")
    };
    &STATEMENTS.get_or_init(|| [build(false), build(true)])[usize::from(named)]
}

/// The rows of kind `i` in the drift statement: `(i, text[])`, the array
/// holding one JSON document for [`Read::Json`], an object's fields for
/// [`Read::Rows`].
pub(crate) fn part_statement(i: usize) -> String {
    let kind = &KINDS[i];
    match kind.read {
        Read::Json(_) => format!("SELECT {i}, ARRAY[({})::text]", kind.sql),
        Read::Rows(_) => format!("SELECT {i}, o.fields FROM ({}) AS o(fields)", kind.sql),
        Read::Nothing => String::new(),
    }
}

/// The kinds whose changes fire no DDL event (`ALTER DATABASE … SET`, and
/// event triggers' own `CREATE`, `ALTER` and `DROP`), so the DDL watch
/// cannot vouch for them: a start-up reads and compares them even when the
/// watch says nothing changed (`watch.rs`).
pub(crate) const UNWATCHED: &[Part] = &[settings::PART, event_triggers::PART];

/// The fast statement of a start-up the DDL watch covers: whether the last
/// clean check of fingerprint `$4` still holds, then one column per
/// [`UNWATCHED`] kind; it binds `$1` to `$3` as [`statement`] does.
pub(crate) fn fast_statement() -> &'static str {
    static STATEMENT: OnceLock<String> = OnceLock::new();
    STATEMENT.get_or_init(|| {
        let mut columns = vec![crate::watch::unchanged_column()];
        columns.extend(UNWATCHED.iter().map(|k| format!("({})::text", k.sql)));
        // Then what folding the backlog into a new clean check needs.
        columns.push(crate::watch::BACKLOG_COLUMN.to_owned());
        columns.push("pg_catalog.pg_current_snapshot()::text".to_owned());
        columns.push(crate::watch::WATCH.to_owned());
        columns.push("c.schemas".to_owned());
        format!(
            "SELECT\n{}\n{}",
            columns.join(",\n"),
            crate::watch::FROM_CLEAN_CHECK
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_that_spells_its_own_is_a_kind_the_catalog_reads() {
        for spell in SPELLED {
            assert!(
                KINDS.iter().any(|k| k.name == spell.part),
                "SPELLED names {}, which KINDS does not list",
                spell.part
            );
        }
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "two kinds share a name");
    }
}
