//! Errors a user reads: each cause said once, each help in the terms of
//! what the caller can do, and no password in a `Debug`.

use std::str::FromStr;

use strata::sqlx::{self, postgres::PgConnectOptions};
use strata::{Error, Migrator};

use crate::support::{fresh_db, migrate_clean, psql, Scratch};

const SHOP: &str = r#"
#[strata::schema("shop", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    pub email: String,
}
"#;

/// A role that may not create in a schema is told so, and that the file
/// needs no change: not to fix the file.
#[tokio::test]
async fn a_role_without_create_is_told_what_to_grant_not_to_fix_the_file() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let (db, pool) = fresh_db().await;
    let role = format!("no_create_{}", db.name());
    psql(
        &pool,
        &format!(
            "CREATE ROLE {role} LOGIN; GRANT CREATE ON DATABASE {} TO {role}; CREATE SCHEMA shop",
            db.name()
        ),
    )
    .await;
    let options = PgConnectOptions::from_str(db.url())
        .unwrap()
        .username(&role);
    let as_role = sqlx::PgPool::connect_with(options).await.unwrap();
    let error = Migrator::new(&scratch.migrations())
        .run(&as_role)
        .await
        .unwrap_err();
    as_role.close().await;
    psql(&pool, &format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;
    assert!(matches!(error, Error::MigrationFailed { .. }), "{error:?}");
    let said = error.to_string();
    assert!(said.contains("permission denied for schema shop"), "{said}");
    assert!(said.contains("(SQLSTATE 42501)"), "{said}");
    assert!(said.contains("lacks the privilege"), "{said}");
    assert!(said.contains("needs no change"), "{said}");
    assert!(!said.contains("fix 0001"), "{said}");
}

/// A rollback that fails on its second step says what the first undid,
/// and where the database stands.
#[tokio::test]
async fn a_rollback_that_stops_part_way_says_what_it_had_undone() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&SHOP.replace(
        "pub email: String,",
        "pub email: String,\n    pub phone: Option<String>,",
    ));
    scratch.build();
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;
    // Something made by hand that the first migration's down file cannot drop around.
    psql(
        &pool,
        "CREATE VIEW public.by_hand AS SELECT id FROM shop.customers",
    )
    .await;
    let error = Migrator::new(&scratch.migrations())
        .confirm_all()
        .rollback_to(&pool, 0)
        .await
        .unwrap_err();
    let Error::RollbackIncomplete { undone, at, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!((undone.len(), *at), (1, 1), "{error}");
    let said = error.to_string();
    assert!(said.contains("0001_"), "{said}");
    assert!(
        said.contains("already undone 0002 add_customers_phone"),
        "{said}"
    );
    assert!(said.contains("the database is at version 1 now"), "{said}");
}

/// `Debug` of a migrator with its own connection options hides the password.
#[test]
fn debug_never_shows_a_password() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let options =
        PgConnectOptions::from_str("postgres://app:hunter2@db.internal:5432/shop").unwrap();
    let shown = format!("{:?}", Migrator::new(&migrations).direct(options));
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("postgres://app@db.internal:5432/shop"),
        "{shown}"
    );
}

/// A tenant registry the database lacks is said to be a model of the
/// user's own, not shown as a driver's struct dump.
#[tokio::test]
async fn a_missing_tenant_registry_says_to_declare_it_as_a_model() {
    let scratch = Scratch::with_models(
        "#[strata::schema(tenant, table = \"contacts\")]\npub struct Contact {\n    #[column(primary_key, identity)]\n    pub id: i64,\n}\n",
    );
    scratch.build();
    let tenant_migrations =
        strata::Migrations::from_dir(scratch.migrations_dir().join("tenant")).unwrap();
    let (_db, pool) = fresh_db().await;
    let tenants = strata::Tenants::new(&tenant_migrations).registry("public", "tenants", "id");
    let error = tenants.migrate_all(&pool).await.unwrap_err();
    assert!(matches!(error, Error::NoRegistryTable { .. }), "{error}");
    // `?` in a `main` shows Debug: the same words.
    let shown = format!("{error:?}");
    assert!(
        shown.starts_with("the tenant registry public.tenants.id is not in the database"),
        "{shown}"
    );
    assert!(
        shown.contains("#[strata::schema(\"public\", table = \"tenants\")]"),
        "{shown}"
    );
}

/// A malformed manifest is said once, with the file and what to do, by
/// the build and by the runtime alike.
#[test]
fn a_malformed_manifest_is_said_once_with_what_to_do() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let manifest = scratch.migrations_dir().join("manifest.json");
    std::fs::write(&manifest, "{ \"format\": 1, \"migrations\": [").unwrap();
    let built = scratch.builder().run().unwrap_err().to_string();
    assert_eq!(
        built,
        format!(
            "{}: manifest is not valid: EOF while parsing a list at line 1 column 30; restore it from version control",
            manifest.display()
        )
    );
    let read = strata::Migrations::from_dir(scratch.migrations_dir())
        .unwrap_err()
        .to_string();
    assert_eq!(
        read,
        "manifest is not valid: EOF while parsing a list at line 1 column 30\nhelp: restore migrations/manifest.json from version control and rebuild"
    );
}
