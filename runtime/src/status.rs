//! What a scope has applied and what would run next, read without changing
//! anything: the command line's `status`, `plan` and `drift`.

use std::fmt;

use serde::Serialize;
use sqlx::PgPool;

use crate::error::db;
use crate::session::query_as;
use crate::tracking::{fetch_if_tracked, Recorded, SELECT_APPLIED};
use crate::{Error, Migrator};

/// A drift check against the migration a database has applied last (or
/// the target): what [`Migrator::check_drift`] reports.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DriftAt {
    /// The version whose state the database was compared with (0: before
    /// the first migration).
    pub version: u32,
    /// The newest version the files hold.
    pub latest: u32,
    /// How many migrations are not applied yet.
    pub pending: usize,
    /// How the database differs from the state after `version`.
    #[serde(flatten)]
    pub drift: crate::DriftReport,
}

impl DriftAt {
    /// True when the database matches the state it was compared with.
    pub fn is_clean(&self) -> bool {
        self.drift.is_clean()
    }
}

impl fmt::Display for DriftAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version != self.latest || self.pending > 0 {
            write!(
                f,
                "against version {} ({} migration(s) pending; `strata migrate` applies them): ",
                self.version, self.pending
            )?;
        }
        write!(f, "{}", self.drift)
    }
}

/// Every migration of a scope against what the database recorded.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Status {
    /// The scope in `strata.migrations`.
    pub scope: String,
    /// The migrations these files hold, oldest first.
    pub migrations: Vec<MigrationLine>,
    /// Migrations the database has applied that these files do not hold
    /// (a newer release's, after a rollback of the deploy).
    pub unknown: Vec<UnknownMigration>,
}

/// One migration and where the database stands with it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MigrationLine {
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Whether it runs in a transaction.
    pub transactional: bool,
    /// Where the database stands with it.
    #[serde(flatten)]
    pub state: MigrationState,
}

/// Where the database stands with one migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MigrationState {
    /// Applied, with the checksum of this file.
    Applied,
    /// Not applied yet (beyond the target, if one is set: still pending).
    Pending,
    /// Tried and failed, with the error recorded: a transactional one left
    /// nothing and runs again; one outside a transaction may have left part
    /// of itself, and a start-up refuses it until retried
    /// ([`Migrator::retry_failed`]).
    Failed {
        /// What the tracking table says went wrong.
        error: Option<String>,
    },
    /// Applied, but the file was edited since: a start-up refuses to run.
    Modified {
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the file now.
        current: String,
    },
}

/// A migration the database applied that the files do not hold.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct UnknownMigration {
    /// Its version.
    pub version: u32,
    /// Its name, as recorded.
    pub name: String,
}

impl Status {
    /// The migrations not applied yet, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &MigrationLine> {
        self.migrations
            .iter()
            .filter(|m| m.state == MigrationState::Pending)
    }

    /// True when every migration is applied as written and the database
    /// knows no other.
    pub fn is_current(&self) -> bool {
        self.unknown.is_empty()
            && self
                .migrations
                .iter()
                .all(|m| m.state == MigrationState::Applied)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let applied = self
            .migrations
            .iter()
            .filter(|m| m.state == MigrationState::Applied)
            .count();
        writeln!(
            f,
            "scope {}: {applied} of {} migrations applied",
            self.scope,
            self.migrations.len()
        )?;
        for m in &self.migrations {
            let state = match &m.state {
                MigrationState::Applied => "applied".to_owned(),
                MigrationState::Pending => "pending".to_owned(),
                MigrationState::Failed { error } => format!(
                    "FAILED: {}",
                    error.as_deref().unwrap_or("no error recorded")
                ),
                MigrationState::Modified { .. } => {
                    "MODIFIED since it was applied: restore the file from version control"
                        .to_owned()
                }
            };
            writeln!(f, "  {:04} {:<48} {state}", m.version, m.name)?;
        }
        for m in &self.unknown {
            writeln!(
                f,
                "  {:04} {:<48} applied, but not in these migrations",
                m.version, m.name
            )?;
        }
        Ok(())
    }
}

/// The migrations a run would apply, with their SQL.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The scope in `strata.migrations`.
    pub scope: String,
    /// What would run, in order.
    pub migrations: Vec<PlannedMigration>,
}

/// One migration a run would apply.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlannedMigration {
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Whether it runs in a transaction.
    pub transactional: bool,
    /// Its SQL, as it would run.
    pub sql: String,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.migrations.is_empty() {
            return writeln!(f, "-- scope {}: nothing to apply", self.scope);
        }
        for m in &self.migrations {
            writeln!(
                f,
                "-- migration {:04} {} ({}{})",
                m.version,
                m.name,
                m.file,
                if m.transactional {
                    ", in one transaction"
                } else {
                    ", outside a transaction"
                }
            )?;
            writeln!(f, "{}", m.sql.trim_end())?;
        }
        Ok(())
    }
}

impl Migrator<'_> {
    /// Where the database stands with every migration of this scope, read
    /// without changing anything (not even creating the tracking table).
    pub async fn status(&self, pool: &PgPool) -> Result<Status, Error> {
        let manifest = self.migrations.manifest_light()?;
        let all = self.migrations.load(&manifest)?;
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let recorded: Vec<Recorded> = fetch_if_tracked(
            &mut conn,
            "reading strata.migrations",
            query_as(SELECT_APPLIED).bind(&self.scope),
        )
        .await?;
        let migrations = all
            .iter()
            .map(|m| {
                let row = recorded.iter().find(|r| r.0 == i64::from(m.version));
                let state = match row {
                    None => MigrationState::Pending,
                    Some((_, _, _, false, _, error)) => MigrationState::Failed {
                        error: error.clone(),
                    },
                    Some((_, _, sum, true, ..)) if *sum != m.checksum => MigrationState::Modified {
                        recorded: sum.clone(),
                        current: m.checksum.clone(),
                    },
                    Some(_) => MigrationState::Applied,
                };
                MigrationLine {
                    version: m.version,
                    name: m.name.to_owned(),
                    file: m.file.to_owned(),
                    transactional: m.transactional,
                    state,
                }
            })
            .collect();
        let unknown = recorded
            .iter()
            .filter(|r| r.3 && !all.iter().any(|m| i64::from(m.version) == r.0))
            .map(|r| UnknownMigration {
                version: u32::try_from(r.0).unwrap_or(u32::MAX),
                name: r.1.clone(),
            })
            .collect();
        Ok(Status {
            scope: self.scope.clone(),
            migrations,
            unknown,
        })
    }

    /// Checks drift against the state the database should be in now: after
    /// the target, when one is set; else after the newest migration it has
    /// applied. With migrations pending, what they would make is not drift,
    /// and the report says how many there are.
    pub async fn check_drift(&self, pool: &PgPool) -> Result<DriftAt, Error> {
        let status = self.status(pool).await?;
        let latest = status.migrations.last().map_or(0, |m| m.version);
        let applied = status
            .migrations
            .iter()
            .filter(|m| !matches!(m.state, MigrationState::Pending))
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let version = self.target.unwrap_or(applied).min(latest);
        let drift = match version == latest {
            true => crate::check_drift(pool, self.migrations).await?,
            false => crate::check_drift_at(pool, self.migrations, version).await?,
        };
        Ok(DriftAt {
            version,
            latest,
            pending: status.pending().count(),
            drift,
        })
    }

    /// The SQL a [`Migrator::run`] would apply now (up to the target), with
    /// nothing changed; refused, as the run would be, when an applied
    /// migration was edited or is unknown, or one failed part-way.
    pub async fn plan(&self, pool: &PgPool) -> Result<Plan, Error> {
        let status = self.status(pool).await?;
        for line in &status.migrations {
            match &line.state {
                MigrationState::Modified { recorded, current } => {
                    return Err(Error::ChecksumMismatch {
                        file: line.file.clone(),
                        recorded: recorded.clone(),
                        current: current.clone(),
                    })
                }
                // A failed transactional migration left nothing: it runs again.
                MigrationState::Failed { error } if !line.transactional && !self.retry_failed => {
                    return Err(Error::NeedsResolution {
                        file: line.file.clone(),
                        recorded: error.clone().unwrap_or_else(|| "failed".to_owned()),
                    })
                }
                _ => {}
            }
        }
        if let (Some(unknown), false) = (status.unknown.first(), self.allow_unknown) {
            return Err(Error::UnknownMigration {
                version: unknown.version,
                name: unknown.name.clone(),
            });
        }
        let manifest = self.migrations.manifest_light()?;
        let all = self.migrations.load(&manifest)?;
        let target = self.target.unwrap_or(u32::MAX);
        let migrations = status
            .migrations
            .iter()
            .filter(|line| {
                matches!(
                    line.state,
                    MigrationState::Pending | MigrationState::Failed { .. }
                )
            })
            .filter(|line| line.version <= target)
            .filter_map(|line| all.iter().find(|m| m.version == line.version))
            .map(|m| PlannedMigration {
                version: m.version,
                name: m.name.to_owned(),
                file: m.file.to_owned(),
                transactional: m.transactional,
                sql: m.sql.to_owned(),
            })
            .collect();
        Ok(Plan {
            scope: status.scope,
            migrations,
        })
    }
}
