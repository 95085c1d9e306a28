//! TLS as the URL's `sslmode` asks for it, in the runtime and the command
//! line, against a server started with `ssl = on` and certificates made
//! for the run.

use super::*;
use strata_tests::tls::TlsServer;

/// Whether the session behind `pool` speaks TLS, as the server sees it.
async fn speaks_tls(pool: &PgPool) -> bool {
    sqlx::query_scalar(
        "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn sslmode_require_verify_ca_and_verify_full_connect_and_say_why_they_refuse() {
    let server = TlsServer::start().unwrap();
    let ca = server.ca.display().to_string();
    let other_ca = server.other_ca.display().to_string();
    let admin = PgPool::connect(&server.url("127.0.0.1", "postgres", "sslmode=disable"))
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE shop")
        .execute(&admin)
        .await
        .unwrap();
    assert!(
        !speaks_tls(&admin).await,
        "sslmode=disable speaks plain text"
    );

    // Each mode connects with TLS, in the runtime.
    let require = server.url("127.0.0.1", "shop", "sslmode=require");
    // (verify-ca by a host the certificate holds: sqlx 0.8's rustls
    // verifier checks the name under verify-ca too, launchbadge/sqlx#3793.)
    let verify_ca = server.url(
        "localhost",
        "shop",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    let verify_full = server.url(
        "localhost",
        "shop",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    for url in [&require, &verify_ca, &verify_full] {
        let pool = PgPool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(speaks_tls(&pool).await, "{url}");
    }

    // The runtime migrates and checks drift over verify-full.
    let krate = built();
    let migrations = strata::Migrations::from_dir(krate.path().join("migrations")).unwrap();
    let pool = PgPool::connect(&verify_full).await.unwrap();
    let report = strata::Migrator::new(&migrations).run(&pool).await.unwrap();
    assert!(report.drift.is_clean(), "{}", report.drift);
    assert!(!report.applied.is_empty());

    // And so does the command line.
    let drift = strata(krate.path(), &verify_full, &["drift"]);
    assert_eq!(code(&drift), 0, "{}", stderr(&drift));

    // A certificate no trusted authority signed is refused, and says so.
    let wrong_ca = server.url(
        "localhost",
        "shop",
        &format!("sslmode=verify-full&sslrootcert={other_ca}"),
    );
    let error = PgPool::connect(&wrong_ca).await.unwrap_err();
    let said = strata::describe_sqlx_error(&error);
    assert!(
        said.contains("not signed by a certificate authority this client trusts"),
        "{said}"
    );
    assert!(said.contains("sslrootcert"), "{said}");
    let error = PgPool::connect(&wrong_ca.replace("verify-full", "verify-ca"))
        .await
        .unwrap_err();
    assert!(strata::describe_sqlx_error(&error).contains("not signed by a certificate authority"));
    let refused = strata(krate.path(), &wrong_ca, &["status"]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("not signed by a certificate authority"),
        "{}",
        stderr(&refused)
    );

    // So is a certificate for another host name, under verify-full only.
    let wrong_host = server.url(
        "127.0.0.1",
        "shop",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let error = PgPool::connect(&wrong_host).await.unwrap_err();
    let said = strata::describe_sqlx_error(&error);
    assert!(
        said.contains("does not hold the host name of the URL"),
        "{said}"
    );
    let refused = strata(krate.path(), &wrong_host, &["status"]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("sslmode=verify-ca"),
        "{}",
        stderr(&refused)
    );
}

#[tokio::test]
async fn sslmode_require_against_a_server_without_tls_says_so() {
    let db = strata::testing::database().await.unwrap();
    let url = format!("{}?sslmode=require", db.url());
    let krate = built();
    let refused = strata(krate.path(), &url, &["status"]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("the server does not speak TLS"),
        "{}",
        stderr(&refused)
    );
}
