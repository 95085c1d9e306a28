//! Each command: the library call it stands for, and what it prints.
//! Nothing here decides anything the libraries do not.

use std::path::Path;

use anyhow::bail;
use strata::sqlx::postgres::PgPoolOptions;
use strata::sqlx::{Connection, PgConnection, PgPool};
use strata::{DriftPolicy, Migrations, Migrator, Tenants};

use crate::args::{Cli, Command, TenantsArgs, TenantsCommand};
use crate::output::{Outcome, Report};
use crate::progress::Progress;

/// Runs the command `cli` names; its report and whether it found differences.
pub async fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Lint(lint) => {
            let report = crate::lint::lint(&cli.migrations, Some(&lint.sql_dir))?;
            let passes = report.passes();
            Ok(Outcome::new(Report::Lint(report), passes))
        }
        Command::New(new) => {
            let path = strata_build::new_migration(&cli.migrations, &new.name)?;
            Ok(Outcome::done(Report::Created {
                file: path.display().to_string(),
            }))
        }
        Command::Status(scope) => {
            let (migrations, pool) = open(cli).await?;
            let status = Migrator::new(&migrations)
                .scope(&scope.scope)
                .status(&pool)
                .await?;
            let current = status.is_current();
            Ok(Outcome::new(Report::Status(status), current))
        }
        Command::Plan(target) => {
            let (migrations, pool) = open(cli).await?;
            let mut migrator = Migrator::new(&migrations).scope(&target.scope.scope);
            if let Some(version) = target.target {
                migrator = migrator.target(version);
            }
            Ok(Outcome::done(Report::Plan(migrator.plan(&pool).await?)))
        }
        Command::Migrate(migrate) => {
            let (migrations, pool) = open(cli).await?;
            let target = &migrate.target;
            let mut migrator = Migrator::new(&migrations)
                .scope(&target.scope.scope)
                .drift_policy(DriftPolicy::Warn);
            if let Some(version) = target.target {
                migrator = migrator.target(version);
            }
            for object in &migrate.confirm {
                migrator = migrator.confirm(object);
            }
            if migrate.confirm_all {
                migrator = migrator.confirm_all();
            }
            if migrate.retry_failed {
                migrator = migrator.retry_failed(true);
            }
            let report = migrator.run(&pool).await?;
            let clean = report.drift.is_clean() && report.in_progress.is_empty();
            Ok(Outcome::new(Report::Migrated(report), clean))
        }
        Command::Rollback(rollback) => {
            let (migrations, pool) = open(cli).await?;
            let mut migrator = Migrator::new(&migrations)
                .scope(&rollback.scope.scope)
                .drift_policy(DriftPolicy::Warn);
            for object in &rollback.confirm {
                migrator = migrator.confirm(object);
            }
            if rollback.confirm_all {
                migrator = migrator.confirm_all();
            }
            let report = migrator.rollback_to(&pool, rollback.to).await?;
            let clean = report.drift.is_clean();
            Ok(Outcome::new(Report::RolledBack(report), clean))
        }
        Command::Drift(target) => {
            let (migrations, pool) = open(cli).await?;
            let mut migrator = Migrator::new(&migrations).scope(&target.scope.scope);
            if let Some(version) = target.target {
                migrator = migrator.target(version);
            }
            let drift = migrator.check_drift(&pool).await?;
            let clean = drift.is_clean();
            Ok(Outcome::new(Report::Drift(drift), clean))
        }
        Command::Baseline(target) => {
            let (migrations, pool) = open(cli).await?;
            let mut migrator = Migrator::new(&migrations).scope(&target.scope.scope);
            if let Some(version) = target.target {
                migrator = migrator.target(version);
            }
            Ok(Outcome::done(Report::Baseline(
                migrator.baseline(&pool).await?,
            )))
        }
        Command::Pull(args) => {
            let pool = connect(cli, 2).await?;
            let progress = Progress::spinner("reading the database…");
            let state = strata::read_database(&pool, args.schemas.as_deref()).await;
            progress.finish();
            let pulled = strata_tools::pull::write(&state?, &args.krate)?;
            let clean = pulled.not_expressed.is_empty();
            Ok(Outcome::new(
                Report::Pulled(crate::output::PullReport::from(pulled)),
                clean,
            ))
        }
        Command::Diff(args) => {
            let progress = Progress::spinner("reading both databases…");
            let report = crate::diff::run(args).await;
            progress.finish();
            let report = report?;
            let clean = report.is_clean();
            Ok(Outcome::new(Report::Diff(report), clean))
        }
        Command::Tenants(args) => tenants(cli, args).await,
        Command::Graph(args) => {
            use strata_tools::graph::{graph, graph_of_database, Format};
            let format = match args.format.as_str() {
                "dot" => Format::Dot,
                _ => Format::Mermaid,
            };
            // The database only when named on the command line: a
            // DATABASE_URL in the environment does not turn the folder's
            // models into the live catalog.
            let live =
                std::env::args().any(|a| a == "--database-url" || a.starts_with("--database-url="));
            let drawn = if live {
                let pool = connect(cli, 2).await?;
                let state = strata::read_database(&pool, None).await?;
                graph_of_database(&state, format)
            } else {
                let migrations = read_migrations(&cli.migrations)?;
                let mut state = migrations.manifest()?.state;
                let tenant = cli.migrations.join("tenant");
                if tenant.join("manifest.json").is_file() {
                    let tenant_state = Migrations::from_dir(&tenant)?.manifest()?.state;
                    state.tables.extend(tenant_state.tables);
                    state.schemas.extend(tenant_state.schemas);
                }
                graph(&state, format)
            };
            Ok(Outcome::done(Report::Graph(drawn)))
        }
    }
}

async fn tenants(cli: &Cli, args: &TenantsArgs) -> anyhow::Result<Outcome> {
    let dir = args
        .tenant_migrations
        .clone()
        .unwrap_or_else(|| cli.migrations.join("tenant"));
    let migrations = read_migrations(&dir)?;
    let pool = connect(cli, args.concurrency as u32 + 1).await?;
    let mut tenants = Tenants::new(&migrations)
        .prefix(&args.prefix)
        .concurrency(args.concurrency);
    if let Some(registry) = &args.registry {
        let parts: Vec<&str> = registry.split('.').collect();
        let [schema, table, column] = parts.as_slice() else {
            bail!("--registry {registry:?}: write it as schema.table.column, such as public.tenants.id");
        };
        tenants = tenants.registry(*schema, *table, *column);
    }
    match &args.command {
        TenantsCommand::List => {
            let list = tenants.list(&pool).await?;
            let clean = list.invalid.is_empty();
            Ok(Outcome::new(Report::Tenants(list), clean))
        }
        TenantsCommand::Migrate(migrate) => {
            if let Some(version) = migrate.target {
                tenants = tenants.target(version);
            }
            let rollout = migrate.rollout.rollout()?;
            let progress = Progress::new().every_tenant(rollout.is_none());
            if let Some(rollout) = rollout {
                tenants = tenants.rollout(rollout).on_wave(progress.wave_callback());
            }
            let tenants = tenants.on_progress(progress.callback());
            let report = match migrate.tenants.as_slice() {
                [] => tenants.migrate_all(&pool).await,
                ids => tenants.migrate(&pool, &named(&tenants, ids)?).await,
            };
            progress.finish();
            let report = report?;
            let success = report.is_current();
            Ok(Outcome::new(Report::TenantsMigrated(report), success))
        }
        TenantsCommand::Rollback(rollback) => {
            for object in &rollback.confirm {
                tenants = tenants.confirm(object);
            }
            if rollback.confirm_all {
                tenants = tenants.confirm_all();
            }
            let rollout = rollback.rollout.rollout()?;
            let progress = Progress::new().every_tenant(rollout.is_none());
            if let Some(rollout) = rollout {
                tenants = tenants.rollout(rollout).on_wave(progress.wave_callback());
            }
            let tenants = tenants.on_progress(progress.callback());
            let chosen = match rollback.tenants.as_slice() {
                [] => tenants.list(&pool).await?.tenants,
                ids => named(&tenants, ids)?,
            };
            let report = tenants.rollback(&pool, &chosen, rollback.to).await;
            progress.finish();
            let report = report?;
            let success = report.is_current();
            Ok(Outcome::new(Report::TenantsRolledBack(report), success))
        }
        TenantsCommand::Status(status) => {
            let status = tenants.status(&pool, status.drift).await?;
            let current = status.is_current();
            Ok(Outcome::new(Report::TenantsStatus(status), current))
        }
        TenantsCommand::Drop(drop) => {
            let tenant = tenants.schema(&drop.id)?;
            if let Some(confirm) = &drop.confirm {
                tenants = tenants.confirm(confirm);
            }
            tenants.drop_tenant(&pool, &tenant).await?;
            Ok(Outcome::done(Report::TenantDropped {
                tenant: tenant.name().to_owned(),
            }))
        }
        TenantsCommand::Archive(archive) => {
            let tenant = tenants.schema(&archive.id)?;
            Ok(Outcome::done(Report::TenantArchived(
                tenants.archive(&pool, &tenant).await?,
            )))
        }
        TenantsCommand::Restore(restore) => {
            let tenant = tenants.schema(&restore.id)?;
            let report = tenants.restore(&pool, &tenant).await?;
            let success = report.is_current();
            Ok(Outcome::new(Report::TenantRestored(report), success))
        }
        TenantsCommand::Placement(placement) => {
            let fleet = fleet(cli, tenants).await?;
            for server in &placement.servers {
                let Some((name, url)) = server.split_once('=') else {
                    bail!("--server {server:?}: write it as NAME=URL, such as eu-1=postgres://eu-1.example.com/app");
                };
                fleet.add_server(name, url).await?;
            }
            Ok(Outcome::done(Report::Placement {
                servers: fleet.servers().await?,
                placement: fleet.placement().await?,
            }))
        }
        TenantsCommand::Move(moving) => {
            let tenant = tenants.schema(&moving.id)?;
            let fleet = fleet(cli, tenants)
                .await?
                .keep_source_after_move(moving.keep_source);
            if moving.cancel {
                fleet.cancel_move(&tenant).await?;
                return Ok(Outcome::done(Report::Placement {
                    servers: fleet.servers().await?,
                    placement: fleet.placement().await?,
                }));
            }
            let progress = Progress::spinner("moving the tenant…");
            let report = fleet.move_tenant(&tenant, &moving.to).await;
            progress.finish();
            Ok(Outcome::done(Report::Moved {
                moves: vec![report?],
            }))
        }
        TenantsCommand::Rebalance(rebalance) => {
            let fleet = fleet(cli, tenants)
                .await?
                .keep_source_after_move(rebalance.keep_source);
            let progress = Progress::spinner("rebalancing the fleet…");
            let reports = fleet.rebalance().await;
            progress.finish();
            Ok(Outcome::done(Report::Moved { moves: reports? }))
        }
        TenantsCommand::Baseline => Ok(Outcome::done(Report::TenantsBaseline(
            tenants.baseline_all(&pool).await?,
        ))),
        TenantsCommand::Drift => {
            let drift = tenants.check_drift_all(&pool).await?;
            let clean = drift.is_clean();
            Ok(Outcome::new(Report::TenantDrift(drift), clean))
        }
    }
}

/// The fleet whose control database is --database-url, with the shared
/// migrations of --migrations.
async fn fleet<'m>(cli: &Cli, tenants: Tenants<'m>) -> anyhow::Result<strata::Fleet<'m>> {
    let Some(url) = &cli.database_url else {
        bail!(
            "the fleet's commands need the control database: give --database-url (or DATABASE_URL)"
        );
    };
    let shared: &'static Migrations = Box::leak(Box::new(read_migrations(&cli.migrations)?));
    Ok(strata::Fleet::connect(url, shared, tenants).await?)
}

/// The tenants of `--tenant` ids, each checked.
fn named(tenants: &Tenants<'_>, ids: &[String]) -> anyhow::Result<Vec<strata::TenantSchema>> {
    ids.iter()
        .map(|id| tenants.schema(id).map_err(anyhow::Error::from))
        .collect()
}

/// The migrations of `--migrations` and a pool on `--database-url`.
async fn open(cli: &Cli) -> anyhow::Result<(Migrations, PgPool)> {
    let migrations = read_migrations(&cli.migrations)?;
    Ok((migrations, connect(cli, 2).await?))
}

fn read_migrations(dir: &Path) -> anyhow::Result<Migrations> {
    if !dir.join("manifest.json").is_file() {
        bail!(
            "{} has no manifest.json: point --migrations at the folder the build writes (a crate's `migrations`), or run `cargo build` first",
            dir.display()
        );
    }
    let migrations = Migrations::from_dir(dir)?;
    if migrations.manifest()?.migrations.is_empty() {
        bail!(
            "{} lists no migrations, so there is nothing to migrate to or check drift against: run `cargo build` in the crate whose models it holds",
            dir.join("manifest.json").display()
        );
    }
    Ok(migrations)
}

async fn connect(cli: &Cli, connections: u32) -> anyhow::Result<PgPool> {
    let Some(url) = &cli.database_url else {
        bail!("no database: pass --database-url postgres://… or set DATABASE_URL");
    };
    pool(url, "--database-url", connections).await
}

/// A pool of `connections` on `url`, the database `flag` names.
pub(crate) async fn pool(url: &str, flag: &str, connections: u32) -> anyhow::Result<PgPool> {
    let failed = |e: strata::sqlx::Error| {
        anyhow::anyhow!(
            "connecting to the database of {flag}: {}",
            strata::describe_sqlx_error(&e)
        )
    };
    // A pool retries a refused connection until its timeout; one plain
    // connection first fails at once, with the server's own reason.
    let first = PgConnection::connect(url).await.map_err(failed)?;
    let _ = first.close().await;
    PgPoolOptions::new()
        .max_connections(connections)
        .connect(url)
        .await
        .map_err(failed)
}
