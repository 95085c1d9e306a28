//! Expressions compare the way PostgreSQL stores them: a corpus of checks,
//! partial-index predicates and defaults written the way people write them
//! is drift-clean once applied, and a real change to one is still drift.

use strata::sqlx;
use strata::Migrator;

use crate::support::{fresh_db, psql, Scratch};

use strata_tests::corpus::{corpus_model, CHECKS, COLUMNS, PREDICATES};

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
    assert_eq!(
        scratch.migrations().manifest().unwrap().state,
        strata_tests::corpus::corpus_state("corpus", "items"),
        "the benchmark's corpus is the one the build plans"
    );
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
