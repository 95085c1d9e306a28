//! One service start-up as its own OS process, for the fault tests:
//! `strata-start <migrations dir> [--lock-timeout-ms N] [--lock-retries N]`
//! migrates `DATABASE_URL` and prints the report as JSON; exits 1 on error.

use std::time::Duration;

use strata::sqlx::postgres::PgPoolOptions;
use strata::{DriftPolicy, Migrations, Migrator};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: strata-start <migrations dir> [--lock-timeout-ms N] [--lock-retries N]");
        std::process::exit(2);
    };
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let result = async {
        let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is unset".to_owned())?;
        let migrations = Migrations::from_dir(dir).map_err(|e| e.to_string())?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(|e| e.to_string())?;
        let mut migrator = Migrator::new(&migrations).drift_policy(DriftPolicy::Warn);
        if let Some(ms) = option("--lock-timeout-ms") {
            migrator = migrator.lock_timeout(Duration::from_millis(ms));
        }
        if let Some(n) = option("--lock-retries") {
            migrator = migrator.lock_retries(n as u32);
        }
        let report = migrator.run(&pool).await.map_err(|e| e.to_string())?;
        serde_json::to_string(&report).map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(json) => println!("{json}"),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
