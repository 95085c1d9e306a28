//! Expressions compare the way PostgreSQL stores them: a corpus of checks,
//! partial-index predicates and defaults written the way people write them
//! is drift-clean once applied, and a real change to one is still drift.

use strata::sqlx;
use strata::Migrator;

use crate::support::{fresh_db, psql, Scratch};

/// The checks, one per line.
pub const CHECKS: &str = include_str!("fixtures/expressions.sql");

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
const COLUMNS: [(&str, &str, Option<&str>); 19] = [
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

#[tokio::test]
async fn a_corpus_of_expressions_is_clean_once_applied_and_changes_are_still_drift() {
    let checks = CHECKS.lines().filter(|l| !l.trim().is_empty()).count();
    let defaults = COLUMNS.iter().filter(|c| c.2.is_some()).count();
    assert!(
        checks + PREDICATES.len() + defaults >= 100,
        "at least 100 expressions"
    );
    let scratch = Scratch::with_models(&corpus_model("corpus", "items"));
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.drift.is_clean(), "{}", report.drift);

    // The server's spellings are cached for this server version.
    let (cached,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM strata.expressions WHERE server_version = current_setting('server_version_num')::int",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cached as usize, checks + PREDICATES.len() + defaults);

    // Hand edits are drift: a check that allows more, a predicate that
    // covers other rows, a default with another value.
    psql(
        &pool,
        "ALTER TABLE corpus.items DROP CONSTRAINT items_c0, ADD CONSTRAINT items_c0 CHECK (qty > 1);
         DROP INDEX corpus.items_p1; CREATE INDEX items_p1 ON corpus.items (qty) WHERE status IN ('open', 'void');
         ALTER TABLE corpus.items ALTER COLUMN label SET DEFAULT 'N/A';",
    )
    .await;
    let drift = strata::check_drift(&pool, &migrations).await.unwrap();
    let names: Vec<&str> = drift.differences.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["corpus.items.label", "corpus.items_p1", "corpus.items_c0"],
        "{drift}"
    );

    // The cache is what drift reads: a wrong entry shows at once.
    psql(
        &pool,
        "UPDATE strata.expressions SET canonical = '(qty > 42)' WHERE expression = 'qty >= 0 AND qty < 1000'",
    )
    .await;
    let drift = strata::check_drift(&pool, &migrations).await.unwrap();
    assert!(drift.to_string().contains("items_c1"), "{drift}");
}
