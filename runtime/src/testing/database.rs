//! A fresh database per test, on `DATABASE_URL` or on the process's shared cluster.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

use super::Cluster;
use crate::error::db;
use crate::Error;

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A database made for one test; on a `DATABASE_URL` server it is dropped with this value.
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
    external: bool,
    dropped: bool,
}

/// Its URLs without their passwords.
impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .field("url", &crate::redact::url(&self.url))
            .field("admin_url", &crate::redact::url(&self.admin_url))
            .field("external", &self.external)
            .field("dropped", &self.dropped)
            .finish()
    }
}

/// The server to make databases on: `DATABASE_URL` if set, else the
/// process's shared throwaway cluster, started on first use.
pub fn server_url() -> Result<String, Error> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return Ok(url);
    }
    SHARED
        .get_or_init(|| Cluster::start().map_err(|e| e.to_string()))
        .as_ref()
        .map(Cluster::url)
        .map_err(|e| Error::TestCluster(e.clone()))
}

/// Creates a fresh, empty database.
pub async fn database() -> Result<TestDatabase, Error> {
    create(None).await
}

/// Creates a fresh database as a copy of `template`, a database on the same
/// server with no session open on it: for data that takes long to load,
/// loaded once into the template and copied for each test. Copied file by
/// file on PostgreSQL 15+ (`STRATEGY FILE_COPY`), which for a large
/// template is much faster than through the write-ahead log.
pub async fn database_from(template: &str) -> Result<TestDatabase, Error> {
    create(Some(template)).await
}

async fn create(template: Option<&str>) -> Result<TestDatabase, Error> {
    let admin_url = server_url()?;
    let name = format!(
        "strata_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .map_err(db("connecting to the test server"))?;
    let mut sql = format!("CREATE DATABASE {}", strata_manifest::quote_ident(&name));
    if let Some(template) = template {
        let (version,): (i32,) =
            sqlx::query_as("SELECT current_setting('server_version_num')::int")
                .fetch_one(&mut admin)
                .await
                .map_err(db("reading the test server's version"))?;
        sql.push_str(&format!(
            " TEMPLATE {}",
            strata_manifest::quote_ident(template)
        ));
        if version >= 150000 {
            sql.push_str(" STRATEGY FILE_COPY");
        }
    }
    sqlx::raw_sql(&sql)
        .execute(&mut admin)
        .await
        .map_err(db("creating a test database"))?;
    let _ = admin.close().await;
    Ok(TestDatabase {
        url: with_database(&admin_url, &name),
        name,
        admin_url,
        external: std::env::var_os("DATABASE_URL").is_some(),
        dropped: false,
    })
}

impl TestDatabase {
    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, closing any session on it; for tests that
    /// make many databases and should not leave them to the end of the run.
    pub async fn destroy(mut self) -> Result<(), Error> {
        let mut admin = PgConnection::connect(&self.admin_url)
            .await
            .map_err(db("connecting to the test server"))?;
        sqlx::raw_sql(&self.drop_sql())
            .execute(&mut admin)
            .await
            .map_err(db("dropping a test database"))?;
        self.dropped = true;
        Ok(())
    }

    fn drop_sql(&self) -> String {
        format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            strata_manifest::quote_ident(&self.name)
        )
    }

    /// A small pool on this database.
    pub async fn pool(&self) -> Result<PgPool, Error> {
        PgPoolOptions::new()
            .max_connections(5)
            .connect(&self.url)
            .await
            .map_err(db("connecting to the test database"))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // The throwaway cluster is removed whole; only a real server needs tidying.
        if !self.external || self.dropped {
            return;
        }
        let admin_url = self.admin_url.clone();
        let sql = self.drop_sql();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(&sql).execute(&mut admin).await.ok()
            })
        })
        .join();
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, _)) => format!("{scheme}://{authority}"),
            None => base.to_owned(),
        },
        None => base.split_once('/').map_or(base, |(b, _)| b).to_owned(),
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_and_keeps_the_rest() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/app?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
    }
}
