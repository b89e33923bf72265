//! What a `Database` shares between its clones.

use std::sync::Arc;

use crate::config::Config;
use crate::pool::Pool;

pub struct Core {
    pub(crate) pool: Arc<Pool>,
    pub(crate) config: Config,
    /// Set once the registry table `public.strav_schemas` is known to exist.
    pub(crate) registry_ready: tokio::sync::OnceCell<()>,
}
