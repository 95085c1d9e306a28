//! Golden tests: one folder per kind of change under `tests/golden/`, with the
//! models before and after and the up and down SQL the change must produce.
//! Each case is also applied, rolled back and applied again on a fresh
//! database, drift-checked at every step. `STRATA_BLESS=1` rewrites the SQL.
//! Optional files: `confirm` (what the second build confirms) and
//! `extensions` (what it adds with `Builder::extension`), and a `db/` folder
//! (the files of `Builder::sql_dir` the later build reads).

use std::path::{Path, PathBuf};

use strata::Migrator;

use crate::support::{fresh_db, Scratch};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[tokio::test]
async fn every_change_kind_renders_as_recorded_and_round_trips() {
    let cases = cases();
    assert!(cases.len() >= 9, "the golden cases are missing");
    let bless = std::env::var_os("STRATA_BLESS").is_some();
    let mut mismatches = Vec::new();
    for case in &cases {
        let read = |name: &str| std::fs::read_to_string(case.join(name)).unwrap_or_default();
        let scratch = Scratch::with_models(&read("before.rs"));
        scratch.build();
        scratch.write_models(&read("after.rs"));
        // A case's `confirm` file holds what it confirms, spelt as
        // STRATA_CONFIRM is; its `extensions` file, what the later build adds.
        let mut builder = scratch.builder();
        if case.join("db").is_dir() {
            for file in std::fs::read_dir(case.join("db")).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                scratch.write_file(
                    &format!("db/{name}"),
                    &std::fs::read_to_string(&path).unwrap(),
                );
            }
            builder = builder.sql_dir("db");
        }
        for extension in read("extensions").lines().map(str::trim) {
            if !extension.is_empty() {
                builder = builder.extension(extension);
            }
        }
        for object in read("confirm").split([',', '\n']).map(str::trim) {
            if !object.is_empty() {
                builder = builder.confirm(object);
            }
        }
        let outcome = builder
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        assert!(outcome.written.is_some(), "the change writes a migration");
        // Every migration the later build wrote, in order (an index on a
        // table that existed goes in one of its own, built concurrently),
        // each file's text after the previous one's.
        let later: Vec<(String, String)> = scratch
            .files()
            .into_iter()
            .filter(|(name, _)| name.ends_with(".sql") && !name.starts_with("0001_"))
            .collect();
        let written = later.len() / 2;
        let joined = |down: bool| {
            later
                .iter()
                .filter(|(name, _)| name.ends_with(".down.sql") == down)
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (up, down) = (joined(false), joined(true));
        if bless {
            std::fs::write(case.join("up.sql"), &up).unwrap();
            std::fs::write(case.join("down.sql"), &down).unwrap();
        } else {
            if up != read("up.sql") {
                mismatches.push(format!("{}/up.sql:\n{up}", case.display()));
            }
            if down != read("down.sql") {
                mismatches.push(format!("{}/down.sql:\n{down}", case.display()));
            }
        }

        let (_db, pool) = fresh_db().await;
        let migrations = scratch.migrations();
        let name = case.file_name().unwrap().to_string_lossy();
        let up_report = Migrator::new(&migrations)
            .run(&pool)
            .await
            .unwrap_or_else(|e| panic!("{name}: applying: {e}"));
        assert_eq!(up_report.applied.len(), 1 + written, "{name}");
        // Each case's down file is what is under test here, lossy steps too.
        let back = Migrator::new(&migrations)
            .confirm_all()
            .rollback_to(&pool, 1)
            .await
            .unwrap_or_else(|e| panic!("{name}: rolling back: {e}"));
        assert_eq!(back.reverted.len(), written, "{name}");
        let again = Migrator::new(&migrations)
            .run(&pool)
            .await
            .unwrap_or_else(|e| panic!("{name}: applying again: {e}"));
        assert_eq!(again.applied.len(), written, "{name}");
    }
    assert!(
        mismatches.is_empty(),
        "generated SQL differs from the golden files (STRATA_BLESS=1 rewrites them after review):\n{}",
        mismatches.join("\n")
    );
}
