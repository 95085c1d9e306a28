//! The `strata` binary against a real PostgreSQL: each command's exit
//! status, its JSON, and that `status` and `plan` change nothing.

use std::path::Path;
use std::process::{Command, Output};

use strata::sqlx::{self, PgPool};

#[path = "cli/folder.rs"]
mod folder;
#[path = "cli/pending.rs"]
mod pending;
#[path = "cli/tls.rs"]
mod tls;

const SHOP: &str = r#"
#[strata::schema("shop", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub note: Option<String>,
}

#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade")]
    pub customer_id: i64,
}

#[strata::schema("public", table = "tenants")]
pub struct TenantRow {
    #[column(primary_key)]
    pub id: String,
}

#[strata::schema(tenant, table = "contacts")]
pub struct Contact {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
}
"#;

/// A crate whose models are [`SHOP`], built: its migrations are written.
fn built() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/models.rs"), SHOP).unwrap();
    build(dir.path());
    dir
}

/// Builds the crate at `dir`, as its build script would, unfrozen.
fn build(dir: &Path) {
    strata_build::Builder::new()
        .crate_dir(dir)
        .frozen(false)
        .run()
        .expect("the build writes the migrations");
}

/// [`built`], and a database `strata migrate` brought up to it.
async fn migrated() -> (tempfile::TempDir, strata::testing::TestDatabase, PgPool) {
    let krate = built();
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    assert_eq!(code(&strata(krate.path(), db.url(), &["migrate"])), 0);
    (krate, db, pool)
}

/// Runs `strata` with `args` on the migrations of `crate_dir` and the database at `url`.
fn strata(crate_dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--migrations")
        .arg(crate_dir.join("migrations"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("STRATA_CONFIRM")
        .output()
        .expect("the binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit status")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn tracked(pool: &PgPool) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass('strata.migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn status_plan_migrate_drift_and_rollback_report_with_their_exit_status() {
    let krate = built();
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    let url = db.url();

    // Nothing applied: status says pending (2), plan shows the SQL, and
    // neither creates anything, not even the tracking table.
    let status = strata(krate.path(), url, &["status", "--json"]);
    assert_eq!(code(&status), 2, "{}", stderr(&status));
    let report = json(&status);
    assert_eq!(report["report"], "status");
    assert_eq!(report["migrations"][0]["state"], "pending");
    let plan = strata(krate.path(), url, &["plan"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    let sql = String::from_utf8_lossy(&plan.stdout);
    assert!(sql.contains(r#"CREATE TABLE "shop"."customers""#), "{sql}");
    assert!(!tracked(&pool).await, "plan and status changed nothing");

    let migrate = strata(krate.path(), url, &["migrate", "--json"]);
    assert_eq!(code(&migrate), 0, "{}", stderr(&migrate));
    let report = json(&migrate);
    assert_eq!(report["applied"].as_array().unwrap().len(), 1);
    assert_eq!(report["drift"]["differences"], serde_json::json!([]));
    let status = strata(krate.path(), url, &["status"]);
    assert_eq!(code(&status), 0);
    assert!(String::from_utf8_lossy(&status.stdout).contains("1 of 1 migrations applied"));
    let plan = strata(krate.path(), url, &["plan"]);
    assert!(String::from_utf8_lossy(&plan.stdout).contains("nothing to apply"));
    let drift = strata(krate.path(), url, &["drift"]);
    assert_eq!(code(&drift), 0);
    assert_eq!(String::from_utf8_lossy(&drift.stdout), "drift: clean\n");

    // A change by hand: drift, exit 2, named in the JSON.
    sqlx::query("ALTER TABLE shop.customers ADD COLUMN planted integer")
        .execute(&pool)
        .await
        .unwrap();
    let drift = strata(krate.path(), url, &["drift", "--json"]);
    assert_eq!(code(&drift), 2);
    let report = json(&drift);
    let found = report["differences"].to_string();
    assert!(found.contains("planted"), "{found}");
    sqlx::query("ALTER TABLE shop.customers DROP COLUMN planted")
        .execute(&pool)
        .await
        .unwrap();

    // Rolling back drops the tables: refused by name until confirmed.
    sqlx::query("INSERT INTO shop.customers (email) VALUES ('ada@example.com')")
        .execute(&pool)
        .await
        .unwrap();
    let refused = strata(krate.path(), url, &["rollback", "--to", "0"]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("shop.customers"),
        "{}",
        stderr(&refused)
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM shop.customers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "a refused rollback changes nothing");
    let rolled = strata(
        krate.path(),
        url,
        &["rollback", "--to", "0", "--confirm-all", "--json"],
    );
    assert_eq!(code(&rolled), 0, "{}", stderr(&rolled));
    assert_eq!(json(&rolled)["reverted"][0]["version"], 1);
    let status = strata(krate.path(), url, &["status", "--json"]);
    assert_eq!(code(&status), 2);
    assert_eq!(json(&status)["migrations"][0]["state"], "pending");

    pool.close().await;
    db.destroy().await.unwrap();
}

#[tokio::test]
async fn an_edited_migration_is_shown_by_status_and_refused_by_plan() {
    let krate = built();
    let db = strata::testing::database().await.unwrap();
    let url = db.url();
    assert_eq!(code(&strata(krate.path(), url, &["migrate"])), 0);
    let file = krate.path().join("migrations/0001_initial.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n-- edited\n")).unwrap();
    let status = strata(krate.path(), url, &["status", "--json"]);
    assert_eq!(code(&status), 2);
    assert_eq!(json(&status)["migrations"][0]["state"], "modified");
    let plan = strata(krate.path(), url, &["plan"]);
    assert_eq!(code(&plan), 1);
    assert!(
        stderr(&plan).contains("0001_initial.sql"),
        "{}",
        stderr(&plan)
    );
    db.destroy().await.unwrap();
}

#[test]
fn mistakes_are_errors_with_exit_status_1_that_say_what_to_do() {
    let krate = built();
    let no_database = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--migrations")
        .arg(krate.path().join("migrations"))
        .arg("status")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(code(&no_database), 1);
    assert!(stderr(&no_database).contains("DATABASE_URL"));

    let nowhere = strata(
        Path::new("/nonexistent"),
        "postgres://nobody@127.0.0.1:1/none",
        &["status", "--json"],
    );
    assert_eq!(code(&nowhere), 1);
    assert_eq!(json(&nowhere)["report"], "error");
    assert!(
        stderr(&nowhere).contains("/nonexistent/migrations has no manifest.json"),
        "{}",
        stderr(&nowhere)
    );

    let unreachable = strata(
        krate.path(),
        "postgres://nobody@127.0.0.1:1/none",
        &["drift"],
    );
    assert_eq!(code(&unreachable), 1);
    assert!(stderr(&unreachable).contains("connecting to the database"));

    let usage = strata(krate.path(), "postgres://x", &["rollback"]);
    assert_eq!(
        code(&usage),
        1,
        "a usage mistake is an error, not a difference"
    );
    assert!(stderr(&usage).contains("--to"), "{}", stderr(&usage));

    let bad_name = strata(krate.path(), "postgres://x", &["new", "Bad Name"]);
    assert_eq!(code(&bad_name), 1);
    let created = strata(krate.path(), "postgres://x", &["new", "backfill_notes"]);
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    assert!(krate
        .path()
        .join("migrations/0002_backfill_notes.sql")
        .is_file());
}

#[tokio::test]
async fn tenants_are_listed_migrated_with_progress_and_checked() {
    let (krate, db, pool) = migrated().await;
    let url = db.url();
    for id in ["acme", "globex"] {
        sqlx::query("INSERT INTO public.tenants (id) VALUES ($1)")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let tenants = ["tenants", "--registry", "public.tenants.id"];
    let run = |command: &str, json: bool| {
        let mut args: Vec<&str> = tenants.to_vec();
        args.push(command);
        if json {
            args.push("--json");
        }
        strata(krate.path(), url, &args)
    };
    let list = run("list", false);
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "acme\ttenant_acme\nglobex\ttenant_globex\n2 tenants\n"
    );

    // Not a terminal: a plain line per tenant on standard error.
    let migrate = run("migrate", true);
    assert_eq!(code(&migrate), 0, "{}", stderr(&migrate));
    let lines = stderr(&migrate);
    assert!(lines.contains("[1/2] tenant_"), "{lines}");
    assert!(lines.contains("[2/2] tenant_"), "{lines}");
    let report = json(&migrate);
    assert_eq!(report["tenants"].as_array().unwrap().len(), 2);
    assert_eq!(report["tenants"][0]["status"], "applied");

    let drift = run("drift", false);
    assert_eq!(code(&drift), 0, "{}", stderr(&drift));
    assert_eq!(
        String::from_utf8_lossy(&drift.stdout),
        "tenant drift: clean (2 tenants)\n"
    );
    sqlx::query("ALTER TABLE tenant_globex.contacts ADD COLUMN planted integer")
        .execute(&pool)
        .await
        .unwrap();
    let drift = run("drift", true);
    assert_eq!(code(&drift), 2);
    let drifted = json(&drift)["drifted"].clone();
    assert!(drifted.get("tenant_globex").is_some(), "{drifted}");
    assert!(drifted.get("tenant_acme").is_none(), "{drifted}");

    let bad = strata(
        krate.path(),
        url,
        &["tenants", "--registry", "tenants", "list"],
    );
    assert_eq!(code(&bad), 1);
    assert!(
        stderr(&bad).contains("schema.table.column"),
        "{}",
        stderr(&bad)
    );
    pool.close().await;
    db.destroy().await.unwrap();
}

#[tokio::test]
async fn on_a_terminal_tenant_progress_is_a_bar() {
    // `script` gives the binary a terminal, as a person's shell would.
    let (krate, db, pool) = migrated().await;
    let url = db.url();
    sqlx::query("INSERT INTO public.tenants (id) VALUES ('acme')")
        .execute(&pool)
        .await
        .unwrap();
    let command = format!(
        "{} --migrations {} tenants --registry public.tenants.id migrate",
        env!("CARGO_BIN_EXE_strata"),
        krate.path().join("migrations").display()
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("DATABASE_URL", url)
        .output()
        .expect("`script` (util-linux) runs the binary on a terminal");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(screen.contains("1/1 tenants"), "{screen}");
    assert!(
        !screen.contains("[1/1]"),
        "no plain lines on a terminal: {screen}"
    );
    pool.close().await;
    db.destroy().await.unwrap();
}

#[tokio::test]
async fn baseline_records_an_existing_database_and_refuses_one_that_differs() {
    let krate = built();
    // A database made by hand: the migration's own SQL, run by psql-like
    // hands, with no tracking table.
    let sql = std::fs::read_to_string(krate.path().join("migrations/0001_initial.sql")).unwrap();
    let made = |extra: &'static str| {
        let sql = sql.clone();
        async move {
            let db = strata::testing::database().await.unwrap();
            let pool = db.pool().await.unwrap();
            sqlx::raw_sql(&sql).execute(&pool).await.unwrap();
            sqlx::raw_sql(extra).execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO shop.customers (email) VALUES ('ada@example.com')")
                .execute(&pool)
                .await
                .unwrap();
            (db, pool)
        }
    };

    let (db, pool) = made("ALTER TABLE shop.orders ADD COLUMN legacy text").await;
    let refused = strata(krate.path(), db.url(), &["baseline"]);
    assert_eq!(code(&refused), 1);
    let message = stderr(&refused);
    assert!(message.contains("shop.orders.legacy"), "{message}");
    assert!(message.contains("nothing was recorded"), "{message}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM strata.migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    pool.close().await;
    db.destroy().await.unwrap();

    let (db, pool) = made("SELECT 1").await;
    let baseline = strata(krate.path(), db.url(), &["baseline", "--json"]);
    assert_eq!(code(&baseline), 0, "{}", stderr(&baseline));
    assert_eq!(json(&baseline)["recorded"][0]["version"], 1);
    // Nothing ran: the row is still there, and start-up has nothing to do.
    let status = strata(krate.path(), db.url(), &["status"]);
    assert_eq!(
        code(&status),
        0,
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let migrate = strata(krate.path(), db.url(), &["migrate", "--json"]);
    assert_eq!(code(&migrate), 0, "{}", stderr(&migrate));
    assert_eq!(json(&migrate)["applied"], serde_json::json!([]));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM shop.customers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let again = strata(krate.path(), db.url(), &["baseline"]);
    assert_eq!(code(&again), 1);
    assert!(
        stderr(&again).contains("already has 1 migration"),
        "{}",
        stderr(&again)
    );
    pool.close().await;
    db.destroy().await.unwrap();
}

#[tokio::test]
async fn tenants_made_by_hand_are_baselined_all_or_none() {
    let (krate, db, pool) = migrated().await;
    let url = db.url();
    let template =
        std::fs::read_to_string(krate.path().join("migrations/tenant/0001_initial.sql")).unwrap();
    for id in ["acme", "globex"] {
        sqlx::query("INSERT INTO public.tenants (id) VALUES ($1)")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        let tenant = strata::TenantSchema::new(id).unwrap();
        sqlx::raw_sql(&strata::__private::tenant_sql(&template, &tenant))
            .execute(&pool)
            .await
            .unwrap();
    }
    let tenants = |command: &str| {
        strata(
            krate.path(),
            url,
            &["tenants", "--registry", "public.tenants.id", command],
        )
    };
    sqlx::query("ALTER TABLE tenant_acme.contacts ADD COLUMN legacy text")
        .execute(&pool)
        .await
        .unwrap();
    let refused = tenants("baseline");
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("tenant_acme"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !stderr(&refused).contains("tenant_globex:"),
        "{}",
        stderr(&refused)
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM strata.migrations WHERE scope LIKE 'tenant_%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 0, "none recorded while one tenant differs");

    sqlx::query("ALTER TABLE tenant_acme.contacts DROP COLUMN legacy")
        .execute(&pool)
        .await
        .unwrap();
    let baseline = tenants("baseline");
    assert_eq!(code(&baseline), 0, "{}", stderr(&baseline));
    assert_eq!(
        String::from_utf8_lossy(&baseline.stdout),
        "2 tenant(s) recorded at tenant migration 1, none run\n"
    );
    let migrate = tenants("migrate");
    assert_eq!(code(&migrate), 0);
    assert!(
        stderr(&migrate).contains("current at version 1"),
        "{}",
        stderr(&migrate)
    );
    pool.close().await;
    db.destroy().await.unwrap();
}

/// The legacy side of a parity job: what `--to` holds.
const LEGACY: &str = r#"
CREATE SCHEMA catalog;
CREATE SCHEMA profiles;
CREATE TABLE catalog.products (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    sku varchar(64) NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name text NOT NULL,
    price_cents integer NOT NULL DEFAULT 0 CONSTRAINT products_price_sane CHECK (price_cents >= 0)
);
CREATE INDEX products_name_idx ON catalog.products (name);
CREATE TABLE profiles.profiles (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    role text NOT NULL DEFAULT 'user' CONSTRAINT user_role_simple CHECK (role IN ('user', 'admin'))
);
CREATE TABLE profiles.wishlist_items (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    profile_id bigint NOT NULL REFERENCES profiles.profiles (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES catalog.products (id),
    CONSTRAINT unique_wishlist_item UNIQUE (profile_id, product_id)
);
CREATE VIEW catalog.cheap_products AS SELECT id, name FROM catalog.products WHERE price_cents < 1000;
CREATE FUNCTION profiles.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER profiles_touch BEFORE UPDATE ON profiles.profiles FOR EACH ROW EXECUTE FUNCTION profiles.touch();
"#;

/// The current side: part of it, and two objects that exist under the
/// same names with other definitions (the seed's two failures: a column
/// of another type under a check, a unique constraint on other columns).
const CURRENT: &str = r#"
CREATE SCHEMA catalog;
CREATE SCHEMA profiles;
CREATE TABLE catalog.products (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    sku varchar(64) NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name text NOT NULL
);
CREATE TABLE profiles.profiles (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    role varchar(16) NOT NULL DEFAULT 'user'
);
CREATE TABLE profiles.wishlist_items (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    profile_id bigint NOT NULL REFERENCES profiles.profiles (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES catalog.products (id),
    CONSTRAINT unique_wishlist_item UNIQUE (profile_id)
);
INSERT INTO catalog.products (sku, name) VALUES ('a', 'Navy suit'), ('b', 'Tie');
INSERT INTO profiles.profiles (email) VALUES ('ada@example.com');
INSERT INTO profiles.wishlist_items (profile_id, product_id) VALUES (1, 1);
"#;

async fn database_with(sql: &str) -> (strata::testing::TestDatabase, PgPool) {
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    (db, pool)
}

fn diff(from: &str, to: &str, more: &[&str]) -> Output {
    let mut args = vec!["diff", "--from", from, "--to", to];
    args.extend_from_slice(more);
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(&args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test]
async fn diff_brings_the_current_database_to_parity_with_the_legacy_one_stage_by_stage() {
    let (current, current_pool) = database_with(CURRENT).await;
    let (legacy, _legacy_pool) = database_with(LEGACY).await;

    // The plan: staged SQL, replacing what exists under the same names.
    let planned = diff(current.url(), legacy.url(), &[]);
    assert_eq!(code(&planned), 2, "{}", stderr(&planned));
    let sql = String::from_utf8_lossy(&planned.stdout).into_owned();
    for expected in [
        r#"ALTER TABLE "profiles"."profiles""#,
        r#""user_role_simple""#,
        r#""unique_wishlist_item""#,
        r#"CREATE VIEW "catalog"."cheap_products""#,
        "CREATE TRIGGER",
        r#""products_name_idx""#,
    ] {
        assert!(sql.contains(expected), "{expected} in:\n{sql}");
    }
    // The current database is live: an index on a table it has is built
    // concurrently, outside a transaction, as a build writes it.
    assert!(
        sql.contains(r#"CREATE INDEX CONCURRENTLY "products_name_idx""#)
            && sql.contains(strata::NO_TRANSACTION),
        "{sql}"
    );
    let drop_unique = sql.find(r#"DROP CONSTRAINT "unique_wishlist_item""#);
    let add_unique = sql.find(r#"ADD CONSTRAINT "unique_wishlist_item""#);
    assert!(
        drop_unique.is_some() && drop_unique < add_unique,
        "the old constraint goes before the new one is made:\n{sql}"
    );

    // The judge sees the difference before, and none after.
    let before = strata_tests::judges::changes(current.url(), legacy.url());
    assert!(before.contains("unique_wishlist_item"), "{before}");
    let applied = diff(
        current.url(),
        legacy.url(),
        &["--apply", "--unsafe", "--json"],
    );
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
    let report = json(&applied);
    assert_eq!(report["parity"]["clean"], true, "{report}");
    let stages = report["stages"].as_array().unwrap();
    assert!(stages.len() >= 3, "{report}");
    assert!(stages.iter().all(|s| s["outcome"] == "applied"), "{report}");
    // No row lost on the way.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles.wishlist_items")
        .fetch_one(&current_pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let again = diff(current.url(), legacy.url(), &[]);
    assert_eq!(
        code(&again),
        0,
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // And by an independent judge, both ways.
    assert_eq!(
        strata_tests::judges::changes(current.url(), legacy.url()),
        ""
    );
    assert_eq!(
        strata_tests::judges::changes(legacy.url(), current.url()),
        ""
    );
    current_pool.close().await;
    current.destroy().await.unwrap();
    legacy.destroy().await.unwrap();
}

#[tokio::test]
async fn a_stage_that_fails_is_named_with_its_statement_and_reason_and_leaves_nothing_of_itself() {
    // Rows that break the legacy unique constraint.
    let (current, current_pool) = database_with(&format!(
        "{CURRENT}\nALTER TABLE profiles.wishlist_items DROP CONSTRAINT unique_wishlist_item;\n\
         INSERT INTO profiles.wishlist_items (profile_id, product_id) VALUES (1, 1);"
    ))
    .await;
    let (legacy, _legacy_pool) = database_with(LEGACY).await;
    // Without --unsafe, what can lose data (the legacy side's column
    // price_cents, dropped to match the current side) is refused by name.
    let refused = diff(legacy.url(), current.url(), &[]);
    assert_eq!(
        code(&refused),
        1,
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert!(
        stderr(&refused).contains("price_cents"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("--unsafe"),
        "{}",
        stderr(&refused)
    );

    let applied = diff(current.url(), legacy.url(), &["--apply", "--unsafe"]);
    assert_eq!(code(&applied), 2, "{}", stderr(&applied));
    let table = String::from_utf8_lossy(&applied.stdout).into_owned();
    assert!(table.contains("failed: statement "), "{table}");
    assert!(table.contains("(SQLSTATE 23505)"), "{table}");
    assert!(table.contains("unique_wishlist_item"), "{table}");
    assert!(table.contains("could not create unique index"), "{table}");
    assert!(table.contains("parity: "), "{table}");
    assert!(!table.contains("parity: clean"), "{table}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles.wishlist_items")
        .fetch_one(&current_pool)
        .await
        .unwrap();
    assert_eq!(rows, 2, "the failed stage changed nothing");

    current_pool.close().await;
    current.destroy().await.unwrap();
    legacy.destroy().await.unwrap();
}

/// A database made from the models pulled from `original` (into `krate`,
/// already written there, or written now): built in-process with the
/// settings the pulled `build.rs` has, migrated on an empty database, and
/// compared with the original by migra, both ways. Returns the pulled
/// migrations and the new database.
async fn made_again_from_pulled(
    original: &strata::testing::TestDatabase,
    krate: &Path,
) -> (strata::Migrations, strata::testing::TestDatabase) {
    let state = {
        let pool = PgPool::connect(original.url()).await.unwrap();
        strata::read_database(&pool, None).await.unwrap()
    };
    let settings = strata_tools::pull::write(&state, krate).unwrap();
    assert_eq!(settings.not_expressed, Vec::<String>::new());
    settings
        .build
        .builder(krate)
        .frozen(false)
        .run()
        .unwrap_or_else(|e| panic!("the pulled models build: {e}"));
    let fresh = strata::testing::database().await.unwrap();
    let fresh_pool = fresh.pool().await.unwrap();
    let migrations = strata::Migrations::from_dir(krate.join("migrations")).unwrap();
    let report = strata::Migrator::new(&migrations)
        .run(&fresh_pool)
        .await
        .unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    fresh_pool.close().await;
    // The same by migra both ways, and by pg_dump, which sees ownership
    // and privileges too; and the pulled models compile.
    strata_tests::judges::assert_same(original.url(), fresh.url());
    strata_tests::pulled::compiles(krate);
    (migrations, fresh)
}

/// Names a model cannot take as they are: mixed case, spaces, keywords, a
/// schema in capitals, two tables whose Rust names collide, and a foreign
/// key across schemas.
const HOSTILE: &str = r#"
CREATE SCHEMA "Sales";
CREATE TABLE "Sales"."AiAction" (
    id bigint GENERATED BY DEFAULT AS IDENTITY,
    "type" text NOT NULL,
    "Odd Name" integer,
    "order" integer NOT NULL DEFAULT 0,
    CONSTRAINT "AiAction_pkey" PRIMARY KEY (id)
);
CREATE TABLE "Sales".ai_action (id bigint PRIMARY KEY, note text);
CREATE SCHEMA sales;
CREATE TABLE sales.leads (id bigint PRIMARY KEY, "Sales" text);
CREATE FUNCTION "Sales"."../odd name"() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TABLE public.notes (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    action_id bigint REFERENCES "Sales"."AiAction" (id) ON DELETE SET NULL,
    body varchar(200) NOT NULL
);
COMMENT ON TABLE public.notes IS 'Notes, with "quotes" and a \ backslash';
"#;

#[tokio::test]
async fn hostile_names_are_pulled_into_models_that_build_the_same_database() {
    let (original, _pool) = database_with(HOSTILE).await;
    let krate = tempfile::tempdir().unwrap();
    let pulled = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["pull", "--crate"])
        .arg(krate.path())
        .env("DATABASE_URL", original.url())
        .output()
        .unwrap();
    assert_eq!(
        code(&pulled),
        0,
        "{}{}",
        stderr(&pulled),
        String::from_utf8_lossy(&pulled.stdout)
    );
    // Not a terminal: one plain line while it reads, on standard error.
    assert!(
        stderr(&pulled).contains("reading the database"),
        "{}",
        stderr(&pulled)
    );
    let sales = std::fs::read_to_string(krate.path().join("src/models/sales.rs")).unwrap();
    assert!(
        sales.contains(r#"#[strata::schema("Sales", table = "AiAction")]"#),
        "{sales}"
    );
    assert!(sales.contains(r#"name = "type""#), "{sales}");
    assert!(sales.contains(r#"name = "Odd Name""#), "{sales}");
    assert!(sales.contains("pub struct AiAction2"), "{sales}");
    // A name that is no file name stays inside db/.
    assert!(krate
        .path()
        .join("db/functions/Sales.___odd_name.sql")
        .is_file());
    // Schemas `Sales` and `sales` get a module each.
    let modules = std::fs::read_to_string(krate.path().join("src/models/mod.rs")).unwrap();
    assert!(
        modules.contains("pub mod sales;") && modules.contains("pub mod sales_2;"),
        "{modules}"
    );
    let public = std::fs::read_to_string(krate.path().join("src/models/public.rs")).unwrap();
    assert!(
        public.contains("references = super::sales::AiAction"),
        "{public}"
    );
    let build = std::fs::read_to_string(krate.path().join("build.rs")).unwrap();
    assert!(build.contains("strata_build::Builder::new()"), "{build}");

    // The build in-process, with what the written build.rs sets.
    let (_, fresh) = made_again_from_pulled(&original, krate.path()).await;
    fresh.destroy().await.unwrap();
    original.destroy().await.unwrap();
}

#[tokio::test]
async fn what_models_cannot_say_is_listed_by_name_never_dropped() {
    let (db, _pool) = database_with(
        r#"
        CREATE SCHEMA shop;
        CREATE TYPE shop."OrderState" AS ENUM ('open', 'Paid Out');
        CREATE TABLE shop.items (
            id bigint CONSTRAINT items_key PRIMARY KEY,
            a integer, b integer, parent bigint, label text,
            CONSTRAINT items_pair UNIQUE (a, b),
            CONSTRAINT items_parent_link FOREIGN KEY (parent) REFERENCES shop.items (id)
        );
        CREATE TABLE shop.later (id bigint PRIMARY KEY DEFERRABLE);
        "#,
    )
    .await;
    let krate = tempfile::tempdir().unwrap();
    let pulled = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["pull", "--json", "--crate"])
        .arg(krate.path())
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert_eq!(code(&pulled), 2, "{}", stderr(&pulled));
    let report = json(&pulled);
    let listed = report["not_expressed"].to_string();
    for object in ["shop.OrderState", "later_pkey"] {
        assert!(listed.contains(object), "{object} in {listed}");
    }
    db.destroy().await.unwrap();
}

/// A database with one of every kind of object strata models.
const EVERY_KIND: &str = r#"
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA shop;
CREATE SCHEMA reports;
CREATE TYPE shop.order_state AS ENUM ('pending', 'paid', 'shipped');
CREATE SEQUENCE shop.invoice_numbers AS integer START WITH 1000 INCREMENT BY 5;
CREATE FUNCTION shop.cents(amount numeric) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT (amount * 100)::bigint $$;
CREATE TABLE shop.customers (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email varchar(255) NOT NULL CONSTRAINT customers_email_key UNIQUE,
    name text NOT NULL,
    created_at timestamp with time zone NOT NULL DEFAULT now()
);
COMMENT ON TABLE shop.customers IS 'Who buys.';
COMMENT ON COLUMN shop.customers.email IS 'Lower case.';
CREATE INDEX customers_name_trgm ON shop.customers USING gin (name gin_trgm_ops);
CREATE TABLE shop.orders (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL CONSTRAINT orders_customer_id_fkey REFERENCES shop.customers (id) ON DELETE CASCADE,
    state shop.order_state NOT NULL DEFAULT 'pending',
    quantity integer NOT NULL,
    unit_cents bigint NOT NULL,
    total_cents bigint GENERATED ALWAYS AS (quantity * unit_cents) STORED,
    invoice integer DEFAULT nextval('shop.invoice_numbers'),
    tags text[],
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0),
    CONSTRAINT one_invoice_per_customer UNIQUE (customer_id, invoice)
);
CREATE INDEX orders_open ON shop.orders (customer_id) WHERE state <> 'shipped';
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.touch();
CREATE PROCEDURE shop.archive(days integer) LANGUAGE plpgsql AS $$ BEGIN PERFORM days; END $$;
CREATE VIEW reports.open_orders AS SELECT id, customer_id FROM shop.orders WHERE state <> 'shipped';
CREATE MATERIALIZED VIEW reports.revenue AS SELECT customer_id, sum(total_cents) AS cents FROM shop.orders GROUP BY customer_id;
CREATE UNIQUE INDEX revenue_customer_id_idx ON reports.revenue (customer_id);
"#;

#[tokio::test]
async fn a_database_of_every_kind_is_pulled_into_models_that_build_the_same_database() {
    let (original, pool) = database_with(EVERY_KIND).await;
    let state = strata::read_database(&pool, None).await.unwrap();
    let krate = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, krate.path()).unwrap();
    let shop = std::fs::read_to_string(krate.path().join("src/models/shop.rs")).unwrap();
    assert!(
        shop.contains(
            r#"#[unique(columns = ["customer_id", "invoice"], name = "one_invoice_per_customer")]"#
        ),
        "{shop}"
    );
    for file in [
        "db/functions/shop.cents.sql",
        "db/functions/shop.touch.sql",
        "db/procedures/shop.archive.sql",
        "db/sequences/shop.invoice_numbers.sql",
        "db/triggers/shop.orders.orders_touch.sql",
    ] {
        assert!(
            krate.path().join(file).is_file(),
            "{file}: {:?}",
            pulled.files
        );
    }
    let (migrations, fresh) = made_again_from_pulled(&original, krate.path()).await;
    // The original is adopted: its catalog matches the pulled models.
    let baseline = strata::Migrator::new(&migrations).baseline(&pool).await;
    assert!(baseline.unwrap_or_else(|e| panic!("{e}")).drift.is_clean());
    pool.close().await;
    fresh.destroy().await.unwrap();
    original.destroy().await.unwrap();
}

#[tokio::test]
async fn a_check_postgresql_prints_otherwise_once_read_back_is_still_adopted() {
    // A varchar column's IN list prints as `(ARRAY[…])::text[]`, which
    // PostgreSQL parses and prints again as `ARRAY[(…)::text, …]`: the
    // pulled model states the first, a database made from it holds the
    // second, and the drift check must take both for the same check.
    let (db, pool) = database_with(
        "CREATE SCHEMA ops;
         CREATE TABLE ops.broadcasts (
             id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
             channel varchar(16) NOT NULL CONSTRAINT broadcasts_channel_check CHECK (channel IN ('email', 'sms', 'push'))
         );",
    )
    .await;
    let state = strata::read_database(&pool, None).await.unwrap();
    let krate = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, krate.path()).unwrap();
    pulled
        .build
        .builder(krate.path())
        .frozen(false)
        .run()
        .unwrap();
    let migrations = strata::Migrations::from_dir(krate.path().join("migrations")).unwrap();
    let baseline = strata::Migrator::new(&migrations).baseline(&pool).await;
    assert!(baseline.unwrap_or_else(|e| panic!("{e}")).drift.is_clean());
    // And a database made from the pulled models is clean too.
    let fresh = strata::testing::database().await.unwrap();
    let fresh_pool = fresh.pool().await.unwrap();
    let report = strata::Migrator::new(&migrations)
        .run(&fresh_pool)
        .await
        .unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    fresh_pool.close().await;
    pool.close().await;
    fresh.destroy().await.unwrap();
    db.destroy().await.unwrap();
}

/// `strata migrate` makes the partitions ahead, as a start-up does, and
/// drops one past `partitions_kept` only when `--confirm` names it.
#[tokio::test]
async fn migrate_makes_partitions_ahead_and_drops_old_ones_only_when_confirmed() {
    let krate = tempfile::tempdir().unwrap();
    std::fs::create_dir(krate.path().join("src")).unwrap();
    std::fs::write(
        krate.path().join("src/models.rs"),
        r#"
#[strata::schema("analytics", partition_by = "range(occurred_at)", partition_interval = "month", partitions_ahead = 1, partitions_kept = 1)]
pub struct Event {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(primary_key)]
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}
"#,
    )
    .unwrap();
    build(krate.path());
    let db = strata::testing::database().await.unwrap();
    let pool = db.pool().await.unwrap();
    let first = strata(krate.path(), db.url(), &["migrate"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let text = String::from_utf8_lossy(&first.stdout);
    assert_eq!(
        text.matches("made partition analytics.event_p").count(),
        2,
        "{text}"
    );

    sqlx::raw_sql(
        "CREATE TABLE analytics.event_p200001 (LIKE analytics.event INCLUDING DEFAULTS);
         ALTER TABLE analytics.event ATTACH PARTITION analytics.event_p200001
           FOR VALUES FROM ('2000-01-01') TO ('2000-02-01');",
    )
    .execute(&pool)
    .await
    .unwrap();
    let kept = strata(krate.path(), db.url(), &["migrate"]);
    let text = String::from_utf8_lossy(&kept.stdout);
    assert!(
        text.contains("kept partition analytics.event_p200001: past partitions_kept; drop it with --confirm analytics.event_p200001"),
        "{text}"
    );
    let dropped = strata(
        krate.path(),
        db.url(),
        &["migrate", "--confirm", "analytics.event_p200001", "--json"],
    );
    assert_eq!(code(&dropped), 0, "{}", stderr(&dropped));
    assert_eq!(
        json(&dropped)["partitions_dropped"],
        serde_json::json!(["analytics.event_p200001"])
    );
}

/// `strata lint`, with no database: a hand-written migration that locks a
/// live table fails it (exit 2), naming the file, line and rule and how to
/// confirm; confirmed, it passes with a warning; what strata generated and
/// the SQL objects pass; the JSON lists each finding.
#[test]
fn lint_fails_on_a_lock_a_hand_written_migration_takes_until_it_is_confirmed() {
    let krate = built();
    std::fs::create_dir_all(krate.path().join("db/functions")).unwrap();
    std::fs::write(
        krate.path().join("db/functions/total.sql"),
        "CREATE FUNCTION shop.total() RETURNS bigint LANGUAGE sql AS $$ SELECT 1::bigint $$;\n",
    )
    .unwrap();
    let lint = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("--migrations")
            .arg(krate.path().join("migrations"))
            .arg("lint")
            .arg("--sql-dir")
            .arg(krate.path().join("db"))
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .expect("the binary runs")
    };
    let clean = lint(&[]);
    assert_eq!(
        code(&clean),
        0,
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );

    let hand =
        strata_build::new_migration(krate.path().join("migrations"), "index_by_hand").unwrap();
    std::fs::write(&hand, "UPDATE shop.orders SET customer_id = customer_id;\nCREATE INDEX orders_customer ON shop.orders (customer_id);\n").unwrap();
    let failed = lint(&[]);
    let out = String::from_utf8_lossy(&failed.stdout).into_owned();
    assert_eq!(code(&failed), 2, "{out}");
    assert!(
        out.contains(&format!(
            "{}:2:1: error: require-concurrent-index-creation:",
            hand.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("open the file with `-- strata:locks-confirmed`"),
        "{out}"
    );
    let report = json(&lint(&["--json"]));
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["rule"], "require-concurrent-index-creation");
    assert_eq!(findings[0]["error"], true);
    assert_eq!(findings[0]["line"], 2);

    std::fs::write(
        &hand,
        "-- strata:locks-confirmed: orders is empty when this runs\nUPDATE shop.orders SET customer_id = customer_id;\nCREATE INDEX orders_customer ON shop.orders (customer_id);\n",
    )
    .unwrap();
    let confirmed = lint(&[]);
    let out = String::from_utf8_lossy(&confirmed.stdout).into_owned();
    assert_eq!(code(&confirmed), 0, "{out}");
    assert!(
        out.contains("warning: require-concurrent-index-creation"),
        "{out}"
    );
}

#[tokio::test]
async fn the_life_of_tenants_from_the_command_line() {
    let (krate, db, pool) = migrated().await;
    let url = db.url();
    for id in ["acme", "globex", "initech"] {
        sqlx::query("INSERT INTO public.tenants (id) VALUES ($1)")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let run = |args: &[&str]| {
        let mut all = vec!["tenants", "--registry", "public.tenants.id"];
        all.extend_from_slice(args);
        strata(krate.path(), url, &all)
    };

    // In waves: a line per wave, not per tenant.
    let migrate = run(&["migrate", "--canaries", "1", "--wave-size", "1", "--json"]);
    assert_eq!(code(&migrate), 0, "{}", stderr(&migrate));
    let lines = stderr(&migrate);
    assert!(lines.contains("wave 1/3: 1 tenants, 1 changed"), "{lines}");
    assert!(lines.contains("wave 3/3"), "{lines}");
    assert!(!lines.contains("[1/"), "{lines}");
    assert_eq!(json(&migrate)["rollout"]["waves_done"], 3);

    let status = run(&["status", "--drift", "--json"]);
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    let report = json(&status);
    assert_eq!(report["tenants"], 3);
    assert_eq!(report["versions"]["1"], 3);
    assert_eq!(report["drifted"].as_array().unwrap().len(), 0);

    // Rolling one tenant back to 0 drops its table: refused until confirmed.
    let refused = run(&["rollback", "--to", "0", "--tenant", "acme"]);
    assert_eq!(code(&refused), 2);
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains("tenant_acme.contacts"),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    let rolled = run(&[
        "rollback",
        "--to",
        "0",
        "--tenant",
        "acme",
        "--confirm-all",
        "--json",
    ]);
    assert_eq!(code(&rolled), 0, "{}", stderr(&rolled));
    assert_eq!(json(&rolled)["tenants"][0]["status"], "rolled_back");
    let status = json(&run(&["status", "--json"]));
    assert_eq!(
        (
            status["versions"]["0"].clone(),
            status["versions"]["1"].clone()
        ),
        (1.into(), 2.into()),
        "{status}"
    );
    assert_eq!(status["missing"][0], "tenant_acme");

    // Archived: out of the live tenants; restored: back and current.
    let archived = run(&["archive", "globex", "--json"]);
    assert_eq!(code(&archived), 0, "{}", stderr(&archived));
    let status = json(&run(&["status", "--json"]));
    assert_eq!(status["archived"][0]["tenant"], "tenant_globex", "{status}");
    assert_eq!(status["tenants"], 2);
    let restored = run(&["restore", "globex"]);
    assert_eq!(code(&restored), 0, "{}", stderr(&restored));

    // Dropped only when confirmed by name.
    let unconfirmed = run(&["drop", "initech"]);
    assert_eq!(code(&unconfirmed), 1);
    assert!(
        stderr(&unconfirmed).contains("--confirm tenant_initech"),
        "{}",
        stderr(&unconfirmed)
    );
    let dropped = run(&["drop", "initech", "--confirm", "tenant_initech"]);
    assert_eq!(code(&dropped), 0, "{}", stderr(&dropped));
    let migrate = run(&["migrate"]);
    assert_eq!(code(&migrate), 0, "{}", stderr(&migrate));
    let status = run(&["status", "--json"]);
    assert_eq!(
        code(&status),
        0,
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    assert_eq!(json(&status)["versions"]["1"], 2);
}

/// `dot -Tsvg` of `text`, or `None` when Graphviz is not installed (CI
/// installs it).
fn render_dot(text: &str) -> Option<std::process::Output> {
    use std::io::Write;
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    child.wait_with_output().ok()
}

#[test]
fn the_examples_graphs_are_the_guides_pictures_and_render() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for example in ["kct-menswear", "liventix", "salesflow"] {
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("--migrations")
            .arg(repo.join("examples").join(example).join("migrations"))
            .args(["graph", "--format", "dot"])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let dot = String::from_utf8(out.stdout).unwrap();
        let picture = repo.join(format!("docs/src/images/{example}.dot"));
        assert_eq!(
            std::fs::read_to_string(&picture).unwrap(),
            dot,
            "{} is not what `strata graph` draws now: write it again, and its .svg with `dot -Tsvg`",
            picture.display()
        );
        match render_dot(&dot) {
            Some(rendered) => assert!(
                rendered.status.success(),
                "{example}: {}",
                String::from_utf8_lossy(&rendered.stderr)
            ),
            None => eprintln!("Graphviz's dot is not installed: {example}'s graph not rendered"),
        }
    }
    // KCT's two domains depend on each other: flagged.
    let mermaid = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--migrations")
        .arg(repo.join("examples/kct-menswear/migrations"))
        .args(["graph", "--json"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let graph = json(&mermaid);
    assert_eq!(
        graph["cycles"][0],
        serde_json::json!(["tenant_kct", "tenant_shared"])
    );
    assert!(graph["text"].as_str().unwrap().starts_with("flowchart LR"));
}

#[tokio::test]
async fn a_live_databases_graph_counts_the_keys_the_catalog_has() {
    let (krate, db, pool) = migrated().await;
    for id in ["acme", "globex"] {
        sqlx::query("INSERT INTO public.tenants (id) VALUES ($1)")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let migrate = strata(
        krate.path(),
        db.url(),
        &["tenants", "--registry", "public.tenants.id", "migrate"],
    );
    assert_eq!(code(&migrate), 0, "{}", stderr(&migrate));
    sqlx::raw_sql(
        "CREATE SCHEMA crm;
         CREATE TABLE crm.accounts (id bigint PRIMARY KEY, customer_id bigint REFERENCES shop.customers (id));
         ALTER TABLE shop.orders ADD COLUMN account_id bigint REFERENCES crm.accounts (id);
         ALTER TABLE shop.orders ADD COLUMN billed_to bigint REFERENCES crm.accounts (id);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--database-url")
        .arg(db.url())
        .args(["graph", "--format", "dot", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let graph = json(&out);
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT sn.nspname::text, tn.nspname::text, count(*) FROM pg_constraint c
         JOIN pg_class s ON s.oid = c.conrelid JOIN pg_namespace sn ON sn.oid = s.relnamespace
         JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
         WHERE c.contype = 'f' AND sn.nspname <> tn.nspname GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let counted: Vec<(String, String, i64)> = graph["cross_schema_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k[0].as_str().unwrap().to_owned(),
                k[1].as_str().unwrap().to_owned(),
                k[2].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counted, rows);
    assert_eq!(graph["cycles"][0], serde_json::json!(["crm", "shop"]));
    // The two tenants are one set of tables, drawn once.
    let schemas = graph["schemas"].as_object().unwrap();
    assert!(
        schemas.contains_key("tenant (every tenant's schema)")
            && !schemas.contains_key("tenant_acme"),
        "{graph}"
    );
    if let Some(rendered) = render_dot(graph["text"].as_str().unwrap()) {
        assert!(rendered.status.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_is_placed_moved_and_rebalanced_from_the_command_line() {
    use strata::testing::Cluster;
    let krate = built();
    let first = Cluster::start_logical().unwrap();
    let second = Cluster::start_logical().unwrap();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&first.url())
        .await
        .unwrap();
    for name in ["control", "one"] {
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let control = first.database_url("control");
    let (one, two) = (first.database_url("one"), second.url());
    assert_eq!(code(&strata(krate.path(), &control, &["migrate"])), 0);
    let run = |args: &[&str]| {
        let mut all = vec!["tenants", "--registry", "public.tenants.id"];
        all.extend_from_slice(args);
        strata(krate.path(), &control, &all)
    };
    let bad = run(&["placement", "--server", "one"]);
    assert_eq!(code(&bad), 1);
    assert!(
        stderr(&bad).contains("write it as NAME=URL"),
        "{}",
        stderr(&bad)
    );

    let placed = run(&[
        "placement",
        "--server",
        &format!("one={one}"),
        "--server",
        &format!("two={two}"),
        "--json",
    ]);
    assert_eq!(code(&placed), 0, "{}", stderr(&placed));
    let report = json(&placed);
    assert_eq!(report["servers"].as_array().unwrap().len(), 2, "{report}");

    // Three tenants made on server one through the library, with rows.
    let shared = strata::Migrations::from_dir(krate.path().join("migrations")).unwrap();
    let tenant_stream =
        strata::Migrations::from_dir(krate.path().join("migrations/tenant")).unwrap();
    let tenants = strata::Tenants::new(&tenant_stream).registry("public", "tenants", "id");
    let fleet = strata::Fleet::connect(&control, &shared, tenants)
        .await
        .unwrap();
    for id in ["acme", "globex", "initech"] {
        let tenant = fleet.tenants().schema(id).unwrap();
        fleet
            .create(&tenant, strata::Place::On("one".into()))
            .await
            .unwrap();
        let pool = fleet.pool_for(&tenant).await.unwrap();
        sqlx::query(&format!(
            "INSERT INTO {}.contacts (name) VALUES ('x')",
            tenant.quoted()
        ))
        .execute(&pool)
        .await
        .unwrap();
    }

    let moved = run(&["move", "acme", "--to", "two", "--json"]);
    assert_eq!(code(&moved), 0, "{}", stderr(&moved));
    let report = json(&moved);
    assert_eq!(report["moves"][0]["to"], "two", "{report}");
    let text = String::from_utf8_lossy(&run(&["placement"]).stdout).into_owned();
    assert!(text.contains("tenant_acme on two"), "{text}");
    assert!(text.contains("server one: 2 tenant(s)"), "{text}");

    let unknown = run(&["move", "globex", "--to", "three"]);
    assert_eq!(code(&unknown), 1);
    assert!(
        stderr(&unknown).contains("the fleet has no server \"three\""),
        "{}",
        stderr(&unknown)
    );

    let balanced = run(&["rebalance", "--json"]);
    assert_eq!(code(&balanced), 0, "{}", stderr(&balanced));
    assert_eq!(
        json(&balanced)["moves"].as_array().unwrap().len(),
        0,
        "2 and 1 differ by one"
    );
    let acme = fleet.tenants().schema("acme").unwrap();
    let pool = fleet.pool_for(&acme).await.unwrap();
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM tenant_acme.contacts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // A move killed (kill -9) half-way, then run again: it resumes, and
    // every row arrives.
    let globex = fleet.tenants().schema("globex").unwrap();
    let pool = fleet.pool_for(&globex).await.unwrap();
    sqlx::query("INSERT INTO tenant_globex.contacts (name) SELECT 'row ' || i FROM generate_series(1, 200000) i")
        .execute(&pool)
        .await
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("--migrations")
        .arg(krate.path().join("migrations"))
        .args([
            "tenants",
            "--registry",
            "public.tenants.id",
            "move",
            "globex",
            "--to",
            "two",
        ])
        .env("DATABASE_URL", &control)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the copy has begun: the step before it is recorded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let step: Option<(String,)> =
            sqlx::query_as("SELECT step FROM strata.fleet_moves WHERE tenant = 'tenant_globex'")
                .fetch_optional(fleet.control())
                .await
                .unwrap();
        if step.is_some_and(|(s,)| s == "created") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the move never began");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = String::from_utf8_lossy(&run(&["placement"]).stdout).into_owned();
    assert!(
        text.contains("tenant_globex on one (moving to two)"),
        "{text}"
    );
    let resumed = run(&["move", "globex", "--to", "two", "--json"]);
    assert_eq!(code(&resumed), 0, "{}", stderr(&resumed));
    assert_eq!(json(&resumed)["moves"][0]["resumed_from"], "created");
    let pool = fleet.pool_for(&globex).await.unwrap();
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM tenant_globex.contacts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 200_001);
    assert_eq!(fleet.server_of(&globex).await.unwrap(), "two");
}
