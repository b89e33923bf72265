//! PgBouncer in front of the test server, for the tests that go through a
//! real pooler. `scripts/ensure-pgbouncer.sh` (run by `scripts/test.sh`)
//! installs and starts two instances in transaction mode.

use strav_orm::{Config, ConnectionConfig, RoutingMode};

use crate::TestDb;

/// A PgBouncer whose every client shares one server connection.
pub const POOL_OF_ONE: u16 = 6433;
/// A PgBouncer with four server connections.
pub const POOL_OF_FOUR: u16 = 6434;
/// A PgBouncer in session mode (eight server connections).
pub const SESSION_MODE: u16 = 6435;

fn host() -> String {
    std::env::var("STRAV_PGBOUNCER_HOST").unwrap_or_else(|_| "127.0.0.1".to_owned())
}

impl TestDb {
    /// A URL for this database through the PgBouncer on `port`.
    pub fn pgbouncer_url(&self, port: u16) -> String {
        let direct = self.url();
        let (auth, _) = direct
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .expect("a postgres:// URL with a user");
        format!("postgres://{auth}@{}:{port}/{}", host(), self.name())
    }

    /// Strav's configuration for this database through the PgBouncer on
    /// `port`: transaction routing, `max_connections` client connections.
    pub fn pgbouncer_config(&self, port: u16, max_connections: usize) -> Config {
        let mut config = Config {
            connection: ConnectionConfig::Url(self.pgbouncer_url(port)),
            ..Config::default()
        };
        config.pool.max_connections = max_connections;
        config.pool.acquire_timeout_secs = 30.0;
        config.multi_tenant.routing = RoutingMode::Transaction;
        config
    }
}

/// Panics with what to do when no PgBouncer answers on `port`: these tests
/// must not pass by skipping.
pub fn require(port: u16) {
    let addr = format!("{}:{port}", host());
    let answers = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok()
        });
    if !answers {
        panic!(
            "no PgBouncer answers on {addr}; run scripts/ensure-pgbouncer.sh \
             (scripts/test.sh does) to install and start it"
        );
    }
}
