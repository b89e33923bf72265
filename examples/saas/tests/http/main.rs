//! The SaaS example over real HTTP on loopback, against a real PostgreSQL.
//! One test binary; each test starts its own app on its own database.

mod admin;
mod deletion;
mod hostile;
mod isolation;
mod jobs;
mod streaming;
mod support;
