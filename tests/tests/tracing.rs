//! Every statement is a debug event naming the schema it ran in.

use std::io::Write;
use std::sync::{Arc, Mutex};

use strav_orm::with_schema;
use strav_tests::fixtures::marker_tenants;
use strav_tests::TestDb;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn statements_are_logged_with_their_schema() {
    let t = TestDb::new().await;
    let db = t.database(1).await;
    let tenants = marker_tenants(&db, 1).await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("strav=debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    with_schema(&tenants[0], async {
        db.sql("SELECT tenant FROM marker WHERE tenant = $1")
            .bind("t_000")
            .fetch_all::<(String,)>()
            .await
    })
    .await
    .unwrap();
    db.sql("SELECT 42").execute().await.unwrap();
    let _ = db.sql("SELECT * FROM missing_table").execute().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let line = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no log line with {needle:?} in:\n{log}"))
            .to_string()
    };
    let tenant_line = line("SELECT tenant FROM marker");
    assert!(
        tenant_line.contains("DEBUG") && tenant_line.contains("schema=t_000"),
        "{tenant_line}"
    );
    assert!(line("SELECT 42").contains("schema=public"));
    assert!(line("missing_table").contains("statement failed"));
}
