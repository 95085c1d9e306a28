//! A throwaway PostgreSQL for tests and examples (feature `testing`).
//!
//! With `DATABASE_URL` set, [`database`] creates a fresh database on that
//! server. Without it, the first call starts one local cluster for the whole
//! process: server binaries are looked up in `PG_BIN`, `pg_config --bindir`,
//! `PATH`, then the newest `/usr/lib/postgresql/*/bin`; the cluster lives in
//! a temporary directory, listens on a free port of 127.0.0.1 and is stopped
//! and removed when the process ends. Run as root, the server runs as the
//! `postgres` user (or `nobody`, or `STRATA_PG_USER`), since PostgreSQL
//! refuses to run as root.
//!
//! ```no_run
//! # async fn test() -> Result<(), Box<dyn std::error::Error>> {
//! let db = strata::testing::database().await?;
//! let pool = db.pool().await?;
//! strata::sqlx::query("SELECT 1").execute(&pool).await?;
//! # Ok(()) }
//! ```

mod binaries;
mod cluster;
mod database;
mod install;
mod pgbouncer;
mod process;

pub use cluster::Cluster;
pub use database::{database, database_from, server_url, TestDatabase};
pub use pgbouncer::PgBouncer;

/// The directory of the PostgreSQL binaries the harness starts servers
/// with (`pg_dump` sits beside them), found as [`Cluster::start`] finds them.
pub fn bin_dir() -> Result<std::path::PathBuf, String> {
    binaries::find_bin_dir()
}
