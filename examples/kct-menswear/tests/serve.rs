//! The health endpoint over real HTTP: clean after start-up, and a column
//! dropped by hand shows up in its JSON.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// Stops the server even when an assertion fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` over HTTP/1.1; the status code and the JSON body.
fn get(port: u16, path: &str) -> (u16, serde_json::Value) {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).expect("the server accepts connections");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, json)
}

#[tokio::test]
async fn the_health_endpoint_reports_schemas_migrations_and_drift() {
    let db = strata::testing::database().await.expect("a test database");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kct-menswear"))
        .args(["serve", "--port", "0"])
        .env("DATABASE_URL", db.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the example starts");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut port = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(address) = line.strip_prefix("listening on http://127.0.0.1:") {
            port = address
                .split('/')
                .next()
                .and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let port = port.expect("the server says where it listens");

    let (status, health) = get(port, "/health/db-schemas");
    assert_eq!(status, 200, "{health:#}");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["migrations"]["applied"].as_array().unwrap().len(), 7);
    assert!(health["migrations"]["pending"]
        .as_array()
        .unwrap()
        .is_empty());
    let shared = health["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "tenant_shared")
        .expect("tenant_shared is reported");
    assert_eq!(shared["exists"], true);
    assert_eq!(shared["expected_tables"].as_array().unwrap().len(), 13);
    assert_eq!(shared["found_tables"], shared["expected_tables"]);
    assert_eq!(health["drift"]["differences"], serde_json::json!([]));

    let pool = db.pool().await.unwrap();
    strata::sqlx::query("ALTER TABLE tenant_kct.customers DROP COLUMN phone")
        .execute(&pool)
        .await
        .unwrap();
    let (status, health) = get(port, "/health/db-schemas");
    assert_eq!(status, 503, "{health:#}");
    assert_eq!(health["status"], "drift");
    assert_eq!(
        health["drift"]["differences"],
        serde_json::json!([{
            "kind": "missing",
            "object": "column",
            "name": "tenant_kct.customers.phone",
            "expected": "text NULL"
        }])
    );
    drop(server);
}
