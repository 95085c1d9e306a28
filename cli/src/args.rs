//! The command line's words, as clap reads them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// strata: applies, plans, rolls back and checks the migrations that
/// `cargo build` wrote, against a live PostgreSQL database.
///
/// Exit status: 0 done or clean, 2 differences (drift, pending
/// migrations), 1 error.
#[derive(Debug, Parser)]
#[command(name = "strata", version)]
pub struct Cli {
    /// The database, as a PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// The folder the build writes migrations into.
    #[arg(long, default_value = "migrations", global = true)]
    pub migrations: PathBuf,
    /// Print the report as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Applied and pending migrations (exit 2 when any is pending, failed or edited).
    Status(Scope),
    /// The SQL that `migrate` would run, changing nothing.
    Plan(Target),
    /// Applies the pending migrations, makes the partitions ahead, then
    /// checks drift (exit 2 on drift).
    Migrate(Migrate),
    /// Undoes the migrations newer than a version, with their down files.
    Rollback(Rollback),
    /// Checks the live catalog against the state after the newest applied
    /// migration (or --target), saying how many are pending (exit 2 on drift).
    Drift(Target),
    /// Records the migrations as applied without running them, on a
    /// database that already holds what they make (refused on drift).
    Baseline(Target),
    /// Writes the next, empty, hand-written migration.
    New(New),
    /// Writes models for the database: src/models/, db/, and build.rs
    /// (exit 2 when something could not be expressed; it is listed).
    Pull(Pull),
    /// The staged migration that turns the --from database into the --to
    /// one (exit 2 when they differ); --apply runs it on --from.
    Diff(Diff),
    /// The schema-per-tenant stream: list, migrate or check every tenant.
    Tenants(TenantsArgs),
    /// The schemas, their tables and the foreign keys between them, as
    /// Mermaid or Graphviz DOT: from the migrations folder (no database
    /// needed), or from the database when --database-url is given.
    Graph(GraphArgs),
    /// Lints the migrations and the SQL objects with squawk's rules: a lock
    /// that stops a table's writes is an error (exit 2) unless the file
    /// opens with `-- strata:locks-confirmed`. Needs no database.
    Lint(Lint),
}

/// How `graph` draws.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// `mermaid` (GitHub renders it) or `dot` (Graphviz).
    #[arg(long, default_value = "mermaid", value_parser = ["mermaid", "dot"])]
    pub format: String,
}

/// What `lint` reads besides `--migrations`.
#[derive(Debug, Args)]
pub struct Lint {
    /// The folder of the SQL objects (`Builder::sql_dir`), if any.
    #[arg(long, default_value = "db")]
    pub sql_dir: PathBuf,
}

/// What `pull` reads and where it writes.
#[derive(Debug, Args)]
pub struct Pull {
    /// Only these schemas (default: every schema the database's users made).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub schemas: Option<Vec<String>>,
    /// The crate to write into.
    #[arg(long = "crate", value_name = "DIR", default_value = ".")]
    pub krate: std::path::PathBuf,
}

/// The two databases of `diff`, and what to do with the difference.
#[derive(Debug, Args)]
pub struct Diff {
    /// The database to change.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The database to match.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Only these schemas (default: every schema either database's users made).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub schemas: Option<Vec<String>>,
    /// Write the migration to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Run the migration on --from, stage by stage, then compare again.
    #[arg(long)]
    pub apply: bool,
    /// Write what can lose data too (drops, narrowing type changes).
    #[arg(long = "unsafe")]
    pub allow_unsafe: bool,
}

/// The scope of the migrations.
#[derive(Debug, Args)]
pub struct Scope {
    /// The scope in `strata.migrations`.
    #[arg(long, default_value = "default")]
    pub scope: String,
}

/// A scope and, optionally, the version to stop at.
#[derive(Debug, Args)]
pub struct Target {
    #[command(flatten)]
    pub scope: Scope,
    /// Stop at this version (plan, migrate, baseline), or check drift against it.
    #[arg(long)]
    pub target: Option<u32>,
}

/// What `migrate` applies, and the old partitions it may drop.
#[derive(Debug, Args)]
pub struct Migrate {
    #[command(flatten)]
    pub target: Target,
    /// Confirms dropping one partition past `partitions_kept`, named as the
    /// report lists it (repeat for several; `STRATA_CONFIRM` adds to them).
    #[arg(long = "confirm", value_name = "OBJECT")]
    pub confirm: Vec<String>,
    /// Confirms dropping every partition past `partitions_kept`.
    #[arg(long)]
    pub confirm_all: bool,
    /// Goes on with a migration outside a transaction that failed part-way,
    /// from the statement that failed, once its cause is fixed.
    #[arg(long)]
    pub retry_failed: bool,
}

/// What `rollback` undoes and what it may lose.
#[derive(Debug, Args)]
pub struct Rollback {
    #[command(flatten)]
    pub scope: Scope,
    /// The version to roll back to (0: before the first migration).
    #[arg(long)]
    pub to: u32,
    /// Confirms one lossy down step, named as the refusal names it
    /// (repeat for several; `STRATA_CONFIRM` adds to them).
    #[arg(long = "confirm", value_name = "OBJECT")]
    pub confirm: Vec<String>,
    /// Confirms every lossy down step.
    #[arg(long)]
    pub confirm_all: bool,
}

/// The name of a new migration.
#[derive(Debug, Args)]
pub struct New {
    /// Lowercase letters, digits and `_`, as in `backfill_labels`.
    pub name: String,
}

/// Where the tenants are, and what to do with them.
#[derive(Debug, Args)]
pub struct TenantsArgs {
    /// The folder of the tenant stream (default: `tenant` inside `--migrations`).
    #[arg(long)]
    pub tenant_migrations: Option<PathBuf>,
    /// The prefix of every tenant schema.
    #[arg(long, default_value = "tenant_")]
    pub prefix: String,
    /// The registry of tenant ids, as `schema.table.column`.
    #[arg(long, value_name = "SCHEMA.TABLE.COLUMN")]
    pub registry: Option<String>,
    /// How many tenants are migrated at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// What to do.
    #[command(subcommand)]
    pub command: TenantsCommand,
}

/// The tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// The tenants the registry lists, with their schemas (exit 2 when a
    /// registry row names no schema).
    List,
    /// Migrates every tenant the registry lists, or those named, in waves
    /// when asked (exit 2 when any fails or is not reached).
    Migrate(TenantsMigrate),
    /// Checks every tenant for drift (exit 2 when any has drifted).
    Drift,
    /// Records the tenant migrations as applied in every tenant, without
    /// running them (refused when any tenant differs or is tracked).
    Baseline,
    /// How many tenants are at each version, which failed and why, which
    /// are ahead, missing, orphaned, archived or in a rollout (exit 2
    /// unless all is current).
    Status(TenantsStatus),
    /// Undoes the tenant migrations newer than a version, with their down
    /// files, one transaction per tenant (exit 2 when any fails).
    Rollback(TenantsRollback),
    /// Drops a tenant's schema, history and registry row: it loses every
    /// row, so it is confirmed by the tenant's schema name.
    Drop(TenantsDrop),
    /// Moves a tenant out of the live tenants, its data kept in a schema of
    /// strata's, until `restore`.
    Archive(TenantId),
    /// Brings an archived tenant back and migrates it to the current version.
    Restore(TenantId),
    /// The fleet: its servers, how many tenants each holds, and where each
    /// tenant lives (the control database is --database-url); --server
    /// adds a server or changes its URL.
    Placement(Placement),
    /// Moves a tenant to another server of the fleet while it takes writes,
    /// by logical replication; run again, it resumes a move that stopped.
    Move(Move),
    /// Moves tenants from the servers with the most to those with the
    /// fewest, until no two differ by more than one.
    Rebalance(Rebalance),
}

/// Servers to add to the fleet.
#[derive(Debug, Args)]
pub struct Placement {
    /// A server to add (or whose URL to change), as NAME=URL; repeat for several.
    #[arg(long = "server", value_name = "NAME=URL")]
    pub servers: Vec<String>,
}

/// The tenant to move, and where.
#[derive(Debug, Args)]
pub struct Move {
    /// The tenant's id.
    pub id: String,
    /// The server to move it to.
    #[arg(long, value_name = "SERVER")]
    pub to: String,
    /// Keep the source's copy, archived on the source, instead of dropping it.
    #[arg(long)]
    pub keep_source: bool,
    /// Give up the move under way instead (before its switch): the target's
    /// copy is dropped, and the tenant stays where it was.
    #[arg(long)]
    pub cancel: bool,
}

/// How to rebalance.
#[derive(Debug, Args)]
pub struct Rebalance {
    /// Keep each source's copy, archived on the source, instead of dropping it.
    #[arg(long)]
    pub keep_source: bool,
}

/// One tenant, by id.
#[derive(Debug, Args)]
pub struct TenantId {
    /// The tenant's id (the schema is the prefix and the id).
    pub id: String,
}

/// The tenant to drop, and its confirmation.
#[derive(Debug, Args)]
pub struct TenantsDrop {
    /// The tenant's id.
    pub id: String,
    /// The tenant's schema (or id) again: dropping loses its data.
    #[arg(long, value_name = "SCHEMA")]
    pub confirm: Option<String>,
}

/// What `tenants status` checks besides versions.
#[derive(Debug, Args)]
pub struct TenantsStatus {
    /// Check every tenant for drift too.
    #[arg(long)]
    pub drift: bool,
}

/// Which tenants, to what version, and in what waves.
#[derive(Debug, Args)]
pub struct TenantsMigrate {
    /// Only these tenant ids (repeat for several; default: every tenant the registry lists).
    #[arg(long = "tenant", value_name = "ID")]
    pub tenants: Vec<String>,
    /// Stop at this tenant migration.
    #[arg(long)]
    pub target: Option<u32>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

/// Which tenants to roll back, to what, and what it may lose.
#[derive(Debug, Args)]
pub struct TenantsRollback {
    /// The version to roll back to (0: before the first tenant migration).
    #[arg(long)]
    pub to: u32,
    /// Only these tenant ids (repeat for several; default: every tenant the registry lists).
    #[arg(long = "tenant", value_name = "ID")]
    pub tenants: Vec<String>,
    /// Confirms one lossy down step, for one tenant (`tenant_acme.contacts.phone`)
    /// or for all (`{tenant}.contacts.phone`); repeat for several.
    #[arg(long = "confirm", value_name = "OBJECT")]
    pub confirm: Vec<String>,
    /// Confirms every lossy down step.
    #[arg(long)]
    pub confirm_all: bool,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

/// A rollout in waves; any of these makes the run one.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// The first N tenants are a wave of their own, before the others.
    #[arg(long, value_name = "N")]
    pub canaries: Option<usize>,
    /// These tenant ids are the canaries (repeat for several).
    #[arg(long = "canary", value_name = "ID")]
    pub canary_ids: Vec<String>,
    /// Waves of N tenants.
    #[arg(long, value_name = "N", conflicts_with = "wave_share")]
    pub wave_size: Option<usize>,
    /// Waves of this share of the tenants (0.1 = a tenth).
    #[arg(long, value_name = "SHARE")]
    pub wave_share: Option<f64>,
    /// Seconds to wait between waves.
    #[arg(long, value_name = "SECONDS")]
    pub pause: Option<f64>,
    /// Check each wave's tenants for drift before the next; stop on drift.
    #[arg(long)]
    pub health_gate: bool,
    /// Stop once more than K tenants have failed.
    #[arg(long, value_name = "K", conflicts_with = "max_failure_share")]
    pub max_failures: Option<usize>,
    /// Stop once more than this share of the tenants have failed.
    #[arg(long, value_name = "SHARE")]
    pub max_failure_share: Option<f64>,
}

impl RolloutArgs {
    /// The rollout these flags ask for, if any.
    pub fn rollout(&self) -> anyhow::Result<Option<strata::Rollout>> {
        let asked = self.canaries.is_some()
            || !self.canary_ids.is_empty()
            || self.wave_size.is_some()
            || self.wave_share.is_some()
            || self.pause.is_some()
            || self.health_gate
            || self.max_failures.is_some()
            || self.max_failure_share.is_some();
        if !asked {
            return Ok(None);
        }
        let share = |flag: &str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                anyhow::bail!(
                    "{flag} {value}: give a share between 0 and 1, such as 0.1 for a tenth"
                )
            }
        };
        let mut rollout = strata::Rollout::new();
        if let Some(n) = self.canaries {
            rollout = rollout.canaries(n);
        }
        if !self.canary_ids.is_empty() {
            rollout = rollout.canary_ids(self.canary_ids.iter().cloned());
        }
        if let Some(n) = self.wave_size {
            rollout = rollout.wave_size(n);
        }
        if let Some(s) = self.wave_share {
            rollout = rollout.wave_share(share("--wave-share", s)?);
        }
        if let Some(seconds) = self.pause {
            let pause = std::time::Duration::try_from_secs_f64(seconds).map_err(|_| {
                anyhow::anyhow!("--pause {seconds}: give a number of seconds, such as 30")
            })?;
            rollout = rollout.pause(pause);
        }
        if self.health_gate {
            rollout = rollout.health_gate();
        }
        if let Some(k) = self.max_failures {
            rollout = rollout.max_failures(k);
        }
        if let Some(s) = self.max_failure_share {
            rollout = rollout.max_failure_share(share("--max-failure-share", s)?);
        }
        Ok(Some(rollout))
    }
}
