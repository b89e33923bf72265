//! What a `Database` shares between its clones.

use std::sync::Arc;

use crate::config::Config;
use crate::pool::Pool;

pub struct Core {
    pub(crate) pool: Arc<Pool>,
    pub(crate) config: Config,
    /// Set once this process ran the registry's DDL (which also brings an
    /// older registry's functions up to date).
    pub(crate) registry_ready: tokio::sync::OnceCell<()>,
    /// Set once the registry is known to exist, complete, for readers.
    pub(crate) registry_seen: tokio::sync::OnceCell<()>,
}
