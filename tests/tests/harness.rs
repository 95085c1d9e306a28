//! The throwaway PostgreSQL: found, started, and removed even when its process is killed.
//!
//! A test binary of its own, because it changes `PG_BIN` and re-runs itself
//! as a child process.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata::testing::Cluster;

const CHILD: &str = "STRATA_HARNESS_CHILD";

#[test]
fn a_dropped_cluster_is_stopped_and_removed() {
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = cluster.dir().to_owned();
    let port = cluster.port();
    assert!(dir.join("data/PG_VERSION").is_file());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(cluster);
    assert!(!dir.exists(), "{} is left behind", dir.display());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_cluster_is_removed_when_its_process_is_killed() {
    if std::env::var_os(CHILD).is_some() {
        // The child: start a cluster, say where it is, and wait to be killed.
        let cluster = Cluster::start().unwrap_or_else(|e| panic!("{e}"));
        println!("cluster-dir={}", cluster.dir().display());
        std::thread::sleep(Duration::from_secs(120));
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_cluster_is_removed_when_its_process_is_killed",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut dir = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(path) = line.unwrap().strip_prefix("cluster-dir=") {
            dir = Some(PathBuf::from(path));
            break;
        }
    }
    let dir = dir.expect("the child reports its cluster");
    assert!(dir.exists());
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    while dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!dir.exists(), "the watchdog left {} behind", dir.display());
}

#[test]
fn missing_binaries_are_a_clear_error() {
    // In a child process, so that PG_BIN does not reach the other tests.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "missing_binaries_child",
            "--nocapture",
            "--include-ignored",
        ])
        .env("PG_BIN", "/nonexistent/strata/bin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("checked the error"), "{stdout}");
}

#[test]
#[ignore = "run by missing_binaries_are_a_clear_error with PG_BIN set"]
fn missing_binaries_child() {
    if std::env::var_os("PG_BIN").as_deref() != Some("/nonexistent/strata/bin".as_ref()) {
        return; // only meaningful as the child of the test above
    }
    let error = Cluster::start().expect_err("PG_BIN names no binaries");
    let message = error.to_string();
    assert!(message.contains("/nonexistent/strata/bin"), "{message}");
    assert!(message.contains("help:"), "{message}");
    println!("checked the error");
}
