//! The health endpoint the shop deployed, mounted on strata's `health`.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use axum::Router;
use strata::sqlx::PgPool;

use crate::MIGRATIONS;

/// Serves `GET /health/db-schemas` on 127.0.0.1 until the process is stopped.
pub async fn serve(pool: PgPool, port: u16) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/health/db-schemas", get(db_schemas))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!(
        "listening on http://{}/health/db-schemas",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// 200 with the report when every migration is applied and nothing drifted, 503 with it otherwise.
async fn db_schemas(State(pool): State<PgPool>) -> impl IntoResponse {
    match strata::health(&pool, &MIGRATIONS).await {
        Ok(health) => {
            let code = match health.status {
                strata::HealthStatus::Ok => StatusCode::OK,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            (
                code,
                Json(strata::serde_json::to_value(&health).unwrap_or_default()),
            )
        }
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(strata::serde_json::json!({ "status": "error", "error": error.to_string() })),
        ),
    }
}
