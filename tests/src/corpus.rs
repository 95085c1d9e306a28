//! The expression corpus: checks, partial-index predicates and defaults
//! written the way people write them, for the drift test and the benchmark.

use strata_manifest::{Check, Column, Index, SchemaState, Table};

/// The checks, one per line.
pub const CHECKS: &str = include_str!("../tests/db/fixtures/expressions.sql");

/// Partial-index predicates.
pub const PREDICATES: [&str; 8] = [
    "qty > 0",
    "status IN ('open', 'closed')",
    "label ILIKE 'a%'",
    "seen_at > '2020-01-01'",
    "flag",
    "doc ? 'id'",
    "nums[1] IS NOT NULL",
    "coalesce(note, '') <> ''",
];

/// The columns, with a default written the way people write it, when they have one.
pub const COLUMNS: [(&str, &str, Option<&str>); 19] = [
    ("qty", "integer", Some("0")),
    ("price", "numeric(10,2)", Some("0.00")),
    ("ratio", "double precision", Some("-1.5")),
    ("label", "text", Some("'n/a'")),
    ("code", "varchar(16)", Some("upper('ab')")),
    ("status", "text", Some("'open'")),
    ("email", "text", None),
    ("tags", "text[]", Some("'{}'")),
    ("nums", "integer[]", Some("ARRAY[1, 2]")),
    ("doc", "jsonb", Some("'{}'::jsonb")),
    ("meta", "json", None),
    ("born", "date", Some("CURRENT_DATE")),
    ("seen_at", "timestamptz", Some("now()")),
    ("local_at", "timestamp", Some("LOCALTIMESTAMP")),
    ("span", "interval", Some("'1 day'")),
    ("flag", "boolean", Some("TRUE")),
    ("uid", "uuid", Some("gen_random_uuid()")),
    ("Mixed Case", "text", Some("'é'")),
    ("note", "text", Some("NULL")),
];

/// The corpus as a model: a struct with every column, a check per line and a partial index per predicate.
pub fn corpus_model(schema: &str, table: &str) -> String {
    let mut model = format!("#[strata::schema({schema:?}, table = {table:?})]\n");
    for (i, predicate) in PREDICATES.iter().enumerate() {
        model.push_str(&format!(
            "#[index(columns = [\"qty\"], name = \"{table}_p{i}\", where = {predicate:?})]\n"
        ));
    }
    for (i, check) in CHECKS.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        model.push_str(&format!(
            "#[check(name = \"{table}_c{i}\", expr = {check:?})]\n"
        ));
    }
    model.push_str("pub struct Corpus {\n    #[column(primary_key, identity)]\n    pub id: i64,\n");
    for (i, (name, sql_type, default)) in COLUMNS.iter().enumerate() {
        let default = default
            .map(|d| format!(", default = {d:?}"))
            .unwrap_or_default();
        model.push_str(&format!(
            "    #[column(name = {name:?}, type = {sql_type:?}{default})]\n    pub f{i}: Option<String>,\n"
        ));
    }
    model.push_str("}\n");
    model
}

/// The corpus as a schema state, as the build would plan it from [`corpus_model`].
pub fn corpus_state(schema: &str, table: &str) -> SchemaState {
    let mut t = Table::new(schema, table);
    let mut id = Column::new("id", "bigint").not_null();
    id.identity = true;
    t.columns.push(id);
    for (name, sql_type, default) in COLUMNS {
        let mut column = Column::new(name, strata_manifest::canonical_type(sql_type));
        column.default = default.map(str::to_owned);
        t.columns.push(column);
    }
    t.set_primary_key(vec!["id".into()]);
    for (i, predicate) in PREDICATES.iter().enumerate() {
        t.add_index(Index {
            name: format!("{table}_p{i}"),
            columns: vec!["qty".into()],
            unique: false,
            predicate: Some((*predicate).to_owned()),
            ..Default::default()
        });
    }
    for (i, check) in CHECKS.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        t.add_check(Check {
            name: format!("{table}_c{i}"),
            expr: check.to_owned(),
        });
    }
    let mut state = SchemaState::default();
    state.add_table(t);
    state
}
