//! Text a user gives strata (an expression, a view's query, a hand-written
//! file) does what it says and no more: nothing else rides along into the
//! statements strata writes.

use strata::sqlx;

use crate::support::{fresh_db, migrate_clean, psql, Scratch};

/// A view's SQL from a file: one query, or a build error naming the file.
#[tokio::test]
async fn a_view_file_that_holds_a_second_statement_is_a_build_error_naming_it() {
    let scratch = Scratch::with_models(
        r#"
#[strata::view("report", sql_file = "views/one.sql")]
pub struct One {
    pub one: i32,
}
"#,
    );
    scratch.write_file(
        "views/one.sql",
        "SELECT 1 AS one;\nDROP TABLE victim.keep;\n",
    );
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(error.contains("views/one.sql"), "{error}");
    assert!(error.contains("one query"), "{error}");
    assert!(!scratch.migrations_dir().join("manifest.json").exists());

    // With the second statement gone, and a comment at its end, it builds and applies.
    scratch.write_file("views/one.sql", "SELECT 1 AS one -- the only row\n");
    scratch.build();
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;
    let (one,): (i32,) = sqlx::query_as("SELECT one FROM report.one")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
}

/// The same view in the attribute is refused by the build script's reading
/// of the models too, with the file and line of the attribute.
#[test]
fn a_view_attribute_with_a_second_statement_is_refused_with_its_line() {
    let scratch = Scratch::with_models(
        "\n#[strata::view(\"report\", sql = \"SELECT 1 AS one; DROP TABLE victim.keep\")]\npub struct One {\n    pub one: i32,\n}\n",
    );
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(error.contains("models.rs:2:"), "{error}");
    assert!(error.contains("must be one query"), "{error}");
}

/// A `;`, a `)` or `--` inside a string literal is text: a default and a
/// check that hold them build, apply and hold exactly that text.
#[tokio::test]
async fn semicolons_inside_string_literals_are_text() {
    let scratch = Scratch::with_models(
        r#"
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "'a;b) -- c'", check = "note <> 'x;y'")]
    pub note: String,
    #[column(default = "now()")]
    pub made_at: Option<String>,
}
"#,
    );
    scratch.build();
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;
    psql(&pool, "INSERT INTO shop.item DEFAULT VALUES").await;
    let (note,): (String,) = sqlx::query_as("SELECT note FROM shop.item")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(note, "a;b) -- c");
    let refused = sqlx::query("INSERT INTO shop.item (note) VALUES ('x;y')")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the check holds its literal");
    let constraints: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_catalog.pg_constraint WHERE conrelid = 'shop.item'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(constraints, 2, "the key and the one check, nothing more");
}

const ITEMS: &str = crate::support::ITEM;

/// A down file edited after the build is refused at rollback; rebuilt, its
/// new statements are judged, and one that loses data needs its own
/// confirmation: confirming an unrelated column never lets it through.
#[tokio::test]
async fn an_edited_down_file_is_refused_then_judged_by_its_statements() {
    let scratch = Scratch::with_models(ITEMS);
    scratch.build();
    scratch.write_models(&ITEMS.replace(
        "pub label: String,",
        "pub label: String,\n    pub note: Option<String>,",
    ));
    scratch.build();
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;
    psql(&pool, "INSERT INTO shop.item (label) VALUES ('kept')").await;

    let (down, text) = scratch
        .files()
        .into_iter()
        .find(|(file, _)| file.starts_with("0002") && file.ends_with(".down.sql"))
        .unwrap();
    scratch.write_file(
        &format!("migrations/{down}"),
        &format!("{text}\nDROP SCHEMA shop CASCADE;\n"),
    );
    let rollback = |migrations: strata::Migrations| {
        let pool = pool.clone();
        async move {
            strata::Migrator::new(&migrations)
                .confirm("shop.item.note")
                .rollback_to(&pool, 1)
                .await
        }
    };
    match rollback(scratch.migrations()).await {
        Err(strata::Error::DownFileModified { file, .. }) => assert_eq!(file, down),
        other => panic!("an edited down file must be refused, not {other:?}"),
    }

    // The build takes the edit in, and judges the statement it added.
    let outcome = scratch.build();
    assert!(
        outcome.written.is_none(),
        "no migration for an edited down file"
    );
    match rollback(scratch.migrations()).await {
        Err(strata::Error::UnconfirmedRollback { steps }) => {
            assert_eq!(steps.len(), 1, "{steps:?}");
            assert_eq!(steps[0].object, down);
            assert!(
                steps[0].what.contains("DROP SCHEMA shop CASCADE"),
                "{steps:?}"
            );
        }
        other => panic!("the added DROP must need its own confirmation, not {other:?}"),
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM shop.item")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "nothing was undone");
}

/// A hand-written migration that commits part of itself is a build error
/// naming its file and line, before anything runs; without the `COMMIT`,
/// it applies as one transaction.
#[tokio::test]
async fn a_hand_written_commit_is_a_build_error_naming_its_line() {
    let scratch = Scratch::with_models(ITEMS);
    scratch.build();
    let file = "migrations/0002_relabel.sql";
    scratch.write_file(
        file,
        "UPDATE shop.item SET label = upper(label);\nCOMMIT;\nUPDATE shop.item SET label = label || '!';\n",
    );
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(error.contains("0002_relabel.sql:2:"), "{error}");
    assert!(
        error.contains("`COMMIT` controls the transaction"),
        "{error}"
    );

    scratch.write_file(file, "UPDATE shop.item SET label = upper(label);\n");
    scratch.build();
    let (_db, pool) = fresh_db().await;
    migrate_clean(&scratch, &pool).await;
}
