//! tracing to stderr: warnings by default, debug with `-v`, plus `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

pub fn init(verbose: bool) {
    // from_env_lossy: a malformed RUST_LOG must not stop the command.
    let mut filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .from_env_lossy();
    if verbose {
        filter = filter.add_directive(LevelFilter::DEBUG.into());
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only help a person at a terminal, not a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(true)
        .init();
}
