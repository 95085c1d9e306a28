//! Schema per tenant: creation, fan-out, isolation of failures, hostile ids, drift.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use strata::sqlx::{self, PgPool};
use strata::{Error, Migrations, TenantSchema, TenantStatus, Tenants};

use crate::support::{apply, fresh_db, psql, Scratch};

const CRM: &str = include_str!("fixtures/crm.rs");

/// The CRM built twice: the first tenant migration, then the follow-up.
pub(crate) struct Crm {
    pub(crate) scratch: Scratch,
    pub(crate) v1: Migrations,
}

impl Crm {
    pub(crate) fn new() -> Self {
        let scratch = Scratch::with_models(CRM);
        scratch.build();
        let v1 = Migrations::from_dir(scratch.migrations_dir().join("tenant")).unwrap();
        Crm { scratch, v1 }
    }

    /// Ships the model change and returns both tenant migrations. Its
    /// unique constraint on every tenant's existing contacts needs no
    /// confirmation: its index is built `CONCURRENTLY` after each tenant's
    /// transaction, and the key taken `USING INDEX`.
    pub(crate) fn v2(&self) -> Migrations {
        self.scratch.write_models(&CRM.replace("// v2: ", ""));
        let outcome = self.scratch.builder().run().unwrap();
        let written = std::fs::read_to_string(outcome.tenant_written.as_ref().unwrap()).unwrap();
        let (head, tail) = strata_manifest::after_transaction(&written);
        let tail = tail.expect("steps after the transaction");
        assert!(
            head.contains(r#"ALTER TABLE "{tenant}"."contacts" ADD COLUMN "phone" text;"#),
            "{written}"
        );
        assert!(
            tail.contains(r#"CREATE UNIQUE INDEX CONCURRENTLY "contacts_email_key" ON "{tenant}"."contacts" ("email");"#)
                && tail.contains(r#"ADD CONSTRAINT "contacts_email_key" UNIQUE USING INDEX "contacts_email_key";"#),
            "{written}"
        );
        assert!(!written.contains("squawk-ignore"), "{written}");
        assert!(
            outcome.written.is_none(),
            "the shared schemas do not change"
        );
        assert!(outcome.tenant_written.is_some(), "{outcome:?}");
        Migrations::from_dir(self.scratch.migrations_dir().join("tenant")).unwrap()
    }
}

/// A fresh database with the shared schemas migrated and a contact type.
pub(crate) async fn crm_db(crm: &Crm) -> (strata::testing::TestDatabase, PgPool) {
    let (db, pool) = fresh_db().await;
    apply(&pool, &crm.scratch.migrations()).await;
    psql(
        &pool,
        r#"INSERT INTO contact.contact_types (name) VALUES ('lead');
           CREATE TABLE public.tenants (id text PRIMARY KEY)"#,
    )
    .await;
    (db, pool)
}

pub(crate) fn schemas(count: usize) -> Vec<TenantSchema> {
    (0..count)
        .map(|i| TenantSchema::new(&format!("t{i:03}")).unwrap())
        .collect()
}

pub(crate) async fn add_contact(pool: &PgPool, tenant: &TenantSchema, email: &str) {
    let sql = format!(
        "INSERT INTO {}.contacts (type_id, name, email) VALUES (1, 'someone', $1)",
        tenant.quoted()
    );
    sqlx::query(&sql).bind(email).execute(pool).await.unwrap();
}

pub(crate) async fn columns(pool: &PgPool, tenant: &TenantSchema) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'contacts' ORDER BY ordinal_position",
    )
    .bind(tenant.name())
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(c,)| c).collect()
}

/// Versions applied successfully, per scope, from the one tracking table.
pub(crate) async fn versions(pool: &PgPool, tenant: &TenantSchema) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        r#"SELECT version FROM strata.migrations WHERE scope = $1 AND success ORDER BY 1"#,
    )
    .bind(tenant.name())
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(v,)| v).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_to_200_tenants_isolates_the_one_that_fails() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let all = schemas(200);
    let created = Tenants::new(&crm.v1)
        .concurrency(8)
        .migrate(&pool, &all)
        .await
        .unwrap();
    assert!(created.is_current(), "{created}");
    assert!(created
        .tenants
        .iter()
        .all(|t| matches!(t.status, TenantStatus::Applied { from: 0, to: 1, .. })));
    for tenant in &all {
        add_contact(&pool, tenant, &format!("ada@{}.example", tenant.id())).await;
    }
    // One tenant's data breaks the follow-up migration's unique constraint.
    let broken = &all[123];
    add_contact(&pool, broken, &format!("ada@{}.example", broken.id())).await;

    let v2 = crm.v2();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let progress = seen.clone();
    let report = Tenants::new(&v2)
        .concurrency(8)
        .on_progress(move |p| progress.lock().unwrap().push((p.done, p.total)))
        .migrate(&pool, &all)
        .await
        .unwrap();

    let failed: Vec<&str> = report.failed().map(|t| t.tenant.as_str()).collect();
    assert_eq!(failed, [broken.name()], "{report}");
    assert_eq!(report.applied().count(), 199);
    let TenantStatus::Failed { version, error } = &report.tenants[123].status else {
        unreachable!("checked above")
    };
    assert_eq!(*version, 1);
    let Error::TenantMigrationFailed { tenant, code, .. } = error else {
        panic!("unexpected error: {error}")
    };
    assert_eq!(
        (tenant.as_str(), code.as_deref()),
        (broken.name(), Some("23505"))
    );
    let mut done: Vec<usize> = seen.lock().unwrap().iter().map(|(d, _)| *d).collect();
    done.sort_unstable();
    assert_eq!(done, (1..=200).collect::<Vec<_>>());
    assert!(seen.lock().unwrap().iter().all(|(_, total)| *total == 200));

    // The failed tenant keeps its version and rows. Its transaction's
    // part (the new column) committed; the unique index's build, after
    // it, failed and is left for the next run.
    assert_eq!(versions(&pool, broken).await, [1]);
    assert_eq!(
        columns(&pool, broken).await,
        ["id", "type_id", "name", "email", "phone"]
    );
    let (rows,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM {}.contacts",
        broken.quoted()
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rows, 2);
    for tenant in [&all[0], &all[122], &all[124], &all[199]] {
        assert_eq!(versions(&pool, tenant).await, [1, 2]);
        assert_eq!(
            columns(&pool, tenant).await,
            ["id", "type_id", "name", "email", "phone"]
        );
    }
    let tenants = Tenants::new(&v2);
    let drift = tenants.check_drift(&pool, &all).await.unwrap();
    assert_eq!(drift.drifted.keys().collect::<Vec<_>>(), [broken.name()]);

    // Once its data is fixed, a second run migrates it alone.
    psql(
        &pool,
        &format!("DELETE FROM {}.contacts WHERE id = 2", broken.quoted()),
    )
    .await;
    let again = tenants.migrate(&pool, &all).await.unwrap();
    assert_eq!(
        again
            .applied()
            .map(|t| t.tenant.as_str())
            .collect::<Vec<_>>(),
        [broken.name()]
    );
    assert_eq!(again.current().count(), 199);
    assert!(tenants.check_drift(&pool, &all).await.unwrap().is_clean());
    assert_eq!(versions(&pool, broken).await, [1, 2]);
    let (left, invalid): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM strata.progress), (SELECT count(*) FROM pg_index WHERE NOT indisvalid)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((left, invalid), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_created_during_a_fan_out_ends_complete() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let old = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    for tenant in schemas(40) {
        old.create(&pool, &tenant).await.unwrap();
    }
    let v2 = crm.v2();
    let finished = Arc::new(AtomicUsize::new(0));
    let counter = finished.clone();
    let new = Tenants::new(&v2)
        .registry("public", "tenants", "id")
        .concurrency(2)
        .on_progress(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
    let latecomer = TenantSchema::new("latecomer").unwrap();
    let create = async {
        // Start once the fan-out is under way.
        while finished.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        new.create(&pool, &latecomer).await
    };
    let (report, created) = tokio::join!(new.migrate_all(&pool), create);
    let report = report.unwrap();
    let created = created.unwrap();
    assert!(report.is_current(), "{report}");
    assert_eq!(report.applied().count(), 40, "{report}");
    assert_eq!(
        created
            .applied
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(versions(&pool, &latecomer).await, [1, 2]);
    let listed = new.list(&pool).await.unwrap().tenants;
    assert_eq!(listed.len(), 41);
    assert!(listed.contains(&latecomer));
    assert!(new.check_drift_all(&pool).await.unwrap().is_clean());
    let health = new.health(&pool).await.unwrap();
    assert_eq!((health.tenants, health.current), (41, 41), "{health:?}");
}

#[tokio::test]
async fn creating_a_tenant_is_all_or_nothing() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    let acme = tenants.schema("acme").unwrap();

    // The caller's transaction decides: rolled back, nothing exists.
    let mut tx = pool.begin().await.unwrap();
    tenants.create_in(&mut tx, &acme).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(columns(&pool, &acme).await.is_empty());
    assert!(versions(&pool, &acme).await.is_empty());

    // A migration failing half-way (its shared target is gone) leaves no
    // schema, no tracking row and no registry row.
    psql(&pool, "ALTER TABLE contact.contact_types RENAME TO kinds").await;
    let error = tenants.create(&pool, &acme).await.unwrap_err();
    assert!(
        matches!(error, Error::TenantMigrationFailed { .. }),
        "{error}"
    );
    let (schemas, registered): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_acme'),
                (SELECT count(*) FROM public.tenants)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((schemas, registered), (0, 0));
    assert!(versions(&pool, &acme).await.is_empty());

    psql(&pool, "ALTER TABLE contact.kinds RENAME TO contact_types").await;
    let created = tenants.create(&pool, &acme).await.unwrap();
    assert_eq!(created.applied.len(), 1);
    // A second create of the same tenant is refused, by name.
    let again = tenants.create(&pool, &acme).await.unwrap_err().to_string();
    assert!(
        again.contains("tenant_acme") || again.contains("acme"),
        "{again}"
    );
    let exists = tenants
        .create_in(&mut pool.begin().await.unwrap(), &acme)
        .await
        .unwrap_err();
    assert!(matches!(exists, Error::TenantExists { ref schema } if schema == "tenant_acme"));
}

#[tokio::test]
async fn hostile_tenant_ids_are_rejected_and_reach_no_sql() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    for id in [
        "acme\"; DROP SCHEMA contact CASCADE; --",
        "ACME",
        "acme-corp",
        "",
        "a b",
        "../../etc",
        "acme\u{0}",
        "ąćme",
        &"x".repeat(60),
    ] {
        let error = tenants.schema(id).unwrap_err();
        assert!(
            matches!(error, Error::InvalidTenantId { .. }),
            "{id:?}: {error}"
        );
        assert!(error.to_string().contains("help:"), "{error}");
    }
    assert!(matches!(
        Tenants::new(&crm.v1).prefix("Tenant").schema("acme"),
        Err(Error::InvalidTenantPrefix { .. })
    ));

    // A hostile row in the registry fails alone; the others are created.
    psql(
        &pool,
        r#"INSERT INTO public.tenants VALUES ('good'), ('x"; DROP SCHEMA contact CASCADE; --')"#,
    )
    .await;
    let report = tenants.migrate_all(&pool).await.unwrap();
    let failed: Vec<&str> = report.failed().map(|t| t.tenant.as_str()).collect();
    assert_eq!(failed, [r#"x"; DROP SCHEMA contact CASCADE; --"#]);
    assert_eq!(
        report
            .applied()
            .map(|t| t.tenant.as_str())
            .collect::<Vec<_>>(),
        ["tenant_good"]
    );
    let (schemas,): (Vec<String>,) = sqlx::query_as(
        "SELECT array_agg(nspname::text ORDER BY nspname) FROM pg_namespace
         WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(schemas, ["contact", "public", "strata", "tenant_good"]);
    // And listing the registry names the bad id instead of skipping it.
    let listed = tenants.list(&pool).await.unwrap();
    assert_eq!(listed.tenants, [TenantSchema::new("good").unwrap()]);
    assert!(
        listed.invalid[0]
            .to_string()
            .contains("DROP SCHEMA contact"),
        "{listed:?}"
    );
}

#[tokio::test]
async fn drift_in_one_tenant_is_reported_for_that_tenant_only() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    let all = schemas(20);
    for tenant in &all {
        tenants.create(&pool, tenant).await.unwrap();
    }
    assert!(tenants.check_drift(&pool, &all).await.unwrap().is_clean());
    let victim = &all[7];
    psql(
        &pool,
        &format!("ALTER TABLE {}.contacts DROP COLUMN email", victim.quoted()),
    )
    .await;

    let drift = tenants.check_drift(&pool, &all).await.unwrap();
    assert_eq!(drift.checked, 20);
    assert_eq!(drift.drifted.keys().collect::<Vec<_>>(), [victim.name()]);
    let report = drift.tenant(victim.name()).unwrap();
    let found: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        ["missing column tenant_t007.contacts.email (text NOT NULL)"]
    );
    assert!(
        drift.to_string().contains("1 of 20 tenants drifted"),
        "{drift}"
    );

    let health = tenants.health(&pool).await.unwrap();
    assert_eq!(
        (health.tenants, health.current, health.drifted),
        (20, 19, 1)
    );
    assert_eq!(health.problems.len(), 1);
    assert_eq!(health.problems[0].tenant, victim.name());
    let summary = strata::health_with_tenants(&pool, &crm.scratch.migrations(), &tenants)
        .await
        .unwrap();
    assert_eq!(summary.status, strata::HealthStatus::Drift);
    assert_eq!(summary.tenants.unwrap().drifted, 1);
}

#[allow(dead_code)]
mod crm {
    include!("fixtures/crm.rs");
}

#[tokio::test]
async fn tenant_models_generate_sql_for_the_tenant_they_are_given() {
    use crm::Contact;
    use strata::Model;

    let acme = TenantSchema::new("acme").unwrap();
    let globex = TenantSchema::new("globex").unwrap();
    const { assert!(Contact::TENANT) };
    assert_eq!(Contact::qualified(&acme), r#""tenant_acme"."contacts""#);
    assert_eq!(
        Contact::select(&globex),
        r#"SELECT "id", "type_id", "name", "email" FROM "tenant_globex"."contacts""#
    );

    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    Tenants::new(&crm.v1)
        .migrate(&pool, &[acme.clone(), globex.clone()])
        .await
        .unwrap();
    let insert = |tenant: &TenantSchema, email: &str| {
        let (sql, email) = (Contact::insert(tenant), email.to_owned());
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, Contact>(&sql)
                .bind(1_i64)
                .bind("Ada")
                .bind(email)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let ada = insert(&acme, "ada@acme.example").await;
    insert(&globex, "ada@globex.example").await;
    sqlx::query(&Contact::update_by_pk(&acme))
        .bind(1_i64)
        .bind("Ada L.")
        .bind("ada@acme.example")
        .bind(ada.id)
        .execute(&pool)
        .await
        .unwrap();
    let in_acme: Contact = sqlx::query_as(&Contact::select_by_pk(&acme))
        .bind(ada.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(in_acme.name, "Ada L.");
    // The same id in the other tenant is another row, untouched.
    let in_globex: Contact = sqlx::query_as(&Contact::select_by_pk(&globex))
        .bind(ada.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (in_globex.name.as_str(), in_globex.email.as_str()),
        ("Ada", "ada@globex.example")
    );
    sqlx::query(&Contact::delete_by_pk(&acme))
        .bind(ada.id)
        .execute(&pool)
        .await
        .unwrap();
    let left: Vec<Contact> = sqlx::query_as(&Contact::select(&globex))
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
}

/// Issue 10, item 6: The tenant schema went in by a text search over whole SQL, so it also
/// hit names, defaults, checks and comments that happened to spell it.
#[allow(dead_code)]
mod hostile {
    include!("fixtures/hostile.rs");
}

const HOSTILE: &str = include_str!("fixtures/hostile.rs");

#[tokio::test]
async fn the_tenant_schema_goes_only_where_a_schema_name_stands() {
    let acme = TenantSchema::new("acme").unwrap();
    assert_eq!(
        hostile::Hostile::select(&acme),
        r#"SELECT "{tenant}", "%s $1 \ ""q""", "guarded" FROM "tenant_acme"."{tenant}""#
    );

    let scratch = Scratch::with_models(HOSTILE);
    scratch.build();
    let migrations = Migrations::from_dir(scratch.migrations_dir().join("tenant")).unwrap();
    let (_db, pool) = fresh_db().await;
    let tenants = Tenants::new(&migrations);
    let globex = TenantSchema::new("globex").unwrap();
    let report = tenants
        .migrate(&pool, &[acme.clone(), globex.clone()])
        .await
        .unwrap();
    assert!(report.is_current(), "{report}");
    let drift = tenants
        .check_drift(&pool, &[acme.clone(), globex.clone()])
        .await
        .unwrap();
    assert!(drift.drifted.is_empty(), "{drift}");

    let sql = format!(
        r#"INSERT INTO {} DEFAULT VALUES RETURNING "%s $1 \ ""q""""#,
        hostile::Hostile::qualified(&acme)
    );
    let (odd,): (String,) = sqlx::query_as(&sql).fetch_one(&pool).await.unwrap();
    assert_eq!(
        odd, r#""{tenant}".x %s $1 \"#,
        "the default is the literal as written"
    );
    let refused = sqlx::query(&format!(
        r#"INSERT INTO {} ("guarded") VALUES (1)"#,
        hostile::Hostile::qualified(&globex)
    ))
    .execute(&pool)
    .await;
    assert!(
        refused.is_err(),
        "the check compares the column, not a schema"
    );
}

/// The data migration the guide shows: SalesFlow copies every tenant's
/// contacts into a shared reporting table, in a hand-written shared migration.
const COPY_CONTACTS: &str = r#"-- Copy every tenant's contacts into reporting.contacts, once.
DO $copy$
DECLARE
    tenant record;
BEGIN
    FOR tenant IN SELECT id FROM public.tenants ORDER BY id LOOP
        EXECUTE format(
            'INSERT INTO reporting.contacts (tenant, contact_id, name)
             SELECT %L, c.id, c.name FROM %I.contacts c',
            tenant.id, 'tenant_' || tenant.id);
    END LOOP;
END
$copy$;
"#;

#[tokio::test]
async fn a_hand_written_shared_migration_copies_rows_from_every_tenant() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    let ids = ["acme", "globex", "initech"];
    for id in ids {
        let tenant = tenants.schema(id).unwrap();
        tenants.create(&pool, &tenant).await.unwrap();
        add_contact(&pool, &tenant, &format!("ada@{id}.example")).await;
        add_contact(&pool, &tenant, &format!("bob@{id}.example")).await;
    }

    // The shared table in one build, the copy in the next.
    crm.scratch.write_models(&format!(
        "{CRM}\n#[strata::schema(\"reporting\", table = \"contacts\")]\npub struct ReportedContact {{\n    #[column(primary_key)]\n    pub tenant: String,\n    #[column(primary_key)]\n    pub contact_id: i64,\n    pub name: String,\n}}\n"
    ));
    crm.scratch.build();
    let path = strata_build::new_migration(crm.scratch.migrations_dir(), "copy_contacts").unwrap();
    std::fs::write(&path, COPY_CONTACTS).unwrap();
    crm.scratch.build();
    let report = apply(&pool, &crm.scratch.migrations()).await;
    assert_eq!(report.applied.len(), 2, "the table, then the copy");
    assert!(report.drift.is_clean(), "{}", report.drift);
    let copied: Vec<(String, i64)> = sqlx::query_as(
        "SELECT tenant, count(*) FROM reporting.contacts GROUP BY tenant ORDER BY tenant",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        copied,
        ids.iter().map(|id| (id.to_string(), 2)).collect::<Vec<_>>()
    );
}

/// Issue 14, item 4: a unique key on the contacts every tenant has, with
/// rows, while one tenant takes writes. Its index builds `CONCURRENTLY`
/// after each tenant's transaction, so no write waits; each tenant's
/// version advances once its steps have all run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_key_on_every_tenants_contacts_is_built_while_they_take_writes() {
    let crm = Crm::new();
    let (db, pool) = crm_db(&crm).await;
    let all = schemas(2);
    let created = Tenants::new(&crm.v1).migrate(&pool, &all).await.unwrap();
    assert!(created.is_current(), "{created}");
    for tenant in &all {
        psql(
            &pool,
            &format!(
                "INSERT INTO {}.contacts (type_id, name, email)
                 SELECT 1, 'someone', 'c' || i || '@example.com' FROM generate_series(1, 200000) i",
                tenant.quoted()
            ),
        )
        .await;
    }
    let v2 = crm.v2();
    let writer = crate::online::Writer::start(
        db.url(),
        "tenant_t000.contacts",
        "INSERT INTO tenant_t000.contacts (type_id, name, email) VALUES (1, 'live', gen_random_uuid()::text)",
    )
    .await;
    let report = Tenants::new(&v2).migrate(&pool, &all).await.unwrap();
    let (written, refused) = writer.stop().await;
    assert!(report.is_current(), "{report}");
    assert_eq!(refused, 0, "no write failed on a lock of the migration");
    assert!(written > 1, "the writer went on during the migration");
    let tenants = Tenants::new(&v2);
    assert!(tenants.check_drift(&pool, &all).await.unwrap().is_clean());
    for tenant in &all {
        assert_eq!(versions(&pool, tenant).await, [1, 2]);
        let (transactional,): (bool,) = sqlx::query_as(
            "SELECT transactional FROM strata.migrations WHERE scope = $1 AND version = 2",
        )
        .bind(tenant.name())
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(!transactional, "its steps ran after the transaction");
    }
    let (live,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM tenant_t000.contacts WHERE name = 'live'")
            .fetch_one(&pool)
            .await
            .unwrap();
    // The writer counts a write once it has committed; one may commit as
    // it stops.
    assert!(u64::try_from(live).unwrap() >= written, "no write was lost");
}

/// A column with a volatile default added to the contacts every tenant
/// has: its batched fill commits as it goes, which a new tenant's one
/// transaction cannot run, so it is added in place, a hazard refused until
/// `{tenant}.contacts` is confirmed, and marked for squawk. Each tenant's
/// rows get their own value.
#[tokio::test]
async fn a_volatile_default_on_every_tenants_contacts_is_a_confirmed_hazard() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let all = schemas(2);
    assert!(Tenants::new(&crm.v1)
        .migrate(&pool, &all)
        .await
        .unwrap()
        .is_current());
    for tenant in &all {
        add_contact(&pool, tenant, "a@example.com").await;
        add_contact(&pool, tenant, "b@example.com").await;
    }
    crm.scratch.write_models(&CRM.replace(
        "    pub email: String,",
        "    pub email: String,\n    #[column(default = \"random()\")]\n    pub weight: f64,",
    ));
    let refused = crm.scratch.builder().run().unwrap_err().to_string();
    assert!(
        refused.contains("{tenant}.contacts: a column with a volatile default added in place"),
        "{refused}"
    );
    let outcome = crate::support::build_confirmed(&crm.scratch, "{tenant}.contacts");
    let written = std::fs::read_to_string(outcome.tenant_written.unwrap()).unwrap();
    assert!(
        written.contains("-- a hazard for {tenant}.contacts, gated by its confirmation\nALTER TABLE \"{tenant}\".\"contacts\" ADD COLUMN \"weight\" double precision DEFAULT random() NOT NULL;"),
        "{written}"
    );
    assert_eq!(strata_manifest::after_transaction(&written).1, None);
    let v2 = Migrations::from_dir(crm.scratch.migrations_dir().join("tenant")).unwrap();
    assert!(Tenants::new(&v2)
        .migrate(&pool, &all)
        .await
        .unwrap()
        .is_current());
    for tenant in &all {
        let (distinct,): (i64,) = sqlx::query_as(&format!(
            "SELECT count(DISTINCT weight) FROM {}.contacts",
            tenant.quoted()
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(distinct, 2);
    }
}
