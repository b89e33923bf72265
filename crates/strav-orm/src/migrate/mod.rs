//! Migrations per domain and per tenant (DESIGN §6).
//!
//! A migration is data: a pair of SQL files. The runner is small and
//! explicit about its guarantees:
//! - each schema records what it applied in its own `strav_migrations`
//!   (version, name, checksum, batch, applied_at, duration_ms);
//! - each migration runs in one transaction, holding that schema's advisory
//!   lock, and its bookkeeping row commits with it: a failure leaves the schema
//!   exactly at its previous version, and two runners never apply a migration
//!   twice (the second waits for the lock, then sees the row);
//! - a file starting with `-- strav:no-transaction` runs statement by
//!   statement outside a transaction (for `CREATE INDEX CONCURRENTLY`), under
//!   the session advisory lock;
//! - an applied migration whose file changed is drift: that schema is not
//!   migrated until it is resolved;
//! - every `migrate` run takes the next global batch id; rollback reverts a
//!   schema's newest batch, or every batch from N on.

mod runner;
mod source;
pub(crate) mod status;
mod summary;
pub(crate) mod tracking;

pub use runner::{Migrator, Outcome, RollbackTo, RunReport, SchemaReport};
pub use source::{split_statements, Migration, Migrations, NO_TRANSACTION_MARKER};
pub use status::{Drift, SchemaStatus};
pub use tracking::TRACKING_TABLE;
