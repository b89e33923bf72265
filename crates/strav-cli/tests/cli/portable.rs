//! `strav schema:export` / `schema:import` as a user runs them: a tenant
//! moved between two databases with the real binary, and the exit codes of
//! every refusal (2) and failure (1).

use strav_orm::sqlx::{self, AssertSqlSafe, Connection, Executor};
use strav_tests::TestDb;

use crate::support::{Project, UNREACHABLE_URL};

/// A registered tenant at migration version 2, with rows and a foreign key
/// to `public`.
const ACME: &str = "
CREATE TABLE public.users (id bigserial PRIMARY KEY, name text NOT NULL);
INSERT INTO public.users (name) VALUES ('ann');
CREATE TABLE public.strav_schemas (name text PRIMARY KEY, domain text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO public.strav_schemas (name, domain) VALUES ('acme', 'tenant');
CREATE SCHEMA acme;
CREATE TYPE acme.order_status AS ENUM ('pending', 'paid');
CREATE TABLE acme.orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES public.users (id),
    status acme.order_status NOT NULL DEFAULT 'pending',
    note text
);
CREATE TABLE acme.strav_migrations (
    version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, batch bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint NOT NULL DEFAULT 0
);
INSERT INTO acme.strav_migrations (version, name, checksum, batch)
    VALUES (20260101000000, 'create', 'c1', 1), (20260102000000, 'status', 'c2', 1);
INSERT INTO acme.orders (user_id, status, note) VALUES (1, 'paid', E'tab\there'), (1, 'pending', NULL);
";

async fn database(sql: &str) -> TestDb {
    let db = TestDb::new().await;
    let mut conn = db.raw().await;
    conn.execute(AssertSqlSafe(sql.to_owned())).await.unwrap();
    conn.close().await.ok();
    db
}

async fn scalar(db: &TestDb, sql: &str) -> String {
    let mut conn = db.raw().await;
    let v: String = sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    v
}

#[tokio::test]
async fn moves_a_tenant_to_another_database() {
    let (from, to) = tokio::join!(
        database(ACME),
        database("CREATE TABLE public.users (id bigserial PRIMARY KEY, name text NOT NULL); INSERT INTO public.users (name) VALUES ('ann');")
    );
    let project = Project::empty().with_database_url(from.url());

    let run = project
        .strav(&["schema:export", "acme", "--out", "acme.strav"])
        .ok_quiet();
    let size = std::fs::metadata(project.path("acme.strav")).unwrap().len();
    assert_eq!(
        run.stdout,
        format!("exported schema acme (domain tenant, migration version 20260102000000, 2 tables, 2 rows) to acme.strav ({size} bytes)\n")
    );

    let run = project
        .strav(&[
            "schema:import",
            "acme.strav",
            "--as",
            "acme",
            "--database-url",
            &to.url(),
        ])
        .ok_quiet();
    assert_eq!(
        run.stdout,
        "imported acme.strav as schema acme (from acme, domain tenant, migration version 20260102000000, 2 tables, 2 rows); \
         migrations not compared: no schema of domain tenant here has applied any, and no --migrations DIR was given\n"
    );
    project
        .strav(&["schema:delete", "acme", "--force"])
        .ok_quiet();

    assert_eq!(
        scalar(
            &to,
            "SELECT string_agg(id || ':' || status || ':' || coalesce(note, '-'), ',' ORDER BY id) FROM acme.orders"
        )
        .await,
        "1:paid:tab\there,2:pending:-"
    );
    assert_eq!(
        scalar(
            &to,
            "SELECT domain FROM public.strav_schemas WHERE name = 'acme'"
        )
        .await,
        "tenant"
    );
    assert_eq!(
        scalar(
            &from,
            "SELECT count(*)::text FROM pg_namespace WHERE nspname = 'acme'"
        )
        .await,
        "0"
    );
}

#[tokio::test]
async fn refusals_exit_2_and_failures_exit_1() {
    let db = database(ACME).await;
    let project = Project::empty().with_database_url(db.url());
    project
        .strav(&["schema:export", "acme", "--out", "acme.strav"])
        .ok_quiet();
    let good = std::fs::read(project.path("acme.strav")).unwrap();

    // The name exists.
    let run = project
        .strav(&["schema:import", "acme.strav", "--as", "acme"])
        .errors_in_one_line(2);
    assert_eq!(run.stderr, "error: schema \"acme\" already exists\n");

    // Damaged and truncated files.
    let mut damaged = good.clone();
    damaged[good.len() / 2] ^= 0x40;
    std::fs::write(project.path("damaged.strav"), &damaged).unwrap();
    let run = project
        .strav(&["schema:import", "damaged.strav", "--as", "acme_2"])
        .errors_in_one_line(2);
    assert_eq!(
        run.stderr,
        "error: export file damaged.strav: damaged: its content does not match its SHA-256 checksum; nothing was imported\n"
    );
    std::fs::write(project.path("cut.strav"), &good[..good.len() - 1]).unwrap();
    let run = project
        .strav(&["schema:import", "cut.strav", "--as", "acme_2"])
        .errors_in_one_line(2);
    assert!(run.stderr.contains(": truncated: it has "), "{run:#?}");
    std::fs::write(project.path("other.strav"), "PGDMP...").unwrap();
    let run = project
        .strav(&["schema:import", "other.strav", "--as", "acme_2"])
        .errors_in_one_line(2);
    assert!(run.stderr.contains("not a Strav export file"), "{run:#?}");

    // Migrations that differ from the files given.
    let project = project.with_migrations(
        "tenant",
        &[
            ("20260101000000_create.up.sql", "SELECT 1;"),
            ("20260102000000_status.up.sql", "SELECT 2;"),
            ("20260103000000_more.up.sql", "SELECT 3;"),
        ],
    );
    let run = project
        .strav(&[
            "schema:import",
            "acme.strav",
            "--as",
            "acme_2",
            "--migrations",
            "database/migrations",
        ])
        .errors_in_one_line(2);
    assert!(
        run.stderr.contains("the file is behind, it lacks 20260103000000; other checksums for 20260101000000, 20260102000000"),
        "{run:#?}"
    );

    // Bad input before any connection.
    project
        .strav(&["schema:import", "acme.strav", "--as", "Not-A-Name"])
        .errors_in_one_line(2);
    project
        .strav(&[
            "schema:import",
            "acme.strav",
            "--as",
            "acme_2",
            "--database-url",
            "postgres://host:port/db",
        ])
        .errors_in_one_line(2);
    project
        .strav(&["schema:export", "no_such_schema", "--out", "x.strav"])
        .errors_in_one_line(2);
    assert!(!project.path("x.strav").exists());

    // Failures: a file that cannot be read, a database that is not there.
    project
        .strav(&["schema:import", "missing.strav", "--as", "acme_2"])
        .errors_in_one_line(1);
    project
        .strav(&[
            "schema:import",
            "acme.strav",
            "--as",
            "acme_2",
            "--database-url",
            UNREACHABLE_URL,
        ])
        .errors_in_one_line(1);
    project
        .strav(&["schema:export", "acme", "--out", "no/such/dir/acme.strav"])
        .errors_in_one_line(1);

    // None of it changed anything.
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'acme%'"
        )
        .await,
        "acme"
    );
}
