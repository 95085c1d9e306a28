//! A live database read whole into a schema state (`strata::read_database`)
//! and written out again from nothing gives the same database: what
//! `strata diff` and `strata pull` stand on.

use strata::sqlx;
use strata::{Migrations, Migrator};
use strata_manifest::{diff_with, render_migration, Confirm, SchemaState};

use crate::support::fresh_db;

#[tokio::test]
async fn the_kct_database_read_back_and_made_again_is_the_same() {
    let kct = Migrations::from_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/kct-menswear/migrations"
    ))
    .unwrap();
    let ((db_a, a), (db_b, b)) = (fresh_db().await, fresh_db().await);
    Migrator::new(&kct).run(&a).await.unwrap();
    let read = strata::read_database(&a, None).await.unwrap();
    assert!(read.tables.len() >= 27, "{} tables", read.tables.len());
    let changes = diff_with(&SchemaState::default(), &read, &Confirm::all()).unwrap();
    let sql = render_migration(1, "everything", &changes);
    sqlx::raw_sql(&sql)
        .execute(&b)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let again = strata::read_database(&b, None).await.unwrap();
    let both_ways = (
        diff_with(&read, &again, &Confirm::all()).unwrap(),
        diff_with(&again, &read, &Confirm::all()).unwrap(),
    );
    assert!(
        both_ways.0.is_empty() && both_ways.1.is_empty(),
        "{both_ways:#?}"
    );
    // By an independent judge: migra sees nothing to change, either way.
    let (url_a, url_b) = (db_a.url().to_owned(), db_b.url().to_owned());
    assert_eq!(strata_tests::migra::changes(&url_a, &url_b), "");
    assert_eq!(strata_tests::migra::changes(&url_b, &url_a), "");
    // And by the drift check of the models that made the first one.
    let drift = strata::check_drift(&b, &kct).await.unwrap();
    assert!(drift.is_clean(), "{drift}");
}
