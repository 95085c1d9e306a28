//! Schema per tenant, the whole life of a tenant: ids and schemas that are
//! not what they claim, rolling deploys, status, rollback, drop, archive.

use strata::sqlx;
use strata::{Error, TenantStatus, Tenants};

use crate::support::psql;
use crate::tenants::{add_contact, columns, crm_db, schemas, versions, Crm};

/// The names of the tables in `schema`.
async fn tables_in(pool: &sqlx::PgPool, schema: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE nspname = $1 AND relkind IN ('r', 'p') ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

#[tokio::test]
async fn a_registry_id_naming_a_schema_that_is_not_a_tenants_is_refused() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    // A domain schema of the shared models, named like a tenant.
    psql(
        &pool,
        "CREATE SCHEMA tenant_shared;
         CREATE TABLE tenant_shared.settings (key text PRIMARY KEY);
         INSERT INTO public.tenants VALUES ('shared'), ('acme')",
    )
    .await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    let report = tenants.migrate_all(&pool).await.unwrap();
    let failed: Vec<&str> = report.failed().map(|t| t.tenant.as_str()).collect();
    assert_eq!(failed, ["tenant_shared"], "{report}");
    let message = report.failed().next().unwrap().to_string();
    assert!(
        message.contains("schema tenant_shared exists")
            && message.contains("no tenant migration")
            && message.contains("help:"),
        "{message}"
    );
    // Nothing of the tenant was written into it; the other tenant was made.
    assert_eq!(tables_in(&pool, "tenant_shared").await, ["settings"]);
    assert_eq!(tables_in(&pool, "tenant_acme").await, ["contacts", "notes"]);
    // Every later run says the same, and nothing more.
    let again = tenants.migrate_all(&pool).await.unwrap();
    assert_eq!(again.failed().count(), 1, "{again}");
    assert_eq!(again.current().count(), 1, "{again}");
}

#[tokio::test]
async fn prefixes_of_other_owners_are_refused() {
    let crm = Crm::new();
    for prefix in [
        "pg_",
        "pg_tenant_",
        "information_",
        "strata_",
        "stratatenant_",
    ] {
        let error = Tenants::new(&crm.v1).prefix(prefix).schema("acme");
        assert!(
            matches!(error, Err(Error::InvalidTenantPrefix { .. })),
            "{prefix}: {error:?}"
        );
    }
    assert!(Tenants::new(&crm.v1).prefix("org_").schema("acme").is_ok());
}

#[tokio::test]
async fn a_bad_registry_row_is_reported_and_the_rest_carry_on() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    for tenant in schemas(3) {
        tenants.create(&pool, &tenant).await.unwrap();
    }
    psql(&pool, "INSERT INTO public.tenants VALUES ('Bad-Id')").await;

    let listed = tenants.list(&pool).await.unwrap();
    assert_eq!(listed.tenants, schemas(3));
    assert_eq!(listed.invalid.len(), 1);
    assert_eq!(listed.invalid[0].id, "Bad-Id");
    assert!(
        listed.invalid[0].error.contains("it contains 'B'"),
        "{listed:?}"
    );

    let drift = tenants.check_drift_all(&pool).await.unwrap();
    assert_eq!(drift.checked, 3);
    assert!(drift.drifted.is_empty());
    assert_eq!(drift.invalid.len(), 1);
    assert!(!drift.is_clean(), "a bad registry row is not clean");
    assert!(drift.to_string().contains("Bad-Id"), "{drift}");

    let health = tenants.health(&pool).await.unwrap();
    assert_eq!(
        (health.tenants, health.current, health.invalid),
        (4, 3, 1),
        "{health:?}"
    );
    assert!(!health.is_current());
    assert!(health.problems.iter().any(|p| p.tenant == "Bad-Id"));
    let summary = strata::health_with_tenants(&pool, &crm.scratch.migrations(), &tenants)
        .await
        .unwrap();
    assert_eq!(summary.tenants.unwrap().invalid, 1);
}

#[tokio::test]
async fn a_tenant_behind_is_caught_up_and_one_ahead_is_reported_and_kept() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let v2 = crm.v2();
    let all = schemas(2);
    // During a rolling deploy: the old binary made one tenant, the new one the other.
    Tenants::new(&crm.v1).create(&pool, &all[0]).await.unwrap();
    Tenants::new(&v2).create(&pool, &all[1]).await.unwrap();

    // The old binary's fan-out reports the newer tenant, and leaves it be.
    let old = Tenants::new(&crm.v1).migrate(&pool, &all).await.unwrap();
    assert!(
        matches!(old.tenants[0].status, TenantStatus::Current { version: 1 }),
        "{old}"
    );
    assert!(
        matches!(
            old.tenants[1].status,
            TenantStatus::Ahead {
                version: 2,
                newest: 1
            }
        ),
        "{old}"
    );
    assert_eq!(old.failed().count(), 0, "{old}");
    assert!(old.to_string().contains("ahead"), "{old}");
    assert_eq!(versions(&pool, &all[1]).await, [1, 2]);
    let health = Tenants::new(&crm.v1).health_of(&pool, &all).await.unwrap();
    assert_eq!((health.ahead, health.failed), (1, 0), "{health:?}");

    // The new binary's catches the older tenant up.
    let new = Tenants::new(&v2).migrate(&pool, &all).await.unwrap();
    assert!(
        matches!(
            new.tenants[0].status,
            TenantStatus::Applied { from: 1, to: 2, .. }
        ),
        "{new}"
    );
    assert!(new.is_current(), "{new}");
    assert!(Tenants::new(&v2)
        .check_drift(&pool, &all)
        .await
        .unwrap()
        .is_clean());
}

#[test]
fn the_build_refuses_a_shared_schema_named_like_a_tenant() {
    let shared = r#"
#[strata::schema("tenant_shared", table = "settings")]
pub struct Setting {
    #[column(primary_key)]
    pub key: String,
}
"#;
    let crm = crate::support::Scratch::with_models(&format!(
        "{}\n{shared}",
        include_str!("fixtures/crm.rs")
    ));
    let error = crm.builder().run().unwrap_err().to_string();
    assert!(
        error.contains("schema tenant_shared is managed by the shared models")
            && error.contains("tenant with id \"shared\"")
            && error.contains("Builder::tenant_prefix"),
        "{error}"
    );
    // Under a prefix of its own, the same models build.
    crm.builder().tenant_prefix("t_").run().unwrap();
    // And without tenant models, a shared schema may have any name.
    let alone = crate::support::Scratch::with_models(shared);
    alone.builder().run().unwrap();
}

#[tokio::test]
async fn one_tenant_is_rolled_back_while_the_others_stay() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let all = schemas(3);
    let v1 = Tenants::new(&crm.v1);
    for tenant in &all {
        v1.create(&pool, tenant).await.unwrap();
        add_contact(&pool, tenant, &format!("ada@{}.example", tenant.id())).await;
    }
    let v2 = crm.v2();
    let tenants = Tenants::new(&v2);
    assert!(tenants.migrate(&pool, &all).await.unwrap().is_current());
    let victim = &all[1];
    psql(
        &pool,
        &format!(
            "UPDATE {}.contacts SET phone = '+1 555 0100'",
            victim.quoted()
        ),
    )
    .await;

    // Dropping the column loses its phone numbers: refused until confirmed,
    // and the tenant is left exactly as it was.
    let refused = tenants
        .rollback(&pool, std::slice::from_ref(victim), 1)
        .await
        .unwrap();
    let message = refused.failed().next().expect("refused").to_string();
    assert!(
        message.contains("tenant_t001.contacts.phone: drop column")
            && message.contains("Tenants::confirm"),
        "{message}"
    );
    assert_eq!(versions(&pool, victim).await, [1, 2]);
    assert!(columns(&pool, victim).await.contains(&"phone".to_owned()));

    let report = tenants
        .clone()
        .confirm("tenant_t001.contacts.phone")
        .rollback(&pool, std::slice::from_ref(victim), 1)
        .await
        .unwrap();
    assert!(
        matches!(
            &report.tenants[0].status,
            TenantStatus::RolledBack { from: 2, to: 1, migrations } if migrations.len() == 1
        ),
        "{report}"
    );
    assert_eq!(versions(&pool, victim).await, [1]);
    assert_eq!(
        columns(&pool, victim).await,
        ["id", "type_id", "name", "email"]
    );
    assert_eq!(contacts(&pool, victim).await, 1, "its rows are kept");
    assert!(Tenants::new(&v2)
        .target(1)
        .check_drift(&pool, std::slice::from_ref(victim))
        .await
        .unwrap()
        .is_clean());
    // The others stay at 2, untouched.
    for tenant in [&all[0], &all[2]] {
        assert_eq!(versions(&pool, tenant).await, [1, 2]);
        assert!(columns(&pool, tenant).await.contains(&"phone".to_owned()));
    }
    // Again: nothing left to undo. Then the next fan-out brings it back.
    let again = tenants
        .rollback(&pool, std::slice::from_ref(victim), 1)
        .await
        .unwrap();
    assert!(matches!(
        again.tenants[0].status,
        TenantStatus::Current { version: 1 }
    ));
    let forward = tenants.migrate(&pool, &all).await.unwrap();
    assert_eq!(forward.applied().count(), 1, "{forward}");
    assert!(tenants.check_drift(&pool, &all).await.unwrap().is_clean());
}

async fn contacts(pool: &sqlx::PgPool, tenant: &strata::TenantSchema) -> i64 {
    let (count,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM {}.contacts",
        tenant.quoted()
    ))
    .fetch_one(pool)
    .await
    .unwrap();
    count
}

#[tokio::test]
async fn a_tenant_is_dropped_only_when_named_and_when_nothing_outside_depends_on_it() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    let tenants = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    let all = schemas(2);
    for tenant in &all {
        tenants.create(&pool, tenant).await.unwrap();
        add_contact(&pool, tenant, "ada@example.com").await;
    }
    let doomed = &all[0];
    for refused in [tenants.clone(), tenants.clone().confirm_all()] {
        let error = refused.drop_tenant(&pool, doomed).await.unwrap_err();
        assert!(
            matches!(error, Error::TenantDropUnconfirmed { .. }),
            "{error}"
        );
    }
    // A shared view that reads the tenant's contacts would go with it.
    psql(
        &pool,
        "CREATE VIEW public.all_contacts AS SELECT name FROM tenant_t000.contacts",
    )
    .await;
    let confirmed = tenants.clone().confirm("tenant_t000");
    let error = confirmed.drop_tenant(&pool, doomed).await.unwrap_err();
    assert!(
        error.to_string().contains("view public.all_contacts"),
        "{error}"
    );
    assert_eq!(contacts(&pool, doomed).await, 1, "nothing was dropped");
    psql(&pool, "DROP VIEW public.all_contacts").await;

    confirmed.drop_tenant(&pool, doomed).await.unwrap();
    assert!(tables_in(&pool, doomed.name()).await.is_empty());
    assert!(versions(&pool, doomed).await.is_empty());
    assert_eq!(tenants.list(&pool).await.unwrap().tenants, [all[1].clone()]);
    assert_eq!(
        contacts(&pool, &all[1]).await,
        1,
        "the other tenant is kept"
    );
    // The id is free again.
    tenants.create(&pool, doomed).await.unwrap();
}

#[tokio::test]
async fn an_archived_tenant_is_out_of_the_way_and_comes_back_current_with_its_rows() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    psql(
        &pool,
        "ALTER TABLE public.tenants ADD COLUMN plan text NOT NULL DEFAULT 'free'",
    )
    .await;
    let v1 = Tenants::new(&crm.v1).registry("public", "tenants", "id");
    let all = schemas(3);
    for tenant in &all {
        v1.create(&pool, tenant).await.unwrap();
    }
    let sleeper = &all[1];
    add_contact(&pool, sleeper, "ada@example.com").await;
    add_contact(&pool, sleeper, "grace@example.com").await;
    psql(
        &pool,
        "UPDATE public.tenants SET plan = 'gold' WHERE id = 't001'",
    )
    .await;

    let archived = v1.archive(&pool, sleeper).await.unwrap();
    assert_eq!(archived.tenant, "tenant_t001");
    assert!(tables_in(&pool, sleeper.name()).await.is_empty());
    assert_eq!(
        tables_in(&pool, &archived.archived_as).await,
        ["contacts", "notes"]
    );
    assert_eq!(
        v1.archived(&pool).await.unwrap(),
        std::slice::from_ref(&archived)
    );
    // Out of the registry: not migrated, not drift, not listed.
    let listed = v1.list(&pool).await.unwrap().tenants;
    assert_eq!(listed, [all[0].clone(), all[2].clone()]);
    let v2 = crm.v2();
    let tenants = Tenants::new(&v2).registry("public", "tenants", "id");
    let report = tenants.migrate_all(&pool).await.unwrap();
    assert_eq!(report.tenants.len(), 2, "{report}");
    assert!(tenants.check_drift_all(&pool).await.unwrap().is_clean());
    assert!(tenants.health(&pool).await.unwrap().is_current());

    // Restored: schema, rows, registry row (every column) back, then
    // brought to the current version.
    let restored = tenants.restore(&pool, sleeper).await.unwrap();
    assert!(
        matches!(
            restored.tenants[0].status,
            TenantStatus::Applied { from: 1, to: 2, .. }
        ),
        "{restored}"
    );
    assert_eq!(contacts(&pool, sleeper).await, 2);
    let (plan,): (String,) = sqlx::query_as("SELECT plan FROM public.tenants WHERE id = 't001'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(plan, "gold");
    assert!(tables_in(&pool, &archived.archived_as).await.is_empty());
    assert!(v1.archived(&pool).await.unwrap().is_empty());
    assert!(tenants.check_drift_all(&pool).await.unwrap().is_clean());
    assert_eq!(tenants.list(&pool).await.unwrap().tenants, all);
    // Restoring twice finds nothing to restore.
    let error = tenants.restore(&pool, sleeper).await.unwrap_err();
    assert!(matches!(error, Error::TenantNotFound { .. }), "{error}");
}

/// 200 tenants at version 1, `broken` of them with data the follow-up's
/// unique key refuses.
async fn two_hundred_at_v1(
    crm: &Crm,
    pool: &sqlx::PgPool,
    broken: &[usize],
) -> Vec<strata::TenantSchema> {
    let all = schemas(200);
    let created = Tenants::new(&crm.v1)
        .concurrency(8)
        .migrate(pool, &all)
        .await
        .unwrap();
    assert!(created.is_current(), "{created}");
    for at in broken {
        add_contact(pool, &all[*at], "twice@example.com").await;
        add_contact(pool, &all[*at], "twice@example.com").await;
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_goes_in_waves_and_stops_past_its_error_budget() {
    let crm = Crm::new();
    let (_db, pool) = crm_db(&crm).await;
    // Five tenants of the third wave cannot take the unique key.
    let all = two_hundred_at_v1(&crm, &pool, &[60, 61, 62, 63, 64]).await;
    let v2 = crm.v2();
    let waves = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = waves.clone();
    let rollout = strata::Rollout::new()
        .canaries(5)
        .wave_size(50)
        .max_failures(3);
    let tenants = Tenants::new(&v2)
        .concurrency(4)
        .rollout(rollout.clone())
        .on_wave(move |w| seen.lock().unwrap().push(w.to_string()));
    let report = tenants.migrate(&pool, &all).await.unwrap();

    let rollout_report = report.rollout.as_ref().unwrap();
    assert_eq!(
        (
            rollout_report.waves,
            rollout_report.waves_done,
            rollout_report.failed
        ),
        (5, 3, 5),
        "{report}"
    );
    assert!(rollout_report
        .stopped
        .as_deref()
        .unwrap()
        .contains("error budget"));
    assert_eq!(
        waves
            .lock()
            .unwrap()
            .iter()
            .map(|w| w.split(':').next().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ["wave 1/5", "wave 2/5", "wave 3/5"]
    );
    // Canaries and the first two waves are migrated; the fourth and fifth
    // were never reached, and are exactly as they were.
    let at = |i: usize| &report.tenants[i].status;
    assert!(matches!(at(0), TenantStatus::Applied { to: 2, .. }));
    assert!(matches!(at(104), TenantStatus::Applied { to: 2, .. }));
    assert!(matches!(at(60), TenantStatus::Failed { .. }));
    assert_eq!(
        report
            .tenants
            .iter()
            .filter(|t| matches!(t.status, TenantStatus::NotReached))
            .count(),
        95
    );
    for tenant in [&all[105], &all[199]] {
        assert_eq!(versions(&pool, tenant).await, [1]);
        assert_eq!(
            columns(&pool, tenant).await,
            ["id", "type_id", "name", "email"]
        );
    }
    assert!(!report.is_current());
    assert!(
        report.to_string().contains("95 tenant(s) not reached"),
        "{report}"
    );
    let states = tenants.rollouts(&pool).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(
        (
            states[0].state.as_str(),
            states[0].waves_done,
            states[0].target
        ),
        ("stopped", 3, 2)
    );

    // Once the data is fixed, the same rollout goes on and finishes.
    for tenant in &all[60..65] {
        psql(
            &pool,
            &format!("DELETE FROM {}.contacts WHERE id = 2", tenant.quoted()),
        )
        .await;
    }
    let again = tenants.migrate(&pool, &all).await.unwrap();
    assert!(again.is_current(), "{again}");
    let again_rollout = again.rollout.as_ref().unwrap();
    assert!(again_rollout.resumed && again_rollout.stopped.is_none());
    assert_eq!(
        again.applied().count(),
        100,
        "the five, and the 95 not reached"
    );
    assert_eq!(again.current().count(), 100);
    assert!(tenants.rollouts(&pool).await.unwrap().is_empty());
    assert!(Tenants::new(&v2)
        .check_drift(&pool, &all)
        .await
        .unwrap()
        .is_clean());
}

/// The child of `a_rollout_killed_mid_way_resumes_where_it_stopped`.
const ROLLOUT_CHILD: &str = "STRATA_ROLLOUT_CHILD";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_killed_mid_way_resumes_where_it_stopped() {
    if let Ok(spec) = std::env::var(ROLLOUT_CHILD) {
        // The child: roll out slowly until killed.
        let (url, dir) = spec.split_once('\n').unwrap();
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let migrations = strata::Migrations::from_dir(dir).unwrap();
        let tenants = Tenants::new(&migrations)
            .registry("public", "tenants", "id")
            .rollout(
                strata::Rollout::new()
                    .wave_size(50)
                    .pause(std::time::Duration::from_secs(60)),
            );
        let _ = tenants.migrate_all(&pool).await;
        return;
    }
    let crm = Crm::new();
    let (db, pool) = crm_db(&crm).await;
    let all = two_hundred_at_v1(&crm, &pool, &[]).await;
    for tenant in &all {
        sqlx::query("INSERT INTO public.tenants VALUES ($1)")
            .bind(tenant.id())
            .execute(&pool)
            .await
            .unwrap();
    }
    let v2 = crm.v2();
    let dir = crm.scratch.migrations_dir().join("tenant");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tenant_life::a_rollout_killed_mid_way_resumes_where_it_stopped",
            "--nocapture",
        ])
        .env(ROLLOUT_CHILD, format!("{}\n{}", db.url(), dir.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: nothing of it runs after) once its first wave is
    // recorded, while it pauses before the second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let done: Option<(i32,)> = sqlx::query_as(
            "SELECT waves_done FROM strata.rollouts WHERE to_regclass('strata.rollouts') IS NOT NULL",
        )
        .fetch_optional(&pool)
        .await
        .unwrap_or(None);
        if done.is_some_and(|(d,)| d >= 1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the child never finished a wave"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let tenants = Tenants::new(&v2).registry("public", "tenants", "id");
    let states = tenants.rollouts(&pool).await.unwrap();
    assert_eq!(
        (states[0].state.as_str(), states[0].waves_done),
        ("running", 1),
        "{states:?}"
    );
    let resumed = tenants
        .clone()
        .rollout(strata::Rollout::new().wave_size(50))
        .migrate_all(&pool)
        .await
        .unwrap();
    assert!(resumed.is_current(), "{resumed}");
    assert!(resumed.rollout.as_ref().unwrap().resumed);
    // The child's first wave is passed over; the rest is migrated now.
    assert_eq!(
        (resumed.current().count(), resumed.applied().count()),
        (50, 150),
        "{resumed}"
    );
    assert!(tenants.check_drift_all(&pool).await.unwrap().is_clean());
    assert!(tenants.rollouts(&pool).await.unwrap().is_empty());
}
