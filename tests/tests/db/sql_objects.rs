//! Issue 11, item 4: functions, procedures and triggers from the files of
//! `Builder::sql_dir`, from the build to a real PostgreSQL and back.

use strata::{check_drift, DifferenceKind, Migrator, ObjectKind};

use crate::support::{fresh_db, psql, Scratch};

const MODELS: &str = r#"
#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "shop.order_code()")]
    pub code: String,
    pub total_cents: i32,
}

#[strata::schema("audit", table = "change_log")]
pub struct Change {
    #[column(primary_key, identity)]
    pub id: i64,
    pub table_name: String,
    pub op: String,
}

#[strata::view("shop", sql = "SELECT shop.order_count() AS orders")]
pub struct OrderCount {
    pub orders: i64,
}
"#;

const ORDER_CODE: &str = "-- Called by the default of shop.orders.code: made before the table.
CREATE FUNCTION shop.order_code() RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT 'ord-' || substr(md5(random()::text), 1, 8) $$;
";

const ORDER_COUNT: &str = "CREATE FUNCTION shop.order_count() RETURNS bigint LANGUAGE sql STABLE
AS $$ SELECT count(*) FROM shop.orders $$;
";

const LOG_CHANGE: &str = "CREATE OR REPLACE FUNCTION audit.log_change() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  -- A ';' in a comment and in 'a; string' split nothing.
  INSERT INTO audit.change_log (table_name, op) VALUES (TG_TABLE_NAME, TG_OP);
  RETURN NULL;
END
$body$;
";

const ORDERS_AUDIT: &str = "CREATE TRIGGER orders_audit
AFTER INSERT OR UPDATE OR DELETE ON shop.orders
FOR EACH ROW EXECUTE FUNCTION audit.log_change();
";

const ADD_CENTS: &str = "CREATE PROCEDURE shop.add_cents(n integer)
LANGUAGE sql AS $$ UPDATE shop.orders SET total_cents = total_cents + n $$;
";

fn scratch() -> Scratch {
    let scratch = Scratch::with_models(MODELS);
    scratch.write_file("db/functions/order_code.sql", ORDER_CODE);
    scratch.write_file("db/functions/order_count.sql", ORDER_COUNT);
    scratch.write_file("db/functions/log_change.sql", LOG_CHANGE);
    scratch.write_file("db/triggers/orders_audit.sql", ORDERS_AUDIT);
    scratch.write_file("db/procedures/add_cents.sql", ADD_CENTS);
    scratch
}

fn build(scratch: &Scratch) -> String {
    let outcome = scratch.builder().sql_dir("db").run().unwrap();
    std::fs::read_to_string(outcome.written.expect("a migration")).unwrap()
}

/// Each difference as its kind, object and name.
fn kinds_and_names(drift: &strata::DriftReport) -> Vec<(DifferenceKind, ObjectKind, &str)> {
    drift
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.as_str()))
        .collect()
}

async fn count(pool: &strata::sqlx::PgPool, sql: &str) -> i64 {
    let (n,): (i64,) = strata::sqlx::query_as(sql).fetch_one(pool).await.unwrap();
    n
}

#[tokio::test]
async fn functions_and_triggers_are_made_in_dependency_order_replaced_remade_and_drift_checked() {
    let scratch = scratch();
    let up = build(&scratch);
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    // The default's function before its table; the function a SQL body
    // reads the table in after it, and before the view that calls it; the
    // trigger after its table and function.
    assert!(at("CREATE FUNCTION shop.order_code()") < at(r#"CREATE TABLE "shop"."orders""#));
    assert!(at(r#"CREATE TABLE "shop"."orders""#) < at("CREATE FUNCTION shop.order_count()"));
    assert!(at("CREATE FUNCTION shop.order_count()") < at(r#"CREATE VIEW "shop"."order_count""#));
    assert!(
        at("CREATE OR REPLACE FUNCTION audit.log_change()") < at("CREATE TRIGGER orders_audit")
    );
    assert!(at(r#"CREATE TABLE "audit"."change_log""#) < at("CREATE TRIGGER orders_audit"));
    assert!(!up.contains("CASCADE"), "{up}");

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO shop.orders (total_cents) VALUES (100), (250)",
    )
    .await;
    psql(&pool, "CALL shop.add_cents(5)").await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM shop.orders WHERE code LIKE 'ord-%' AND total_cents IN (105, 255)").await,
        2,
        "the default called its function, the procedure ran"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM audit.change_log").await,
        4,
        "the trigger logged two inserts and two updates"
    );

    // A new body: replaced in place, nothing dropped.
    scratch.write_file(
        "db/functions/order_count.sql",
        &ORDER_COUNT.replace("FROM shop.orders", "FROM shop.orders WHERE total_cents > 0"),
    );
    let replace = build(&scratch);
    assert!(
        replace.contains("CREATE OR REPLACE FUNCTION shop.order_count()"),
        "{replace}"
    );
    assert!(!replace.contains("DROP"), "{replace}");
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);

    // A new return type: the function and exactly the view over it go, and
    // come back, in order; the trigger and its function are not touched.
    scratch.write_file(
        "db/functions/order_count.sql",
        &ORDER_COUNT
            .replace("RETURNS bigint", "RETURNS integer")
            .replace("count(*)", "count(*)::integer"),
    );
    let remake = build(&scratch);
    let at = |text: &str| {
        remake
            .find(text)
            .unwrap_or_else(|| panic!("{text} in:\n{remake}"))
    };
    assert!(
        at(r#"DROP VIEW "shop"."order_count";"#) < at(r#"DROP FUNCTION "shop"."order_count"();"#)
    );
    assert!(
        at(r#"DROP FUNCTION "shop"."order_count"();"#) < at("CREATE FUNCTION shop.order_count()")
    );
    assert!(at("CREATE FUNCTION shop.order_count()") < at(r#"CREATE VIEW "shop"."order_count""#));
    assert!(
        !remake.contains("TRIGGER") && !remake.contains("CASCADE"),
        "{remake}"
    );
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (orders,): (i32,) = strata::sqlx::query_as("SELECT orders FROM shop.order_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(orders, 2);

    // Rolled back through both: the first definitions again, and clean.
    Migrator::new(&migrations)
        .rollback_to(&pool, 1)
        .await
        .unwrap();
    let at_one = strata::check_drift_at(&pool, &migrations, 1).await.unwrap();
    assert!(at_one.is_clean(), "{at_one}");
    let (orders,): (i64,) = strata::sqlx::query_as("SELECT orders AS again FROM shop.order_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(orders, 2, "the bigint view is back");
    Migrator::new(&migrations).run(&pool).await.unwrap();

    // Changes by hand are drift, each named.
    psql(
        &pool,
        "CREATE OR REPLACE FUNCTION audit.log_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    )
    .await;
    psql(&pool, "DROP TRIGGER orders_audit ON shop.orders").await;
    psql(&pool, "CREATE TRIGGER by_hand BEFORE DELETE ON shop.orders FOR EACH ROW EXECUTE FUNCTION audit.log_change()").await;
    psql(
        &pool,
        "CREATE FUNCTION shop.by_hand(a int) RETURNS int LANGUAGE sql AS 'SELECT a'",
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found: Vec<(DifferenceKind, ObjectKind, String)> = drift
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                DifferenceKind::Changed,
                ObjectKind::Function,
                "audit.log_change()".to_owned()
            ),
            (
                DifferenceKind::Unexpected,
                ObjectKind::Function,
                "shop.by_hand(integer)".to_owned()
            ),
            (
                DifferenceKind::Missing,
                ObjectKind::Trigger,
                "shop.orders.orders_audit".to_owned()
            ),
            (
                DifferenceKind::Unexpected,
                ObjectKind::Trigger,
                "shop.orders.by_hand".to_owned()
            ),
        ],
        "{drift}"
    );
    // The health report lists them by kind and schema, as found.
    let health = serde_json::to_value(strata::health(&pool, &migrations).await.unwrap()).unwrap();
    let shop = health["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "shop")
        .unwrap();
    assert_eq!(health["status"], "drift");
    assert_eq!(
        shop["objects"]["functions"],
        serde_json::json!({
            "expected": ["order_code()", "order_count()"],
            "found": ["by_hand(integer)", "order_code()", "order_count()"],
        })
    );
    assert_eq!(
        shop["objects"]["triggers"],
        serde_json::json!({"expected": ["orders.orders_audit"], "found": ["orders.by_hand"]})
    );
    assert_eq!(
        shop["objects"]["procedures"]["found"],
        serde_json::json!(["add_cents(integer)"])
    );
    assert_eq!(
        shop["objects"]["views"]["expected"],
        serde_json::json!(["order_count"])
    );
    let text = drift.to_string();
    assert!(text.contains("changed function audit.log_change() definition: expected CREATE OR REPLACE FUNCTION audit.log_change()"), "{text}");
    assert!(
        text.contains("found CREATE OR REPLACE FUNCTION audit.log_change()"),
        "{text}"
    );

    // A file removed: its object is dropped, and the down file makes it again.
    std::fs::remove_file(scratch.path().join("db/triggers/orders_audit.sql")).unwrap();
    std::fs::remove_file(scratch.path().join("db/procedures/add_cents.sql")).unwrap();
    let dropped = build(&scratch);
    assert!(
        dropped.contains(r#"DROP TRIGGER "orders_audit" ON "shop"."orders";"#),
        "{dropped}"
    );
    assert!(
        dropped.contains(r#"DROP PROCEDURE "shop"."add_cents"(integer);"#),
        "{dropped}"
    );
}

#[test]
fn what_sql_dir_cannot_take_is_a_build_error_naming_the_file() {
    let cases = [
        (
            "db/two.sql",
            "CREATE FUNCTION shop.a() RETURNS int RETURN 1;\n\nCREATE FUNCTION shop.b() RETURNS int RETURN 2;",
            "two.sql:3: holds 2 statements, and sql_dir takes one object per file: move statement 2 (`CREATE FUNCTION shop.b() RETURNS …`) to a file of its own",
        ),
        (
            "db/table.sql",
            "CREATE TABLE shop.t (id int);",
            "table.sql:1: `CREATE TABLE shop.t …` is not a function or procedure, sequence, domain, trigger, exclusion constraint, event trigger, publication, comment or grant",
        ),
        (
            "db/comment_table.sql",
            "COMMENT ON TABLE shop.orders IS 'x';",
            "comment_table.sql:1: a table's or column's comment is its model's doc comment",
        ),
        (
            "db/comment_nowhere.sql",
            "COMMENT ON FUNCTION shop.order_code(text) IS 'x';",
            "comment_nowhere.sql:1: the comment is on function shop.order_code(text), which no model or sql_dir file declares",
        ),
        (
            "db/comment_bare.sql",
            "COMMENT ON VIEW totals IS 'x';",
            "comment_bare.sql:1: name the schema: `COMMENT ON VIEW app.totals …`",
        ),
        (
            "db/comment_null.sql",
            "COMMENT ON INDEX shop.orders_pkey IS NULL;",
            "comment_null.sql:1: the comment on index shop.orders_pkey must be one string in single quotes",
        ),
        (
            "db/bare.sql",
            "CREATE FUNCTION order_total() RETURNS int RETURN 1;",
            "bare.sql:1: name the schema of FUNCTION order_total",
        ),
        (
            "db/elsewhere.sql",
            "CREATE TRIGGER t AFTER INSERT ON shop.nowhere FOR EACH ROW EXECUTE FUNCTION shop.f();",
            "elsewhere.sql:1: trigger t is on shop.nowhere, which no model declares",
        ),
        ("db/notes.txt", "remember the milk", "notes.txt: sql_dir holds only `.sql` files"),
        (
            "db/seq.sql",
            "CREATE SEQUENCE shop.s OWNED BY shop.orders.nope;",
            "seq.sql:1: sequence shop.s is OWNED BY shop.orders.nope, which is no column of a model",
        ),
        (
            "db/restart.sql",
            "CREATE SEQUENCE shop.s RESTART 5;",
            "restart.sql:1: sequence shop.s: `RESTART` is not a sequence option strata takes",
        ),
        ("db/empty.sql", "-- nothing yet\n", "empty.sql: holds no statement"),
    ];
    for (file, text, says) in cases {
        let scratch = Scratch::with_models(MODELS);
        scratch.write_file("db/functions/order_code.sql", ORDER_CODE);
        scratch.write_file(file, text);
        let error = scratch
            .builder()
            .sql_dir("db")
            .run()
            .unwrap_err()
            .to_string();
        assert!(error.contains(says), "{file}: {error}");
        assert!(
            !scratch.migrations_dir().join("0001_initial.sql").exists(),
            "{file}: nothing written"
        );
    }
}

const NUMBERED: &str = r#"
#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "nextval('shop.order_no')")]
    pub number: i64,
}
"#;

const ORDER_NO: &str =
    "CREATE SEQUENCE shop.order_no START WITH 1000 OWNED BY shop.orders.number;\n";

#[tokio::test]
async fn a_sequence_comes_before_the_default_that_calls_it_and_is_owned_once_its_column_exists() {
    let scratch = Scratch::with_models(NUMBERED);
    scratch.write_file("db/order_no.sql", ORDER_NO);
    let up = build(&scratch);
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(
        at("CREATE SEQUENCE shop.order_no START WITH 1000;")
            < at(r#"CREATE TABLE "shop"."orders""#)
    );
    assert!(
        at(r#"CREATE TABLE "shop"."orders""#)
            < at(r#"ALTER SEQUENCE "shop"."order_no" OWNED BY "shop"."orders"."number";"#)
    );
    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(&pool, "INSERT INTO shop.orders DEFAULT VALUES").await;

    // New options: altered in place, the current value kept.
    scratch.write_file(
        "db/order_no.sql",
        &ORDER_NO.replace("START WITH 1000", "START WITH 1000 INCREMENT BY 10"),
    );
    let alter = build(&scratch);
    assert!(
        alter.contains(r#"ALTER SEQUENCE "shop"."order_no" INCREMENT BY 10;"#),
        "{alter}"
    );
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(&pool, "INSERT INTO shop.orders DEFAULT VALUES").await;
    assert_eq!(
        count(&pool, "SELECT max(number) FROM shop.orders").await,
        1010,
        "1000, then 1010: the sequence went on from where it was"
    );

    // By hand: a changed option and a stray sequence are drift; the
    // identity column's own sequence is not.
    psql(&pool, "ALTER SEQUENCE shop.order_no CACHE 5").await;
    psql(&pool, "CREATE SEQUENCE shop.by_hand").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(
        drift.to_string(),
        "2 differences\n  - changed sequence shop.order_no cache: expected 1, found 5\n  - unexpected sequence shop.by_hand",
    );
    psql(&pool, "ALTER SEQUENCE shop.order_no CACHE 1").await;
    psql(&pool, "DROP SEQUENCE shop.by_hand").await;

    // Dropped: it loses its value, so the build asks first.
    std::fs::remove_file(scratch.path().join("db/order_no.sql")).unwrap();
    scratch
        .write_models(&NUMBERED.replace("#[column(default = \"nextval('shop.order_no')\")]", ""));
    let refused = scratch
        .builder()
        .sql_dir("db")
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("shop.order_no") && refused.contains("current value is lost"),
        "{refused}"
    );
    let outcome = scratch
        .builder()
        .sql_dir("db")
        .confirm("shop.order_no")
        .run()
        .unwrap();
    let drop = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(
        drop.find(r#"OWNED BY NONE"#) < drop.find(r#"DROP SEQUENCE "shop"."order_no";"#),
        "{drop}"
    );
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 2)
        .await
        .unwrap();
    let back = strata::check_drift_at(&pool, &migrations, 2).await.unwrap();
    assert!(
        back.is_clean(),
        "the sequence and its owner are back: {back}"
    );
}

const OPEN_ORDERS: &str = r#"
#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    pub total_cents: i32,
}

#[strata::view("shop", sql = "SELECT id, total_cents FROM shop.orders WHERE total_cents > 0")]
pub struct OpenOrder {
    pub id: i64,
    pub total_cents: i32,
}
"#;

const INSERT_OPEN_ORDER: &str = "CREATE FUNCTION shop.insert_open_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO shop.orders (total_cents) VALUES (NEW.total_cents);
  RETURN NEW;
END
$$;
";

const OPEN_ORDERS_INSERT: &str = "CREATE TRIGGER open_orders_insert
INSTEAD OF INSERT ON shop.open_order
FOR EACH ROW EXECUTE FUNCTION shop.insert_open_order();
";

/// An `INSTEAD OF` trigger makes a view writable: it comes after its view
/// and its function, works, is drift-checked, and the rollback removes it
/// before the view.
#[tokio::test]
async fn an_instead_of_trigger_on_a_view_comes_after_the_view_and_is_drift_checked() {
    let scratch = Scratch::with_models(OPEN_ORDERS);
    scratch.write_file("db/functions/insert_open_order.sql", INSERT_OPEN_ORDER);
    scratch.write_file("db/triggers/open_orders_insert.sql", OPEN_ORDERS_INSERT);
    let up = build(&scratch);
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(at(r#"CREATE VIEW "shop"."open_order""#) < at("CREATE TRIGGER open_orders_insert"));
    assert!(
        at("CREATE FUNCTION shop.insert_open_order()") < at("CREATE TRIGGER open_orders_insert")
    );

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO shop.open_order (total_cents) VALUES (70)",
    )
    .await;
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM shop.orders WHERE total_cents = 70"
        )
        .await,
        1,
        "the insert through the view reached the table"
    );

    psql(&pool, "DROP TRIGGER open_orders_insert ON shop.open_order").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found = kinds_and_names(&drift);
    assert_eq!(
        found,
        [(
            DifferenceKind::Missing,
            ObjectKind::Trigger,
            "shop.open_order.open_orders_insert"
        )],
        "{drift}"
    );
    psql(&pool, OPEN_ORDERS_INSERT).await;
    assert!(check_drift(&pool, &migrations).await.unwrap().is_clean());

    // A new definition makes the view again, and `DROP VIEW` would take
    // the trigger with it: the trigger goes first and comes back after.
    scratch.write_file(
        "src/models.rs",
        &OPEN_ORDERS.replace("WHERE total_cents > 0", "WHERE total_cents >= 0"),
    );
    let remake = build(&scratch);
    let at = |text: &str| {
        remake
            .find(text)
            .unwrap_or_else(|| panic!("{text} in:\n{remake}"))
    };
    assert!(at("DROP TRIGGER \"open_orders_insert\"") < at("DROP VIEW"));
    assert!(at("CREATE VIEW") < at("CREATE TRIGGER open_orders_insert"));
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    psql(
        &pool,
        "INSERT INTO shop.open_order (total_cents) VALUES (0)",
    )
    .await;
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM shop.orders WHERE total_cents = 0"
        )
        .await,
        1,
        "the trigger came back with its view"
    );

    // Back to nothing: the trigger goes before its view.
    let back = Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 0)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'open_orders_insert'"
        )
        .await,
        0
    );
}

const CHECK_BALANCE: &str = "CREATE FUNCTION shop.check_balance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT sum(total_cents) FROM shop.orders) < 0 THEN
    RAISE EXCEPTION 'the orders do not balance';
  END IF;
  RETURN NULL;
END
$$;
";

const ORDERS_BALANCE: &str = "CREATE CONSTRAINT TRIGGER orders_balance
AFTER INSERT OR UPDATE ON shop.orders
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION shop.check_balance();
";

/// A constraint trigger, deferred to the end of the transaction: made
/// after its table and function, checked at commit, drift-checked, and
/// rolled back.
#[tokio::test]
async fn a_deferred_constraint_trigger_checks_at_commit_and_is_drift_checked() {
    let scratch = Scratch::with_models(OPEN_ORDERS);
    scratch.write_file("db/functions/check_balance.sql", CHECK_BALANCE);
    scratch.write_file("db/triggers/orders_balance.sql", ORDERS_BALANCE);
    let up = build(&scratch);
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(at(r#"CREATE TABLE "shop"."orders""#) < at("CREATE CONSTRAINT TRIGGER orders_balance"));

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    // Deferred: a transaction may pass through a negative sum and end balanced.
    psql(
        &pool,
        "BEGIN; INSERT INTO shop.orders (total_cents) VALUES (-5); INSERT INTO shop.orders (total_cents) VALUES (5); COMMIT;",
    )
    .await;
    let refused =
        strata::sqlx::raw_sql("BEGIN; INSERT INTO shop.orders (total_cents) VALUES (-50); COMMIT;")
            .execute(&pool)
            .await;
    assert!(
        refused.is_err_and(|e| e.to_string().contains("do not balance")),
        "the check ran at commit"
    );

    psql(&pool, "DROP TRIGGER orders_balance ON shop.orders").await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    let found = kinds_and_names(&drift);
    assert_eq!(
        found,
        [(
            DifferenceKind::Missing,
            ObjectKind::Trigger,
            "shop.orders.orders_balance"
        )],
        "{drift}"
    );
    // Made again not deferrable: its definition differs.
    psql(
        &pool,
        &ORDERS_BALANCE.replace("DEFERRABLE INITIALLY DEFERRED\n", ""),
    )
    .await;
    let drift = check_drift(&pool, &migrations).await.unwrap();
    assert_eq!(drift.differences.len(), 1, "{drift}");
    assert_eq!(
        drift.differences[0].kind,
        DifferenceKind::Changed,
        "{drift}"
    );
    psql(&pool, "DROP TRIGGER orders_balance ON shop.orders").await;
    psql(&pool, ORDERS_BALANCE).await;
    assert!(check_drift(&pool, &migrations).await.unwrap().is_clean());

    let back = Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 0)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
}

#[tokio::test]
async fn a_function_may_call_one_made_after_it_and_a_broken_body_still_fails_the_migration() {
    let scratch = Scratch::with_models(MODELS);
    scratch.write_file("db/functions/order_code.sql", ORDER_CODE);
    scratch.write_file("db/functions/order_count.sql", ORDER_COUNT);
    // Made in name order: the wrapper before the helper its body calls.
    scratch.write_file(
        "db/functions/a_wrapper.sql",
        "CREATE FUNCTION shop.a_wrapper(input text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT shop.z_helper(input) $$;",
    );
    scratch.write_file(
        "db/functions/z_helper.sql",
        "CREATE FUNCTION shop.z_helper(input text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(input) $$;",
    );
    scratch.builder().sql_dir("db").run().unwrap();
    let (_db, pool) = fresh_db().await;
    let report = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (called,): (String,) = strata::sqlx::query_as("SELECT shop.a_wrapper('hi')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(called, "HI");

    // A body that calls nothing that exists is still refused when the
    // migration runs, naming the function, and nothing of it is applied.
    scratch.write_file(
        "db/functions/broken.sql",
        "CREATE FUNCTION shop.broken() RETURNS text LANGUAGE sql AS $$ SELECT shop.nowhere() $$;",
    );
    scratch.builder().sql_dir("db").run().unwrap();
    let error = Migrator::new(&scratch.migrations())
        .run(&pool)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(r#""shop"."broken"()"#), "{error}");
    assert!(
        error.contains("function shop.nowhere() does not exist"),
        "{error}"
    );
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regprocedure('shop.broken()') IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!exists, "rolled back with its migration");
}
