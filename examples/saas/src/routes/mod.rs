//! HTTP routes: tenant routes (orders) and admin routes (tenants).

pub mod admin;
pub mod orders;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A handler's error, answered as `{"error": ...}` with a fitting status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Strav(#[from] strav_orm::Error),
    #[error("{0}")]
    Job(#[from] strav_tower::jobs::JobError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        use strav_orm::Error as E;
        let status = match &self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Strav(E::SchemaAlreadyExists(_)) => StatusCode::CONFLICT,
            ApiError::Strav(E::SchemaNotRegistered(_) | E::SchemaNotFound(_)) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Strav(e) if e.is_user_error() => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}
