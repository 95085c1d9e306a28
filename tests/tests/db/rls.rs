//! Issue 13, item 1: row-level security declared on the models (`rls`,
//! `#[policy]`), applied, obeyed by a role without BYPASSRLS, and
//! drift-checked by what each policy does.

use strata::sqlx::{self, PgPool};
use strata::{check_drift, DifferenceKind, Migrator, ObjectKind};

use crate::support::{fresh_db, migrate_clean, psql, rolled_back_clean, Scratch};

/// Each test its own role: roles belong to the whole cluster, and the
/// tests share one.
fn models(role: &str) -> String {
    format!(
        r#"
#[strata::schema("ticketing", rls)]
#[policy(name = "tickets_by_org", to = "{role}", using = "org_id = (SELECT ticketing.current_org_id())")]
#[policy(name = "no_closed_edits", for = "update", restrictive, to = "{role}", using = "NOT closed")]
#[grant(select, insert, update, to = "{role}")]
pub struct Ticket {{
    #[column(primary_key, identity)]
    pub id: i64,
    pub org_id: i64,
    pub title: String,
    #[column(default = "false")]
    pub closed: bool,
}}
"#
    )
}

const CURRENT_ORG_ID: &str = "CREATE FUNCTION ticketing.current_org_id() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT nullif(current_setting('app.org_id', true), '')::bigint $$;
";

fn scratch(role: &str) -> Scratch {
    let scratch = Scratch::with_models(&models(role));
    scratch.write_file("db/functions/current_org_id.sql", CURRENT_ORG_ID);
    scratch
}

fn build(scratch: &Scratch, role: &str) -> String {
    let outcome = scratch.builder().sql_dir("db").role(role).run().unwrap();
    // A project without tenant models gets no tenant migrations for its roles.
    assert!(
        outcome.tenant_written.is_none() && !scratch.migrations_dir().join("tenant").exists(),
        "{outcome:?}"
    );
    std::fs::read_to_string(outcome.written.expect("a migration")).unwrap()
}

/// The models built for `role`, and a fresh database migrated to them.
async fn migrated(role: &str) -> (Scratch, crate::support::Db) {
    let scratch = scratch(role);
    build(&scratch, role);
    let db = fresh_db().await;
    Migrator::new(&scratch.migrations())
        .run(&db.1)
        .await
        .unwrap();
    (scratch, db)
}

/// The tickets `role` sees when acting for `org`, in a transaction of its own.
async fn visible(pool: &PgPool, role: &str, org: i64) -> Vec<String> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    strata::rls::set_local(&mut tx, "app.org_id", &org.to_string())
        .await
        .unwrap();
    let titles: Vec<(String,)> =
        sqlx::query_as("SELECT title FROM ticketing.ticket ORDER BY title")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    titles.into_iter().map(|(t,)| t).collect()
}

#[tokio::test]
async fn policies_are_made_after_their_function_obeyed_and_drift_checked() {
    let role = "rls_tickets_app";
    let scratch = scratch(role);
    let up = build(&scratch, role);
    let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} in:\n{up}"));
    assert!(at(&format!("CREATE ROLE \"{role}\" NOLOGIN")) < at("CREATE TABLE"));
    assert!(at("CREATE FUNCTION ticketing.current_org_id()") < at("CREATE POLICY"));
    assert!(at("CREATE TABLE \"ticketing\".\"ticket\"") < at("CREATE POLICY \"tickets_by_org\""));
    assert!(
        at("CREATE POLICY \"tickets_by_org\"")
            < at("ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY"),
        "forced only once its policies exist"
    );
    assert!(up.contains("AS RESTRICTIVE FOR UPDATE"), "{up}");

    let (_db, pool) = fresh_db().await;
    let migrations = scratch.migrations();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    let (login, bypass): (bool, bool) = sqlx::query_as(
        "SELECT rolcanlogin, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = $1",
    )
    .bind(role)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!login && !bypass, "made NOLOGIN, without BYPASSRLS");

    psql(
        &pool,
        "INSERT INTO ticketing.ticket (org_id, title) VALUES (1, 'a1'), (1, 'a2'), (2, 'b1');",
    )
    .await;
    assert_eq!(visible(&pool, role, 1).await, ["a1", "a2"]);
    assert_eq!(visible(&pool, role, 2).await, ["b1"]);
    assert!(visible(&pool, role, 3).await.is_empty());

    // Writing a row for another organisation is refused by the check.
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    strata::rls::set_local(&mut tx, "app.org_id", "1")
        .await
        .unwrap();
    let refused = sqlx::query("INSERT INTO ticketing.ticket (org_id, title) VALUES (2, 'sneaky')")
        .execute(&mut *tx)
        .await;
    assert!(
        refused.is_err_and(|e| e.to_string().contains("row-level security")),
        "a row for organisation 2 written while acting for 1"
    );
    drop(tx);

    // The setting lasts only as long as its transaction.
    let mut tx = pool.begin().await.unwrap();
    strata::rls::set_local(&mut tx, "app.org_id", "2")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (after,): (Option<String>,) =
        sqlx::query_as("SELECT nullif(current_setting('app.org_id', true), '')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(after, None);
    let mut tx = pool.begin().await.unwrap();
    let bad = strata::rls::set_local(&mut tx, "org_id", "1").await;
    assert!(
        matches!(bad, Err(strata::Error::InvalidSetting { .. })),
        "{bad:?}"
    );

    // Drift: by what a policy does, not by its name.
    let drift_after = |sql: &'static str| {
        let pool = pool.clone();
        let migrations = &migrations;
        async move {
            psql(&pool, sql).await;
            check_drift(&pool, migrations).await.unwrap()
        }
    };
    let opened = drift_after(
        "DROP POLICY tickets_by_org ON ticketing.ticket;
         CREATE POLICY tickets_by_org ON ticketing.ticket TO rls_tickets_app USING (true);",
    )
    .await;
    assert_eq!(opened.differences.len(), 1, "{opened}");
    let d = &opened.differences[0];
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Policy)
    );
    assert_eq!(d.name, "ticketing.ticket.tickets_by_org");
    assert_eq!(
        d.actual.as_deref(),
        Some("for all to rls_tickets_app using (true)")
    );

    let dropped = drift_after("DROP POLICY tickets_by_org ON ticketing.ticket").await;
    let d = &dropped.differences[0];
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Missing, ObjectKind::Policy),
        "{dropped}"
    );

    let unforced = drift_after(
        "CREATE POLICY tickets_by_org ON ticketing.ticket TO rls_tickets_app
           USING (org_id = (SELECT ticketing.current_org_id()));
         ALTER TABLE ticketing.ticket NO FORCE ROW LEVEL SECURITY;",
    )
    .await;
    assert_eq!(unforced.differences.len(), 1, "{unforced}");
    let d = &unforced.differences[0];
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Changed, ObjectKind::Table)
    );
    assert_eq!(d.property.as_deref(), Some("row-level security"));

    let extra = drift_after(
        "ALTER TABLE ticketing.ticket FORCE ROW LEVEL SECURITY;
         CREATE POLICY everyone ON ticketing.ticket FOR SELECT USING (true);",
    )
    .await;
    let d = &extra.differences[0];
    assert_eq!(
        (d.kind, d.object),
        (DifferenceKind::Unexpected, ObjectKind::Policy),
        "{extra}"
    );
    psql(&pool, "DROP POLICY everyone ON ticketing.ticket").await;
    assert!(check_drift(&pool, &migrations).await.unwrap().is_clean());

    // Grants: a revoked privilege, a lost schema USAGE, an extra privilege.
    let revoked = drift_after(
        "REVOKE UPDATE ON ticketing.ticket FROM rls_tickets_app;
         REVOKE USAGE ON SCHEMA ticketing FROM rls_tickets_app;",
    )
    .await;
    let found: Vec<String> = revoked
        .differences
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "changed grant ticketing.ticket privileges of rls_tickets_app: expected select, insert, update, found select, insert",
            "missing grant ticketing usage of rls_tickets_app",
        ],
        "{revoked}"
    );
    let extra = drift_after(
        "GRANT UPDATE ON ticketing.ticket TO rls_tickets_app;
         GRANT USAGE ON SCHEMA ticketing TO rls_tickets_app;
         GRANT DELETE ON ticketing.ticket TO rls_tickets_app;",
    )
    .await;
    assert_eq!(extra.differences.len(), 1, "{extra}");
    assert_eq!(
        extra.differences[0].kind,
        DifferenceKind::Changed,
        "{extra}"
    );
    psql(
        &pool,
        "REVOKE DELETE ON ticketing.ticket FROM rls_tickets_app",
    )
    .await;
    // A grant to a role the models do not declare is not strata's.
    psql(&pool, "GRANT SELECT ON ticketing.ticket TO PUBLIC").await;
    assert!(check_drift(&pool, &migrations).await.unwrap().is_clean());

    // Back: the policies and row security go with the table; the role stays.
    let back = Migrator::new(&migrations)
        .confirm_all()
        .rollback_to(&pool, 0)
        .await
        .unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
    let (roles,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(roles, 1, "a role belongs to the cluster: never dropped");
}

/// Changing a policy drops and makes it again in one migration; a column
/// it reads changing type takes it along and brings it back.
#[tokio::test]
async fn a_changed_policy_is_made_again_and_survives_a_type_change_under_it() {
    let role = "rls_change_app";
    let (scratch, (_db, pool)) = migrated(role).await;

    scratch.write_models(&models(role).replace(
        "using = \"NOT closed\"",
        "using = \"NOT closed AND title <> ''\"",
    ));
    let changed = build(&scratch, role);
    let at = |text: &str| {
        changed
            .find(text)
            .unwrap_or_else(|| panic!("{text} in:\n{changed}"))
    };
    assert!(at("DROP POLICY \"no_closed_edits\"") < at("CREATE POLICY \"no_closed_edits\""));
    assert!(
        !changed.contains("tickets_by_org"),
        "the other policy is untouched:\n{changed}"
    );
    migrate_clean(&scratch, &pool).await;

    // PostgreSQL refuses to retype a column a policy reads: the policy
    // goes first and comes back after.
    scratch.write_models(
        &models(role)
            .replace(
                "using = \"NOT closed\"",
                "using = \"NOT closed AND title <> ''\"",
            )
            .replace("pub org_id: i64", "pub org_id: i32"),
    );
    let outcome = scratch
        .builder()
        .sql_dir("db")
        .role(role)
        .confirm_all()
        .run()
        .unwrap();
    let retyped = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    let at = |text: &str| {
        retyped
            .find(text)
            .unwrap_or_else(|| panic!("{text} in:\n{retyped}"))
    };
    assert!(at("DROP POLICY \"tickets_by_org\"") < at("TYPE integer"));
    assert!(at("TYPE integer") < at("CREATE POLICY \"tickets_by_org\""));
    let report = Migrator::new(&scratch.migrations())
        .confirm_all()
        .run(&pool)
        .await
        .unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
}

/// The build names each known trap and its fix, and keeps building.
#[test]
fn the_build_warns_of_each_row_level_security_trap_by_name() {
    let role = "rls_warned_app";
    let safe = scratch(role);
    let outcome = safe.builder().sql_dir("db").role(role).run().unwrap();
    assert_eq!(
        outcome.warnings,
        Vec::<String>::new(),
        "the safe forms warn of nothing"
    );
    let qualified = scratch(role);
    qualified.write_file(
        "db/functions/current_org_id.sql",
        &CURRENT_ORG_ID.replace("current_setting", "pg_catalog.current_setting"),
    );
    let outcome = qualified.builder().sql_dir("db").role(role).run().unwrap();
    assert_eq!(
        outcome.warnings,
        Vec::<String>::new(),
        "nor with the function's schema spelt out"
    );

    let models = models(role).replace(
        "using = \"NOT closed\"",
        "using = \"NOT closed AND current_setting('app.user') <> ''\"",
    ) + r#"
#[strata::view("ticketing", sql = "SELECT id, title FROM ticketing.ticket")]
pub struct TicketTitle {
    pub id: i64,
    pub title: String,
}

#[strata::view("ticketing", sql = "SELECT count(*) AS tickets FROM ticketing.ticket", materialized)]
pub struct TicketCount {
    pub tickets: i64,
}
"#;
    let trapped = Scratch::with_models(&models);
    trapped.write_file(
        "db/functions/current_org_id.sql",
        "CREATE FUNCTION ticketing.current_org_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
AS $$ SELECT current_setting('app.org_id', true)::bigint $$;
",
    );
    let outcome = trapped.builder().sql_dir("db").role(role).run().unwrap();
    assert!(outcome.written.is_some(), "warnings do not stop the build");
    let warnings = outcome.warnings.join("\n");
    for (object, fix) in [
        (
            "policy ticketing.ticket.no_closed_edits reads current_setting('app.user') bare",
            "nullif(current_setting('app.user', true), '')",
        ),
        (
            "function ticketing.current_org_id reads current_setting('app.org_id', true), which is ''",
            "nullif(current_setting('app.org_id', true), '')",
        ),
        (
            "function ticketing.current_org_id is SECURITY DEFINER without a pinned search_path",
            "SET search_path = pg_catalog, ticketing",
        ),
        (
            "view ticketing.ticket_title reads ticketing.ticket with its owner's rights",
            "grant the view only to roles that may see every row",
        ),
        (
            "materialized view ticketing.ticket_count holds every row of ticketing.ticket",
            "read ticketing.ticket directly",
        ),
    ] {
        assert!(warnings.contains(object) && warnings.contains(fix), "{object} / {fix} in:\n{warnings}");
    }
    assert_eq!(outcome.warnings.len(), 5, "{warnings}");
}

/// `strata pull` writes `rls`, each `#[policy]` and the roles they name;
/// the pulled models, built and migrated, make the same database.
#[tokio::test]
async fn row_level_security_is_pulled_into_models_that_make_the_same_database() {
    let role = "rls_pulled_app";
    let original = scratch(role);
    original
        .builder()
        .sql_dir("db")
        .role(role)
        .default_privileges("ticketing", "select", role)
        .run()
        .unwrap();
    let ((db_a, a), (db_b, b)) = (fresh_db().await, fresh_db().await);
    Migrator::new(&original.migrations()).run(&a).await.unwrap();
    let state = strata::read_database(&a, None).await.unwrap();

    let krate = tempfile::tempdir().unwrap();
    let pulled = strata_tools::pull::write(&state, krate.path()).unwrap();
    assert_eq!(pulled.not_expressed, Vec::<String>::new());
    assert_eq!(pulled.build.roles, [role]);
    assert_eq!(
        pulled.build.default_privileges,
        [("ticketing".to_owned(), "select".to_owned(), role.to_owned())]
    );
    let models = std::fs::read_to_string(krate.path().join("src/models/ticketing.rs")).unwrap();
    assert!(models.contains(", rls)]"), "{models}");
    assert!(
        models.contains(r#"#[policy(name = "no_closed_edits", for = "update", restrictive, to = "rls_pulled_app", using = "(NOT closed)")]"#),
        "{models}"
    );
    let outcome = pulled
        .build
        .builder(krate.path())
        .frozen(false)
        .run()
        .unwrap_or_else(|e| panic!("the pulled models build: {e}"));
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let report =
        Migrator::new(&strata::Migrations::from_dir(krate.path().join("migrations")).unwrap())
            .run(&b)
            .await
            .unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    strata_tests::judges::assert_same(db_a.url(), db_b.url());
    assert!(check_drift(&b, &original.migrations())
        .await
        .unwrap()
        .is_clean());
    strata_tests::pulled::compiles(krate.path());

    // `strata diff` from an empty database writes the policies and row
    // security too, and reaches parity.
    let (_db_c, c) = fresh_db().await;
    let schemas = ["ticketing".to_owned()];
    let diff = strata_tools::DatabaseDiff::plan(&c, &a, Some(&schemas), false)
        .await
        .unwrap();
    assert!(
        diff.sql.contains("CREATE POLICY \"tickets_by_org\""),
        "{}",
        diff.sql
    );
    assert!(
        diff.sql.contains("FORCE ROW LEVEL SECURITY"),
        "{}",
        diff.sql
    );
    assert!(
        diff.sql.contains(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA \"ticketing\" GRANT SELECT ON TABLES TO \"{role}\";"
        )),
        "{}",
        diff.sql
    );
    let outcomes = diff.apply(&c).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, strata_tools::StageOutcome::Applied)),
        "{outcomes:?}"
    );
    assert_eq!(diff.remaining(&c, &a).await.unwrap(), Vec::<String>::new());
}

/// A privilege taken out of `#[grant]` is revoked, the schema's `USAGE`
/// with the role's last grant there; a role no build declares is an error
/// that says how to declare it.
#[tokio::test]
async fn removed_grants_are_revoked_and_roles_must_be_declared() {
    let role = "rls_revoked_app";
    let (scratch, (_db, pool)) = migrated(role).await;

    let fewer = models(role).replace("#[grant(select, insert, update, to", "#[grant(select, to");
    scratch.write_models(&fewer);
    let revoke = build(&scratch, role);
    assert!(
        revoke.contains(&format!(
            "REVOKE INSERT, UPDATE ON TABLE \"ticketing\".\"ticket\" FROM \"{role}\";"
        )),
        "{revoke}"
    );
    assert!(!revoke.contains("USAGE"), "{revoke}");
    migrate_clean(&scratch, &pool).await;

    let none = fewer.replace(&format!("#[grant(select, to = \"{role}\")]\n"), "");
    scratch.write_models(&none);
    let revoke = build(&scratch, role);
    assert!(
        revoke.contains(&format!(
            "REVOKE USAGE ON SCHEMA \"ticketing\" FROM \"{role}\";"
        )),
        "{revoke}"
    );
    migrate_clean(&scratch, &pool).await;
    // And back: the down files give them again.
    rolled_back_clean(&scratch, &pool, 1, &[]).await;
    let (can,): (bool,) = sqlx::query_as(&format!(
        "SELECT has_table_privilege('{role}', 'ticketing.ticket', 'UPDATE')"
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(can);

    let undeclared = scratch.builder().sql_dir("db").run().unwrap_err();
    assert!(
        undeclared.to_string().contains(&format!(
            "names role `{role}`, which the build does not declare: add `.role(\"{role}\")`"
        )),
        "{undeclared}"
    );
}

/// A compat view is `security_invoker`, so its caller needs privileges on
/// it as well as on the table: it carries the table's grants, follows their
/// changes, and a grant revoked from it is drift.
#[tokio::test]
async fn a_compat_view_carries_its_tables_grants_and_they_are_drift_checked() {
    let role = "rls_compat_app";
    let (scratch, (_db, pool)) = migrated(role).await;
    let moved = models(role).replace(
        "#[strata::schema(\"ticketing\", rls)]",
        "#[strata::schema(\"desk\", table = \"tickets\", moved_from = \"ticketing\", renamed_from = \"ticket\", compat_view, rls)]",
    );
    scratch.write_models(&moved);
    let up = build(&scratch, role);
    assert!(
        up.contains(&format!(
            "GRANT SELECT, INSERT, UPDATE ON TABLE \"ticketing\".\"ticket\" TO \"{role}\";"
        )),
        "the compat view gets the table's grants: {up}"
    );
    migrate_clean(&scratch, &pool).await;
    psql(
        &pool,
        "INSERT INTO desk.tickets (org_id, title) VALUES (1, 'mine'), (2, 'theirs')",
    )
    .await;
    // Through the old name, the role reads (its organisation's rows only).
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    strata::rls::set_local(&mut tx, "app.org_id", "1")
        .await
        .unwrap();
    let titles: Vec<(String,)> = sqlx::query_as("SELECT title FROM ticketing.ticket")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(titles, [("mine".to_owned(),)]);

    // Fewer privileges on the table: fewer on its view.
    scratch
        .write_models(&moved.replace("#[grant(select, insert, update, to", "#[grant(select, to"));
    let revoke = build(&scratch, role);
    assert!(
        revoke.contains(&format!(
            "REVOKE INSERT, UPDATE ON TABLE \"ticketing\".\"ticket\" FROM \"{role}\";"
        )),
        "{revoke}"
    );
    migrate_clean(&scratch, &pool).await;

    psql(
        &pool,
        &format!("REVOKE SELECT ON ticketing.ticket FROM {role}"),
    )
    .await;
    let drift = check_drift(&pool, &scratch.migrations()).await.unwrap();
    let found: Vec<(DifferenceKind, ObjectKind, &str, Option<&str>)> = drift
        .differences
        .iter()
        .map(|d| (d.kind, d.object, d.name.as_str(), d.property.as_deref()))
        .collect();
    let property = format!("privileges of {role}");
    assert_eq!(
        found,
        [(
            DifferenceKind::Missing,
            ObjectKind::Grant,
            "ticketing.ticket",
            Some(property.as_str())
        )],
        "{drift}"
    );
}

/// A policy per command, on a table that moved and left a compat view:
/// what `role` may read, write, change and delete, acting for one
/// organisation, through the table and through the view.
fn per_command(role: &str) -> String {
    let org = "org_id = (SELECT ticketing.current_org_id())";
    format!(
        r#"
#[strata::schema("desk", table = "tickets", moved_from = "ticketing", renamed_from = "ticket", compat_view, rls)]
#[policy(name = "read_own", for = "select", to = "{role}", using = "{org}")]
#[policy(name = "write_own", for = "insert", to = "{role}", with_check = "{org}")]
#[policy(name = "change_own", for = "update", to = "{role}", using = "{org}", with_check = "{org}")]
#[policy(name = "delete_own", for = "delete", to = "{role}", using = "{org}")]
#[grant(select, insert, update, delete, to = "{role}")]
pub struct Ticket {{
    #[column(primary_key, identity)]
    pub id: i64,
    pub org_id: i64,
    pub title: String,
    #[column(default = "false")]
    pub closed: bool,
}}
"#
    )
}

/// Runs `sql` as `role` acting for organisation 1, in a transaction it
/// rolls back: the rows it touched, or the SQLSTATE of its error.
async fn as_org_one(pool: &PgPool, role: &str, sql: &str) -> Result<u64, String> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    strata::rls::set_local(&mut tx, "app.org_id", "1")
        .await
        .unwrap();
    let done = sqlx::query(sql).execute(&mut *tx).await;
    tx.rollback().await.unwrap();
    done.map(|d| d.rows_affected()).map_err(|e| match e {
        sqlx::Error::Database(e) => e.code().unwrap_or_default().into_owned(),
        other => other.to_string(),
    })
}

/// Issue 13, item 5: isolation for each policy command, as a role without
/// BYPASSRLS, through the table and through its compat view.
#[tokio::test]
async fn each_policy_command_isolates_through_the_table_and_its_compat_view() {
    let role = "rls_commands_app";
    let (scratch, (_db, pool)) = migrated(role).await;
    scratch.write_models(&per_command(role));
    build(&scratch, role);
    migrate_clean(&scratch, &pool).await;
    psql(
        &pool,
        "INSERT INTO desk.tickets (org_id, title) VALUES (1, 'a'), (1, 'b'), (2, 'c'), (2, 'd'), (2, 'e')",
    )
    .await;
    let denied = || Err("42501".to_owned());
    for table in ["desk.tickets", "ticketing.ticket"] {
        for (command, sql, expected) in [
            ("select", format!("SELECT * FROM {table}"), Ok(2)),
            (
                "insert",
                format!("INSERT INTO {table} (org_id, title) VALUES (1, 'new')"),
                Ok(1),
            ),
            (
                "insert for another organisation",
                format!("INSERT INTO {table} (org_id, title) VALUES (2, 'forged')"),
                denied(),
            ),
            ("update", format!("UPDATE {table} SET closed = true"), Ok(2)),
            (
                "update into another organisation",
                format!("UPDATE {table} SET org_id = 2"),
                denied(),
            ),
            ("delete", format!("DELETE FROM {table}"), Ok(2)),
        ] {
            assert_eq!(
                as_org_one(&pool, role, &sql).await,
                expected,
                "{command} through {table}"
            );
        }
    }
    let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM desk.tickets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 5, "every attempt was rolled back");
}

/// Whether `role` may `privilege` the table `table`.
async fn may(pool: &PgPool, role: &str, table: &str, privilege: &str) -> bool {
    let (may,): (bool,) = sqlx::query_as("SELECT has_table_privilege($1, $2, $3)")
        .bind(role)
        .bind(table)
        .bind(privilege)
        .fetch_one(pool)
        .await
        .unwrap();
    may
}

/// `Builder::default_privileges`: the tables a hand-written migration or a
/// person makes later in the schema are granted too; drift-checked; taken
/// out, revoked, and given back by the rollback; bad calls are build
/// errors that say what to do.
#[tokio::test]
async fn default_privileges_reach_tables_made_later_and_are_drift_checked() {
    let role = "rls_default_app";
    let scratch = scratch(role);
    let with_defaults = || {
        scratch
            .builder()
            .sql_dir("db")
            .role(role)
            .default_privileges("ticketing", "select, INSERT", role)
    };
    with_defaults().run().unwrap();
    let sql = crate::support::files_in(&scratch.migrations_dir())
        .into_iter()
        .find(|(name, _)| name.starts_with("0001") && !name.ends_with(".down.sql"))
        .unwrap()
        .1;
    assert!(
        sql.contains(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA \"ticketing\" GRANT SELECT, INSERT ON TABLES TO \"{role}\";"
        )),
        "{sql}"
    );
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;

    // A table made later, as the migrations' role makes it.
    psql(&pool, "CREATE TABLE ticketing.later (id bigint)").await;
    assert!(may(&pool, role, "ticketing.later", "SELECT").await);
    assert!(may(&pool, role, "ticketing.later", "INSERT").await);
    assert!(!may(&pool, role, "ticketing.later", "DELETE").await);
    psql(&pool, "DROP TABLE ticketing.later").await;

    // Changed by hand: drift, naming the schema, the role and both sides.
    psql(
        &pool,
        &format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA ticketing REVOKE INSERT ON TABLES FROM {role}"
        ),
    )
    .await;
    let drift = check_drift(&pool, &scratch.migrations()).await.unwrap();
    let found = drift
        .differences
        .iter()
        .find(|d| {
            d.object == ObjectKind::Grant
                && d.name == "ticketing"
                && d.property.as_deref()
                    == Some(&*format!(
                        "default privileges of {role} on tables made later"
                    ))
        })
        .unwrap_or_else(|| panic!("{drift}"));
    assert_eq!(found.kind, DifferenceKind::Changed, "{drift}");
    assert_eq!(found.expected.as_deref(), Some("select, insert"), "{drift}");
    assert_eq!(found.actual.as_deref(), Some("select"), "{drift}");
    psql(
        &pool,
        &format!("ALTER DEFAULT PRIVILEGES IN SCHEMA ticketing GRANT INSERT ON TABLES TO {role}"),
    )
    .await;
    assert!(check_drift(&pool, &scratch.migrations())
        .await
        .unwrap()
        .is_clean());

    // Taken out: revoked, so a table made after gets nothing.
    let revoke = build(&scratch, role);
    assert!(
        revoke.contains(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA \"ticketing\" REVOKE SELECT, INSERT ON TABLES FROM \"{role}\";"
        )),
        "{revoke}"
    );
    migrate_clean(&scratch, &pool).await;
    psql(&pool, "CREATE TABLE ticketing.later (id bigint)").await;
    assert!(!may(&pool, role, "ticketing.later", "SELECT").await);
    psql(&pool, "DROP TABLE ticketing.later").await;
    // And back, by the rollback.
    rolled_back_clean(&scratch, &pool, 1, &[]).await;
    psql(&pool, "CREATE TABLE ticketing.later (id bigint)").await;
    assert!(may(&pool, role, "ticketing.later", "INSERT").await);

    // Bad calls, each naming the call and what to do.
    for (builder, says) in [
        (
            scratch
                .builder()
                .sql_dir("db")
                .role(role)
                .default_privileges("ticketing", "select, frobnicate", role),
            "`frobnicate` is not a privilege on tables: use select, insert",
        ),
        (
            scratch
                .builder()
                .sql_dir("db")
                .role(role)
                .default_privileges("ticketing", "select", "nobody_declared"),
            "role `nobody_declared` is not declared: add `.role(\"nobody_declared\")`",
        ),
        (
            scratch
                .builder()
                .sql_dir("db")
                .role(role)
                .default_privileges("elsewhere", "select", role),
            "schema `elsewhere` holds no model",
        ),
        (
            with_defaults().default_privileges("ticketing", "delete", role),
            "is given twice: give every privilege in one call",
        ),
    ] {
        let error = builder.run().unwrap_err().to_string();
        assert!(error.starts_with("Builder::default_privileges("), "{error}");
        assert!(error.contains(says), "{error}");
    }
}
