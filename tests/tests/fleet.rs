//! Tenants across a fleet of three PostgreSQL servers, each a throwaway
//! cluster this binary starts on 127.0.0.1 with `wal_level = logical`:
//! placement, replicated shared schemas, migrations with a server down,
//! drift, moves under a writer, moves resumed after each step, rebalance.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use strata::sqlx::{self, Connection, PgConnection, PgPool};
use strata::testing::Cluster;
use strata::{Error, Fleet, Migrations, MoveStep, Place, TenantSchema, TenantStatus, Tenants};

const CRM: &str = include_str!("db/fixtures/crm.rs");

/// The three servers, started once for this binary.
fn clusters() -> &'static [Cluster] {
    static CLUSTERS: OnceLock<Vec<Cluster>> = OnceLock::new();
    CLUSTERS.get_or_init(|| {
        (0..3)
            .map(|_| Cluster::start_logical().expect("a server starts"))
            .collect()
    })
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh database on `cluster`; its URL.
async fn database(cluster: &Cluster) -> String {
    let name = format!("fleet_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = PgConnection::connect(&cluster.url()).await.unwrap();
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    cluster.database_url(&name)
}

/// The CRM's migrations, built once in a scratch crate: the shared stream
/// (`contact.contact_types`) and the tenant stream, first and second.
struct Crm {
    shared: Migrations,
    v1: Migrations,
    v2: Migrations,
}

fn crm() -> &'static Crm {
    static CRM_BUILT: OnceLock<Crm> = OnceLock::new();
    CRM_BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        let build = |models: &str| {
            std::fs::write(dir.path().join("src/models.rs"), models).unwrap();
            strata_build::Builder::new()
                .crate_dir(dir.path())
                .frozen(false)
                .run()
                .unwrap();
        };
        build(CRM);
        let shared = Migrations::from_dir(dir.path().join("migrations")).unwrap();
        let v1 = Migrations::from_dir(dir.path().join("migrations/tenant")).unwrap();
        build(&CRM.replace("// v2: ", ""));
        let v2 = Migrations::from_dir(dir.path().join("migrations/tenant")).unwrap();
        Crm { shared, v1, v2 }
    })
}

/// A control database with the tenant registry, and a database on each of
/// the three servers, `a` on the control database's cluster.
struct Setup {
    control_url: String,
    servers: Vec<(String, String)>,
}

async fn setup() -> Setup {
    let clusters = clusters();
    let control_url = database(&clusters[0]).await;
    let control = PgPool::connect(&control_url).await.unwrap();
    sqlx::query("CREATE TABLE public.tenants (id text PRIMARY KEY)")
        .execute(&control)
        .await
        .unwrap();
    let mut servers = Vec::new();
    for (name, cluster) in ["a", "b", "c"].iter().zip(clusters) {
        servers.push((name.to_string(), database(cluster).await));
    }
    Setup {
        control_url,
        servers,
    }
}

fn tenants(migrations: &Migrations) -> Tenants<'_> {
    Tenants::new(migrations)
        .registry("public", "tenants", "id")
        .concurrency(4)
}

/// The fleet of `setup`, its servers added, migrated once.
async fn fleet(setup: &Setup, tenant_migrations: &'static Migrations) -> Fleet<'static> {
    let fleet = Fleet::connect(
        &setup.control_url,
        &crm().shared,
        tenants(tenant_migrations),
    )
    .await
    .unwrap()
    .replicate("contact")
    .copy_timeout(Duration::from_secs(60));
    for (name, url) in &setup.servers {
        fleet.add_server(name, url).await.unwrap();
    }
    let report = fleet.migrate().await.unwrap();
    assert!(report.is_current(), "{report}");
    sqlx::query("INSERT INTO contact.contact_types (name) VALUES ('lead') ON CONFLICT DO NOTHING")
        .execute(fleet.control())
        .await
        .unwrap();
    // Rows flow to the copies by logical replication: moments later, not
    // in the same transaction.
    for (_, url) in &setup.servers[1..] {
        let pool = PgPool::connect(url).await.unwrap();
        eventually(
            &pool,
            "SELECT EXISTS (SELECT 1 FROM contact.contact_types WHERE id = 1)",
        )
        .await;
    }
    fleet
}

/// Waits until `sql` (one boolean) is true on `pool`.
async fn eventually(pool: &PgPool, sql: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (done,): (bool,) = sqlx::query_as(sql).fetch_one(pool).await.unwrap();
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "never true: {sql}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Adds a contact to `tenant` through the fleet's routing; returns its id.
async fn add_contact(fleet: &Fleet<'_>, tenant: &TenantSchema, email: &str) -> i64 {
    let pool = fleet.pool_for(tenant).await.unwrap();
    let sql = format!(
        "INSERT INTO {}.contacts (type_id, name, email) VALUES (1, 'someone', $1) RETURNING id",
        tenant.quoted()
    );
    let (id,): (i64,) = sqlx::query_as(&sql)
        .bind(email)
        .fetch_one(&pool)
        .await
        .unwrap();
    id
}

/// Every contact of `tenant` on its server: id, email and name.
async fn contacts(fleet: &Fleet<'_>, tenant: &TenantSchema) -> Vec<(i64, String, String)> {
    let pool = fleet.pool_for(tenant).await.unwrap();
    let sql = format!(
        "SELECT id, email, name FROM {}.contacts ORDER BY id",
        tenant.quoted()
    );
    sqlx::query_as(&sql).fetch_all(&pool).await.unwrap()
}

async fn schema_on(url: &str, schema: &str) -> bool {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::query("SELECT 1 FROM pg_namespace WHERE nspname = $1")
        .bind(schema)
        .fetch_optional(&mut conn)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_tenants_are_placed_on_three_servers_and_reference_replicated_rows() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await;
    for i in 0..60 {
        let tenant = fleet.tenants().schema(&format!("t{i:02}")).unwrap();
        let placed = fleet.create(&tenant, Place::Fewest).await.unwrap();
        assert_eq!(placed.applied, 1);
    }
    let counts: BTreeMap<String, usize> = fleet
        .servers()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.tenants))
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([("a".into(), 20), ("b".into(), 20), ("c".into(), 20)])
    );
    // Each tenant's schema is on its server, and on no other.
    for placement in fleet.placement().await.unwrap() {
        for (name, url) in &setup.servers {
            assert_eq!(
                schema_on(url, &placement.tenant).await,
                *name == placement.server,
                "{} on {name}",
                placement.tenant
            );
        }
    }
    // The registry on the control database lists all 60.
    let (registered,): (i64,) = sqlx::query_as("SELECT count(*) FROM public.tenants")
        .fetch_one(fleet.control())
        .await
        .unwrap();
    assert_eq!(registered, 60);

    // A contact's foreign key holds on every server: the shared row it
    // references was replicated there.
    for i in [0, 1, 2] {
        let tenant = fleet.tenants().schema(&format!("t{i:02}")).unwrap();
        add_contact(&fleet, &tenant, "x@example.com").await;
    }
    // A new shared row reaches every server; the copies refuse writes.
    sqlx::query("INSERT INTO contact.contact_types (name) VALUES ('partner')")
        .execute(fleet.control())
        .await
        .unwrap();
    for (name, url) in &setup.servers[1..] {
        let pool = PgPool::connect(url).await.unwrap();
        eventually(
            &pool,
            "SELECT EXISTS (SELECT 1 FROM contact.contact_types WHERE name = 'partner')",
        )
        .await;
        let refused = sqlx::query("INSERT INTO contact.contact_types (name) VALUES ('local')")
            .execute(&pool)
            .await
            .expect_err(name);
        assert!(Fleet::is_fenced(&refused), "{refused}");
        assert!(
            refused
                .to_string()
                .contains("write to the control database"),
            "{refused}"
        );
    }

    let health = fleet.health().await.unwrap();
    assert_eq!(health.tenants, 60);
    assert_eq!(health.versions, BTreeMap::from([(1, 60)]));
    assert!(health.unreachable.is_empty());
    for server in &health.servers {
        assert_eq!(
            server.versions,
            BTreeMap::from([(1, 20)]),
            "{}",
            server.server
        );
        assert_eq!(server.health.as_ref().unwrap().current, 20);
    }
    let drift = fleet.check_drift().await.unwrap();
    assert!(drift.is_clean(), "{drift}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_that_goes_down_part_way_fails_only_its_tenants_and_the_next_run_resumes_them() {
    // The server that goes down is one of this test's own.
    let own = Cluster::start_logical().unwrap();
    let mut setup = setup().await;
    setup.servers[2] = ("c".to_owned(), database(&own).await);
    let down = Arc::new(std::sync::Mutex::new(own));
    let fleet = fleet(&setup, &crm().v1).await;
    for i in 0..9 {
        let tenant = fleet.tenants().schema(&format!("t{i}")).unwrap();
        fleet.create(&tenant, Place::Fewest).await.unwrap();
    }
    let on_c: Vec<String> = fleet
        .placement()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.server == "c")
        .map(|p| p.tenant)
        .collect();
    assert_eq!(on_c.len(), 3);
    // The follow-up tenant migration ships; server c goes down once the
    // first of its tenants is migrated, one at a time.
    let stopper = Arc::clone(&down);
    let watched = on_c.clone();
    let once = std::sync::atomic::AtomicBool::new(false);
    let v2_tenants = tenants(&crm().v2).concurrency(1).on_progress(move |p| {
        if watched.contains(&p.outcome.tenant)
            && matches!(p.outcome.status, TenantStatus::Applied { .. })
            && !once.swap(true, Ordering::Relaxed)
        {
            stopper.lock().unwrap().stop();
        }
    });
    let v2 = Fleet::connect(&setup.control_url, &crm().shared, v2_tenants)
        .await
        .unwrap()
        .replicate("contact");
    let report = v2.migrate().await.unwrap();
    assert!(!report.is_current());
    let outcomes = |report: &strata::FleetReport, server: &str| -> Vec<String> {
        report
            .servers
            .iter()
            .filter(|s| s.server == server)
            .flat_map(|s| &s.tenants.tenants)
            .map(|t| match &t.status {
                TenantStatus::Applied { from, to, .. } => format!("applied {from}-{to}"),
                TenantStatus::Current { version } => format!("current {version}"),
                TenantStatus::Failed { version, error } => {
                    assert!(
                        matches!(error, Error::ServerUnreachable { server, .. } if server == "c"),
                        "{error}"
                    );
                    format!("failed at {version}")
                }
                TenantStatus::Unreachable { server, error } => {
                    assert_eq!(server, "c");
                    assert!(
                        error
                            .to_string()
                            .contains("server c of the fleet could not be reached"),
                        "{error}"
                    );
                    "unreachable".to_owned()
                }
                other => format!("{other:?}"),
            })
            .collect()
    };
    for server in ["a", "b"] {
        assert_eq!(outcomes(&report, server), ["applied 1-2"; 3], "{report}");
    }
    assert_eq!(
        outcomes(&report, "c"),
        ["applied 1-2", "unreachable", "unreachable"],
        "{report}"
    );
    assert_eq!(report.failed().count(), 2);
    let health = v2.health().await.unwrap();
    assert_eq!(health.unreachable, ["c"]);
    assert_eq!(health.versions, BTreeMap::from([(2, 6)]));

    // Still down at the start of the next run: its tenants are not touched.
    let report = v2.migrate().await.unwrap();
    assert_eq!(outcomes(&report, "c"), ["unreachable"; 3], "{report}");
    assert_eq!(outcomes(&report, "a"), ["current 2"; 3], "{report}");

    down.lock().unwrap().restart().unwrap();
    let report = v2.migrate().await.unwrap();
    assert!(report.is_current(), "{report}");
    assert_eq!(
        outcomes(&report, "c"),
        ["current 2", "applied 1-2", "applied 1-2"],
        "{report}"
    );
    let health = v2.health().await.unwrap();
    assert_eq!(health.versions, BTreeMap::from([(2, 9)]));
    assert!(v2.check_drift().await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drift_across_the_fleet_names_the_server_of_each_difference() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await;
    for i in 0..6 {
        let tenant = fleet.tenants().schema(&format!("t{i}")).unwrap();
        fleet.create(&tenant, Place::Fewest).await.unwrap();
    }
    assert!(fleet.check_drift().await.unwrap().is_clean());
    let on_b = fleet
        .placement()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.server == "b")
        .unwrap()
        .tenant;
    let b = PgPool::connect(&setup.servers[1].1).await.unwrap();
    let c = PgPool::connect(&setup.servers[2].1).await.unwrap();
    sqlx::raw_sql(&format!(
        "ALTER TABLE {on_b}.contacts ADD COLUMN nickname text;
         DROP TRIGGER strata_read_only ON contact.contact_types"
    ))
    .execute(&b)
    .await
    .unwrap();
    sqlx::raw_sql("CREATE SCHEMA tenant_stray; CREATE TABLE tenant_stray.t (id int)")
        .execute(&c)
        .await
        .unwrap();
    let drift = fleet.check_drift().await.unwrap();
    assert!(!drift.is_clean());
    assert!(drift.shared.is_clean(), "{drift}");
    let servers: BTreeMap<&str, _> = drift
        .servers
        .iter()
        .map(|s| (s.server.as_str(), s))
        .collect();
    assert!(servers["a"].is_clean(), "{drift}");
    let drifted: Vec<&String> = servers["b"].tenants.drifted.keys().collect();
    assert_eq!(drifted, [&on_b], "{drift}");
    assert!(drift.to_string().contains("nickname"), "{drift}");
    assert_eq!(
        servers["b"].copy,
        ["contact.contact_types does not refuse writes (no trigger strata_read_only)"]
    );
    assert!(servers["c"].tenants.is_clean());
    assert_eq!(servers["c"].orphans, ["tenant_stray"]);
    assert!(
        drift.to_string().contains("orphan: tenant_stray"),
        "{drift}"
    );
}

/// Writes to `tenant` until told to stop, through the fleet's routing:
/// inserts, and updates of the row inserted before. Retries a write a move
/// fences off. Returns the rows it wrote, by id, and the longest time a
/// write waited.
async fn writer(
    fleet: Fleet<'static>,
    tenant: TenantSchema,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> (BTreeMap<i64, String>, Duration) {
    let mut written = BTreeMap::new();
    let mut longest = Duration::ZERO;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let email = format!("w{n}@example.com");
        let started = Instant::now();
        let insert = format!(
            "INSERT INTO {}.contacts (type_id, name, email) VALUES (1, 'new', $1) RETURNING id",
            tenant.quoted()
        );
        let update = format!(
            "UPDATE {}.contacts SET name = 'updated' WHERE id = $1",
            tenant.quoted()
        );
        let previous = written.keys().next_back().copied();
        loop {
            let pool = fleet.pool_for(&tenant).await.unwrap();
            let done = async {
                let mut tx = pool.begin().await?;
                let (id,): (i64,) = sqlx::query_as(&insert)
                    .bind(&email)
                    .fetch_one(&mut *tx)
                    .await?;
                if let Some(previous) = previous {
                    sqlx::query(&update)
                        .bind(previous)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(id)
            }
            .await;
            match done {
                Ok(id) => {
                    if let Some(previous) = previous {
                        written.insert(previous, "updated".to_owned());
                    }
                    written.insert(id, "new".to_owned());
                    break;
                }
                Err(error) if Fleet::is_fenced(&error) => {
                    tokio::time::sleep(Duration::from_millis(2)).await
                }
                Err(error) => panic!("a write failed: {error}"),
            }
        }
        longest = longest.max(started.elapsed());
    }
    (written, longest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_moves_under_a_writer_and_loses_no_write() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await;
    let tenant = fleet.tenants().schema("moving").unwrap();
    fleet.create(&tenant, Place::On("b".into())).await.unwrap();
    let pool = fleet.pool_for(&tenant).await.unwrap();
    sqlx::raw_sql(&format!(
        "INSERT INTO {t}.contacts (type_id, name, email) SELECT 1, 'old', 'old' || i FROM generate_series(1, 5000) i;
         INSERT INTO {t}.notes (contact_id, body) SELECT id, 'note' FROM {t}.contacts",
        t = tenant.quoted()
    ))
    .execute(&pool)
    .await
    .unwrap();
    let before = contacts(&fleet, &tenant).await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let task = tokio::spawn(writer(fleet.clone(), tenant.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = fleet.move_tenant(&tenant, "c").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (written, longest) = task.await.unwrap();
    println!(
        "{report}; the writer's longest wait {longest:?} over {} writes",
        written.len()
    );

    assert_eq!(fleet.server_of(&tenant).await.unwrap(), "c");
    assert!(
        !schema_on(&setup.servers[1].1, tenant.name()).await,
        "the source's copy is dropped"
    );
    assert!(report.write_pause > Duration::ZERO && report.write_pause < Duration::from_secs(30));
    assert!(
        written.len() > 10,
        "the writer wrote on both sides of the move"
    );
    // Every row: those from before, and every write of the writer, as written.
    let after = contacts(&fleet, &tenant).await;
    let by_id: BTreeMap<i64, (String, String)> = after
        .iter()
        .map(|(id, email, name)| (*id, (email.clone(), name.clone())))
        .collect();
    for (id, email, _) in &before {
        assert_eq!(&by_id[id].0, email);
    }
    for (id, name) in &written {
        assert_eq!(
            &by_id.get(id).unwrap_or_else(|| panic!("row {id} lost")).1,
            name
        );
    }
    assert_eq!(after.len(), before.len() + written.len());
    let (notes,): (i64,) =
        sqlx::query_as(&format!("SELECT count(*) FROM {}.notes", tenant.quoted()))
            .fetch_one(&fleet.pool_for(&tenant).await.unwrap())
            .await
            .unwrap();
    assert_eq!(notes, 5000);
    // The identity's sequence came along: a new row takes the next id.
    let id = add_contact(&fleet, &tenant, "next@example.com").await;
    assert_eq!(id, after.last().unwrap().0 + 1);
    assert!(fleet.check_drift().await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_move_stopped_after_any_step_resumes_and_ends_the_same() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await;
    for step in [
        MoveStep::Planned,
        MoveStep::Created,
        MoveStep::Copied,
        MoveStep::Switched,
    ] {
        let tenant = fleet.tenants().schema(&format!("s_{step}")).unwrap();
        fleet.create(&tenant, Place::On("a".into())).await.unwrap();
        for i in 0..100 {
            add_contact(&fleet, &tenant, &format!("{i}@example.com")).await;
        }
        let before = contacts(&fleet, &tenant).await;
        let stopped = fleet
            .clone()
            .__stop_move_after(step)
            .move_tenant(&tenant, "b")
            .await
            .unwrap_err();
        let Error::MoveFailed(failure) = &stopped else {
            panic!("{stopped}");
        };
        assert_eq!(failure.step, step.to_string());
        let serving = if step == MoveStep::Switched { "b" } else { "a" };
        assert_eq!(failure.serving, serving, "{stopped}");
        assert_eq!(fleet.server_of(&tenant).await.unwrap(), serving);
        let placement = fleet.placement().await.unwrap();
        let moving = placement
            .iter()
            .find(|p| p.tenant == tenant.name())
            .unwrap();
        assert_eq!(moving.moving_to.as_deref(), Some("b"));
        // A tenant on its way is not migrated: the move copies its schema
        // as it was.
        let report = fleet.migrate().await.unwrap();
        let held: Vec<&strata::TenantOutcome> = report
            .failed()
            .map(|(_, t)| t)
            .filter(|t| t.tenant == tenant.name())
            .collect();
        assert_eq!(held.len(), 1, "{report}");
        assert!(
            matches!(&held[0].status, TenantStatus::Failed { version: 1, error: Error::TenantMoving { to, .. } } if to == "b"),
            "{report}"
        );
        let drift = fleet.check_drift().await.unwrap();
        // The schema on either end is part of the move, not an orphan.
        assert!(
            drift.servers.iter().all(|s| s.orphans.is_empty()),
            "{drift}"
        );
        let moving: Vec<&str> = drift
            .servers
            .iter()
            .filter(|s| s.moving.iter().any(|t| t == tenant.name()))
            .map(|s| s.server.as_str())
            .collect();
        let expected: &[&str] = match step {
            MoveStep::Planned => &[],
            MoveStep::Created | MoveStep::Copied => &["b"],
            _ => &["a"],
        };
        assert_eq!(moving, expected, "{drift}");

        let report = fleet.move_tenant(&tenant, "b").await.unwrap();
        assert_eq!(report.resumed_from, Some(step));
        assert_eq!(fleet.server_of(&tenant).await.unwrap(), "b");
        assert_eq!(contacts(&fleet, &tenant).await, before, "after step {step}");
        assert!(!schema_on(&setup.servers[0].1, tenant.name()).await);
    }
    assert!(fleet.check_drift().await.unwrap().is_clean());
    let (moves,): (i64,) = sqlx::query_as("SELECT count(*) FROM strata.fleet_moves")
        .fetch_one(fleet.control())
        .await
        .unwrap();
    assert_eq!(moves, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebalance_evens_the_servers_out_and_keeps_every_row() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await.keep_source_after_move(true);
    let mut rows = BTreeMap::new();
    for i in 0..7 {
        let tenant = fleet.tenants().schema(&format!("r{i}")).unwrap();
        fleet.create(&tenant, Place::On("a".into())).await.unwrap();
        add_contact(&fleet, &tenant, &format!("r{i}@example.com")).await;
        rows.insert(tenant.clone(), contacts(&fleet, &tenant).await);
    }
    let moves = fleet.rebalance().await.unwrap();
    assert_eq!(moves.len(), 4);
    assert!(moves.iter().all(|m| m.source_archived_as.is_some()));
    let counts: Vec<usize> = fleet
        .servers()
        .await
        .unwrap()
        .iter()
        .map(|s| s.tenants)
        .collect();
    assert_eq!(counts, [3, 2, 2]);
    for (tenant, before) in rows {
        assert_eq!(contacts(&fleet, &tenant).await, before);
    }
    assert!(fleet.rebalance().await.unwrap().is_empty());
    assert!(fleet.check_drift().await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_table_referencing_a_shared_table_that_is_not_replicated_is_refused() {
    let setup = setup().await;
    let fleet = Fleet::connect(&setup.control_url, &crm().shared, tenants(&crm().v1))
        .await
        .unwrap();
    fleet.add_server("a", &setup.servers[0].1).await.unwrap();
    let error = fleet.migrate().await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::SharedNotReplicated { .. }), "{text}");
    assert!(
        text.contains("tenant table {tenant}.contacts references contact.contact_types"),
        "{text}"
    );
    assert!(text.contains("Fleet::replicate(\"contact\")"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_that_cannot_be_reached_or_named_is_refused_by_name() {
    let setup = setup().await;
    let fleet = Fleet::connect(&setup.control_url, &crm().shared, tenants(&crm().v1))
        .await
        .unwrap();
    let error = fleet
        .add_server("gone", "postgres://strata@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("server gone of the fleet could not be reached"),
        "{error}"
    );
    let error = fleet
        .add_server("Bad Name", &setup.servers[0].1)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidServer { .. }), "{error}");
    let tenant = fleet.tenants().schema("x").unwrap();
    let error = fleet
        .create(&tenant, Place::On("nowhere".into()))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the fleet has no server \"nowhere\""),
        "{error}"
    );
    assert!(fleet.servers().await.unwrap().is_empty());
}

/// Builds `models` in a scratch crate with `replicated` schemas marked.
fn build_replicated(models: &str, replicated: &[&str]) -> Result<(), strata_build::Error> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/models.rs"), models).unwrap();
    let mut builder = strata_build::Builder::new()
        .crate_dir(dir.path())
        .frozen(false);
    for schema in replicated {
        builder = builder.replicated(*schema);
    }
    builder.run().map(|_| ())
}

#[test]
fn a_fleet_build_refuses_a_tenant_key_to_a_shared_schema_it_does_not_replicate() {
    let models = format!(
        "{CRM}
#[strata::schema(\"auth\", table = \"users\")]
pub struct User {{
    #[column(primary_key, identity)]
    pub id: i64,
}}

#[strata::schema(tenant, table = \"assignments\")]
pub struct Assignment {{
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = User)]
    pub user_id: i64,
}}
"
    );
    // Not a fleet's build: nothing is checked.
    build_replicated(&models, &[]).unwrap();
    let error = build_replicated(&models, &["contact"])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("tenant table assignments references auth.users, but Builder::replicated does not name schema auth"),
        "{error}"
    );
    assert!(error.contains(".replicated(\"auth\")"), "{error}");
    build_replicated(&models, &["contact", "auth"]).unwrap();
    let error = build_replicated(&models, &["contacts"])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no shared model is in schema contacts"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_with_a_table_no_update_could_be_replicated_for_is_not_moved() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await;
    let tenant = fleet.tenants().schema("keyless").unwrap();
    fleet.create(&tenant, Place::On("a".into())).await.unwrap();
    let pool = fleet.pool_for(&tenant).await.unwrap();
    sqlx::raw_sql("CREATE TABLE tenant_keyless.scratch (v int); INSERT INTO tenant_keyless.scratch VALUES (1)")
        .execute(&pool)
        .await
        .unwrap();
    let error = fleet
        .move_tenant(&tenant, "b")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("tenant_keyless.scratch has no primary key and no replica identity"),
        "{error}"
    );
    assert!(error.contains("REPLICA IDENTITY FULL"), "{error}");
    // Nothing was published, and the tenant's writes go on as before.
    let (publications,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM pg_publication WHERE pubname LIKE 'strata_move%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(publications, 0);
    sqlx::query("UPDATE tenant_keyless.scratch SET v = 2")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(fleet.server_of(&tenant).await.unwrap(), "a");
    // The move is recorded; cancelled, nothing of it stays.
    let placed = fleet.placement().await.unwrap();
    assert_eq!(placed[0].moving_to.as_deref(), Some("b"));
    fleet.cancel_move(&tenant).await.unwrap();
    assert_eq!(fleet.placement().await.unwrap()[0].moving_to, None);
    assert!(!schema_on(&setup.servers[1].1, tenant.name()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_move_cancelled_after_its_copy_leaves_the_tenant_where_it_was() {
    let setup = setup().await;
    let fleet = fleet(&setup, &crm().v1).await;
    let tenant = fleet.tenants().schema("undecided").unwrap();
    fleet.create(&tenant, Place::On("a".into())).await.unwrap();
    add_contact(&fleet, &tenant, "a@example.com").await;
    fleet
        .clone()
        .__stop_move_after(MoveStep::Copied)
        .move_tenant(&tenant, "c")
        .await
        .unwrap_err();
    assert!(schema_on(&setup.servers[2].1, tenant.name()).await);
    fleet.cancel_move(&tenant).await.unwrap();
    assert!(!schema_on(&setup.servers[2].1, tenant.name()).await);
    assert_eq!(fleet.server_of(&tenant).await.unwrap(), "a");
    // Its writes go on where it was; no slot or publication is left.
    add_contact(&fleet, &tenant, "b@example.com").await;
    let a = PgPool::connect(&setup.servers[0].1).await.unwrap();
    let (left,): (i64,) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_publication WHERE pubname LIKE 'strata_move%')
              + (SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'strata_move%' AND database = current_database())",
    )
    .fetch_one(&a)
    .await
    .unwrap();
    assert_eq!(left, 0);
    assert!(fleet.check_drift().await.unwrap().is_clean());
}
