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
    strata_build::pull::write(&state, krate.path()).unwrap();
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
