//! SalesFlow on a fleet of servers (`cargo run -p salesflow -- --fleet 3`):
//! the shared schemas and the tenant registry on a control database, the
//! tenants spread over the servers, the shared schemas they reference
//! replicated to every server, a migration of every tenant while a writer
//! adds contacts, and that tenant moved to another server under the
//! writer. Three throwaway servers are started, or the URLs given with
//! `--server URL` (the first is the control database) are used.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use strata::sqlx::{self, PgPool};
use strata::{Fleet, Model, Place, TenantSchema};

use crate::models::public::Tenant;
use crate::models::tenant::Contact;
use crate::{seed_reference_data, tenants, MIGRATIONS};

/// The shared schemas tenant tables reference: on every server.
const REPLICATED: [&str; 3] = ["activity", "auth", "contact"];

/// The tenants, and their names in the registry.
const TENANTS: [(&str, &str); 6] = [
    ("acme", "Acme Corp"),
    ("globex", "Globex"),
    ("initech", "Initech"),
    ("umbrella", "Umbrella"),
    ("hooli", "Hooli"),
    ("stark", "Stark Industries"),
];

pub async fn run(count: usize, urls: Vec<String>) -> anyhow::Result<()> {
    ensure!(count >= 2, "--fleet needs at least 2 servers, got {count}");
    // Keep the clusters alive until the end; each is removed when dropped.
    let mut clusters = Vec::new();
    let urls = match urls.is_empty() {
        false => {
            ensure!(
                urls.len() == count,
                "--fleet {count} with {} --server URL(s): give one URL per server, the control database's first",
                urls.len()
            );
            urls
        }
        true => {
            println!("fleet: starting {count} throwaway PostgreSQL servers (wal_level = logical)");
            for _ in 0..count {
                let cluster = strata::testing::Cluster::start_logical()?;
                clusters.push(cluster);
            }
            clusters.iter().map(|c| c.url()).collect()
        }
    };
    let control_url = &urls[0];
    let mut fleet = Fleet::connect(control_url, &MIGRATIONS, tenants().target(3))
        .await
        .with_context(|| format!("connecting to the control database {control_url}"))?;
    for schema in REPLICATED {
        fleet = fleet.replicate(schema);
    }
    // Server pg1 is the control database itself: its tenants live beside
    // the shared schemas, which it needs no copy of.
    for (i, url) in urls.iter().enumerate() {
        fleet.add_server(&format!("pg{}", i + 1), url).await?;
    }
    let control = fleet.control().clone();
    let (registered,): (i64,) =
        sqlx::query_as(&format!("SELECT count(*) FROM {}", Tenant::QUALIFIED))
            .fetch_one(&control)
            .await
            .unwrap_or((0,));
    ensure!(
        registered == 0,
        "public.tenants already lists {registered} tenants: run the example on empty servers"
    );

    let report = fleet.migrate().await?;
    println!("{report}");
    seed_reference_data(&control).await?;
    wait_for_copies(&fleet, &urls[1..]).await?;

    // The release before: every tenant at tenant migration 3, placed on the
    // server with the fewest tenants.
    for (id, name) in TENANTS {
        let tenant = fleet.tenants().schema(id)?;
        // The registry row has more columns than the id: written first, and
        // the fleet's creation leaves it as it is.
        sqlx::query(Tenant::INSERT)
            .bind(id)
            .bind(name)
            .execute(&control)
            .await?;
        let placed = fleet.create(&tenant, Place::Fewest).await?;
        let pool = fleet.pool_for(&tenant).await?;
        sqlx::query(&format!(
            "INSERT INTO {} (type_id, name, email)
             SELECT 1, 'Filler ' || i, 'filler' || i || '@{id}.example' FROM generate_series(1, 2000) i",
            Contact::qualified(&tenant)
        ))
        .execute(&pool)
        .await?;
        println!("created {tenant} on {} with 2000 contacts", placed.server);
    }

    // The current release: tenant migration 4 (a unique e-mail) on every
    // server, then Acme moved, while a writer adds contacts to Acme.
    let current = {
        let mut current = Fleet::connect(control_url, &MIGRATIONS, tenants()).await?;
        for schema in REPLICATED {
            current = current.replicate(schema);
        }
        current
    };
    let acme = current.tenants().schema("acme")?;
    let stop = Arc::new(AtomicBool::new(false));
    let writing = tokio::spawn(writer(current.clone(), acme.clone(), Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_millis(100)).await;

    println!("current release: migrating the fleet while {acme} takes writes");
    let report = current.migrate().await?;
    println!("{report}");
    ensure!(report.is_current(), "some tenants failed to migrate");

    let from = current.server_of(&acme).await?;
    let to = current
        .servers()
        .await?
        .into_iter()
        .filter(|s| s.name != from)
        .min_by_key(|s| s.tenants)
        .map(|s| s.name)
        .context("a server to move to")?;
    println!("moving {acme} from {from} to {to} while it takes writes");
    let moved = current.move_tenant(&acme, &to).await?;
    println!("{moved}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let (added, longest) = writing.await??;

    let pool = current.pool_for(&acme).await?;
    let (kept,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM {} WHERE name = 'Live'",
        Contact::qualified(&acme)
    ))
    .fetch_one(&pool)
    .await?;
    println!(
        "writer: {added} contacts added to {acme} through the migration and the move, all kept on {to}: {}; longest pause a write saw: {:.1} ms",
        kept == added,
        longest.as_secs_f64() * 1e3
    );
    ensure!(kept == added, "{added} contacts added, {kept} kept");

    for placement in current.placement().await? {
        println!("{} lives on {}", placement.tenant, placement.server);
    }
    let health = current.health().await?;
    println!(
        "health: {}",
        serde_json::to_string(&health.versions).context("serialising health")?
    );
    let drift = current.check_drift().await?;
    ensure!(drift.is_clean(), "{drift}");
    for line in drift.to_string().lines().skip(1) {
        println!("checked {line}");
    }
    println!("drift: clean");
    Ok(())
}

/// Waits until every server's copy of the replicated schemas has the
/// reference rows the control database was seeded with.
async fn wait_for_copies(fleet: &Fleet<'_>, urls: &[String]) -> anyhow::Result<()> {
    let count = "SELECT (SELECT count(*) FROM contact.contact_types) + (SELECT count(*) FROM activity.activity_types)";
    let (expected,): (i64,) = sqlx::query_as(count).fetch_one(fleet.control()).await?;
    for url in urls {
        let pool = PgPool::connect(url).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (copied,): (i64,) = sqlx::query_as(count).fetch_one(&pool).await?;
            if copied == expected {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "the reference rows did not reach {url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!("reference rows replicated to every server");
    Ok(())
}

/// Adds contacts to `tenant` through the fleet's routing, each its own
/// commit, retrying a write a move fences off; returns how many it added
/// and the longest a write waited.
async fn writer(
    fleet: Fleet<'static>,
    tenant: TenantSchema,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<(i64, Duration)> {
    let insert = format!(
        "INSERT INTO {} (type_id, name, email) VALUES (1, 'Live', 'live-' || gen_random_uuid() || '@acme.example')",
        Contact::qualified(&tenant)
    );
    let (mut added, mut longest) = (0i64, Duration::ZERO);
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        loop {
            let pool = fleet.pool_for(&tenant).await?;
            match sqlx::query(&insert).execute(&pool).await {
                Ok(_) => break,
                Err(error) if Fleet::is_fenced(&error) => {
                    tokio::time::sleep(Duration::from_millis(2)).await
                }
                Err(error) => return Err(error.into()),
            }
        }
        added += 1;
        longest = longest.max(started.elapsed());
    }
    Ok((added, longest))
}
