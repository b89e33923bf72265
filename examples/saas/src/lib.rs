//! Strav's worked example: a multi-tenant SaaS back end on axum.
//!
//! - tenants are subdomains of a base domain (`acme.saas.localhost`), or
//!   their own domains (`public.custom_domains`), or, when enabled, the
//!   `X-Tenant-ID` header;
//! - `/orders...` runs in the request's tenant (`strav_tower::TenantLayer`),
//!   `/admin/...` in none (`BypassLayer`);
//! - `POST /orders` queues a job in the same transaction; the worker runs it
//!   in the same tenant (`strav_tower::jobs`).
//!
//! `src/main.rs` runs it; `tests/http` drives it over real HTTP.

#![deny(warnings)]

pub mod models {
    include!(concat!(env!("OUT_DIR"), "/mod.rs"));
}

mod app;
pub mod jobs;
pub mod routes;
mod settings;

pub use app::{router, App, AppState, StartError};
pub use settings::{Settings, SettingsError};
