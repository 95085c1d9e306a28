//! What the benchmark (`strata-bench`) and the tests that check the drift
//! check against itself reach inside the runtime for: not for services,
//! and compiled only with the `bench` feature.

/// Each kind's rows of the drift statement, by name, for the
/// benchmark's breakdown (they bind `$1` to `$3` as it does).
pub fn catalog_parts() -> Vec<(&'static str, String)> {
    crate::catalog::named_parts()
}

/// The partition maintenance a start-up runs for `state`, alone, for
/// the benchmark: how many partitions it made.
pub async fn maintain_partitions(
    conn: &mut sqlx::PgConnection,
    state: &strata_manifest::SchemaState,
) -> Result<usize, crate::Error> {
    let tables = crate::partitions::partitioned(state);
    let done = crate::partitions::maintain(conn, tables, &strata_manifest::Confirm::none()).await?;
    Ok(done.made.len())
}

/// The drift check comparing expressions by their text alone, as strata
/// did before the server spelled them: the benchmark's baseline.
pub async fn check_drift_textual(
    pool: &sqlx::PgPool,
    migrations: &crate::Migrations,
) -> Result<crate::DriftReport, crate::Error> {
    let expected = migrations.manifest()?.state;
    let mut conn = pool
        .acquire()
        .await
        .map_err(crate::error::db("connecting"))?;
    let catalog = crate::introspect::read_catalog_with(
        &mut conn,
        &crate::expected::Expected::whole(&expected),
        false,
        false,
    )
    .await?;
    Ok(crate::drift::compare(&expected, &catalog))
}

/// The drift check with the catalog read whole and compared once read,
/// as `strata pull` and the health report read it: what the drift
/// check, which compares tables as they stream in, must agree with.
pub async fn check_drift_whole(
    pool: &sqlx::PgPool,
    migrations: &crate::Migrations,
) -> Result<crate::DriftReport, crate::Error> {
    let expected = migrations.last_state()?;
    let mut conn = pool
        .acquire()
        .await
        .map_err(crate::error::db("connecting"))?;
    let catalog = crate::introspect::read_catalog(&mut conn, &expected).await?;
    Ok(crate::drift::compare(&expected, &catalog))
}
