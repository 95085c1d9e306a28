//! The command line trusts neither its migrations folder nor its manifest:
//! what it cannot check against is an error, never `clean`.

use super::*;

#[tokio::test]
async fn a_blank_or_empty_manifest_is_an_error_never_clean() {
    let (krate, db, _pool) = migrated().await;
    let manifest = krate.path().join("migrations/manifest.json");
    std::fs::write(&manifest, "").unwrap();
    let drift = strata(krate.path(), db.url(), &["drift"]);
    assert_eq!(code(&drift), 1, "{}", stderr(&drift));
    assert!(
        stderr(&drift).contains("manifest.json is empty"),
        "{}",
        stderr(&drift)
    );

    // A manifest that lists nothing, in a folder that holds nothing else.
    let bare = tempfile::tempdir().unwrap();
    std::fs::create_dir(bare.path().join("migrations")).unwrap();
    std::fs::write(
        bare.path().join("migrations/manifest.json"),
        strata_manifest::Manifest::default().to_json(),
    )
    .unwrap();
    let drift = strata(bare.path(), db.url(), &["drift"]);
    assert_eq!(code(&drift), 1, "{}", stderr(&drift));
    assert!(
        stderr(&drift).contains("lists no migrations"),
        "{}",
        stderr(&drift)
    );
}

#[tokio::test]
async fn a_manifest_entry_outside_the_folder_is_never_read() {
    let (krate, db, _pool) = migrated().await;
    let path = krate.path().join("migrations/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["migrations"][0]["file"] = "../../../../etc/hostname".into();
    std::fs::write(&path, manifest.to_string()).unwrap();
    let status = strata(krate.path(), db.url(), &["status"]);
    assert_eq!(code(&status), 1);
    assert!(
        stderr(&status).contains(
            "\"../../../../etc/hostname\", which is not a file name in the migrations folder"
        ),
        "{}",
        stderr(&status)
    );
}

#[tokio::test]
async fn a_migration_file_the_manifest_does_not_list_is_named() {
    let (krate, db, _pool) = migrated().await;
    std::fs::write(
        krate.path().join("migrations/0009_forgotten.sql"),
        "UPDATE shop.customers SET note = 'x';",
    )
    .unwrap();
    let plan = strata(krate.path(), db.url(), &["plan"]);
    assert_eq!(code(&plan), 1);
    let said = stderr(&plan);
    assert!(said.contains("0009_forgotten.sql is not listed"), "{said}");
    assert!(said.contains("cargo build"), "{said}");
}

/// A driver error is said once, not once per link of its chain.
#[tokio::test]
async fn a_missing_database_is_said_once() {
    let db = strata::testing::database().await.unwrap();
    let url = db
        .url()
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/nosuchdb"))
        .unwrap();
    let krate = built();
    let status = strata(krate.path(), &url, &["status"]);
    assert_eq!(code(&status), 1);
    assert_eq!(
        stderr(&status).trim_end(),
        "error: connecting to the database of --database-url: error returned from database: database \"nosuchdb\" does not exist"
    );
}
