//! The build step: from models to migration files, deterministic, frozen on demand, never destructive.

use strata_build::Error;

use crate::support::{files_in, Scratch, SHOP};

#[test]
fn the_same_models_give_byte_identical_files() {
    let a = Scratch::with_models(SHOP);
    let b = Scratch::with_models(SHOP);
    a.build();
    b.build();
    assert_eq!(a.files(), b.files());
    let names: Vec<String> = a.files().into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        ["0001_initial.down.sql", "0001_initial.sql", "manifest.json"]
    );
}

#[test]
fn a_second_build_writes_nothing() {
    let scratch = Scratch::with_models(SHOP);
    assert!(scratch.build().written.is_some());
    let before = scratch.files();
    let again = scratch.build();
    assert_eq!(again.written, None);
    assert!(again.changes.is_empty());
    assert_eq!(scratch.files(), before);
}

#[test]
fn frozen_builds_fail_with_the_pending_changes_and_write_nothing() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let before = scratch.files();
    scratch.write_models(&SHOP.replace(
        "    pub quantity: i32,\n",
        "    pub quantity: i32,\n    pub bin: Option<String>,\n",
    ));

    let error = scratch
        .builder()
        .frozen(true)
        .run()
        .expect_err("a frozen build refuses to write");
    let Error::Frozen { changes } = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(changes, &["add stock_level.bin"]);
    assert!(error.to_string().contains("STRATA_FROZEN"));
    assert_eq!(scratch.files(), before);
}

#[test]
fn strata_frozen_in_the_environment_freezes_the_build() {
    let scratch = Scratch::with_models(SHOP);
    // Every other test in this binary says `.frozen(false)`, which wins over
    // the environment, so setting it here does not leak into them.
    std::env::set_var("STRATA_FROZEN", "1");
    let result = strata_build::Builder::new()
        .crate_dir(scratch.migrations_dir().parent().unwrap())
        .run();
    std::env::remove_var("STRATA_FROZEN");
    assert!(matches!(result, Err(Error::Frozen { .. })), "{result:?}");
    assert!(scratch.files().is_empty());
}

#[test]
fn dropping_a_column_is_refused_by_name_and_nothing_is_written() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let before = scratch.files();
    scratch.write_models(&SHOP.replace("    pub note: Option<String>,\n", ""));

    let error = scratch.builder().run().expect_err("a drop is refused");
    let message = error.to_string();
    assert!(
        message.contains("tenant_kct.customers.note: drop column"),
        "{message}"
    );
    assert_eq!(scratch.files(), before);
}

#[test]
fn narrowing_a_type_is_refused_and_widening_is_written() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&SHOP.replace("varchar(255)", "varchar(100)"));
    let error = scratch.builder().run().expect_err("narrowing is refused");
    assert!(
        error.to_string().contains("character varying(100)"),
        "{error}"
    );

    scratch.write_models(&SHOP.replace("varchar(255)", "varchar(320)"));
    let outcome = scratch.build();
    let sql = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    assert!(
        sql.contains(r#"ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "email" TYPE character varying(320);"#),
        "{sql}"
    );
}

#[test]
fn a_new_table_is_named_after_what_it_creates() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&format!(
        "{SHOP}\n#[strata::schema(\"audit\", table = \"change_log\")]\npub struct ChangeLog {{\n    #[column(primary_key, identity)]\n    pub id: i64,\n}}\n"
    ));
    let outcome = scratch.build();
    let written = outcome.written.unwrap();
    assert_eq!(
        written.file_name().unwrap().to_str(),
        Some("0002_create_change_log.sql")
    );
    let sql = std::fs::read_to_string(&written).unwrap();
    assert!(
        sql.contains("CREATE SCHEMA IF NOT EXISTS \"audit\";"),
        "{sql}"
    );
}

#[test]
fn mistakes_in_models_are_reported_with_file_and_line() {
    let scratch = Scratch::with_models(
        "#[strata::schema(\"s\")]\npub struct T {\n    #[column(primary_key, colour = \"red\")]\n    pub id: i64,\n}\n",
    );
    let error = scratch.builder().run().expect_err("a mistake is an error");
    let Error::Models(errors) = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (3, 27));
    assert!(errors[0].message.contains("unknown key `colour`"));
    assert!(files_in(&scratch.migrations_dir()).is_empty());
}

#[test]
fn a_file_that_is_not_rust_is_reported_not_skipped() {
    let scratch = Scratch::with_models("pub struct Broken {\n    id: i64,\n");
    let error = scratch
        .builder()
        .run()
        .expect_err("a syntax error stops the build");
    let Error::Models(errors) = &error else {
        panic!("unexpected error: {error}");
    };
    assert!(errors[0].file.ends_with("src/models.rs"), "{error}");
    assert!(files_in(&scratch.migrations_dir()).is_empty());
}

/// Issue 10, item 9: The build read any attribute called `schema` as strata's, and could
/// not follow a `use … as` alias or a model in another module, and then
/// silently wrote nothing.
#[test]
fn only_strata_schema_is_read_and_references_resolve_as_the_compiler_does() {
    let scratch = Scratch::with_models(
        r#"
use strata::schema;

#[schema("crm", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
}

// Another crate's attribute that is also called `schema` (utoipa has one).
#[derive(utoipa::ToSchema)]
#[utoipa::schema(example = "x")]
pub struct Payload {
    pub id: i64,
}
"#,
    );
    let src = scratch.migrations_dir().parent().unwrap().join("src");
    std::fs::write(
        src.join("orders.rs"),
        r#"
use crate::models::Customer as Client;

#[schema(example = json!({"id": 1}))]
pub struct NotAModel {
    pub id: i64,
}

#[strata::schema("crm", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Client)]
    pub client_id: i64,
    #[column(references = crate::models::Customer)]
    pub payer_id: i64,
    #[column(references = super::models::Customer)]
    pub referrer_id: Option<i64>,
}
"#,
    )
    .unwrap();
    let outcome = scratch.build();
    assert_eq!(outcome.models, 2, "only strata's models are read");
    let sql = std::fs::read_to_string(outcome.written.unwrap()).unwrap();
    for column in ["client_id", "payer_id", "referrer_id"] {
        assert!(
            sql.contains(&format!(
                r#"FOREIGN KEY ("{column}") REFERENCES "crm"."customers" ("id")"#
            )),
            "{column}: {sql}"
        );
    }

    std::fs::write(
        src.join("orders.rs"),
        "#[strata::schema(\"crm\")]\npub struct Refund {\n    #[column(primary_key)]\n    pub id: i64,\n    #[column(references = Nowhere)]\n    pub order_id: i64,\n}\n",
    )
    .unwrap();
    let error = scratch.builder().run().unwrap_err().to_string();
    assert!(
        error.contains("orders.rs:5:"),
        "names the file and line: {error}"
    );
    assert!(
        error.contains("`Nowhere` names no #[strata::schema] model"),
        "{error}"
    );
}

#[test]
fn a_model_mistake_in_a_build_script_leaves_a_compile_error_not_a_silent_success() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    scratch.write_models(&SHOP.replace("#[column(unique, type", "#[column(uniqe, type"));
    let out = tempfile::tempdir().unwrap();
    let outcome = scratch
        .builder()
        .frozen(true)
        .out_dir(out.path())
        .run()
        .expect("the compiler reports the mistake on its span, not the build script");
    assert_eq!(outcome.written, None);
    let embedded = std::fs::read_to_string(out.path().join("strata_migrations.rs")).unwrap();
    assert!(embedded.contains("compile_error!"), "{embedded}");
    assert!(embedded.contains("no migration was written"), "{embedded}");
    // Where, not what again: the compiler says what, on the user's tokens.
    assert!(embedded.contains("models.rs:"), "{embedded}");
    assert!(!embedded.contains("uniqe"), "{embedded}");
}

#[test]
fn the_embedded_migrations_carry_each_files_checksum_the_manifests_digest_and_its_state() {
    // A start-up with nothing to do trusts these instead of hashing and
    // parsing every file again: they must be those of the very bytes
    // `include_str!` embeds, including a hand-edited file.
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let dir = scratch.migrations_dir();
    let (first, text) = files_in(&dir)
        .into_iter()
        .find(|(name, _)| name.ends_with(".sql") && !name.contains(".down."))
        .expect("a migration");
    let edited = format!("{text}\n-- edited by hand\n");
    std::fs::write(dir.join(&first), &edited).unwrap();
    let out = tempfile::tempdir().unwrap();
    scratch.builder().out_dir(out.path()).run().unwrap();
    let embedded = std::fs::read_to_string(out.path().join("strata_migrations.rs")).unwrap();
    // Data alone: what the build computed comes under `Some(…)`, and no
    // name of the runtime's is written as text.
    assert!(embedded.contains("Some(("), "{embedded}");
    assert!(!embedded.contains("strata::"), "{embedded}");
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
    assert!(
        embedded.contains(&strata_manifest::digest(&manifest)),
        "{embedded}"
    );
    for (file, sql) in files_in(&dir).iter().filter(|(f, _)| f.ends_with(".sql")) {
        let sum = strata_manifest::checksum(sql);
        assert!(
            embedded.contains(&sum),
            "{file}'s checksum {sum} in {embedded}"
        );
    }
    assert!(embedded.contains(&strata_manifest::checksum(&edited)));
    // The state a full drift check compares with, compact, beside it.
    let state = std::fs::read_to_string(out.path().join("strata_migrations_state.json")).unwrap();
    assert!(
        embedded.contains("strata_migrations_state.json"),
        "{embedded}"
    );
    let manifest = strata_manifest::Manifest::from_json(&String::from_utf8(manifest).unwrap());
    assert_eq!(
        strata_manifest::SchemaState::from_compact_json(&state).unwrap(),
        manifest.unwrap().state
    );
}
