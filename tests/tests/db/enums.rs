//! Issue 11, item 2: enum types, from a Rust enum to a PostgreSQL type and back.

use strata::{check_drift, Error, Migrator, PgEnum};

use crate::support::{fresh_db, psql, Scratch};

const ENUMS: &str = include_str!("fixtures/enums.rs");

include!("fixtures/enums.rs");

#[tokio::test]
async fn an_enum_field_binds_and_reads_and_its_type_comes_before_its_table() {
    assert_eq!(OrderStatus::QUALIFIED, r#""shop"."order_status""#);
    assert_eq!(OrderStatus::VALUES, ["pending", "paid", "shipped"]);
    let scratch = Scratch::with_models(ENUMS);
    scratch.build();
    let up = &scratch.files()[1].1;
    let ty =
        up.find(r#"CREATE TYPE "shop"."order_status" AS ENUM ('pending', 'paid', 'shipped');"#);
    let table = up.find(r#""status" "shop"."order_status" DEFAULT 'pending' NOT NULL"#);
    assert!(ty.is_some() && table.is_some() && ty < table, "{up}");

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let stored = Order {
        id: 0,
        status: OrderStatus::Paid,
        previous: Some(OrderStatus::Pending),
    }
    .insert_row(&pool)
    .await
    .unwrap();
    assert!(stored.id > 0);
    assert_eq!(stored.status, OrderStatus::Paid);
    assert_eq!(stored.previous, Some(OrderStatus::Pending));
    psql(&pool, "INSERT INTO shop.orders DEFAULT VALUES").await;
    let all: Vec<Order> = strata::sqlx::query_as(&format!("{} ORDER BY id", Order::SELECT))
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(all[1].status, OrderStatus::Pending, "the default");
    assert_eq!(all[1].previous, None);

    // A value the binary does not know is an error naming it, not a panic.
    psql(&pool, "ALTER TYPE shop.order_status ADD VALUE 'lost'").await;
    psql(
        &pool,
        "UPDATE shop.orders SET status = 'lost' WHERE previous IS NULL",
    )
    .await;
    let unknown = strata::sqlx::query_as::<_, Order>(Order::SELECT)
        .fetch_all(&pool)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains(r#""shop"."order_status" has no value `lost`"#),
        "{unknown}"
    );
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "1 difference\n  - changed enum shop.order_status values: expected pending, paid, shipped, found pending, paid, shipped, lost"
    );
}

#[tokio::test]
async fn added_values_commit_before_anything_uses_them_and_a_renamed_value_is_renamed() {
    let scratch = Scratch::with_models(ENUMS);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap();
    psql(&pool, "INSERT INTO shop.orders (status) VALUES ('shipped')").await;

    // New values first and last, one renamed, and the new value as the
    // default in the same build.
    let next = ENUMS
        .replace("    Pending,\n", "    Draft,\n    Pending,\n")
        .replace(
            "    Shipped,\n",
            "    #[value(renamed_from = \"shipped\")]\n    Sent,\n    Refunded,\n",
        )
        .replace("default = \"'pending'\"", "default = \"'draft'\"");
    scratch.write_models(&next);
    let outcome = scratch.build();
    let files = scratch.files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"0002_change_3_enums.sql"), "{names:?}");
    let (_, adds) = files
        .iter()
        .find(|(n, _)| n == "0002_change_3_enums.sql")
        .unwrap();
    assert!(
        adds.contains(
            r#"ALTER TYPE "shop"."order_status" ADD VALUE IF NOT EXISTS 'draft' BEFORE 'pending';"#
        ),
        "{adds}"
    );
    assert!(
        adds.contains(
            r#"ALTER TYPE "shop"."order_status" ADD VALUE IF NOT EXISTS 'refunded' AFTER 'sent';"#
        ),
        "{adds}"
    );
    let rest = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    let rename = adds.find(r#"RENAME VALUE 'shipped' TO 'sent';"#);
    assert!(
        rename.is_some() && rename < adds.find("'refunded' AFTER 'sent'"),
        "{adds}"
    );
    assert!(rest.contains(r#"SET DEFAULT 'draft'"#), "{rest}");

    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert_eq!(report.applied.len(), 2);
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (status,): (String,) = strata::sqlx::query_as("SELECT status::text FROM shop.orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "sent", "the row's value was renamed with the type");
    psql(&pool, "INSERT INTO shop.orders DEFAULT VALUES").await;

    // Back: the added values go by a rebuild, which needs confirming, and
    // fails while a row holds one of them.
    let refused = Migrator::new(&migrations).rollback_to(&pool, 1).await;
    assert!(
        matches!(refused, Err(Error::UnconfirmedRollback { .. })),
        "{refused:?}"
    );
    let failed = Migrator::new(&migrations)
        .confirm("shop.order_status")
        .rollback_to(&pool, 1)
        .await;
    // Migration 3 was undone first; 2's down file fails on the row, and
    // the error says where the database stands.
    assert!(
        matches!(&failed, Err(Error::RollbackIncomplete { at: 2, cause, .. })
            if matches!(**cause, Error::MigrationFailed { .. })),
        "a row holds 'draft': {failed:?}"
    );
    psql(&pool, "DELETE FROM shop.orders WHERE status = 'draft'").await;
    let back = Migrator::new(&migrations)
        .confirm("shop.order_status")
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    let (status,): (String,) = strata::sqlx::query_as("SELECT status::text FROM shop.orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "shipped");
}

#[tokio::test]
async fn removing_a_value_rebuilds_the_type_only_when_confirmed() {
    let scratch = Scratch::with_models(ENUMS);
    scratch.build();
    scratch.write_models(&ENUMS.replace("    Paid,\n", ""));
    let refused = scratch.builder().run().unwrap_err().to_string();
    assert!(refused.contains("shop.order_status"), "{refused}");
    assert!(refused.contains("remove enum values paid"), "{refused}");
    scratch
        .builder()
        .confirm("shop.order_status")
        .run()
        .unwrap();

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    // At version 1, a row holding the value to be removed stops the rebuild.
    Migrator::new(&migrations)
        .target(1)
        .run(&pool)
        .await
        .unwrap();
    psql(
        &pool,
        "INSERT INTO shop.orders (status) VALUES ('paid'), ('shipped')",
    )
    .await;
    let failed = Migrator::new(&migrations).run(&pool).await;
    assert!(
        matches!(failed, Err(Error::MigrationFailed { .. })),
        "{failed:?}"
    );
    psql(
        &pool,
        "UPDATE shop.orders SET status = 'pending' WHERE status = 'paid'",
    )
    .await;
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (n,): (i64,) = strata::sqlx::query_as("SELECT count(*) FROM shop.orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 2, "every row is kept through the rebuild");
}
