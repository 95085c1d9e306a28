//! A live database read whole into a schema state (`strata::read_database`)
//! and written out again from nothing gives the same database: what
//! `strata diff` and `strata pull` stand on.

use strata::sqlx;
use strata::{Migrations, Migrator};
use strata_manifest::{diff_with, render_migration, Confirm, SchemaState};

use crate::support::fresh_db;

/// The KCT migrations, a database they migrated, and an empty one.
async fn kct_and_two_databases() -> (Migrations, crate::support::Db, crate::support::Db) {
    let kct = Migrations::from_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/kct-menswear/migrations"
    ))
    .unwrap();
    let (a, b) = (fresh_db().await, fresh_db().await);
    Migrator::new(&kct).run(&a.1).await.unwrap();
    (kct, a, b)
}

#[tokio::test]
async fn the_kct_database_read_back_and_made_again_is_the_same() {
    let (kct, (db_a, a), (db_b, b)) = kct_and_two_databases().await;
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
    strata_tests::judges::assert_same(db_a.url(), db_b.url());
    // And by the drift check of the models that made the first one.
    let drift = strata::check_drift(&b, &kct).await.unwrap();
    assert!(drift.is_clean(), "{drift}");
}

#[tokio::test]
async fn the_kct_database_pulled_into_models_and_built_gives_the_same_database() {
    let (kct, (db_a, a), (db_b, b)) = kct_and_two_databases().await;
    let state = strata::read_database(&a, None).await.unwrap();

    let krate = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, krate.path()).unwrap();
    assert_eq!(pulled.not_expressed, Vec::<String>::new());
    assert!(pulled.wrote_build_script);
    let outcome = pulled
        .build
        .builder(krate.path())
        .frozen(false)
        .run()
        .unwrap_or_else(|e| panic!("the pulled models build: {e}"));
    assert!(outcome.written.is_some());
    let pulled_migrations = Migrations::from_dir(krate.path().join("migrations")).unwrap();
    let report = Migrator::new(&pulled_migrations).run(&b).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);

    strata_tests::judges::assert_same(db_a.url(), db_b.url());
    // The original models' drift check agrees.
    let drift = strata::check_drift(&b, &kct).await.unwrap();
    assert!(drift.is_clean(), "{drift}");

    // And the pulled models compile, in a crate of the user's that
    // declares them, against this workspace's strata.
    strata_tests::pulled::compiles(krate.path());
}

#[tokio::test]
async fn salesflow_with_its_tenants_is_pulled_into_shared_and_tenant_models() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/salesflow/migrations"
    );
    let shared = Migrations::from_dir(dir).unwrap();
    let tenant_stream = Migrations::from_dir(format!("{dir}/tenant")).unwrap();
    let ((db_a, a), (db_b, b)) = (fresh_db().await, fresh_db().await);
    Migrator::new(&shared).run(&a).await.unwrap();
    // No registry: SalesFlow's wants a name with each id, and migra
    // compares schemas, not rows.
    let tenants = strata::Tenants::new;
    let ids: Vec<strata::TenantSchema> = ["acme", "globex", "initech"]
        .iter()
        .map(|id| strata::TenantSchema::new(id).unwrap())
        .collect();
    for tenant in &ids {
        tenants(&tenant_stream).create(&a, tenant).await.unwrap();
    }
    let state = strata::read_database(&a, None).await.unwrap();

    let krate = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, krate.path()).unwrap();
    assert_eq!(pulled.not_expressed, Vec::<String>::new());
    let found = pulled
        .tenants
        .clone()
        .expect("the tenant schemas are recognised");
    assert_eq!(found.prefix, "tenant_");
    assert_eq!(
        found.schemas,
        ["tenant_acme", "tenant_globex", "tenant_initech"]
    );
    let models = std::fs::read_to_string(krate.path().join("src/models/tenant.rs")).unwrap();
    assert!(models.contains("#[strata::schema(tenant"), "{models}");
    pulled
        .build
        .builder(krate.path())
        .frozen(false)
        .run()
        .unwrap_or_else(|e| panic!("the pulled models build: {e}"));
    strata_tests::pulled::compiles(krate.path());
    let pulled_shared = Migrations::from_dir(krate.path().join("migrations")).unwrap();
    let pulled_tenant = Migrations::from_dir(krate.path().join("migrations/tenant")).unwrap();
    let report = Migrator::new(&pulled_shared).run(&b).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    for tenant in &ids {
        tenants(&pulled_tenant).create(&b, tenant).await.unwrap();
    }
    strata_tests::judges::assert_same(db_a.url(), db_b.url());
    // The example's own tenant models find every pulled tenant clean.
    let drift = tenants(&tenant_stream).check_drift(&b, &ids).await.unwrap();
    assert!(drift.is_clean(), "{drift}");

    // One tenant changed by hand is listed, not silently made like the others.
    sqlx::raw_sql("ALTER TABLE tenant_globex.contacts ADD COLUMN legacy text")
        .execute(&a)
        .await
        .unwrap();
    let state = strata::read_database(&a, None).await.unwrap();
    let again = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, again.path()).unwrap();
    assert_eq!(pulled.tenants.unwrap().differing, ["tenant_globex"]);
    assert!(
        pulled
            .not_expressed
            .iter()
            .any(|o| o.contains("tenant_globex")),
        "{:?}",
        pulled.not_expressed
    );
}
