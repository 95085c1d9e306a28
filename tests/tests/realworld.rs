//! Real schemas no one here wrote, read from `../shared/realworld` (or
//! `STRATA_SHARED/realworld`), never copied here: each is adopted as a new
//! user would adopt it. Loaded into a database, pulled into models, built,
//! migration 1 run on an empty database, the two judged equal by migra
//! both ways and by `pg_dump`, and the original baselined (which refuses a
//! database that differs from the models).
//!
//! Each schema gets all the way, or is listed in `realworld-known.txt` with
//! the stage it stops at and why. The test fails when a schema stops that
//! the list does not name, and names listed ones that pass now.

use std::collections::BTreeMap;
use std::path::Path;

use strata::{Migrations, Migrator};
use strata_tests::judges::first_line;

/// The schemas that load on PostgreSQL 15 with Debian's packages, each
/// with the extension it needs beyond the server's contrib modules
/// (`.ci/run` installs it; elsewhere a schema whose extension the server
/// lacks is said to be skipped, and not judged).
const SCHEMAS: &[(&str, Option<&str>)] = &[
    ("adopt_pagila.sql", None),
    ("adopt_supabase.sql", None),
    ("osm_structure_nopostgis.sql", None),
    ("osm_structure.sql", Some("postgis")),
];

/// True when the server can create `extension`.
async fn available(extension: &str) -> bool {
    let Ok(db) = strata::testing::database().await else {
        return false;
    };
    let found = match db.pool().await {
        Ok(pool) => {
            let row: Result<(bool,), _> = strata::sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1)",
            )
            .bind(extension)
            .fetch_one(&pool)
            .await;
            pool.close().await;
            row.map(|(found,)| found).unwrap_or(false)
        }
        Err(_) => false,
    };
    let _ = db.destroy().await;
    found
}

/// How far one schema gets: `Ok` all the way, else the stage and what it said.
async fn adopt(file: &Path) -> Result<(), String> {
    let sql = std::fs::read_to_string(file).map_err(|e| format!("read: {e}"))?;
    let original = strata::testing::database()
        .await
        .map_err(|e| e.to_string())?;
    let fresh = strata::testing::database()
        .await
        .map_err(|e| e.to_string())?;
    let (a, b) = (
        original.pool().await.map_err(|e| e.to_string())?,
        fresh.pool().await.map_err(|e| e.to_string())?,
    );
    let outcome = async {
        strata_tests::shared::stock_role(&a).await?;
        strata_tests::shared::load(&a, &sql)
            .await
            .map_err(|e| format!("load: {e}"))?;
        let state = strata::read_database(&a, None)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let krate = tempfile::tempdir().map_err(|e| e.to_string())?;
        let pulled =
            strata_tools::pull::write(&state, krate.path()).map_err(|e| format!("pull: {e}"))?;
        if let Some(first) = pulled.not_expressed.first() {
            return Err(format!(
                "pull: {} not expressed, first: {first}",
                pulled.not_expressed.len()
            ));
        }
        pulled
            .build
            .builder(krate.path())
            .frozen(false)
            .run()
            .map_err(|e| format!("build: {}", first_line(&e.to_string())))?;
        let migrations = Migrations::from_dir(krate.path().join("migrations"))
            .map_err(|e| format!("migrations: {e}"))?;
        let report = Migrator::new(&migrations)
            .run(&b)
            .await
            .map_err(|e| format!("migrate: {}", first_line(&e.to_string())))?;
        if !report.drift.is_clean() {
            return Err(format!(
                "drift after migrate: {}",
                first_line(&report.drift.to_string())
            ));
        }
        strata_tests::judges::same(original.url(), fresh.url())?;
        Migrator::new(&migrations)
            .baseline(&a)
            .await
            .map_err(|e| format!("baseline: {}", first_line(&e.to_string())))?;
        Ok(())
    }
    .await;
    a.close().await;
    b.close().await;
    let _ = original.destroy().await;
    let _ = fresh.destroy().await;
    outcome
}

#[tokio::test]
async fn real_schemas_are_adopted_exactly_but_those_listed_with_their_reason() {
    let report = std::env::var_os("STRATA_REALWORLD_REPORT").map(std::path::PathBuf::from);
    let Some(root) = strata_tests::shared::dir("realworld") else {
        let skipped =
            "real schemas: not found at ../shared/realworld (set STRATA_SHARED), not judged\n";
        eprint!("{skipped}");
        if let Some(report) = report {
            std::fs::write(report, skipped).expect("the report file");
        }
        return;
    };
    let known = strata_tests::shared::known(include_str!("../realworld-known.txt"));
    let mut results = BTreeMap::new();
    let mut skipped = String::new();
    for (name, needs) in SCHEMAS {
        let file = root.join(name);
        if !file.is_file() {
            continue;
        }
        if let Some(extension) = needs {
            if !available(extension).await {
                skipped.push_str(&format!(
                    "real schema {name}: skipped, the server has no {extension} (install Debian's postgresql-15-postgis-3)\n"
                ));
                continue;
            }
        }
        results.insert(*name, adopt(&file).await);
    }
    // The stage a reason names first: `pull`, `migrate`, `pg_dump`, …
    let stage = |why: &str| why.split([':', ' ']).next().unwrap_or_default().to_owned();
    let mut stopped = Vec::new();
    let mut summary = skipped;
    for (name, outcome) in &results {
        match (outcome, known.get(*name)) {
            (Ok(()), None) => summary.push_str(&format!("real schema {name}: adopted exactly\n")),
            (Ok(()), Some(_)) => summary.push_str(&format!(
                "real schema {name}: adopted exactly; remove it from tests/realworld-known.txt\n"
            )),
            (Err(why), Some(listed)) if stage(why) == stage(listed) => {
                summary.push_str(&format!("real schema {name}: stops at {why}\n"))
            }
            (Err(why), _) => stopped.push(format!("{name}\t{why}")),
        }
    }
    print!("{summary}");
    if let Some(report) = report {
        std::fs::write(report, &summary).expect("the report file");
    }
    assert!(
        stopped.is_empty(),
        "real schemas stop where tests/realworld-known.txt does not say:\n{}",
        stopped.join("\n")
    );
}
