//! A scratch crate with models, built by `strata_build` and migrated on a fresh database.

use std::path::{Path, PathBuf};

use strata::sqlx::PgPool;
use strata::testing::TestDatabase;
use strata::{DriftPolicy, Migrations, Migrator, RunReport};

/// The shop models, as source text.
pub const SHOP: &str = include_str!("fixtures/shop.rs");

/// One small table, `shop.item (id, label)`, as source text.
pub const ITEM: &str = r#"
#[strata::schema("shop", table = "item")]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    pub label: String,
}
"#;

/// A crate directory with `src/` and `migrations/`, removed when dropped.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(dir.path().join("src")).unwrap();
        Scratch { dir }
    }

    /// A scratch crate whose `src/models.rs` holds `models`.
    pub fn with_models(models: &str) -> Self {
        let scratch = Scratch::new();
        scratch.write_models(models);
        scratch
    }

    pub fn write_models(&self, models: &str) {
        std::fs::write(self.dir.path().join("src/models.rs"), models).unwrap();
    }

    /// The crate's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `relative` under the crate, making its folders.
    pub fn write_file(&self, relative: &str, text: &str) {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    pub fn builder(&self) -> strata_build::Builder {
        strata_build::Builder::new()
            .crate_dir(self.dir.path())
            .frozen(false)
    }

    /// Builds, expecting success.
    pub fn build(&self) -> strata_build::Outcome {
        self.builder().run().expect("the build succeeds")
    }

    pub fn migrations(&self) -> Migrations {
        Migrations::from_dir(self.migrations_dir()).expect("the migrations can be read")
    }

    /// The migration files, sorted, with their text.
    pub fn files(&self) -> Vec<(String, String)> {
        files_in(&self.migrations_dir())
    }
}

/// With `STRATA_SQUAWK_DIR` set (as `.ci/run` sets it), each scratch crate
/// leaves a copy of the migrations strata generated for it there, for
/// squawk to judge once the tests are done (`scripts/squawk-generated`).
impl Drop for Scratch {
    fn drop(&mut self) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let Some(into) = std::env::var_os("STRATA_SQUAWK_DIR").filter(|d| !d.is_empty()) else {
            return;
        };
        let into = Path::new(&into).join(format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        for folder in ["migrations", "migrations/tenant"] {
            let Ok(entries) = std::fs::read_dir(self.path().join(folder)) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                if path.is_file() && name.ends_with(".sql") && !name.ends_with(".down.sql") {
                    let copy = into.join(folder);
                    if std::fs::create_dir_all(&copy).is_ok() {
                        let _ = std::fs::copy(&path, copy.join(&*name));
                    }
                }
            }
        }
    }
}

/// Applies the scratch crate's pending migrations; the drift check after
/// them must be clean.
pub async fn migrate_clean(scratch: &Scratch, pool: &PgPool) {
    let report = Migrator::new(&scratch.migrations())
        .run(pool)
        .await
        .unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
}

/// Rolls the scratch crate's migrations back to `version`, with `confirm`
/// confirmed; the drift check after must be clean.
pub async fn rolled_back_clean(scratch: &Scratch, pool: &PgPool, version: u32, confirm: &[&str]) {
    let migrations = scratch.migrations();
    let mut migrator = Migrator::new(&migrations);
    for object in confirm {
        migrator = migrator.confirm(*object);
    }
    let back = migrator.rollback_to(pool, version).await.unwrap();
    assert!(back.drift.is_clean(), "{}", back.drift);
}

/// Builds with `object` confirmed, expecting the build to say so as a
/// confirmed hazard.
pub fn build_confirmed(scratch: &Scratch, object: &str) -> strata_build::Outcome {
    let outcome = scratch.builder().confirm(object).run().unwrap();
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.starts_with(&format!("hazard, confirmed: {object}"))),
        "{outcome:?}"
    );
    outcome
}

pub fn files_in(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    let path = e.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(&path).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A test database and a pool on it.
pub type Db = (TestDatabase, PgPool);

/// A fresh database and a pool on it.
pub async fn fresh_db() -> Db {
    let db = strata::testing::database().await.expect("a test database");
    let pool = db.pool().await.expect("a pool");
    (db, pool)
}

/// Applies, failing the test on any error, and without the drift check.
pub async fn apply(pool: &PgPool, migrations: &Migrations) -> RunReport {
    Migrator::new(migrations)
        .drift_policy(DriftPolicy::Warn)
        .run(pool)
        .await
        .unwrap_or_else(|e| panic!("migrating failed: {e}"))
}

/// Runs SQL outside strata, as a person with psql would.
pub async fn psql(pool: &PgPool, sql: &str) {
    strata::sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// strata's advisory locks held in this database (not in the other tests' databases).
pub async fn our_locks(pool: &PgPool) -> i64 {
    let (n,): (i64,) = strata::sqlx::query_as(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 1398035009",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    n
}

/// The shop models built into a scratch crate, and a fresh database migrated to them.
pub async fn migrated_shop() -> (Scratch, Db) {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let db = fresh_db().await;
    apply(&db.1, &scratch.migrations()).await;
    (scratch, db)
}
