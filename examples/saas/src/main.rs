//! The SaaS example as a process: `cargo run -p example-saas` from
//! `examples/saas` (it reads `config/database.toml`), or `scripts/demo.sh`.

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    // Every statement is a DEBUG event of `strav::sql` inside the request's
    // span, which names the tenant: RUST_LOG=info,strav=debug shows them.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let settings = saas::Settings::from_env()?;
    let app = saas::App::start(&settings).await?;
    let listener = TcpListener::bind(settings.addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    app.serve(listener, stopped()).await?;
    app.stop().await;
    Ok(())
}

/// Ctrl-C or SIGTERM (what `kill` and service managers send).
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
