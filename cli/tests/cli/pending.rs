//! `strata drift` with migrations pending checks the version the database
//! is at, and says how many are pending, rather than calling them drift.

use super::*;

#[tokio::test]
async fn drift_after_a_rollback_checks_the_applied_version_and_counts_the_pending() {
    let (krate, db, pool) = migrated().await;
    std::fs::write(
        krate.path().join("src/models.rs"),
        SHOP.replace(
            "    pub note: Option<String>,",
            "    pub note: Option<String>,\n    pub phone: Option<String>,",
        ),
    )
    .unwrap();
    build(krate.path());
    assert_eq!(code(&strata(krate.path(), db.url(), &["migrate"])), 0);
    // The refusal names the command line's flag, not the library's call.
    let refused = strata(krate.path(), db.url(), &["rollback", "--to", "1"]);
    assert_eq!(code(&refused), 1);
    let said = stderr(&refused);
    assert!(said.contains("--confirm shop.customers.phone"), "{said}");
    assert!(!said.contains("Migrator::"), "{said}");
    let back = strata(
        krate.path(),
        db.url(),
        &["rollback", "--to", "1", "--confirm", "shop.customers.phone"],
    );
    assert_eq!(code(&back), 0, "{}", stderr(&back));

    let drift = strata(krate.path(), db.url(), &["drift"]);
    let said = String::from_utf8_lossy(&drift.stdout);
    assert_eq!(code(&drift), 0, "{said}{}", stderr(&drift));
    assert!(
        said.contains("against version 1 (1 migration(s) pending"),
        "{said}"
    );
    assert!(said.trim_end().ends_with("clean"), "{said}");
    let json = json(&strata(krate.path(), db.url(), &["drift", "--json"]));
    assert_eq!(
        (json["version"].as_u64(), json["pending"].as_u64()),
        (Some(1), Some(1))
    );

    // Against the newest version, the missing column is drift, as it should be.
    let latest = strata(krate.path(), db.url(), &["drift", "--target", "2"]);
    assert_eq!(code(&latest), 2);
    assert!(String::from_utf8_lossy(&latest.stdout).contains("phone"));

    // A change by hand is drift against the applied version too.
    sqlx::query("ALTER TABLE shop.customers ADD COLUMN by_hand integer")
        .execute(&pool)
        .await
        .unwrap();
    let drift = strata(krate.path(), db.url(), &["drift"]);
    assert_eq!(code(&drift), 2);
    assert!(String::from_utf8_lossy(&drift.stdout).contains("by_hand"));
}
