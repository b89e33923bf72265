//! A tenant deleted through one process is refused by another process of
//! the app within a second (LISTEN/NOTIFY), not at cache expiry.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::{get, host_of, send, Running};

#[tokio::test]
async fn a_second_process_refuses_a_deleted_tenant_within_a_second() {
    let run = Running::start(false, 4).await;
    run.onboard(&["acme".into(), "doomed".into()]).await;

    // The second process: the app's own binary, on the same database.
    let mut child = Command::new(env!("CARGO_BIN_EXE_saas"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", run.db.url())
        .env("SAAS_ADDR", "127.0.0.1:0")
        .env("SAAS_BASE_DOMAIN", crate::support::BASE)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the second process");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("the second process starts within a minute")
        .unwrap()
        .expect("it prints its address");
    let other: std::net::SocketAddr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();

    // The second process has "doomed is a tenant" cached.
    for _ in 0..2 {
        let (status, body) = send(other, get("/orders", &host_of("doomed"))).await;
        assert_eq!(status, 200, "{body}");
    }

    run.delete_tenant("doomed").await;
    let deleted = Instant::now();
    loop {
        let (status, body) = send(other, get("/orders", &host_of("doomed"))).await;
        if status == 404 {
            assert!(body.contains("unknown_tenant"), "{body}");
            break;
        }
        assert!(
            deleted.elapsed() < Duration::from_secs(1),
            "the second process still answers {status} for a deleted tenant after a second: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused_after = deleted.elapsed();
    // The other tenant is untouched.
    let (status, _) = send(other, get("/orders", &host_of("acme"))).await;
    assert_eq!(status, 200);
    eprintln!("refused by the second process {refused_after:?} after the deletion");

    child.start_kill().ok();
    child.wait().await.ok();
}
