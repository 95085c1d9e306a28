//! What tests read from `../shared` (or `STRATA_SHARED`): third-party
//! schemas and the peers' test suites, never copied into this repository.

use std::path::{Path, PathBuf};

use sqlx::PgPool;

/// `../shared/<part>` beside this repository, or `STRATA_SHARED/<part>`,
/// if this machine has it.
pub fn dir(part: &str) -> Option<PathBuf> {
    let shared = match std::env::var_os("STRATA_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let dir = shared.join(part);
    dir.is_dir().then_some(dir)
}

/// Runs `sql` a statement at a time on one connection (a file may `SET
/// ROLE` for the statements after it); a role another test or database
/// made already, or makes at the same moment (roles belong to the
/// cluster), is no error.
pub async fn load(pool: &PgPool, sql: &str) -> Result<(), String> {
    let mut connection = pool.acquire().await.map_err(|e| e.to_string())?;
    for statement in strata_manifest::split_statements(sql) {
        if let Err(error) = sqlx::raw_sql(statement.sql).execute(&mut *connection).await {
            let duplicate_role = error
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "42710" || code == "23505")
                && statement.sql.to_lowercase().contains("role");
            if !duplicate_role {
                return Err(format!("line {}: {error}", statement.line));
            }
        }
    }
    Ok(())
}

/// The role a stock cluster has, which third-party schemas hand their
/// objects to (`OWNER TO postgres`); the throwaway cluster runs as another.
pub async fn stock_role(pool: &PgPool) -> Result<(), String> {
    sqlx::raw_sql(
        "DO $$ BEGIN CREATE ROLE postgres; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .execute(pool)
    .await
    .map(|_| ())
    .map_err(|e| format!("the role postgres: {e}"))
}

/// The cases a test knows fail, and why, from a list of `name  reason`
/// lines (`#` starts a comment).
pub fn known(list: &str) -> std::collections::BTreeMap<String, String> {
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (case, why) = l.split_once(char::is_whitespace)?;
            Some((case.to_owned(), why.trim().to_owned()))
        })
        .collect()
}
