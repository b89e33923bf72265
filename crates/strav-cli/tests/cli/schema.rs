//! The real `strav` binary against a real PostgreSQL: one database per test
//! (strav_tests::TestDb) and one empty working directory per test, so no
//! config file or other test interferes and the tests run in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use strav_orm::sqlx::{AssertSqlSafe, Connection, Executor};
use strav_tests::TestDb;

/// The outcome of one `strav` run.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// Exit `code` with one `error: ` sentence on stderr and nothing on stdout.
    #[track_caller]
    fn fails(self, code: i32) -> Self {
        let run = self.fails_with_detail(code);
        assert_eq!(run.stderr.lines().count(), 1, "one sentence: {run:#?}");
        run
    }

    /// Like `fails`, but the library's message may add lines after the
    /// first (the TOML parser's own context).
    #[track_caller]
    fn fails_with_detail(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}: {self:#?}");
        assert!(
            self.stderr.starts_with("error: "),
            "errors start with `error: `: {self:#?}"
        );
        assert!(
            self.stderr.ends_with('\n') && !self.stderr.ends_with("\n\n"),
            "no trailing blank lines: {self:#?}"
        );
        assert_eq!(self.stdout, "", "errors never reach stdout: {self:#?}");
        self
    }

    fn first_stderr_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }
}

/// An empty working directory, removed on drop.
struct Cwd(PathBuf);

impl Cwd {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "strav-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test directory");
        Cwd(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `strav args...` here, with DATABASE_URL set to `url` (or unset).
    fn strav(&self, url: Option<&str>, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strav"));
        cmd.args(args)
            .current_dir(&self.0)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG");
        if let Some(url) = url {
            cmd.env("DATABASE_URL", url);
        }
        let out = cmd.output().expect("run strav");
        Run {
            // None means killed by a signal (a panic aborting, say): never fine.
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }
}

impl Drop for Cwd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn listed_names(run: &Run) -> Vec<String> {
    run.json()
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s["name"].as_str().expect("name is a string").to_owned())
        .collect()
}

async fn schema_exists(db: &TestDb, name: &str) -> bool {
    let mut conn = db.raw().await;
    let exists: bool = strav_orm::sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    exists
}

#[tokio::test]
async fn create_list_stats_delete() {
    let db = TestDb::new().await;
    let url = db.url();
    let cwd = Cwd::new();
    let strav = |args: &[&str]| cwd.strav(Some(&url), args);

    let run = strav(&["schema:list"]).ok();
    assert_eq!(run.stdout, "no schemas registered\n");
    assert_eq!(
        listed_names(&strav(&["schema:list", "--json"]).ok()),
        Vec::<String>::new()
    );

    let run = strav(&["schema:create", "company_123"]).ok();
    assert_eq!(run.stdout, "created schema company_123 (domain tenant)\n");
    strav(&["schema:create", "plant_1", "--domain", "factory"]).ok();
    assert!(schema_exists(&db, "company_123").await);

    // Human: a header and one aligned row per schema, by name.
    let run = strav(&["schema:list"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:#?}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "DOMAIN", "CREATED_AT"]);
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&row[..2], ["company_123", "tenant"]);
    assert!(lines[2].starts_with("plant_1 "), "{run:#?}");
    let domain_col = lines[0].find("DOMAIN").unwrap();
    assert_eq!(
        lines[1].find("tenant"),
        Some(domain_col),
        "aligned: {run:#?}"
    );
    assert_eq!(
        lines[2].find("factory"),
        Some(domain_col),
        "aligned: {run:#?}"
    );

    // JSON: every field, created_at as an RFC 3339 timestamp.
    let run = strav(&["schema:list", "--json"]).ok();
    let list = run.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["name"], "company_123");
    assert_eq!(list[0]["domain"], "tenant");
    let created = list[0]["created_at"].as_str().unwrap();
    assert!(created.contains('T') && created.len() >= 20, "{created}");
    let run = strav(&["schema:list", "--domain", "factory", "--json"]).ok();
    assert_eq!(listed_names(&run), ["plant_1"]);
    let run = strav(&["schema:list", "--domain", "marketing"]).ok();
    assert_eq!(run.stdout, "no schemas registered in domain marketing\n");

    // Stats count what is really there.
    let mut conn = db.raw().await;
    for sql in [
        "CREATE TABLE company_123.items (id int PRIMARY KEY, label text NOT NULL)",
        "INSERT INTO company_123.items SELECT g, 'item ' || g FROM generate_series(1, 5) g",
        "CREATE TABLE company_123.empty (id int)",
    ] {
        conn.execute(AssertSqlSafe(sql)).await.unwrap();
    }
    conn.close().await.ok();
    let stats = strav(&["schema:stats", "company_123", "--json"])
        .ok()
        .json();
    assert_eq!(stats["schema"], "company_123");
    assert_eq!(stats["domain"], "tenant");
    assert_eq!(stats["tables"], 2);
    assert_eq!(stats["total_rows"], 5);
    assert_eq!(stats["rows_exact"], true);
    let size = stats["size_in_bytes"].as_i64().unwrap();
    assert!(size > 0, "{stats}");
    let run = strav(&["schema:stats", "company_123"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "schema  company_123");
    assert!(lines.contains(&"tables  2"), "{run:#?}");
    assert!(lines.contains(&"rows    5"), "{run:#?}");
    let size_line = lines.iter().find(|l| l.starts_with("size ")).unwrap();
    assert!(
        size_line.ends_with(&format!("({size} bytes)")),
        "{size_line}"
    );
    assert!(size_line.contains("KiB"), "{size_line}");

    // Without --force nothing is dropped.
    let run = strav(&["schema:delete", "company_123"]).fails(2);
    assert!(run.stderr.contains("all its data"), "{run:#?}");
    assert!(run.stderr.contains("--force"), "{run:#?}");
    assert!(schema_exists(&db, "company_123").await);
    assert_eq!(
        listed_names(&strav(&["schema:list", "--json"]).ok()),
        ["company_123", "plant_1"]
    );

    let run = strav(&["schema:delete", "company_123", "--force"]).ok();
    assert_eq!(run.stdout, "deleted schema company_123\n");
    assert!(!schema_exists(&db, "company_123").await);
    assert_eq!(
        listed_names(&strav(&["schema:list", "--json"]).ok()),
        ["plant_1"]
    );
    let run = strav(&["schema:stats", "company_123"]).fails(2);
    assert!(run.stderr.contains("does not exist"), "{run:#?}");
}

#[tokio::test]
async fn bad_input_exits_2() {
    let db = TestDb::new().await;
    let url = db.url();
    let cwd = Cwd::new();
    let strav = |args: &[&str]| cwd.strav(Some(&url), args);

    let run = strav(&["schema:create", "Bad-Name"]).fails(2);
    assert!(run.stderr.contains("\"Bad-Name\""), "{run:#?}");
    assert!(run.stderr.contains("^[a-z_][a-z0-9_]{0,62}$"), "{run:#?}");
    assert!(!schema_exists(&db, "Bad-Name").await);

    let run = strav(&["schema:create", "shop", "--domain", "Not A Domain"]).fails(2);
    assert!(run.stderr.contains("invalid domain name"), "{run:#?}");

    strav(&["schema:create", "twice"]).ok();
    let run = strav(&["schema:create", "twice"]).fails(2);
    assert!(run.stderr.contains("already exists"), "{run:#?}");

    let run = strav(&["schema:delete", "public", "--force"]).fails(2);
    assert!(run.stderr.contains("protected"), "{run:#?}");
    assert!(schema_exists(&db, "public").await);

    // Exists but was not created by strav: never dropped.
    let mut conn = db.raw().await;
    conn.execute("CREATE SCHEMA handmade").await.unwrap();
    conn.close().await.ok();
    let run = strav(&["schema:delete", "handmade", "--force"]).fails(2);
    assert!(run.stderr.contains("not registered"), "{run:#?}");
    assert!(schema_exists(&db, "handmade").await);
    let run = strav(&["schema:delete", "never_existed", "--force"]).fails(2);
    assert!(run.stderr.contains("not registered"), "{run:#?}");

    // clap's own usage errors share the code.
    let run = strav(&["schema:create"]);
    assert_eq!(run.code, 2, "{run:#?}");
    let run = strav(&["schema:frobnicate"]);
    assert_eq!(run.code, 2, "{run:#?}");
}

#[tokio::test]
async fn malformed_default_config_names_file_and_key() {
    let cwd = Cwd::new();
    cwd.write(
        "config/database.toml",
        "[pool]\nmax_connections = \"lots\"\n",
    );
    // The file is read (and rejected) even when DATABASE_URL is set.
    let url = strav_tests::server_url();
    let run = cwd.strav(Some(&url), &["schema:list"]).fails_with_detail(2);
    let first = run.first_stderr_line();
    assert!(
        first.starts_with("error: config/database.toml: key `pool.max_connections`: "),
        "{run:#?}"
    );
    assert!(first.contains("\"lots\""), "{run:#?}");

    // A syntax error points at the line.
    cwd.write("config/database.toml", "[pool\nmax_connections = 2\n");
    let run = cwd.strav(Some(&url), &["schema:list"]).fails_with_detail(2);
    assert!(
        run.first_stderr_line()
            .starts_with("error: config/database.toml: "),
        "{run:#?}"
    );
    assert!(run.stderr.contains("line 1"), "{run:#?}");
}

#[tokio::test]
async fn explicit_config_must_exist_and_parse() {
    let cwd = Cwd::new();
    let path = cwd.write("elsewhere/db.toml", "[database]\nhots = \"localhost\"\n");
    let path = path.to_str().unwrap();
    let run = cwd
        .strav(None, &["--config", path, "schema:list"])
        .fails_with_detail(2);
    let first = run.first_stderr_line();
    assert!(
        first.starts_with(&format!("error: {path}: key `database.hots`: ")),
        "{run:#?}"
    );
    assert!(first.contains("`host`"), "suggests the real keys: {run:#?}");

    let missing = cwd.path().join("missing.toml");
    let missing = missing.to_str().unwrap();
    let run = cwd
        .strav(None, &["schema:list", "--config", missing])
        .fails(2);
    assert!(run.stderr.contains(missing), "{run:#?}");
    assert!(run.stderr.contains("cannot read"), "{run:#?}");
}

#[tokio::test]
async fn config_file_is_used_for_the_connection() {
    let db = TestDb::new().await;
    let cwd = Cwd::new();
    let path = cwd.write(
        "custom.toml",
        &format!(
            "[database]\nurl = \"{}\"\n\n[pool]\nmax_connections = 1\n",
            db.url()
        ),
    );
    cwd.strav(
        None,
        &[
            "--config",
            path.to_str().unwrap(),
            "schema:create",
            "from_file",
        ],
    )
    .ok();
    assert!(schema_exists(&db, "from_file").await);
}

#[tokio::test]
async fn unreachable_database_exits_1() {
    let cwd = Cwd::new();
    let run = cwd
        .strav(Some("postgres://postgres@127.0.0.1:1/x"), &["schema:list"])
        .fails(1);
    assert!(
        run.stderr
            .starts_with("error: cannot connect to the database at 127.0.0.1:1/x: "),
        "{run:#?}"
    );
    // Bad names are refused before any connection is tried.
    let run = cwd
        .strav(
            Some("postgres://postgres@127.0.0.1:1/x"),
            &["schema:create", "Bad-Name"],
        )
        .fails(2);
    assert!(run.stderr.contains("invalid schema name"), "{run:#?}");
}

#[tokio::test]
async fn verbose_logs_to_stderr_only() {
    let db = TestDb::new().await;
    let cwd = Cwd::new();
    let quiet = cwd.strav(Some(&db.url()), &["schema:list", "--json"]).ok();
    assert_eq!(quiet.stderr, "", "warnings only by default");
    let loud = cwd
        .strav(Some(&db.url()), &["-v", "schema:list", "--json"])
        .ok();
    assert!(loud.stderr.contains("DEBUG"), "{loud:#?}");
    assert_eq!(loud.stdout, quiet.stdout, "logs never reach stdout");
}

#[test]
fn help_lists_every_command() {
    let cwd = Cwd::new();
    let run = cwd.strav(None, &["--help"]).ok();
    for cmd in [
        "schema:create",
        "schema:list",
        "schema:stats",
        "schema:delete",
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(cmd))
            .unwrap_or_else(|| panic!("{cmd} missing from --help: {}", run.stdout));
        assert!(
            line.trim_start()[cmd.len()..].trim().len() > 10,
            "{cmd} has a description: {line}"
        );
    }
    let run = cwd.strav(None, &["schema:delete", "--help"]).ok();
    assert!(run.stdout.contains("--force"), "{run:#?}");
}
