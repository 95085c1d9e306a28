//! What a start-up tells an operator: spans for the run, each migration and
//! each statement, with their durations, and a report that serializes.
//!
//! A test binary of its own: tracing's subscriber is process-wide here, and
//! start-ups in other tests' threads must not race with it.

use std::sync::{Arc, Mutex};

use strata::Migrator;
use tracing_subscriber::fmt::format::FmtSpan;

// Shared with the db test binary, which uses the rest of it.
#[allow(dead_code)]
#[path = "db/support.rs"]
mod support;

use support::{fresh_db, Scratch, SHOP};

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_start_up_traces_the_run_each_migration_and_each_statement() {
    let scratch = Scratch::with_models(SHOP);
    scratch.build();
    let migrations = scratch.migrations();
    let (_db, pool) = fresh_db().await;

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let report = Migrator::new(&migrations).run(&pool).await.unwrap();
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for span in ["strata.run", "strata.migration", "strata.statement"] {
        let closed = log
            .lines()
            .find(|l| l.contains(span) && l.contains("close") && l.contains("time.busy"));
        assert!(closed.is_some(), "no timed `{span}` span in:\n{log}");
    }
    assert!(
        log.contains("version=1") && log.contains("name=\"initial\""),
        "{log}"
    );

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["applied"][0]["name"], "initial");
    assert_eq!(json["already_applied"], 0);
    assert_eq!(json["drift"]["differences"], serde_json::json!([]));
    assert!(
        json["applied"][0]["duration"]["nanos"].is_number()
            || json["applied"][0]["duration"]["secs"].is_number()
    );
}
