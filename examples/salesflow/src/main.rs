//! SalesFlow, a CRM split into services: shared schemas (`auth`, `contact`,
//! `activity`, the tenant registry in `public`) and one schema per tenant.
//!
//! `cargo run -p salesflow` plays releases: the first creates two tenants at
//! tenant migration 1 and fills them; the next migrates them to tenant
//! migration 3, and Acme grows to 200,000 contacts; the current one makes
//! contacts' e-mail unique in every tenant (tenant migration 4) while Acme
//! takes writes, and prints the writer's longest pause; it creates a third
//! tenant, writes and reads contacts per tenant through the generated
//! SQL, shows that no tenant sees another's rows, and checks drift for the
//! shared schemas and every tenant at once. Uses `DATABASE_URL`, or a
//! throwaway local PostgreSQL when it is unset.
//!
//! `cargo run -p salesflow -- --fleet 3` runs SalesFlow on a fleet of three
//! servers instead (see `fleet.rs`); `--server URL`, once per server, uses
//! servers of your own, the control database's first.

mod fleet;
mod models;

use anyhow::{ensure, Context};
use models::activity::ActivityType;
use models::contact::{ContactType, TagCategory};
use models::public::Tenant;
use models::tenant::{Activity, Contact, ContactTag};
use strata::sqlx::{self, postgres::PgPoolOptions, Connection, PgPool};
use strata::{Model, TenantSchema, TenantStatus, Tenants};

static MIGRATIONS: strata::Migrations = strata::embed_migrations!();
static TENANT_MIGRATIONS: strata::Migrations = strata::embed_tenant_migrations!();

/// The tenants of SalesFlow: registered in `public.tenants`, schemas `tenant_<id>`.
fn tenants() -> Tenants<'static> {
    Tenants::new(&TENANT_MIGRATIONS)
        .prefix("tenant_")
        .registry("public", "tenants", "id")
        .concurrency(4)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut fleet_size, mut servers) = (None, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fleet" => {
                let n = args
                    .next()
                    .context("--fleet takes a number of servers, such as --fleet 3")?;
                fleet_size = Some(n.parse::<usize>().with_context(|| {
                    format!("--fleet {n:?}: give a number of servers, such as 3")
                })?);
            }
            "--server" => servers.push(args.next().context("--server takes a PostgreSQL URL")?),
            other => anyhow::bail!(
                "unknown argument {other:?}: run with no arguments, or --fleet N [--server URL]..."
            ),
        }
    }
    if let Some(size) = fleet_size {
        return fleet::run(size, servers).await;
    }
    ensure!(
        servers.is_empty(),
        "--server is for --fleet: give --fleet N too"
    );
    // Keep the cluster alive until the end of main; it is removed when dropped.
    let (_cluster, url) = match std::env::var("DATABASE_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            println!("DATABASE_URL is unset: starting a throwaway PostgreSQL");
            let cluster = strata::testing::Cluster::start()?;
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(6)
        .connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;

    let report = strata::Migrator::new(&MIGRATIONS).run(&pool).await?;
    println!(
        "shared schemas: {} migration(s) applied",
        report.applied.len()
    );
    seed_reference_data(&pool).await?;
    let (registered,): (i64,) =
        sqlx::query_as(&format!("SELECT count(*) FROM {}", Tenant::QUALIFIED))
            .fetch_one(&pool)
            .await?;
    ensure!(
        registered == 0,
        "public.tenants already lists {registered} tenants: run the example on an empty database (unset DATABASE_URL for a throwaway one)"
    );

    previous_release(&pool).await?;
    current_release(&pool).await
}

/// Reference data every tenant points at.
async fn seed_reference_data(pool: &PgPool) -> anyhow::Result<()> {
    let seed = [
        (ContactType::QUALIFIED, &["lead", "customer", "partner"][..]),
        (ActivityType::QUALIFIED, &["call", "email", "meeting"][..]),
        (TagCategory::QUALIFIED, &["industry"][..]),
    ];
    for (table, names) in seed {
        let insert = format!("INSERT INTO {table} (name) VALUES ($1) ON CONFLICT DO NOTHING");
        for name in names {
            sqlx::query(&insert).bind(name).execute(pool).await?;
        }
    }
    Ok(())
}

/// The release before the model change: tenants at tenant migration 1.
async fn previous_release(pool: &PgPool) -> anyhow::Result<()> {
    let old = tenants().target(1);
    for (id, name) in [("acme", "Acme Corp"), ("globex", "Globex")] {
        let tenant = old.schema(id)?;
        let mut tx = pool.begin().await?;
        // The registry row and the tenant's schema commit together, or neither does.
        sqlx::query(Tenant::INSERT)
            .bind(id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let created = old.create_in(&mut tx, &tenant).await?;
        tx.commit().await?;
        // The previous release's binary wrote contacts without a phone column.
        let insert = format!(
            "INSERT INTO {} (type_id, name, email) VALUES (1, $1, $2)",
            Contact::qualified(&tenant)
        );
        for person in ["Ada", "Grace"] {
            let email = format!("{}@{id}.example", person.to_lowercase());
            sqlx::query(&insert)
                .bind(format!("{person} of {name}"))
                .bind(email)
                .execute(pool)
                .await?;
        }
        println!(
            "previous release: created {tenant} at tenant migration {}",
            created.applied.last().map_or(0, |m| m.version)
        );
    }
    Ok(())
}

/// How many contacts Acme has when the unique e-mail ships.
const ACME_CONTACTS: i64 = 200_000;

/// The release before the current one: every tenant at tenant migration 3,
/// and Acme with many contacts.
async fn release_before(pool: &PgPool) -> anyhow::Result<()> {
    let report = tenants().target(3).migrate_all(pool).await?;
    println!("release before: {report}");
    ensure!(report.is_current(), "some tenants failed to migrate");
    let acme = tenants().schema("acme")?;
    sqlx::query(&format!(
        "INSERT INTO {} (type_id, name, email)
         SELECT 1, 'Filler ' || i, 'filler' || i || '@acme.example'
         FROM generate_series(3, $1) i",
        Contact::qualified(&acme)
    ))
    .bind(ACME_CONTACTS)
    .execute(pool)
    .await?;
    println!("{acme}: {ACME_CONTACTS} contacts");
    Ok(())
}

/// The release with the model change: migrate every tenant while Acme
/// takes writes, then use them.
async fn current_release(pool: &PgPool) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    release_before(pool).await?;
    let tenants = tenants().on_progress(|p| {
        println!("  [{}/{}] {}", p.done, p.total, p.outcome);
    });
    let acme = tenants.schema("acme")?;
    // A writer adds contacts to Acme, each its own commit, and times the
    // longest wait between two commits.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = sqlx::PgConnection::connect_with(&pool.connect_options()).await?;
    let writing = {
        let stop = Arc::clone(&stop);
        let insert = format!(
            "INSERT INTO {} (type_id, name, email) VALUES (1, 'Live', 'live-' || gen_random_uuid() || '@acme.example')",
            Contact::qualified(&acme)
        );
        tokio::spawn(async move {
            let (mut added, mut longest) = (0i64, Duration::ZERO);
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                sqlx::query(&insert).execute(&mut writer).await?;
                added += 1;
                longest = longest.max(last.elapsed());
                last = Instant::now();
            }
            anyhow::Ok((added, longest))
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    println!(
        "current release: migrating every tenant in public.tenants, while {acme} takes writes"
    );
    let report = tenants.migrate_all(pool).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    let (added, longest) = writing.await??;
    let report = report?;
    println!("{report}");
    let (kept,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM {} WHERE name = 'Live'",
        Contact::qualified(&acme)
    ))
    .fetch_one(pool)
    .await?;
    println!(
        "writer: {added} contacts added to {acme} meanwhile, all kept: {}; longest wait between two commits: {:.1} ms",
        kept == added,
        longest.as_secs_f64() * 1e3
    );
    ensure!(kept == added, "{added} contacts added, {kept} kept");
    // The rows the release before and the writer added go again, so the
    // contacts listed below are the tenants' own.
    sqlx::query(&format!(
        "DELETE FROM {} WHERE name = 'Live' OR name LIKE 'Filler %'",
        Contact::qualified(&acme)
    ))
    .execute(pool)
    .await?;
    ensure!(report.is_current(), "some tenants failed to migrate");
    // The newest tenant migration this binary ships (2 adds the phone column;
    // 3 the comments of strata 0.2's doc comments; 4 the unique e-mail, its
    // index built after each tenant's transaction).
    let newest = TENANT_MIGRATIONS
        .manifest()?
        .migrations
        .last()
        .map_or(0, |m| m.version);
    ensure!(
        report
            .tenants
            .iter()
            .all(|t| matches!(t.status, TenantStatus::Applied { from: 3, to, .. } if to == newest)),
        "every tenant should be at tenant migration {newest}"
    );

    let hostile = "initech\"; DROP SCHEMA auth CASCADE; --";
    match tenants.schema(hostile) {
        Err(error) => println!("refused a hostile tenant id: {}", first_line(&error)),
        Ok(schema) => anyhow::bail!("a hostile id was accepted as {schema}"),
    }

    let initech = tenants.schema("initech")?;
    let mut tx = pool.begin().await?;
    sqlx::query(Tenant::INSERT)
        .bind(initech.id())
        .bind("Initech")
        .execute(&mut *tx)
        .await?;
    let created = tenants.create_in(&mut tx, &initech).await?;
    tx.commit().await?;
    println!(
        "created {initech} with {} tenant migration(s)",
        created.applied.len()
    );

    let all = tenants.list(pool).await?.tenants;
    for tenant in &all {
        add_contact(pool, tenant).await?;
    }
    for tenant in &all {
        let contacts: Vec<Contact> = sqlx::query_as(&Contact::select(tenant))
            .fetch_all(pool)
            .await?;
        let names: Vec<String> = contacts
            .iter()
            .map(|c| match &c.phone {
                Some(phone) => format!("{} ({phone})", c.name),
                None => c.name.clone(),
            })
            .collect();
        println!(
            "{tenant}: {} contacts: {}",
            contacts.len(),
            names.join(", ")
        );
    }
    show_isolation(pool, &all).await?;

    let shared = strata::check_drift(pool, &MIGRATIONS).await?;
    let per_tenant = tenants.check_drift(pool, &all).await?;
    let health = strata::health_with_tenants(pool, &MIGRATIONS, &tenants).await?;
    println!(
        "health: {}",
        serde_json::to_string(&health.tenants).context("serialising health")?
    );
    println!("tenant drift: {per_tenant}");
    ensure!(per_tenant.is_clean(), "a tenant drifted:\n{per_tenant}");
    ensure!(shared.is_clean(), "the shared schemas drifted:\n{shared}");
    println!("drift: {shared}");
    Ok(())
}

/// Writes a contact with a phone, an activity and a tag through the generated SQL.
async fn add_contact(pool: &PgPool, tenant: &TenantSchema) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let contact: Contact = sqlx::query_as(&Contact::insert(tenant))
        .bind(2_i64)
        .bind(None::<i64>)
        .bind(format!("Linus of {}", tenant.id()))
        .bind(format!("linus@{}.example", tenant.id()))
        .bind("+1 555 0100")
        .fetch_one(&mut *tx)
        .await?;
    let activity: Activity = sqlx::query_as(&Activity::insert(tenant))
        .bind(contact.id)
        .bind(1_i64)
        .bind("first call")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(&ContactTag::insert(tenant))
        .bind(contact.id)
        .bind(1_i64)
        .bind("software")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    ensure!(activity.contact_id == contact.id);
    Ok(())
}

/// No tenant's query reaches another tenant's rows: each email is found in
/// its own tenant only.
async fn show_isolation(pool: &PgPool, all: &[TenantSchema]) -> anyhow::Result<()> {
    for owner in all {
        let email = format!("linus@{}.example", owner.id());
        for tenant in all {
            let sql = format!("{} WHERE email = $1", Contact::select(tenant));
            let found: Vec<Contact> = sqlx::query_as(&sql).bind(&email).fetch_all(pool).await?;
            let expected = usize::from(tenant == owner);
            ensure!(
                found.len() == expected,
                "{email} found {} times in {tenant}",
                found.len()
            );
        }
    }
    println!(
        "isolation: each tenant's contacts are visible in its own schema only ({} tenants checked pairwise)",
        all.len()
    );
    Ok(())
}

fn first_line(error: &strata::Error) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
