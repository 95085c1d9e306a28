//! strata's benchmark: each measurement against a baseline measured in the
//! same run, on the same server, from the same client, printed as a ratio.
//!
//! `cargo run --release -p strata-tests --bin strata-bench [tenants]` (a
//! throwaway PostgreSQL, or `DATABASE_URL`'s server); `tenants` runs the
//! schema-per-tenant benchmark alone, `core` everything but it.

use std::time::{Duration, Instant};

use strata::sqlx::{self, Connection, PgConnection, PgPool};
use strata::{DriftPolicy, Migrations, Migrator, TenantSchema, Tenants};
use strata_manifest::{
    constraint_name, tenant_sql, Column, ForeignKey, Index, QualifiedName, Routine, SchemaState,
    Table, Trigger, View,
};

/// The median of `runs` timings of `f`.
async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[runs / 2]
}

fn show(name: &str, measured: Duration, baseline_name: &str, baseline: Duration) {
    println!(
        "{name:<52} {:>10.3} ms   {baseline_name:<40} {:>10.3} ms   ratio {:>8.1}",
        measured.as_secs_f64() * 1e3,
        baseline.as_secs_f64() * 1e3,
        measured.as_secs_f64() / baseline.as_secs_f64()
    );
}

/// `count` tables over 10 schemas: each with an identity key, seven
/// columns, a unique constraint, an index, and a foreign key to the
/// previous table of its schema.
fn many_tables(count: usize) -> SchemaState {
    many_tables_in(count, 10)
}

/// The first `schemas` of the 10 schemas of [`many_tables`]`(count)`.
fn many_tables_in(count: usize, schemas: usize) -> SchemaState {
    let mut state = SchemaState::default();
    for s in 0..schemas {
        let schema = format!("bench_{s}");
        for t in 0..count / 10 + usize::from(s < count % 10) {
            let name = format!("table_{t:03}");
            let mut table = Table::new(&schema, &name);
            let mut id = Column::new("id", "bigint").not_null();
            id.identity = true;
            table.columns.push(id);
            for (c, ty) in [
                "text",
                "integer",
                "bigint",
                "boolean",
                "timestamp with time zone",
                "numeric(12,2)",
                "character varying(64)",
            ]
            .iter()
            .enumerate()
            {
                table.columns.push(Column::new(format!("col_{c}"), *ty));
            }
            table.set_primary_key(vec!["id".into()]);
            table.add_unique(vec!["col_6".into()]);
            table.add_index(Index {
                name: constraint_name(&name, &["col_1".into()], "idx"),
                columns: vec!["col_1".into()],
                unique: false,
                predicate: None,
                ..Default::default()
            });
            if t > 0 {
                table.columns.push(Column::new("parent_id", "bigint"));
                table.add_foreign_key(ForeignKey {
                    name: constraint_name(&name, &["parent_id".into()], "fkey"),
                    columns: vec!["parent_id".into()],
                    references: QualifiedName::new(&schema, format!("table_{:03}", t - 1)),
                    referenced_columns: vec!["id".into()],
                    on_delete: Default::default(),
                    on_update: Default::default(),
                    deferral: Default::default(),
                    not_valid: false,
                });
            }
            state.add_table(table);
        }
        // Views, a function and triggers mixed in: a view over the schema's
        // first table, and an audit-style trigger on each of its first ten.
        state.add_view(View {
            schema: schema.clone(),
            name: "first_ids".to_owned(),
            sql: format!("SELECT id, col_0 FROM {schema}.table_000"),
            materialized: false,
            columns: vec!["id".into(), "col_0".into()],
            indexes: Vec::new(),
        });
        state.add_routine(
            Routine::from_sql(&format!(
                "CREATE FUNCTION {schema}.touched() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            ))
            .unwrap(),
        );
        for t in 0..10.min(count / 10) {
            state.add_trigger(
                Trigger::from_sql(&format!(
                    "CREATE TRIGGER touch BEFORE UPDATE ON {schema}.table_{t:03} FOR EACH ROW EXECUTE FUNCTION {schema}.touched()"
                ))
                .unwrap(),
            );
        }
    }
    state
}

/// How many tenants the tenant benchmark migrates unless told
/// (`strata-bench tenants 10000`).
const TENANTS: usize = 1000;

/// Runs `psql -X -q -v ON_ERROR_STOP=1 <args> -f file url`; returns how long it took.
fn psql_file(args: &[&str], file: &std::path::Path, url: &str) -> Duration {
    let start = Instant::now();
    let status = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .arg("-f")
        .arg(file)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed on {}", file.display());
    start.elapsed()
}

/// The peak resident memory of this process so far, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `count` tenants: strata's fan-out against psql applying the same SQL,
/// then drift, health and a run with nothing pending, each against its
/// baseline from the same run; and what the server needed.
async fn tenants_bench(count: usize) {
    let (v1, v2) = strata_tests::tenant_stream();
    let dir = tempfile::tempdir().unwrap();
    let ups =
        strata_tests::write_migrations(dir.path(), &[(&SchemaState::default(), &v1), (&v1, &v2)]);
    let v1_dir = tempfile::tempdir().unwrap();
    strata_tests::write_migrations(v1_dir.path(), &[(&SchemaState::default(), &v1)]);
    let stream_v1 = Migrations::from_dir(v1_dir.path()).unwrap();
    let stream_v2 = Migrations::from_dir(dir.path()).unwrap();
    let tenants: Vec<TenantSchema> = (0..count)
        .map(|i| TenantSchema::new(&format!("b{i:05}")).unwrap())
        .collect();
    const SHARED: &str = "CREATE SCHEMA bench_shared;
        CREATE TABLE bench_shared.kinds (id bigint PRIMARY KEY);
        CREATE TABLE bench_shared.types (id bigint PRIMARY KEY)";
    let tables = count * 11;
    println!("schema per tenant: {count} tenants x 11 tables ({tables} tables), concurrency 4");

    let strata_db = strata::testing::database().await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(strata_db.url())
        .await
        .unwrap();
    sqlx::raw_sql(SHARED).execute(&pool).await.unwrap();
    let kct_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/kct-menswear/migrations");
    let kct = Migrations::from_dir(&kct_dir).unwrap();
    Migrator::new(&kct).run(&pool).await.unwrap();
    let start = Instant::now();
    let created = Tenants::new(&stream_v1)
        .concurrency(4)
        .migrate(&pool, &tenants)
        .await
        .unwrap();
    let create = start.elapsed();
    assert!(
        created.is_current() && created.applied().count() == count,
        "{created}"
    );
    let longest = |report: &strata::TenantsReport| {
        report
            .tenants
            .iter()
            .filter_map(|t| match &t.status {
                strata::TenantStatus::Applied { migrations, .. } => {
                    Some(migrations.iter().map(|m| m.duration).sum::<Duration>())
                }
                _ => None,
            })
            .max()
            .unwrap_or_default()
    };
    let longest_create = longest(&created);
    let start = Instant::now();
    let followed = Tenants::new(&stream_v2)
        .concurrency(4)
        .migrate(&pool, &tenants)
        .await
        .unwrap();
    let follow_up = start.elapsed();
    assert!(
        followed.is_current() && followed.applied().count() == count,
        "{followed}"
    );
    let longest_follow_up = longest(&followed);

    // psql: the same SQL, each tenant in its own transaction, in one session
    // (psql -1 on one file of every tenant's tables would need more locks
    // than one transaction may hold); and, up to 1,000 tenants, a loop of
    // psql -1 -f, one file per tenant, as scripts that loop over schemas do.
    let psql_db = strata::testing::database().await.unwrap();
    sqlx::raw_sql(SHARED)
        .execute(&psql_db.pool().await.unwrap())
        .await
        .unwrap();
    // One session a thousand tenants: a single session over 10,000 slows
    // down as its catalog caches grow (as a pool's connections do, which
    // sqlx recycles after 30 minutes), and a script would batch so.
    let files = tempfile::tempdir().unwrap();
    let mut timings = Vec::new();
    for (step, up) in ups.iter().enumerate() {
        let mut took = Duration::ZERO;
        for (batch, chunk) in tenants.chunks(TENANTS).enumerate() {
            let mut all = String::new();
            for tenant in chunk {
                all.push_str("BEGIN;\n");
                all.push_str(&tenant_sql(up, tenant.quoted()));
                all.push_str("\nCOMMIT;\n");
            }
            let file = files.path().join(format!("all_{step}_{batch}.sql"));
            std::fs::write(&file, all).unwrap();
            took += psql_file(&[], &file, psql_db.url());
        }
        timings.push(took);
    }
    drop(psql_db);
    let create_label = label_count("create", count, " x 11 tables");
    show(
        &create_label,
        create,
        "psql -f, a session a 1,000, BEGIN/COMMIT each",
        timings[0],
    );
    if count <= TENANTS {
        let loop_db = strata::testing::database().await.unwrap();
        sqlx::raw_sql(SHARED)
            .execute(&loop_db.pool().await.unwrap())
            .await
            .unwrap();
        let start = Instant::now();
        for tenant in &tenants {
            let file = files.path().join(format!("{}.sql", tenant.name()));
            std::fs::write(&file, tenant_sql(&ups[0], tenant.quoted())).unwrap();
            psql_file(&["-1"], &file, loop_db.url());
        }
        show(
            &create_label,
            create,
            "psql -1 -f per tenant, in a loop",
            start.elapsed(),
        );
    }
    show(
        &label_count("follow-up migration", count, ""),
        follow_up,
        "psql -f, a session a 1,000, BEGIN/COMMIT each",
        timings[1],
    );
    let per_second = |d: Duration| count as f64 / d.as_secs_f64();
    println!(
        "tenants per second: create {:.0} (psql {:.0}); follow-up {:.0} (psql {:.0}); longest single tenant: create {:.1} ms, follow-up {:.1} ms",
        per_second(create),
        per_second(timings[0]),
        per_second(follow_up),
        per_second(timings[1]),
        longest_create.as_secs_f64() * 1e3,
        longest_follow_up.as_secs_f64() * 1e3,
    );

    // Drift of every tenant, against the bare catalog queries of every
    // kind over the same schemas.
    let names: Vec<String> = tenants.iter().map(|t| t.name().to_owned()).collect();
    let checker = Tenants::new(&stream_v2);
    let runs = if count > 2000 { 3 } else { 5 };
    let drift = median(runs, || async {
        assert!(checker
            .check_drift(&pool, &tenants)
            .await
            .unwrap()
            .is_clean());
    })
    .await;
    let drift_label = label_count("drift check", count, "");
    let mut conn = PgConnection::connect(strata_db.url()).await.unwrap();
    against_bare(&drift_label, drift, &mut conn, &names, runs).await;
    let health = median(runs, || async {
        let health = checker.health_of(&pool, &tenants).await.unwrap();
        assert!(health.is_current(), "{health:?}");
    })
    .await;
    show(
        &label_count("health (versions and drift)", count, ""),
        health,
        "the drift check alone",
        drift,
    );
    // A run with nothing pending: one query of the versions, however many
    // tenants, against that query alone.
    let idle = median(runs, || async {
        let report = checker.migrate(&pool, &tenants).await.unwrap();
        assert_eq!(report.current().count(), count);
    })
    .await;
    let versions = median(runs, || async {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            r#"SELECT "scope", max("version") FROM "strata"."migrations" WHERE "scope" = ANY($1) GROUP BY 1"#,
        )
        .bind(&names)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(rows.len(), count);
    })
    .await;
    show(
        &label_count("migrate, nothing pending", count, ""),
        idle,
        "one query of every tenant's version",
        versions,
    );
    // A service's start-up beside the tenants: KCT's shared schemas,
    // migrated before the tenants were made, against the same in a
    // database with no tenants. The DDL watch logs the tenants' DDL under
    // their own schemas, so the start-up stays on its fast path; the full
    // check (`check_drift`) reads a catalog the tenants have grown.
    let startup = median(21, || async {
        let report = Migrator::new(&kct).run(&pool).await.unwrap();
        assert_eq!(report.drift_check, strata::DriftCheck::Unchanged);
    })
    .await;
    let alone_db = strata::testing::database().await.unwrap();
    let alone = alone_db.pool().await.unwrap();
    Migrator::new(&kct).run(&alone).await.unwrap();
    let startup_alone = median(21, || async {
        let report = Migrator::new(&kct).run(&alone).await.unwrap();
        assert_eq!(report.drift_check, strata::DriftCheck::Unchanged);
    })
    .await;
    show(
        &label_count("start-up, nothing pending (KCT) beside", count, ""),
        startup,
        "the same with no tenants",
        startup_alone,
    );
    let check = |pool: PgPool| {
        let kct = &kct;
        async move {
            assert!(strata::check_drift(&pool, kct).await.unwrap().is_clean());
        }
    };
    let beside = median(11, || check(pool.clone())).await;
    let without = median(11, || check(alone.clone())).await;
    show(
        &label_count("full drift check (KCT) beside", count, ""),
        beside,
        "the same with no tenants",
        without,
    );
    drop(alone);
    drop(alone_db);
    // Peak memory of a process that does nothing but the drift check.
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args([
            "tenant-drift-child",
            dir.path().to_str().unwrap(),
            strata_db.url(),
            &count.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!(
        "peak memory of a process checking {count} tenants for drift: {} MiB",
        String::from_utf8_lossy(&output.stdout).trim()
    );
    // What the server needed.
    let (locks, buffers, catalog): (String, String, i64) = sqlx::query_as(
        "SELECT current_setting('max_locks_per_transaction'), current_setting('shared_buffers'),
            (SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    println!(
        "server: max_locks_per_transaction {locks} (unchanged), shared_buffers {buffers}, catalog on disk {} MiB",
        catalog / (1024 * 1024)
    );
}

/// `create 10,000 tenants x 11 tables`.
fn label_count(what: &str, count: usize, after: &str) -> String {
    let digits = count.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{what}, {grouped} tenants{after}")
}

/// How many tenants the fleet benchmark spreads over three servers unless
/// told (`strata-bench fleet 3000`).
const FLEET_TENANTS: usize = 3000;

/// `count` tenants created and migrated across a fleet of three servers
/// against the same on one server; the fleet's drift check against a bare
/// catalog query on each server; a move of a tenant of 100,000 rows under a
/// writer, its longest write pause against the time its rows took to copy.
async fn fleet_bench(count: usize) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use strata::testing::Cluster;
    use strata::{Fleet, Place};

    let (v1, v2) = strata_tests::tenant_stream();
    let (dir_v1, dir_v2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    strata_tests::write_migrations(dir_v1.path(), &[(&SchemaState::default(), &v1)]);
    strata_tests::write_migrations(dir_v2.path(), &[(&SchemaState::default(), &v1), (&v1, &v2)]);
    let stream_v1: &'static Migrations =
        Box::leak(Box::new(Migrations::from_dir(dir_v1.path()).unwrap()));
    let stream_v2: &'static Migrations =
        Box::leak(Box::new(Migrations::from_dir(dir_v2.path()).unwrap()));
    // The shared tables the tenant tables reference, replicated.
    let mut shared_state = SchemaState::default();
    for name in ["kinds", "types"] {
        let mut table = Table::new("bench_shared", name);
        table.columns.push(Column::new("id", "bigint").not_null());
        table.set_primary_key(vec!["id".into()]);
        shared_state.add_table(table);
    }
    let shared_dir = tempfile::tempdir().unwrap();
    strata_tests::write_migrations(
        shared_dir.path(),
        &[(&SchemaState::default(), &shared_state)],
    );
    let shared: &'static Migrations =
        Box::leak(Box::new(Migrations::from_dir(shared_dir.path()).unwrap()));
    let tenants: Vec<TenantSchema> = (0..count)
        .map(|i| TenantSchema::new(&format!("f{i:05}")).unwrap())
        .collect();
    println!(
        "fleet: {count} tenants x 11 tables over three servers on this one machine ({} cores), against one server; concurrency 4 per server",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let clusters: Vec<Cluster> = (0..3).map(|_| Cluster::start_logical().unwrap()).collect();
    let single_cluster = Cluster::start_logical().unwrap();
    let create_db = |cluster: &Cluster, name: &str| {
        let (url, name) = (cluster.url(), name.to_owned());
        async move {
            let mut admin = PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    };
    create_db(&clusters[0], "control").await;

    // One server: the same tenants, the same runner.
    let single = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&single_cluster.url())
        .await
        .unwrap();
    Migrator::new(shared).run(&single).await.unwrap();
    let start = Instant::now();
    let report = Tenants::new(stream_v1)
        .concurrency(4)
        .migrate(&single, &tenants)
        .await
        .unwrap();
    let single_create = start.elapsed();
    assert!(report.is_current(), "{report}");
    let start = Instant::now();
    let report = Tenants::new(stream_v2)
        .concurrency(4)
        .migrate(&single, &tenants)
        .await
        .unwrap();
    let single_follow_up = start.elapsed();
    assert!(report.is_current(), "{report}");

    // The fleet: the control database on the first server, beside its tenants.
    let control_url = clusters[0].database_url("control");
    let fleet = |stream: &'static Migrations| {
        let control_url = control_url.clone();
        async move {
            Fleet::connect(&control_url, shared, Tenants::new(stream).concurrency(4))
                .await
                .unwrap()
                .replicate("bench_shared")
                .connections_per_server(5)
        }
    };
    let first = fleet(stream_v1).await;
    for (i, cluster) in clusters.iter().enumerate() {
        let url = match i {
            0 => control_url.clone(),
            _ => cluster.url(),
        };
        first.add_server(&format!("s{i}"), &url).await.unwrap();
    }
    for (i, tenant) in tenants.iter().enumerate() {
        first.place(tenant, &format!("s{}", i % 3)).await.unwrap();
    }
    let start = Instant::now();
    let report = first.migrate().await.unwrap();
    let fleet_create = start.elapsed();
    assert!(report.is_current(), "{report}");
    let second = fleet(stream_v2).await;
    let start = Instant::now();
    let report = second.migrate().await.unwrap();
    let fleet_follow_up = start.elapsed();
    assert!(report.is_current(), "{report}");
    show(
        &label_count("create across 3 servers", count, " x 11 tables"),
        fleet_create,
        "the same on one server",
        single_create,
    );
    show(
        &label_count("follow-up across 3 servers", count, ""),
        fleet_follow_up,
        "the same on one server",
        single_follow_up,
    );

    // Drift of the fleet: every server at once, against one bare catalog
    // query of every kind on each server, at once.
    let runs = 3;
    let drift = median(runs, || async {
        let drift = second.check_drift().await.unwrap();
        assert!(drift.is_clean(), "{drift}");
    })
    .await;
    let placement = second.placement().await.unwrap();
    let mut bare = Vec::new();
    for _ in 0..runs {
        let per_server = (0..3).map(|i| {
            let schemas: Vec<String> = placement
                .iter()
                .filter(|p| p.server == format!("s{i}"))
                .map(|p| p.tenant.clone())
                .collect();
            let url = match i {
                0 => control_url.clone(),
                _ => clusters[i].url(),
            };
            async move {
                let mut conn = PgConnection::connect(&url).await.unwrap();
                let start = Instant::now();
                bare_catalog_queries(&mut conn, &schemas, false).await;
                start.elapsed()
            }
        });
        let start = Instant::now();
        futures_util::future::join_all(per_server).await;
        bare.push(start.elapsed());
    }
    bare.sort();
    show(
        &label_count("drift check of the fleet", count, ""),
        drift,
        "bare catalog queries on each server, at once",
        bare[runs / 2],
    );

    // A move of a tenant of 100,000 rows while a writer adds rows to it.
    let big = second.tenants().schema("big").unwrap();
    second.create(&big, Place::On("s1".into())).await.unwrap();
    let pool = second.pool_for(&big).await.unwrap();
    sqlx::raw_sql(&format!(
        "INSERT INTO {}.table_00 (col_0, col_1) SELECT 'row ' || i, i FROM generate_series(1, 100000) i",
        big.quoted()
    ))
    .execute(&pool)
    .await
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (fleet, big, stop) = (second.clone(), big.clone(), Arc::clone(&stop));
        tokio::spawn(async move {
            let insert = format!(
                "INSERT INTO {}.table_00 (col_0) VALUES ('live')",
                big.quoted()
            );
            let (mut written, mut longest) = (0u64, Duration::ZERO);
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                loop {
                    let pool = fleet.pool_for(&big).await.unwrap();
                    match sqlx::query(&insert).execute(&pool).await {
                        Ok(_) => break,
                        Err(e) if Fleet::is_fenced(&e) => {
                            tokio::time::sleep(Duration::from_millis(1)).await
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                written += 1;
                longest = longest.max(started.elapsed());
            }
            (written, longest)
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let moved = second.move_tenant(&big, "s2").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let (written, longest) = writer.await.unwrap();
    let pool = second.pool_for(&big).await.unwrap();
    let (rows,): (i64,) =
        sqlx::query_as(&format!("SELECT count(*) FROM {}.table_00", big.quoted()))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 100_000 + written as i64, "every row moved");
    show(
        "longest write pause, moving a tenant of 100,000 rows",
        longest,
        "the first copy of its rows",
        moved.copy,
    );
    println!("move: {moved}; {written} writes during it, none lost");
}

/// The child of the tenant benchmark: checks `count` tenants for drift
/// with the tenant stream in `dir`, and prints its peak memory in MiB.
async fn tenant_drift_child(dir: &str, url: &str, count: usize) {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let migrations = Migrations::from_dir(dir).unwrap();
    let tenants: Vec<TenantSchema> = (0..count)
        .map(|i| TenantSchema::new(&format!("b{i:05}")).unwrap())
        .collect();
    assert!(Tenants::new(&migrations)
        .check_drift(&pool, &tenants)
        .await
        .unwrap()
        .is_clean());
    println!("{:.0}", peak_mib());
}

/// The baseline for a drift check: one catalog query over the same tables.
async fn one_catalog_query(pool: &PgPool, schemas: &[String]) {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .bind(schemas)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!rows.is_empty());
}

/// The bare catalog queries that read what a drift check reads, one per
/// kind, as a person would write them for psql: rows, no JSON, the
/// server's own deparsing functions, privileges as the ACL's text. Every
/// property the check compares is read: a kind left out here (policies,
/// grants, partitions were until issue 13's kinds joined the check) would
/// make the check look slower than it is.
const BARE_QUERIES: &[(&str, &str)] = &[
    ("schemas", "SELECT nspname::text, nspacl::text FROM pg_namespace WHERE nspname = ANY($1)"),
    ("tables", "SELECT n.nspname::text, c.relname::text, c.relkind::text, c.relrowsecurity::text, c.relforcerowsecurity::text, c.relacl::text, pg_get_partkeydef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')"),
    ("partitions", "SELECT n.nspname::text, c.relname::text, i.inhparent::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)"),
    ("default privileges", "SELECT n.nspname::text, d.defaclobjtype::text, d.defaclacl::text FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = ANY($1)"),
    ("policies", "SELECT n.nspname::text, c.relname::text, p.polname::text, p.polcmd::text, p.polpermissive::text, p.polroles::text, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)"),
    ("columns", "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull::text, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text || a.attgenerated::text
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"),
    ("constraints", "SELECT n.nspname::text, c.relname::text, con.conname::text, pg_get_constraintdef(con.oid) FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)"),
    ("indexes", "SELECT n.nspname::text, c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)"),
    ("views", "SELECT n.nspname::text, c.relname::text, pg_get_viewdef(c.oid), c.reloptions::text, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm')"),
    ("functions", "SELECT n.nspname::text, p.proname::text, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p')"),
    ("triggers", "SELECT c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND NOT t.tgisinternal"),
    ("sequences", "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqstart::text, s.seqincrement::text FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)"),
    ("enums", "SELECT n.nspname::text, t.typname::text, e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY($1)"),
    ("domains", "SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod), t.typnotnull::text, pg_get_expr(t.typdefaultbin, 0), (SELECT string_agg(pg_get_constraintdef(c.oid), ' ') FROM pg_constraint c WHERE c.contypid = t.oid) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY($1) AND t.typtype = 'd'"),
    ("comments", "SELECT d.objoid::text, d.objsubid::text, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.classoid = 'pg_class'::regclass AND n.nspname = ANY($1)"),
    ("extensions", "SELECT extname::text, extversion FROM pg_extension"),
    ("settings", "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database() AND s.setrole = 0 AND $1::text[] IS NOT NULL"),
];

/// The bare queries of every kind, one after another on one connection,
/// each fetched in full; returns the total. `prepared`: each a named
/// statement, prepared once per connection and reused, so that after five
/// runs the server may skip planning it (a generic plan); otherwise an
/// unnamed statement the server plans every time, as psql's queries are,
/// and as a start-up's one drift check is.
async fn bare_catalog_queries(
    conn: &mut PgConnection,
    schemas: &[String],
    prepared: bool,
) -> Duration {
    let start = Instant::now();
    for (_, sql) in BARE_QUERIES {
        let rows = sqlx::query(sql)
            .persistent(prepared)
            .bind(schemas)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        std::hint::black_box(rows);
    }
    start.elapsed()
}

/// Shows `took` against the bare catalog queries of every kind, both as
/// psql runs them (planned every time, as a start-up's drift check is)
/// and prepared once and reused; medians of `runs`.
async fn against_bare(
    name: &str,
    took: Duration,
    conn: &mut PgConnection,
    schemas: &[String],
    runs: usize,
) {
    for (prepared, baseline) in [
        (false, "bare catalog queries of every kind, summed"),
        (true, "the same, prepared once and reused"),
    ] {
        let mut bare = Vec::new();
        for _ in 0..runs {
            bare.push(bare_catalog_queries(conn, schemas, prepared).await);
        }
        bare.sort();
        show(name, took, baseline, bare[runs / 2]);
    }
}

/// Where a drift check's time goes: each kind's catalog subquery on its
/// own, as the drift statement runs it.
async fn drift_breakdown(pool: &PgPool, schemas: &[String], whole: Duration) {
    let mut sum = Duration::ZERO;
    for (name, statement) in strata::__bench::catalog_parts() {
        // With the settings the drift statement runs with: without them,
        // a part whose estimated cost passes `jit_above_cost` is compiled.
        let mut times = Vec::new();
        for _ in 0..11 {
            let mut tx = pool.begin().await.unwrap();
            sqlx::raw_sql("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
                .execute(&mut *tx)
                .await
                .unwrap();
            let start = Instant::now();
            sqlx::query(&statement)
                .bind(schemas)
                .bind(Vec::<String>::new())
                .bind(Vec::<String>::new())
                .fetch_all(&mut *tx)
                .await
                .unwrap();
            times.push(start.elapsed());
            tx.commit().await.unwrap();
        }
        times.sort();
        let took = times[5];
        sum += took;
        println!("    {name:<48} {:>10.3} ms", took.as_secs_f64() * 1e3);
    }
    show(
        "    the kinds' subqueries, one by one, summed",
        sum,
        "the whole drift check",
        whole,
    );
}

/// The drift check (with `migrations` as a service embeds them) on a
/// database holding `state`, against the bare
/// catalog queries of every kind over the same schemas, and where its
/// time goes.
async fn drift_bench(
    label: &str,
    state: &SchemaState,
    migrations: &Migrations,
    pool: &PgPool,
    runs: usize,
) -> Duration {
    let schemas: Vec<String> = state.schemas.iter().cloned().collect();
    let drift = median(runs, || async {
        assert!(strata::check_drift(pool, migrations)
            .await
            .unwrap()
            .is_clean());
    })
    .await;
    let mut conn = pool.acquire().await.unwrap();
    against_bare(
        &format!("drift check ({label}, every kind)"),
        drift,
        &mut conn,
        &schemas,
        runs,
    )
    .await;
    drift_breakdown(pool, &schemas, drift).await;
    drift
}

/// `strata drift` as the command a person runs (the release binary next
/// to this one, a whole process: start, connect, read, compare, print) on
/// the KCT example's migrated schema with 10 drifts planted (a column
/// added by hand to each of 10 tables), against migra comparing the same
/// database with a clean copy; then where the check's time goes, kind by
/// kind.
async fn drift_process_bench() {
    let strata_bin = std::env::current_exe().unwrap().with_file_name("strata");
    assert!(
        strata_bin.is_file(),
        "build the command line first: cargo build --release -p strata-pg-cli"
    );
    let kct_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/kct-menswear/migrations");
    let kct = Migrations::from_dir(&kct_dir).unwrap();
    let state = kct.manifest().unwrap().state;
    let (drifted, clean) = (
        strata::testing::database().await.unwrap(),
        strata::testing::database().await.unwrap(),
    );
    let (pool, clean_pool) = (drifted.pool().await.unwrap(), clean.pool().await.unwrap());
    for pool in [&pool, &clean_pool] {
        Migrator::new(&kct).run(pool).await.unwrap();
    }
    for table in state.tables.iter().take(10) {
        sqlx::raw_sql(&format!(
            "ALTER TABLE {} ADD COLUMN planted integer",
            strata::qualified(&table.schema, &table.name)
        ))
        .execute(&pool)
        .await
        .unwrap();
    }
    let runs = 11;
    let timed = |program: &std::path::Path, args: Vec<std::ffi::OsString>| {
        let mut all = Vec::new();
        let mut out = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let output = std::process::Command::new(program)
                .args(&args)
                .output()
                .expect("runs");
            all.push(start.elapsed());
            assert_eq!(
                output.status.code(),
                Some(2),
                "{}: {}",
                program.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            out = output.stdout;
        }
        all.sort();
        (all[runs / 2], String::from_utf8_lossy(&out).into_owned())
    };
    let (strata_time, report) = timed(
        &strata_bin,
        vec![
            "--database-url".into(),
            drifted.url().into(),
            "drift".into(),
            "--migrations".into(),
            kct_dir.clone().into(),
        ],
    );
    assert_eq!(report.matches("planted").count(), 10, "{report}");
    let sqlalchemy = |url: &str| url.replacen("postgres://", "postgresql://", 1);
    let (migra_time, _) = timed(
        &strata_tests::judges::migra(),
        vec![
            "--unsafe".into(),
            "--exclude_schema".into(),
            "strata".into(),
            sqlalchemy(clean.url()).into(),
            sqlalchemy(drifted.url()).into(),
        ],
    );
    show(
        "strata drift (KCT, 10 drifts, whole process)",
        strata_time,
        "migra, the same database and a clean one",
        migra_time,
    );
    let schemas: Vec<String> = state.schemas.iter().cloned().collect();
    let in_process = median(runs, || async {
        std::hint::black_box(strata::check_drift(&pool, &kct).await.unwrap());
    })
    .await;
    show(
        "    of which the check itself, in process",
        in_process,
        "the whole process",
        strata_time,
    );
    drift_breakdown(&pool, &schemas, in_process).await;
}

/// `strata diff` and `strata pull`, each as the command a person runs
/// (the release binary next to this one), against migra comparing the
/// same two databases: one of `count` tables over 10 schemas, and one
/// that lacks its last schema (a tenth of the tables, with their view,
/// function and triggers).
async fn parity_bench(count: usize) {
    let strata_bin = std::env::current_exe().unwrap().with_file_name("strata");
    assert!(
        strata_bin.is_file(),
        "build the command line first: cargo build --release -p strata-pg-cli"
    );
    let (dir, _states, _migrations, to_db, to_pool) = migrated_scale(count).await;
    let from_db = strata::testing::database().await.unwrap();
    let from_pool = from_db.pool().await.unwrap();
    Migrator::new(&Migrations::from_dir(dir.path()).unwrap())
        .target(9)
        .drift_policy(DriftPolicy::Ignore)
        .run(&from_pool)
        .await
        .unwrap();
    let run = |args: Vec<std::ffi::OsString>, program: &std::path::Path| {
        let start = Instant::now();
        let output = std::process::Command::new(program)
            .args(&args)
            .output()
            .expect("runs");
        let took = start.elapsed();
        assert!(
            matches!(output.status.code(), Some(0 | 2)),
            "{}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        (took, output.stdout.len())
    };
    let sqlalchemy = |url: &str| url.replacen("postgres://", "postgresql://", 1);
    let migra = strata_tests::judges::migra();
    let runs = 3;
    let times = |f: &dyn Fn() -> (Duration, usize)| {
        let mut all: Vec<Duration> = (0..runs).map(|_| f().0).collect();
        all.sort();
        all[runs / 2]
    };
    let (from_url, to_url) = (from_db.url().to_owned(), to_db.url().to_owned());
    let out = tempfile::tempdir().unwrap();
    let strata_diff = times(&|| {
        run(
            vec![
                "diff".into(),
                "--from".into(),
                from_url.clone().into(),
                "--to".into(),
                to_url.clone().into(),
                "--out".into(),
                out.path().join("diff.sql").into(),
            ],
            &strata_bin,
        )
    });
    let strata_pull = times(&|| {
        let krate = tempfile::tempdir().unwrap();
        let result = run(
            vec![
                "--database-url".into(),
                to_url.clone().into(),
                "pull".into(),
                "--crate".into(),
                krate.path().into(),
            ],
            &strata_bin,
        );
        drop(krate);
        result
    });
    let migra_time = times(&|| {
        run(
            vec![
                "--unsafe".into(),
                "--exclude_schema".into(),
                "strata".into(),
                sqlalchemy(&from_url).into(),
                sqlalchemy(&to_url).into(),
            ],
            &migra,
        )
    });
    let label = format!("{count} tables");
    show(
        &format!("strata diff ({label}, --out)"),
        strata_diff,
        "migra, the same pair",
        migra_time,
    );
    show(
        &format!("strata pull ({label})"),
        strata_pull,
        "migra, the same pair",
        migra_time,
    );
    let _ = to_pool;
    from_pool.close().await;
    from_db.destroy().await.unwrap();
}

/// A 1,126-table initial migration applied by strata and by `psql -1 -f`.
async fn apply_bench() {
    let state = many_tables(1126);
    let dir = tempfile::tempdir().unwrap();
    let sql =
        strata_tests::write_migrations(dir.path(), &[(&SchemaState::default(), &state)]).remove(0);
    let big = Migrations::from_dir(dir.path()).unwrap();
    let file = dir.path().join("0001_step_1.sql");
    let mut strata_times = Vec::new();
    let mut psql_times = Vec::new();
    for _ in 0..3 {
        let strata_db = strata::testing::database().await.unwrap();
        let strata_pool = strata_db.pool().await.unwrap();
        let start = Instant::now();
        Migrator::new(&big)
            .drift_policy(DriftPolicy::Ignore)
            .run(&strata_pool)
            .await
            .unwrap();
        strata_times.push(start.elapsed());
        strata_pool.close().await;
        strata_db.destroy().await.unwrap();
        let psql_db = strata::testing::database().await.unwrap();
        psql_times.push(psql_file(&["-1"], &file, psql_db.url()));
        psql_db.destroy().await.unwrap();
    }
    strata_times.sort();
    psql_times.sort();
    show(
        &format!(
            "apply 1,126-table initial migration ({} KiB)",
            sql.len() / 1024
        ),
        strata_times[1],
        "psql -1 -f of the same file",
        psql_times[1],
    );
}

/// A `count`-table database over 10 schemas, with views, functions and
/// triggers, migrated in one step per schema: the drift check against the
/// bare catalog queries, start-up with nothing pending against
/// `sqlx migrate run`'s library call, and a start-up's peak memory.
async fn scale_bench(count: usize, memory_only: bool) {
    let label = format!("{count} tables")
        .replace("1126", "1,126")
        .replace("11026", "11,026");
    let (dir, states, migrations, db, pool) = migrated_scale(count).await;
    let size = |pick: &dyn Fn(&str) -> bool| -> f64 {
        let bytes: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| pick(&e.file_name().to_string_lossy()))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        bytes as f64 / (1024.0 * 1024.0)
    };
    println!(
        "{label}: manifest.json {:.1} MiB, migration files {:.1} MiB",
        size(&|n| n == "manifest.json"),
        size(&|n| n.ends_with(".sql"))
    );
    let runs = if count > 2000 { 5 } else { 11 };
    if memory_only {
        let report = Migrator::new(&migrations).run(&pool).await.unwrap();
        assert!(report.drift.is_clean());
        memory_bench(&label, dir.path(), db.url());
        return;
    }

    drift_bench(&label, &states[10], embedded(dir.path()), &pool, runs).await;

    startup_bench(&label, dir.path(), &pool, runs).await;

    memory_bench(&label, dir.path(), db.url());
    pool.close().await;
    db.destroy().await.unwrap();
}

/// The migrations of `dir` as `embed_migrations!()` has them in a service:
/// the files, their checksums and the manifest's light reading and digest,
/// computed once (by the build script, in a service); leaked, as a
/// `static` would be.
fn embedded(dir: &std::path::Path) -> &'static Migrations {
    let prepared = prepare(dir);
    embedded_with(dir, prepared.path(), true, true)
}

/// Writes into a new folder what the build script computes from the
/// migrations in `dir` for `embed_migrations!()`: the manifest's light
/// reading, its digest, the last state as compact JSON, and a checksum per
/// file (one a line, in the manifest's order).
fn prepare(dir: &std::path::Path) -> tempfile::TempDir {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let prepared = strata_manifest::Manifest::prepare(&text).unwrap();
    let mut sums = String::new();
    for entry in &prepared.light.migrations {
        for file in std::iter::once(&entry.file).chain(entry.down_file.as_ref()) {
            let sql = std::fs::read_to_string(dir.join(file)).unwrap();
            sums.push_str(&strata_manifest::checksum(&sql));
            sums.push('\n');
        }
    }
    let out = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(out.path().join(name), text).unwrap();
    write("light.json", &prepared.light.to_json());
    write("digest", &prepared.digest);
    write("checksums", &sums);
    write("state.json", &prepared.state);
    out
}

/// The migrations as [`embedded`] has them, from what [`prepare`] wrote,
/// with the manifest's text left out unless `with_manifest`, and the
/// compact state unless `with_state`: a binary maps what it embeds from
/// its executable, and the pages a start-up never reads never become
/// resident.
fn embedded_with(
    dir: &std::path::Path,
    prepared: &std::path::Path,
    with_manifest: bool,
    with_state: bool,
) -> &'static Migrations {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let read_prepared = |name: &str| std::fs::read_to_string(prepared.join(name)).unwrap();
    let light_json = read_prepared("light.json");
    let light = strata_manifest::Manifest::from_json_light(&light_json).unwrap();
    let mut files = Vec::new();
    for entry in &light.migrations {
        for file in std::iter::once(&entry.file).chain(entry.down_file.as_ref()) {
            files.push((leak(file.clone()), leak(read(file))));
        }
    }
    let sums: Vec<&'static str> = read_prepared("checksums")
        .lines()
        .map(|l| leak(l.to_owned()))
        .collect();
    Box::leak(Box::new(Migrations::__embedded_prepared(
        leak(if with_manifest {
            read("manifest.json")
        } else {
            String::new()
        }),
        leak(light_json),
        leak(read_prepared("digest")),
        leak(if with_state {
            read_prepared("state.json")
        } else {
            String::new()
        }),
        Box::leak(files.into_boxed_slice()),
        Box::leak(sums.into_boxed_slice()),
    )))
}

/// A start-up with nothing pending on the database `pool` reaches, already
/// migrated with the migrations in `dir`: through the DDL watch and in
/// full, against sqlx applying the same SQL files with nothing pending,
/// once as `sqlx migrate run` does (reading and hashing the files, then
/// connecting) and once as a service embedding them with `sqlx::migrate!()`
/// does (checksums computed at compile time: connect, compare).
async fn startup_bench(label: &str, dir: &std::path::Path, pool: &PgPool, runs: usize) {
    let migrations = embedded(dir);
    let report = Migrator::new(migrations).run(pool).await.unwrap();
    assert!(report.drift.is_clean());
    let fast = median(runs, || async {
        let report = Migrator::new(migrations).run(pool).await.unwrap();
        assert!(report.applied.is_empty());
        assert_eq!(report.drift_check, strata::DriftCheck::Unchanged);
    })
    .await;
    let full = median(runs, || async {
        let report = Migrator::new(migrations)
            .ddl_watch(false)
            .run(pool)
            .await
            .unwrap();
        assert_eq!(report.drift_check, strata::DriftCheck::Full);
    })
    .await;

    // The same SQL files as sqlx migrations, applied once by sqlx.
    let sqlx_dir = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql") && !n.contains(".down."))
        .collect();
    names.sort();
    let mut version = 0;
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        // A file strata runs outside a transaction is, for sqlx, one file
        // per statement marked with its own spelling (it sends a file as
        // one query, which PostgreSQL runs as one transaction).
        let files: Vec<String> = match text.starts_with(strata::NO_TRANSACTION) {
            true => strata_manifest::split_statements(&text)
                .into_iter()
                .map(|statement| format!("-- no-transaction\n{}", statement.sql))
                .collect(),
            false => vec![text],
        };
        for text in files {
            version += 1;
            std::fs::write(sqlx_dir.path().join(format!("{version:04}_{name}")), text).unwrap();
        }
    }
    let sqlx_migrator = sqlx::migrate::Migrator::new(sqlx_dir.path()).await.unwrap();
    let sqlx_db = strata::testing::database().await.unwrap();
    let mut first = PgConnection::connect(sqlx_db.url()).await.unwrap();
    sqlx_migrator.run(&mut first).await.unwrap();
    first.close().await.unwrap();
    let sqlx_run = median(runs, || async {
        let migrator = sqlx::migrate::Migrator::new(sqlx_dir.path()).await.unwrap();
        let mut conn = PgConnection::connect(sqlx_db.url()).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    })
    .await;
    let sqlx_embedded = median(runs, || async {
        let mut conn = PgConnection::connect(sqlx_db.url()).await.unwrap();
        sqlx_migrator.run(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    })
    .await;
    let files = sqlx_migrator.iter().count();
    for (how, strata_time) in [("DDL watch", fast), ("full check", full)] {
        let name = format!("start-up, nothing pending ({label}, {how})");
        show(
            &name,
            strata_time,
            &format!("sqlx migrate run, nothing pending ({files} files)"),
            sqlx_run,
        );
        show(
            &name,
            strata_time,
            "sqlx::migrate!() service start-up, the same",
            sqlx_embedded,
        );
    }
    sqlx_db.destroy().await.unwrap();
}

/// Peak memory of a process that starts up once, against one that only
/// connects and runs `SELECT 1`.
fn memory_bench(label: &str, dir: &std::path::Path, url: &str) {
    let prepared = prepare(dir);
    let peak = |mode: &str| child_peak_kib(mode, dir, prepared.path(), url);
    let select = peak("select");
    for mode in ["fast", "full"] {
        let kib = peak(mode);
        println!(
            "{:<52} {:>10.1} MiB   {:<40} {:>10.1} MiB   ratio {:>8.1}",
            format!("peak memory, start-up ({label}, {mode})"),
            kib as f64 / 1024.0,
            "process that connects and runs SELECT 1",
            select as f64 / 1024.0,
            kib as f64 / select as f64
        );
    }
}

/// A fresh database holding [`many_tables`]`(count)`, migrated in one
/// step per schema; the migrations' folder, the states after each step,
/// the migrations, the database and a pool on it.
async fn migrated_scale(
    count: usize,
) -> (
    tempfile::TempDir,
    Vec<SchemaState>,
    Migrations,
    strata::testing::TestDatabase,
    PgPool,
) {
    let states: Vec<SchemaState> = (0..=10).map(|n| many_tables_in(count, n)).collect();
    let steps: Vec<(&SchemaState, &SchemaState)> =
        states.windows(2).map(|w| (&w[0], &w[1])).collect();
    let dir = tempfile::tempdir().unwrap();
    strata_tests::write_migrations(dir.path(), &steps);
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    Migrator::new(&migrations)
        .drift_policy(DriftPolicy::Ignore)
        .run(&pool)
        .await
        .unwrap();
    (dir, states, migrations, db, pool)
}

/// Runs this binary as `strata-bench child <mode> <dir> <prepared> <url>` and returns
/// the child's peak resident memory in KiB.
fn child_peak_kib(mode: &str, dir: &std::path::Path, prepared: &std::path::Path, url: &str) -> u64 {
    // STRATA_BENCH_WRAP=heaptrack runs the child under a memory profiler.
    let exe = std::env::current_exe().unwrap();
    let mut command = match std::env::var_os("STRATA_BENCH_WRAP") {
        Some(wrapper) => {
            let mut c = std::process::Command::new(wrapper);
            c.arg(&exe);
            c
        }
        None => std::process::Command::new(&exe),
    };
    let out = command
        .args(["child", mode])
        .arg(dir)
        .arg(prepared)
        .arg(url)
        .output()
        .expect("the child runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let peak = stdout.lines().rev().find_map(|l| l.trim().parse().ok());
    peak.unwrap_or_else(|| panic!("the child printed no peak: {stdout}"))
}

/// The child of [`child_peak_kib`]: one start-up (`fast`: with the DDL
/// watch, `full`: without), or only `SELECT 1`; prints its peak RSS (KiB).
async fn child(mode: &str, dir: &str, prepared: &str, url: &str) {
    let pool = strata::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    match mode {
        "select" => {
            sqlx::query("SELECT 1").execute(&pool).await.unwrap();
        }
        _ => {
            // Neither start-up reads the manifest's text (the light
            // reading, the digest and the compact state come with it,
            // computed at build time), and the fast path does not read
            // the state either: that its check is clean proves it (an
            // empty manifest or state would make it fail).
            let full = mode == "full";
            let migrations = embedded_with(dir.as_ref(), prepared.as_ref(), false, full);
            let report = Migrator::new(migrations)
                .ddl_watch(mode == "fast")
                .run(&pool)
                .await
                .unwrap();
            assert!(report.drift.is_clean());
            let expected = match mode {
                "fast" => strata::DriftCheck::Unchanged,
                _ => strata::DriftCheck::Full,
            };
            assert_eq!(report.drift_check, expected);
        }
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap();
    println!("{peak}");
}

/// The expression corpus: today's drift check, which asks the server to
/// spell the models' expressions (cached), against comparing their text.
async fn corpus_bench() {
    let corpus = strata_tests::corpus::corpus_state("corpus", "items");
    let corpus_dir = tempfile::tempdir().unwrap();
    strata_tests::write_migrations(corpus_dir.path(), &[(&SchemaState::default(), &corpus)]);
    let corpus_migrations = Migrations::from_dir(corpus_dir.path()).unwrap();
    let corpus_db = strata::testing::database().await.unwrap();
    let corpus_pool = corpus_db.pool().await.unwrap();
    Migrator::new(&corpus_migrations)
        .run(&corpus_pool)
        .await
        .unwrap();
    // Interleaved, so that the machine's drifting load falls on both alike.
    let mut canonical = Vec::new();
    let mut textual = Vec::new();
    for _ in 0..101 {
        let start = Instant::now();
        assert!(strata::check_drift(&corpus_pool, &corpus_migrations)
            .await
            .unwrap()
            .is_clean());
        canonical.push(start.elapsed());
        let start = Instant::now();
        strata::__bench::check_drift_textual(&corpus_pool, &corpus_migrations)
            .await
            .unwrap();
        textual.push(start.elapsed());
    }
    canonical.sort();
    textual.sort();
    let (canonical, textual) = (canonical[50], textual[50]);
    let table = &corpus.tables[0];
    let expressions = table.checks.len()
        + table.indexes.len()
        + table.columns.iter().filter(|c| c.default.is_some()).count();
    show(
        &format!("drift check, expression corpus ({expressions} expressions)"),
        canonical,
        "the same check comparing text (before)",
        textual,
    );
}

/// Issue 13's three measurements, on the Liventix example's migrated
/// schema (48 tables in 12 schemas, 20 compat views, 18 policies, grants,
/// a monthly partitioned table): the drift check against one catalog
/// query and the bare queries over the same schemas; partition
/// maintenance with nothing to make against `SELECT 1`; and a query
/// through row-level security (the helper and role set per transaction, as
/// a service does) against the same query with an explicit `WHERE`.
async fn liventix_bench() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/liventix/migrations");
    let migrations = Migrations::from_dir(&dir).expect("the Liventix migrations");
    let state = migrations.manifest().unwrap().state;
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    Migrator::new(&migrations).run(&pool).await.unwrap();
    let drift = drift_bench(
        "Liventix, 48 tables, 18 policies, 42 partitions",
        &state,
        embedded(&dir),
        &pool,
        51,
    )
    .await;
    let schemas: Vec<String> = state.schemas.iter().cloned().collect();
    let one = median(51, || one_catalog_query(&pool, &schemas)).await;
    show(
        "drift check (Liventix, every kind)",
        drift,
        "one catalog query (columns), same schemas",
        one,
    );

    // Partition maintenance with nothing to make, on one connection.
    let mut conn = pool.acquire().await.unwrap();
    let made = strata::__bench::maintain_partitions(&mut conn, &state)
        .await
        .unwrap();
    assert_eq!(made, 0, "start-up made them already");
    assert_eq!(
        state
            .tables
            .iter()
            .filter(|t| t.partition.is_some())
            .count(),
        1,
        "analytics.events is partitioned"
    );
    let mut times = Vec::new();
    let mut ones = Vec::new();
    for _ in 0..51 {
        let start = Instant::now();
        strata::__bench::maintain_partitions(&mut conn, &state)
            .await
            .unwrap();
        times.push(start.elapsed());
        let start = Instant::now();
        sqlx::query("SELECT 1").execute(&mut *conn).await.unwrap();
        ones.push(start.elapsed());
    }
    times.sort();
    ones.sort();
    show(
        "partition maintenance, nothing to make",
        times[25],
        "SELECT 1",
        ones[25],
    );

    // 200,000 tickets over 4 organisations, read through the policies as
    // liventix_app, and directly with the organisation in the WHERE.
    sqlx::raw_sql(
        "INSERT INTO ref.countries VALUES ('GB', 'United Kingdom');
         INSERT INTO organizations.organizations (slug, name)
             SELECT 'org' || n, 'Org ' || n FROM generate_series(1, 4) n;
         INSERT INTO users.profiles (email, display_name) VALUES ('a@example.com', 'A');
         INSERT INTO events.events (org_id, title, starts_at) SELECT n, 'E' || n, now() FROM generate_series(1, 4) n;
         INSERT INTO ticketing.ticket_tiers (org_id, event_id, name, price_cents, capacity)
             SELECT n, n, 'General', 100, 10 FROM generate_series(1, 4) n;
         INSERT INTO ticketing.tickets (org_id, event_id, tier_id, code)
             SELECT 1 + n % 4, 1 + n % 4, 1 + n % 4, 'T' || n FROM generate_series(1, 200000) n;
         ANALYZE ticketing.tickets;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let through_rls = median(51, || async {
        let mut tx = pool.begin().await.unwrap();
        sqlx::raw_sql("SET LOCAL ROLE liventix_app")
            .execute(&mut *tx)
            .await
            .unwrap();
        strata::rls::set_local(&mut tx, "app.org_id", "1")
            .await
            .unwrap();
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM ticketing.tickets WHERE status = 'issued'")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!(n, 50_000);
        tx.commit().await.unwrap();
    })
    .await;
    let explicit = median(51, || async {
        let mut tx = pool.begin().await.unwrap();
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM ticketing.tickets WHERE status = 'issued' AND org_id = $1",
        )
        .bind(1_i64)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(n, 50_000);
        tx.commit().await.unwrap();
    })
    .await;
    show(
        "tickets of one organisation through RLS",
        through_rls,
        "the same with an explicit WHERE",
        explicit,
    );
}

/// The orders table of the write-pause benchmark, before any change: a
/// region table it may reference, and `note` filled but nullable.
fn online_base() -> SchemaState {
    let mut state = SchemaState::default();
    let mut region = Table::new("shop", "region");
    let mut id = Column::new("id", "bigint").not_null();
    id.identity = true;
    region.columns.push(id.clone());
    region.columns.push(Column::new("name", "text"));
    region.set_primary_key(vec!["id".into()]);
    state.add_table(region);
    let mut orders = Table::new("shop", "orders");
    orders.columns.push(id);
    orders
        .columns
        .push(Column::new("customer", "text").not_null());
    orders
        .columns
        .push(Column::new("total_cents", "bigint").not_null());
    orders.columns.push(Column::new("region_id", "bigint"));
    orders.columns.push(Column::new("note", "text"));
    orders.set_primary_key(vec!["id".into()]);
    state.add_table(orders);
    state
}

/// The orders table of `state`.
fn orders(state: &mut SchemaState) -> &mut Table {
    state
        .tables
        .iter_mut()
        .find(|t| t.name == "orders")
        .expect("orders")
}

/// Each change kind of issue 14, as the model change that asks for it.
fn online_changes() -> Vec<(&'static str, SchemaState)> {
    let base = online_base();
    let mut kinds = Vec::new();
    let mut index = base.clone();
    orders(&mut index).add_index(Index {
        name: "orders_customer_idx".into(),
        columns: vec!["customer".into()],
        ..Default::default()
    });
    kinds.push(("an index", index));
    let mut unique = base.clone();
    orders(&mut unique).add_unique(vec!["customer".into()]);
    kinds.push(("a unique constraint", unique));
    let mut check = base.clone();
    orders(&mut check).add_check(strata_manifest::Check {
        name: "orders_total_cents_check".into(),
        expr: "total_cents >= 0".into(),
    });
    kinds.push(("a check", check));
    let mut foreign = base.clone();
    orders(&mut foreign).add_foreign_key(ForeignKey {
        name: "orders_region_id_fkey".into(),
        columns: vec!["region_id".into()],
        references: QualifiedName::new("shop", "region"),
        referenced_columns: vec!["id".into()],
        on_delete: Default::default(),
        on_update: Default::default(),
        deferral: Default::default(),
        not_valid: false,
    });
    kinds.push(("a foreign key", foreign));
    let mut required = base.clone();
    if let Some(note) = orders(&mut required)
        .columns
        .iter_mut()
        .find(|c| c.name == "note")
    {
        note.nullable = false;
    }
    kinds.push(("SET NOT NULL", required));
    kinds
}

/// Runs `sql` as a migration file runs: in one transaction, or (marked
/// `-- strata:no-transaction`) statement by statement.
async fn run_migration_sql(conn: &mut PgConnection, sql: &str) {
    if sql.starts_with(strata::NO_TRANSACTION) {
        for statement in strata_manifest::split_statements(sql) {
            sqlx::raw_sql(statement.sql)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    } else {
        let mut tx = conn.begin().await.unwrap();
        sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
}

/// The migration files the build writes for `old` to `new`: split for a
/// live table (`online`), or all in one transaction, as before issue 14.
fn online_files(old: &SchemaState, new: &SchemaState, online: bool) -> Vec<String> {
    let changes = strata_manifest::diff_with(old, new, &strata_manifest::Confirm::all()).unwrap();
    let batches = if online {
        let (drops, rest, builds) = strata_manifest::split_online(old, changes);
        vec![drops, rest, builds]
    } else {
        vec![changes]
    };
    batches
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(|batch| {
            let marker = if batch.iter().any(|c| c.needs_no_transaction()) {
                format!("{}\n", strata::NO_TRANSACTION)
            } else {
                String::new()
            };
            format!(
                "{marker}{}",
                strata_manifest::render_migration(2, "bench", &batch)
            )
        })
        .collect()
}

/// Issue 14's write-pause benchmark: each change kind on a table of
/// `rows` rows while a writer inserts and updates rows in a loop, each
/// its own commit; the longest time between two of its commits while the
/// migration ran, under strata's SQL and under the plain DDL the same
/// model change wrote before.
async fn online_bench(rows: u64) {
    let server = strata::testing::server_url().unwrap();
    let mut admin = PgConnection::connect(&server).await.unwrap();
    let template = format!("strata_bench_online_{}", std::process::id());
    sqlx::raw_sql(&format!("CREATE DATABASE {template}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let options: sqlx::postgres::PgConnectOptions = server.parse().unwrap();
    let on = |name: &str| options.clone().database(name);
    {
        let mut conn = PgConnection::connect_with(&on(&template)).await.unwrap();
        let base = online_base();
        for sql in online_files(&SchemaState::default(), &base, false) {
            run_migration_sql(&mut conn, &sql).await;
        }
        sqlx::query(
            "INSERT INTO shop.region (name) VALUES ('north'), ('south');
             ",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO shop.orders (customer, total_cents, region_id, note)
             SELECT 'customer ' || n, n % 10000, 1 + n % 2, 'n' FROM generate_series(1, $1) n",
        )
        .bind(rows as i64)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::raw_sql("VACUUM ANALYZE shop.orders")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    println!("\nwrite pauses on {rows} rows, a writer inserting and updating throughout:");
    for (kind, new) in online_changes() {
        let mut pauses = Vec::new();
        for online in [true, false] {
            let name = format!("{template}_{}", pauses.len());
            sqlx::raw_sql(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let writer = {
                let (options, stop) = (on(&name), stop.clone());
                tokio::spawn(async move {
                    let pool = PgPool::connect_with(options).await.unwrap();
                    let mut longest = Duration::ZERO;
                    let mut last = Instant::now();
                    let mut n: i64 = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        n += 1;
                        let sql = if n % 2 == 0 {
                            "UPDATE shop.orders SET total_cents = total_cents + 1 WHERE id = $1"
                        } else {
                            "INSERT INTO shop.orders (customer, total_cents, region_id, note) VALUES ('live ' || $1, 1, 1, 'n')"
                        };
                        sqlx::query(sql).bind(n).execute(&pool).await.unwrap();
                        let now = Instant::now();
                        longest = longest.max(now - last);
                        last = now;
                    }
                    longest
                })
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut conn = PgConnection::connect_with(&on(&name)).await.unwrap();
            let started = Instant::now();
            for sql in online_files(&online_base(), &new, online) {
                run_migration_sql(&mut conn, &sql).await;
            }
            let took = started.elapsed();
            tokio::time::sleep(Duration::from_millis(200)).await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let longest = writer.await.unwrap();
            drop(conn);
            sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
            pauses.push((longest, took));
        }
        let ((online_pause, online_took), (plain_pause, plain_took)) = (pauses[0], pauses[1]);
        show(
            &format!("{kind}: longest write pause, strata"),
            online_pause,
            "the same, plain DDL",
            plain_pause,
        );
        show(
            &format!("{kind}: migration time, strata"),
            online_took,
            "the same, plain DDL",
            plain_took,
        );
    }
    sqlx::raw_sql(&format!("DROP DATABASE {template}"))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// `strata-bench --write …`: runs `strata-bench …`, shows its lines as they
/// come, and puts them in `BENCHMARKS.md` under a heading of their own
/// (replacing that heading's last run), with the machine they ran on.
fn write_benchmarks(args: &[String]) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("strata-bench runs itself");
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        println!("{line}");
        lines.push(line);
    }
    assert!(
        child.wait().unwrap().success(),
        "the benchmark failed: nothing written"
    );
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or("?".to_owned(), |kb| format!("{} GiB", kb / (1024 * 1024)));
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server = std::process::Command::new("psql")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let heading = format!("## `strata-bench {}`", args.join(" "));
    let section = format!(
        "{heading}\n\nOne run, release build, {cpus} cores, {memory}, {server}, on a machine others share:\n\n```text\n{}\n```\n",
        lines.join("\n")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    // Line by line: the heading's last run, up to the next heading, gives way.
    let old: Vec<&str> = text.lines().collect();
    let text = match old.iter().position(|l| *l == heading) {
        Some(at) => {
            let end = old[at + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(old.len(), |e| at + 1 + e);
            let before = old[..at].join("\n");
            let after = old[end..].join("\n");
            format!("{before}\n{section}\n{after}")
                .trim_end()
                .to_owned()
                + "\n"
        }
        None => format!("{}\n\n{section}", text.trim_end()),
    };
    std::fs::write(&path, text).unwrap();
    println!("written to {}", path.display());
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--write") {
        write_benchmarks(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("tenant-drift-child") {
        tenant_drift_child(&args[2], &args[3], args[4].parse().unwrap()).await;
        return;
    }
    if args.get(1).map(String::as_str) == Some("child") {
        child(&args[2], &args[3], &args[4], &args[5]).await;
        return;
    }
    println!("strata bench: medians; each line is strata against a baseline from the same run\n");
    // `strata-bench profile [COUNT]` runs the drift check at COUNT tables
    // (default 11,026) in a loop,
    // for a profiler (`perf record`), and prints each run's time.
    if args.get(1).map(String::as_str) == Some("profile") {
        let (_dir, _states, migrations, _db, pool) =
            migrated_scale(args.get(2).and_then(|a| a.parse().ok()).unwrap_or(11026)).await;
        for _ in 0..8 {
            let start = Instant::now();
            assert!(strata::check_drift(&pool, &migrations)
                .await
                .unwrap()
                .is_clean());
            println!("drift check: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
        }
        return;
    }
    // `strata-bench memory` measures only the start-ups' peak memory.
    if args.get(1).map(String::as_str) == Some("memory") {
        for count in [1126, 11026] {
            scale_bench(count, true).await;
        }
        return;
    }
    // `strata-bench startup [COUNT…]` measures only the start-ups, at KCT's
    // size and at each COUNT tables (default 1126).
    if args.get(1).map(String::as_str) == Some("startup") {
        let kct_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/kct-menswear/migrations");
        let db = strata::testing::database().await.unwrap();
        let pool = db.pool().await.unwrap();
        Migrator::new(&Migrations::from_dir(&kct_dir).unwrap())
            .run(&pool)
            .await
            .unwrap();
        startup_bench("KCT, 28 tables", &kct_dir, &pool, 21).await;
        let counts: Vec<usize> = args.iter().skip(2).filter_map(|a| a.parse().ok()).collect();
        for count in if counts.is_empty() {
            vec![1126]
        } else {
            counts
        } {
            let (dir, _states, _migrations, _db, pool) = migrated_scale(count).await;
            startup_bench(&format!("{count} tables"), dir.path(), &pool, 11).await;
        }
        return;
    }
    // `strata-bench drift-process`: `strata drift` as a command, against migra.
    if args.get(1).map(String::as_str) == Some("drift-process") {
        drift_process_bench().await;
        return;
    }
    // `strata-bench drift [COUNT…]` measures only the drift check against
    // the bare catalog queries, at each COUNT tables (default 1126).
    if args.get(1).map(String::as_str) == Some("drift") {
        // `kct` among the arguments: the KCT example's migrated schema too.
        if args.iter().any(|a| a == "kct") {
            let kct_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../examples/kct-menswear/migrations");
            let kct = Migrations::from_dir(&kct_dir).unwrap();
            let db = strata::testing::database().await.unwrap();
            let pool = db.pool().await.unwrap();
            Migrator::new(&kct).run(&pool).await.unwrap();
            let state = kct.manifest().unwrap().state;
            drift_bench("KCT, 28 tables", &state, embedded(&kct_dir), &pool, 51).await;
        }
        let counts: Vec<usize> = args.iter().skip(2).filter_map(|a| a.parse().ok()).collect();
        if counts.is_empty() && args.iter().any(|a| a == "kct") {
            return;
        }
        for count in if counts.is_empty() {
            vec![1126]
        } else {
            counts
        } {
            let (dir, states, _migrations, _db, pool) = migrated_scale(count).await;
            drift_bench(
                &format!("{count} tables"),
                &states[10],
                embedded(dir.path()),
                &pool,
                11,
            )
            .await;
        }
        return;
    }
    // `strata-bench parity [COUNT…]`: `strata diff` and `strata pull` against
    // migra on the same pair of databases (default 1126 and 11026 tables).
    if args.get(1).map(String::as_str) == Some("parity") {
        let counts: Vec<usize> = args.iter().skip(2).filter_map(|a| a.parse().ok()).collect();
        for count in if counts.is_empty() {
            vec![1126, 11026]
        } else {
            counts
        } {
            parity_bench(count).await;
        }
        return;
    }
    // `strata-bench online [ROWS]`: issue 14's write pauses (default
    // 1,000,000 rows).
    if args.get(1).map(String::as_str) == Some("online") {
        online_bench(
            args.get(2)
                .and_then(|a| a.parse().ok())
                .unwrap_or(1_000_000),
        )
        .await;
        return;
    }
    // `strata-bench liventix` runs the Liventix benchmark alone.
    if args.get(1).map(String::as_str) == Some("liventix") {
        liventix_bench().await;
        return;
    }
    // `strata-bench tenants [COUNT…]` runs the tenant benchmark alone, at
    // each COUNT tenants (default 1,000).
    if args.get(1).map(String::as_str) == Some("tenants") {
        let counts: Vec<usize> = args.iter().skip(2).filter_map(|a| a.parse().ok()).collect();
        for count in if counts.is_empty() {
            vec![TENANTS]
        } else {
            counts
        } {
            tenants_bench(count).await;
        }
        return;
    }
    // `strata-bench fleet [COUNT]`: tenants across three servers (default 3,000).
    if args.get(1).map(String::as_str) == Some("fleet") {
        fleet_bench(
            args.get(2)
                .and_then(|a| a.parse().ok())
                .unwrap_or(FLEET_TENANTS),
        )
        .await;
        return;
    }
    // `strata-bench corpus` runs the expression corpus alone.
    if std::env::args().nth(1).as_deref() == Some("corpus") {
        corpus_bench().await;
        return;
    }
    let kct_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/kct-menswear/migrations");
    let kct = Migrations::from_dir(&kct_dir).expect("the KCT migrations");

    // Start-up with nothing pending, on the migrated KCT schema.
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    Migrator::new(&kct).run(&pool).await.unwrap();
    startup_bench("KCT, 28 tables", &kct_dir, &pool, 21).await;

    let kct_schemas: Vec<String> = kct.manifest().unwrap().state.schemas.into_iter().collect();
    let kct_embedded = embedded(&kct_dir);
    let drift_kct = median(51, || async {
        assert!(strata::check_drift(&pool, kct_embedded)
            .await
            .unwrap()
            .is_clean());
    })
    .await;
    let catalog_kct = median(51, || one_catalog_query(&pool, &kct_schemas)).await;
    show(
        "drift check (KCT, 28 tables)",
        drift_kct,
        "one catalog query, same tables",
        catalog_kct,
    );
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    against_bare(
        "drift check (KCT, 28 tables)",
        drift_kct,
        &mut conn,
        &kct_schemas,
        51,
    )
    .await;
    corpus_bench().await;

    apply_bench().await;
    for count in [1126, 11026] {
        scale_bench(count, false).await;
    }

    // `strata-bench core` leaves the tenant benchmark out.
    if std::env::args().nth(1).as_deref() != Some("core") {
        tenants_bench(TENANTS).await;
    }
}
