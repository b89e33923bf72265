//! Admin routes: they run in `without_schema` (the app wraps them in
//! `BypassLayer`), whatever host or header the request carries.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use strav_orm::migrate::Outcome;
use strav_orm::{current_schema, SchemaStats};

use super::ApiError;
use crate::models::{CustomDomain, NewCustomDomain};
use crate::AppState;

/// The body of `POST /admin/tenants`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Onboard {
    /// The tenant's schema name (also its subdomain).
    pub name: String,
    /// A domain of its own, served like its subdomain.
    #[serde(default)]
    pub domain: Option<String>,
}

/// What onboarding did.
#[derive(Debug, Serialize, Deserialize)]
pub struct Onboarded {
    pub name: String,
    /// Create the schema, register it, apply the tenant migrations.
    pub elapsed_ms: f64,
    pub migrations_applied: usize,
}

/// `POST /admin/tenants`: create + migrate (about 15 ms; cloning a
/// template schema measured twice that, see BENCHMARKS.md).
pub async fn create(
    State(app): State<AppState>,
    Json(onboard): Json<Onboard>,
) -> Result<(StatusCode, Json<Onboarded>), ApiError> {
    let start = Instant::now();
    let report = app
        .schemas
        .create_migrated_schema(&onboard.name, "tenant")
        .await?;
    let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Some(domain) = onboard.domain {
        CustomDomain::create(
            &app.db,
            NewCustomDomain {
                domain,
                tenant: onboard.name.clone(),
            },
        )
        .await?;
    }
    tracing::info!(tenant = %onboard.name, elapsed_ms, "tenant onboarded");
    Ok((
        StatusCode::CREATED,
        Json(Onboarded {
            name: onboard.name,
            elapsed_ms: (elapsed_ms * 10.0).round() / 10.0,
            migrations_applied: match report.outcome {
                Outcome::Migrated { versions } => versions.len(),
                _ => 0,
            },
        }),
    ))
}

/// The admin listing.
#[derive(Debug, Serialize)]
pub struct Listing {
    /// The tenant the admin request ran in: always none.
    pub ran_in_tenant: Option<String>,
    pub tenants: Vec<SchemaStats>,
}

/// `GET /admin/tenants`: every registered tenant with its tables, rows
/// (PostgreSQL's statistics) and size.
pub async fn list(State(app): State<AppState>) -> Result<Json<Listing>, ApiError> {
    Ok(Json(Listing {
        ran_in_tenant: current_schema().map(|s| s.to_string()),
        tenants: app.schemas.get_all_schema_stats().await?,
    }))
}

/// `DELETE /admin/tenants/{name}`: drops the tenant and everything in it.
/// Every process of the app stops serving it within a second (NOTIFY).
pub async fn delete(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.schemas.delete_schema(&name).await?;
    CustomDomain::query()
        .filter(CustomDomain::TENANT.eq(name.as_str()))
        .delete(&app.db)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
