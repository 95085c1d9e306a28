//! Issue 13, item 3: partitioned tables declared on the models, their
//! partitions made ahead at start-up with CREATE TABLE and ATTACH, and
//! judged by rule by the drift check.

use strata::sqlx;
use strata::{check_drift, DifferenceKind, Migrator, ObjectKind};

use crate::support::{fresh_db, psql, Scratch};

const EVENTS: &str = r#"
#[strata::schema("analytics", partition_by = "range(occurred_at)", partition_interval = "month", partitions_ahead = 2, default_partition)]
pub struct Event {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(primary_key)]
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    #[column(index)]
    pub kind: String,
}
"#;

async fn children(pool: &sqlx::PgPool) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'analytics.event'::regclass ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(n,)| n).collect()
}

async fn month(pool: &sqlx::PgPool, ahead: i32) -> String {
    let (name,): (String,) = sqlx::query_as(
        "SELECT 'event_p' || to_char(date_trunc('month', now()) + make_interval(months => $1), 'YYYYMM')",
    )
    .bind(ahead)
    .fetch_one(pool)
    .await
    .unwrap();
    name
}

#[tokio::test]
async fn partitions_are_made_ahead_attached_and_judged_by_rule() {
    let scratch = Scratch::with_models(EVENTS);
    let outcome = scratch.builder().run().unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(
        up.contains(r#"PARTITION BY RANGE ("occurred_at");"#),
        "{up}"
    );

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let mut expected = vec![
        month(&pool, 0).await,
        month(&pool, 1).await,
        month(&pool, 2).await,
    ];
    expected.push("event_default".to_owned());
    expected.sort();
    assert_eq!(children(&pool).await, expected);
    let made: Vec<String> = report
        .partitions_made
        .iter()
        .map(|p| p.replace("analytics.", ""))
        .collect();
    let mut made_sorted = made.clone();
    made_sorted.sort();
    assert_eq!(made_sorted, expected);

    // Rows land in their month, old ones in the default partition, and
    // each partition carries the parent's indexes.
    psql(
        &pool,
        "INSERT INTO analytics.event (occurred_at, kind) VALUES (now(), 'view'), ('2001-01-01', 'old')",
    )
    .await;
    let (current,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM analytics.{}",
        month(&pool, 0).await
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(current, 1);
    let (old,): (i64,) = sqlx::query_as("SELECT count(*) FROM analytics.event_default")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(old, 1);
    let (indexes,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'analytics' AND tablename = '{}'",
        month(&pool, 2).await
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, 2, "the primary key's and the kind index");

    // A start-up with nothing to make makes nothing.
    let again = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(
        again.partitions_made.is_empty(),
        "{:?}",
        again.partitions_made
    );

    // Drift: a missing partition ahead, by name; never an unexpected table.
    let last = month(&pool, 2).await;
    psql(&pool, &format!("DROP TABLE analytics.{last}")).await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found: Vec<(DifferenceKind, ObjectKind, &str)> = drift
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.as_str()))
        .collect();
    let name = format!("analytics.{last}");
    assert_eq!(
        found,
        [(
            DifferenceKind::Missing,
            ObjectKind::Partition,
            name.as_str()
        )],
        "{drift}"
    );
    // The next start-up makes it again.
    let healed = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert_eq!(healed.partitions_made, std::slice::from_ref(&name));
    assert!(healed.drift.is_clean(), "{}", healed.drift);

    // A partition someone else made (a quarter by hand) is no table of
    // the models, but a gap between ranges is reported.
    psql(
        &pool,
        "CREATE TABLE analytics.event_p1999 (LIKE analytics.event INCLUDING DEFAULTS);
         ALTER TABLE analytics.event ATTACH PARTITION analytics.event_p1999
           FOR VALUES FROM ('1999-01-01') TO ('1999-04-01');",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(drift.differences.len(), 1, "{drift}");
    let d = &drift.differences[0];
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::Partition)
    );
    assert_eq!(d.name, "analytics.event");
    assert!(
        d.property
            .as_deref()
            .is_some_and(|p| p.starts_with("range between event_p1999 and ")),
        "{drift}"
    );
}

#[test]
fn a_partition_key_outside_the_primary_key_is_refused() {
    let scratch = Scratch::with_models(&EVENTS.replace(
        "    #[column(primary_key)]\n    pub occurred_at",
        "    pub occurred_at",
    ));
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(
        error.contains("the partition key `occurred_at` must be part of the primary key"),
        "{error}"
    );
}

/// Partitions older than `partitions_kept` are detached and dropped at
/// start-up only once confirmed by name; until then they stay, listed.
#[tokio::test]
async fn retention_drops_old_partitions_only_when_confirmed() {
    let scratch = Scratch::with_models(&EVENTS.replace(
        "partitions_ahead = 2,",
        "partitions_ahead = 1, partitions_kept = 1,",
    ));
    scratch.builder().run().unwrap();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    Migrator::new(&migrations).run(&pool).await.unwrap();
    psql(
        &pool,
        "CREATE TABLE analytics.event_p200201 (LIKE analytics.event INCLUDING DEFAULTS);
         ALTER TABLE analytics.event ATTACH PARTITION analytics.event_p200201
           FOR VALUES FROM ('2002-01-01') TO ('2002-02-01');
         INSERT INTO analytics.event (occurred_at, kind) VALUES ('2002-01-15', 'old');",
    )
    .await;
    // (Its range leaves a gap before the current month: drift, reported.)
    let kept = Migrator::new(&migrations)
        .drift_policy(strata::DriftPolicy::Warn)
        .run(&pool)
        .await
        .unwrap();
    assert_eq!(kept.drift.differences.len(), 1, "{}", kept.drift);
    assert_eq!(kept.partitions_unconfirmed, ["analytics.event_p200201"]);
    assert!(kept.partitions_dropped.is_empty());
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM analytics.event")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "nothing lost unconfirmed");

    let dropped = Migrator::new(&migrations)
        .confirm("analytics.event_p200201")
        .run(&pool)
        .await
        .unwrap();
    assert_eq!(dropped.partitions_dropped, ["analytics.event_p200201"]);
    assert!(children(&pool).await.iter().all(|c| c != "event_p200201"));
    assert!(dropped.drift.is_clean(), "{}", dropped.drift);
}

/// A hash-partitioned table gets its partitions with it; a missing one is
/// drift; `strata pull` writes it back with its count.
#[tokio::test]
async fn hash_partitions_come_with_the_table_and_are_pulled_back() {
    let scratch = Scratch::with_models(
        r#"
#[strata::schema("analytics", partition_by = "hash(id)", partitions = 4)]
pub struct Session {
    #[column(primary_key, identity)]
    pub id: i64,
    pub user_agent: String,
}
"#,
    );
    let outcome = scratch.builder().run().unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    for remainder in 0..4 {
        assert!(
            up.contains(&format!(
                r#"CREATE TABLE "analytics"."session_h{remainder}" PARTITION OF "analytics"."session" FOR VALUES WITH (MODULUS 4, REMAINDER {remainder});"#
            )),
            "{up}"
        );
    }
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO analytics.session (user_agent) SELECT 'ua ' || n FROM generate_series(1, 200) n",
    )
    .await;
    let (holding,): (i64,) =
        sqlx::query_as("SELECT count(DISTINCT tableoid) FROM analytics.session")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(holding, 4, "200 rows spread over all four partitions");

    let state = strata::read_database(&pool, Some(&["analytics".to_owned()]))
        .await
        .unwrap();
    let krate = tempfile::tempdir().unwrap();
    strata_tools::pull::write(&state, krate.path()).unwrap();
    let models = std::fs::read_to_string(krate.path().join("src/models/analytics.rs")).unwrap();
    assert!(
        models.contains(r#"partition_by = "hash(id)", partitions = 4)]"#),
        "{models}"
    );

    psql(
        &pool,
        "DELETE FROM analytics.session_h3;
         ALTER TABLE analytics.session DETACH PARTITION analytics.session_h3;
         DROP TABLE analytics.session_h3;",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found: Vec<(DifferenceKind, ObjectKind, &str)> = drift
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            DifferenceKind::Missing,
            ObjectKind::Partition,
            "analytics.session_h3"
        )],
        "{drift}"
    );
    let back = Migrator::new(&migrations)
        .confirm_all()
        .drift_policy(strata::DriftPolicy::Warn)
        .rollback_to(&pool, 0)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
}

/// The table before it is partitioned: row-level security forced, with a
/// policy for another role only, so that its owner sees no row through it;
/// a view over it and a trigger on it.
fn plain_events(reader: &str, partitioning: &str) -> String {
    format!(
        r#"
#[strata::schema("analytics", rls{partitioning})]
#[policy(name = "events_of_org_one", to = "{reader}", using = "org_id = 1")]
pub struct Event {{
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(primary_key)]
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    #[column(index)]
    pub kind: String,
    pub org_id: i32,
}}

#[strata::view("analytics", sql = "SELECT kind, count(*) AS n FROM analytics.event GROUP BY kind")]
pub struct KindCount {{
    pub kind: String,
    pub n: i64,
}}
"#
    )
}

const TOUCH: &str = "CREATE FUNCTION analytics.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.kind := lower(NEW.kind); RETURN NEW; END $$;
";

const TOUCH_TRIGGER: &str = "CREATE TRIGGER event_touch BEFORE INSERT ON analytics.event
FOR EACH ROW EXECUTE FUNCTION analytics.touch();
";

/// A pool that acts as `role`, a plain owner: no superuser, no BYPASSRLS.
async fn pool_as(db: &strata::testing::TestDatabase, role: &str) -> sqlx::PgPool {
    let url = format!("{}?options=-c%20role%3D{role}", db.url());
    sqlx::PgPool::connect(&url).await.unwrap()
}

async fn relkind(pool: &sqlx::PgPool) -> String {
    let (kind,): (String,) = sqlx::query_as(
        "SELECT relkind::text FROM pg_class WHERE oid = 'analytics.event'::regclass",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    kind
}

/// `(count, sum of ids, kinds)` of every row, read by a superuser.
async fn census(pool: &sqlx::PgPool) -> (i64, i64, i64) {
    sqlx::query_as("SELECT count(*), sum(id)::bigint, count(DISTINCT kind) FROM analytics.event")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Issue 13, item 3: a table with rows becomes partitioned by a rebuild
/// that keeps every row, only when confirmed; and goes back by rollback.
#[tokio::test]
async fn a_table_with_rows_becomes_partitioned_keeping_every_row_and_rolls_back() {
    let (owner, reader) = ("repartition_owner", "repartition_reader");
    let (db, pool) = fresh_db().await;
    psql(
        &pool,
        &format!(
            "DO $$ BEGIN CREATE ROLE {owner} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             DO $$ BEGIN CREATE ROLE {reader} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT CREATE ON DATABASE \"{}\" TO {owner}",
            db.name()
        ),
    )
    .await;
    let scratch = Scratch::with_models(&plain_events(reader, ""));
    scratch.write_file("db/touch.sql", TOUCH);
    scratch.write_file("db/touch_trigger.sql", TOUCH_TRIGGER);
    scratch.builder().sql_dir("db").role(reader).run().unwrap();
    let migrations = scratch.migrations();
    let as_owner = pool_as(&db, owner).await;
    Migrator::new(&migrations).run(&as_owner).await.unwrap();
    // Two years of rows but for one month, read and written by a superuser
    // (the owner sees none: FORCE, and no policy for it).
    psql(
        &pool,
        "INSERT INTO analytics.event (occurred_at, kind, org_id)
         SELECT '2023-01-01'::timestamptz + (n % 730) * interval '1 day', 'Kind' || (n % 7), n % 3
         FROM generate_series(1, 3000) AS n
         WHERE date_trunc('month', '2023-01-01'::timestamptz + (n % 730) * interval '1 day') <> '2023-06-01'",
    )
    .await;
    let before = census(&pool).await;
    assert!(before.0 > 2500, "{before:?}");

    // Partitioned by month: refused until confirmed, naming the lock.
    scratch.write_models(&plain_events(
        reader,
        r#", partition_by = "range(occurred_at)", partition_interval = "month", partitions_ahead = 2"#,
    ));
    let refused = scratch.builder().sql_dir("db").role(reader).run();
    let message = refused.expect_err("refused unconfirmed").to_string();
    assert!(
        message.contains("analytics.event") && message.contains("ACCESS EXCLUSIVE"),
        "{message}"
    );
    let outcome = scratch
        .builder()
        .sql_dir("db")
        .role(reader)
        .confirm("analytics.event")
        .run()
        .unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in {up}"));
    assert!(at("SET LOCAL row_security = off") < at("INSERT INTO \"analytics\".\"event\""));
    let forced = up
        .rfind(" FORCE ROW LEVEL SECURITY;")
        .expect("forced again");
    assert!(at("INSERT INTO \"analytics\".\"event\"") < forced);
    assert!(!up.contains("CASCADE"), "{up}");

    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&as_owner).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert_eq!(relkind(&pool).await, "p");
    assert_eq!(census(&pool).await, before, "every row, once");
    // A partition for every month from the oldest row's to now, the gap
    // included, and the months ahead made at start-up.
    let (months,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let (expected,): (i64,) = sqlx::query_as(
        "SELECT (extract(year FROM age(date_trunc('month', now()), '2023-01-01')) * 12
                 + extract(month FROM age(date_trunc('month', now()), '2023-01-01')))::bigint + 1 + 2",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(months, expected);
    // The view and the trigger came back; the identity goes on after the
    // copied ids; the reader still sees only its organisation's rows.
    psql(
        &pool,
        "INSERT INTO analytics.event (occurred_at, kind, org_id) VALUES (now(), 'NEW', 1)",
    )
    .await;
    let (id, kind): (i64, String) = sqlx::query_as(
        "SELECT id, kind FROM analytics.event WHERE occurred_at > now() - interval '1 hour'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(id > before.0, "{id}");
    assert_eq!(kind, "new", "the trigger is on the new table");
    let (reads,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
         WHERE r.ev_class = 'analytics.kind_count'::regclass AND d.refobjid = 'analytics.event'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(reads > 0, "the view reads the new table");

    // Back to a plain table, every row with it.
    let back = Migrator::new(&migrations)
        .confirm("analytics.event")
        .rollback_to(&as_owner, 1)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    assert_eq!(relkind(&pool).await, "r");
    assert_eq!(census(&pool).await.0, before.0 + 1);
    as_owner.close().await;
}

/// Issue 13, item 5: a partition index dropped by hand is drift, whether
/// the parent's index goes, or comes back on the parent only (`ON ONLY`),
/// which leaves each partition without it.
#[tokio::test]
async fn a_dropped_partition_index_is_drift_on_the_parent_and_on_each_partition() {
    let scratch = Scratch::with_models(EVENTS);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);

    psql(&pool, "DROP INDEX analytics.event_kind_idx").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found: Vec<(DifferenceKind, ObjectKind, &str)> = drift
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            DifferenceKind::Missing,
            ObjectKind::Index,
            "analytics.event_kind_idx"
        )],
        "{drift}"
    );

    psql(
        &pool,
        "CREATE INDEX event_kind_idx ON ONLY analytics.event (kind)",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let mut lacking: Vec<String> = drift
        .differences
        .iter()
        .filter(|d| {
            d.kind == DifferenceKind::Missing
                && d.object == ObjectKind::Index
                && d.property.as_deref() == Some("index event_kind_idx")
        })
        .map(|d| d.name.clone())
        .collect();
    lacking.sort();
    let mut partitions: Vec<String> = children(&pool)
        .await
        .into_iter()
        .map(|c| format!("analytics.{c}"))
        .collect();
    partitions.sort();
    assert_eq!(lacking, partitions, "{drift}");
    assert_eq!(drift.differences.len(), partitions.len(), "{drift}");
}

/// An index added to a partitioned table that exists: `CONCURRENTLY`
/// cannot build on the parent, so the runner makes the parent's index
/// `ON ONLY` (a catalog update), builds it `CONCURRENTLY` on each partition
/// and attaches each build, while rows go on being written. A duplicate
/// in one partition fails that build; a retry, once it is gone, goes on
/// from there and leaves nothing INVALID.
#[tokio::test]
async fn an_index_on_an_existing_partitioned_table_is_built_on_each_partition_while_writes_go_on() {
    let scratch = Scratch::with_models(EVENTS);
    scratch.build();
    let (db, pool) = fresh_db().await;
    crate::support::migrate_clean(&scratch, &pool).await;
    // Rows in this month, next month and the default partition, and one
    // duplicate of (kind, occurred_at) next month.
    psql(
        &pool,
        "INSERT INTO analytics.event (occurred_at, kind)
         SELECT date_trunc('month', now()) + i * interval '1 millisecond'
                + CASE i % 3 WHEN 0 THEN interval '0' WHEN 1 THEN interval '1 month' ELSE interval '100 years' END,
                'kind ' || i
         FROM generate_series(1, 60000) i;
         INSERT INTO analytics.event (occurred_at, kind)
         SELECT occurred_at, kind FROM analytics.event
         WHERE occurred_at >= date_trunc('month', now()) + interval '1 month'
           AND occurred_at < date_trunc('month', now()) + interval '2 months'
         LIMIT 1",
    )
    .await;
    let (per_partition,): (i64,) = sqlx::query_as(
        "SELECT min(n) FROM (SELECT count(*) AS n FROM analytics.event GROUP BY tableoid) c",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(per_partition > 10_000, "rows in three partitions");

    scratch.write_models(&EVENTS.replace(
        "pub struct Event {",
        "#[index(columns = [\"kind\", \"occurred_at\"], unique, name = \"event_kind_at\")]\npub struct Event {",
    ));
    // No confirmation: nothing stops the table's writes.
    let outcome = scratch.builder().run().unwrap();
    let up = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(up.starts_with(strata::NO_TRANSACTION), "{up}");
    assert!(
        up.contains(
            "CREATE UNIQUE INDEX CONCURRENTLY \"event_kind_at\" ON \"analytics\".\"event\""
        ),
        "{up}"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(scratch.migrations_dir().join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(
        manifest["migrations"][1].get("hazards").is_none(),
        "{}",
        manifest["migrations"][1]
    );

    // The duplicate fails next month's build; the parent's index stays
    // invalid, and the build that failed is left INVALID for the retry.
    let migrations = scratch.migrations();
    let failed = Migrator::new(&migrations).run(&pool).await.unwrap_err();
    assert!(
        failed.to_string().contains("could not create unique index"),
        "{failed}"
    );
    let next = month(&pool, 1).await;
    psql(
        &pool,
        &format!("DELETE FROM analytics.{next} WHERE id = (SELECT max(id) FROM analytics.{next})"),
    )
    .await;

    let writer = crate::online::Writer::start(
        db.url(),
        "analytics.event",
        "INSERT INTO analytics.event (occurred_at, kind) VALUES (now(), 'live ' || gen_random_uuid())",
    )
    .await;
    let report = Migrator::new(&migrations)
        .retry_failed(true)
        .run(&pool)
        .await
        .unwrap();
    let (written, refused) = writer.stop().await;
    assert_eq!(refused, 0, "no write failed on a lock of the migration");
    assert!(written > 1, "the writer went on during the migration");
    assert!(report.drift.is_clean(), "{}", report.drift);

    // Every partition has its own index attached to the parent's, and
    // every index is valid.
    let (partitions, attached, invalid): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event'::regclass),
                (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event_kind_at'::regclass),
                (SELECT count(*) FROM pg_index WHERE NOT indisvalid)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(attached, partitions);
    assert_eq!(invalid, 0);
    let duplicate = sqlx::query(&format!(
        "INSERT INTO analytics.event (occurred_at, kind) SELECT occurred_at, kind FROM analytics.{next} LIMIT 1"
    ))
    .execute(&pool)
    .await
    .unwrap_err();
    assert!(
        duplicate.to_string().contains("event_kind_at"),
        "{duplicate}"
    );
}

/// `strata diff --apply` takes the same path: an index that B's
/// partitioned table has and A's lacks is built on each of A's partitions
/// `CONCURRENTLY` and attached, and A reaches parity.
#[tokio::test]
async fn strata_diff_builds_a_partitioned_tables_index_on_each_partition() {
    let scratch = Scratch::with_models(EVENTS);
    scratch.build();
    let (_db_a, a) = fresh_db().await;
    crate::support::migrate_clean(&scratch, &a).await;
    psql(
        &a,
        "INSERT INTO analytics.event (occurred_at, kind)
         SELECT now() + i * interval '1 minute', 'kind ' || i FROM generate_series(1, 1000) i",
    )
    .await;
    scratch.write_models(&EVENTS.replace(
        "pub struct Event {",
        "#[index(columns = [\"kind\", \"occurred_at\"], name = \"event_kind_at\")]\npub struct Event {",
    ));
    scratch.builder().run().unwrap();
    let (_db_b, b) = fresh_db().await;
    crate::support::migrate_clean(&scratch, &b).await;

    let schemas = ["analytics".to_owned()];
    let diff = strata_tools::DatabaseDiff::plan(&a, &b, Some(&schemas), false)
        .await
        .unwrap();
    assert!(
        diff.sql
            .contains("CREATE INDEX CONCURRENTLY \"event_kind_at\" ON \"analytics\".\"event\""),
        "{}",
        diff.sql
    );
    let outcomes = diff.apply(&a).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, strata_tools::StageOutcome::Applied)),
        "{outcomes:?}"
    );
    let (partitions, attached): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event'::regclass),
                (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event_kind_at'::regclass)",
    )
    .fetch_one(&a)
    .await
    .unwrap();
    assert_eq!(attached, partitions);
    assert_eq!(diff.remaining(&a, &b).await.unwrap(), Vec::<String>::new());
}

/// A partition that is partitioned in turn (made by hand: models declare
/// one level) gets the index `ON ONLY` too, its own partitions' builds
/// attached to it, and is attached to the parent's.
#[tokio::test]
async fn an_index_reaches_the_partitions_of_a_partition() {
    let scratch = Scratch::with_models(EVENTS);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    crate::support::migrate_clean(&scratch, &pool).await;
    psql(
        &pool,
        "CREATE TABLE analytics.event_y2100 (LIKE analytics.event) PARTITION BY RANGE (occurred_at);
         CREATE TABLE analytics.event_y2100_h1 PARTITION OF analytics.event_y2100
             FOR VALUES FROM ('2100-01-01') TO ('2100-07-01');
         CREATE TABLE analytics.event_y2100_h2 PARTITION OF analytics.event_y2100
             FOR VALUES FROM ('2100-07-01') TO ('2101-01-01');
         ALTER TABLE analytics.event ATTACH PARTITION analytics.event_y2100
             FOR VALUES FROM ('2100-01-01') TO ('2101-01-01');
         INSERT INTO analytics.event (occurred_at, kind)
         SELECT '2100-01-01'::timestamptz + i * interval '3 days', 'kind ' || i
         FROM generate_series(1, 100) i",
    )
    .await;
    scratch.write_models(&EVENTS.replace(
        "pub struct Event {",
        "#[index(columns = [\"kind\", \"occurred_at\"], name = \"event_kind_at\")]\npub struct Event {",
    ));
    scratch.builder().run().unwrap();
    Migrator::new(&scratch.migrations())
        .drift_policy(strata::DriftPolicy::Warn)
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let (children, attached, grandchildren, attached_below, valid): (i64, i64, i64, i64, bool) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event'::regclass),
                    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event_kind_at'::regclass),
                    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event_y2100'::regclass),
                    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'analytics.event_y2100_event_kind_at'::regclass),
                    (SELECT bool_and(indisvalid) FROM pg_index)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attached, children);
    assert_eq!((grandchildren, attached_below), (2, 2));
    assert!(valid, "every index valid, the parent's too");
}
