//! The SQL the macro generates runs against the tables the build step creates from the same source.

use strata::sqlx;
use strata::Model;

use crate::support::{apply, fresh_db, Scratch, SHOP};

include!("fixtures/shop.rs");

#[test]
fn model_constants_are_quoted_and_qualified() {
    assert_eq!(Customer::SCHEMA, "tenant_kct");
    assert_eq!(Customer::TABLE, "customers");
    assert_eq!(Customer::QUALIFIED, r#""tenant_kct"."customers""#);
    assert_eq!(Customer::COLUMNS, ["id", "email", "display_name", "note"]);
    assert_eq!(Customer::PRIMARY_KEY, ["id"]);
    assert_eq!(
        Customer::SELECT,
        r#"SELECT "id", "email", "display_name", "note" FROM "tenant_kct"."customers""#
    );
    assert_eq!(StockLevel::TABLE, "stock_level");
    assert_eq!(StockLevel::PRIMARY_KEY, ["sku", "warehouse"]);
}

#[tokio::test]
async fn insert_select_update_delete_round_trip() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;

    let inserted: Customer = sqlx::query_as(Customer::INSERT)
        .bind("ada@example.com")
        .bind("Ada")
        .bind(None::<String>)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(inserted.id > 0, "the identity column gives the id");
    assert_eq!(inserted.cached, None, "skipped fields take their default");

    let updated = sqlx::query(Customer::UPDATE_BY_PK)
        .bind("ada@example.org")
        .bind("Ada L.")
        .bind(Some("prefers email"))
        .bind(inserted.id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 1);

    let read: Customer = sqlx::query_as(Customer::SELECT_BY_PK)
        .bind(inserted.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        read,
        Customer {
            id: inserted.id,
            email: "ada@example.org".into(),
            name: "Ada L.".into(),
            note: Some("prefers email".into()),
            cached: None,
        }
    );

    let level: StockLevel = sqlx::query_as(StockLevel::INSERT)
        .bind("SUIT-40R")
        .bind(3)
        .bind(12)
        .fetch_one(&pool)
        .await
        .unwrap();
    let by_key: StockLevel = sqlx::query_as(StockLevel::SELECT_BY_PK)
        .bind("SUIT-40R")
        .bind(3)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(by_key, level);

    let deleted = sqlx::query(Customer::DELETE_BY_PK)
        .bind(inserted.id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    let all: Vec<Customer> = sqlx::query_as(Customer::SELECT)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(all.is_empty());
}

/// Issue 10, item 10: `INSERT` and `UPDATE_BY_PK` bind by position; `insert_row` and
/// `update_row` bind each field to its own column, so same-typed fields
/// (three strings here) can never trade places.
#[tokio::test]
async fn insert_row_and_update_row_bind_each_field_to_its_own_column() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let (_db, pool) = fresh_db().await;
    apply(&pool, &scratch.migrations()).await;

    let mut customer = Customer {
        id: 0,
        email: "ada@example.com".into(),
        name: "Ada".into(),
        note: Some("a note".into()),
        cached: Some(7),
    };
    let stored = customer.insert_row(&pool).await.unwrap();
    assert!(
        stored.id > 0,
        "the identity column gives the id, not the field"
    );
    let raw: (String, String, Option<String>) = sqlx::query_as(
        r#"SELECT email, display_name, note FROM tenant_kct.customers WHERE id = $1"#,
    )
    .bind(stored.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        raw,
        (
            "ada@example.com".into(),
            "Ada".into(),
            Some("a note".into())
        )
    );

    customer.id = stored.id;
    customer.name = "Ada L.".into();
    customer.note = None;
    assert_eq!(customer.update_row(&pool).await.unwrap(), 1);
    let read: Customer = sqlx::query_as(Customer::SELECT_BY_PK)
        .bind(stored.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (read.email.as_str(), read.name.as_str(), read.note),
        ("ada@example.com", "Ada L.", None)
    );
    customer.id = stored.id + 1000;
    assert_eq!(customer.update_row(&pool).await.unwrap(), 0, "no such row");

    let level = StockLevel {
        sku: "SKU-1".into(),
        warehouse: 3,
        quantity: 12,
    };
    let stored = level.insert_row(&pool).await.unwrap();
    assert_eq!(stored, level, "a composite key is inserted from its fields");
}
