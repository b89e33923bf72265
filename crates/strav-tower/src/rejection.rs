//! How the layer answers a request it refuses.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

use crate::error::TenantError;

/// The body format of refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"error": "unknown_tenant", "message": "..."}`
    Json,
    /// The message as `text/plain`.
    Plain,
}

/// The answer to a refused request: its status and body format.
///
/// By default a name that is no tenant gets 404 (so probing cannot tell an
/// invalid name from a deleted tenant), a malformed request 400 and a
/// failed check 503, each with a JSON body.
#[derive(Debug, Clone)]
pub struct Rejection {
    unknown_status: StatusCode,
    format: Format,
}

impl Default for Rejection {
    fn default() -> Self {
        Rejection {
            unknown_status: StatusCode::NOT_FOUND,
            format: Format::Json,
        }
    }
}

impl Rejection {
    /// JSON bodies, 404 for unknown tenants.
    pub fn json() -> Self {
        Rejection::default()
    }

    /// Plain-text bodies, 404 for unknown tenants.
    pub fn plain() -> Self {
        Rejection {
            format: Format::Plain,
            ..Rejection::default()
        }
    }

    /// The status for names that are no tenant and for requests a guard
    /// refuses for naming none (default 404).
    pub fn unknown_status(mut self, status: StatusCode) -> Self {
        self.unknown_status = status;
        self
    }

    /// The status `error` is answered with.
    pub fn status_of(&self, error: &TenantError) -> StatusCode {
        match error {
            TenantError::InvalidName { .. } | TenantError::Unknown(_) | TenantError::Missing => {
                self.unknown_status
            }
            other => other.default_status(),
        }
    }

    /// The response for `error`.
    pub fn response(&self, error: &TenantError) -> Response<Bytes> {
        let (content_type, body) = match self.format {
            Format::Json => (
                "application/json",
                serde_json::json!({ "error": error.code(), "message": error.to_string() })
                    .to_string(),
            ),
            Format::Plain => ("text/plain; charset=utf-8", format!("{error}\n")),
        };
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = self.status_of(error);
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}
