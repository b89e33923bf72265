//! `strav schema:create`, `schema:list`, `schema:stats`, `schema:delete` and
//! the options every command takes (`--config`, `-v`, `--help`): the real
//! binary against a real PostgreSQL, one database per test
//! (strav_tests::TestDb) and one empty project directory per test, so no
//! config file or other test interferes and the tests run in parallel.

use strav_orm::sqlx::{AssertSqlSafe, Connection, Executor};
use strav_tests::TestDb;

use crate::support::{Project, Run, UNREACHABLE_URL};

fn listed_names(run: &Run) -> Vec<String> {
    run.listed_schemas()
        .into_iter()
        .map(|(name, _)| name)
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
    let project = Project::empty().with_database_url(db.url());
    let strav = |args: &[&str]| project.strav(args);

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

    // JSON Lines: one object per schema, every field, created_at as an RFC
    // 3339 timestamp.
    let run = strav(&["schema:list", "--json"]).ok();
    let list = run.json_lines();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "company_123");
    assert_eq!(list[0]["domain"], "tenant");
    let created = list[0]["created_at"].as_str().unwrap();
    assert!(created.contains('T') && created.len() >= 20, "{created}");
    let run = strav(&["schema:list", "--domain", "factory", "--json"]).ok();
    assert_eq!(listed_names(&run), ["plant_1"]);
    // Pages: --limit and --after, by name.
    let run = strav(&["schema:list", "--json", "--limit", "1"]).ok();
    assert_eq!(listed_names(&run), ["company_123"]);
    let run = strav(&["schema:list", "--json", "--after", "company_123"]).ok();
    assert_eq!(listed_names(&run), ["plant_1"]);
    let run = strav(&["schema:list", "--after", "plant_1"]).ok();
    assert_eq!(run.stdout, "no schemas registered\n");
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
    let run = strav(&["schema:delete", "company_123"]).errors_in_one_line(2);
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
    let run = strav(&["schema:stats", "company_123"]).errors_in_one_line(2);
    assert!(run.stderr.contains("does not exist"), "{run:#?}");
}

#[tokio::test]
async fn bad_input_exits_2() {
    let db = TestDb::new().await;
    let project = Project::empty().with_database_url(db.url());
    let strav = |args: &[&str]| project.strav(args);

    let run = strav(&["schema:create", "Bad-Name"]).errors_in_one_line(2);
    assert!(run.stderr.contains("\"Bad-Name\""), "{run:#?}");
    assert!(run.stderr.contains("^[a-z_][a-z0-9_]{0,62}$"), "{run:#?}");
    assert!(!schema_exists(&db, "Bad-Name").await);

    let run = strav(&["schema:create", "shop", "--domain", "Not A Domain"]).errors_in_one_line(2);
    assert!(run.stderr.contains("invalid domain name"), "{run:#?}");

    strav(&["schema:create", "twice"]).ok();
    let run = strav(&["schema:create", "twice"]).errors_in_one_line(2);
    assert!(run.stderr.contains("already exists"), "{run:#?}");

    let run = strav(&["schema:delete", "public", "--force"]).errors_in_one_line(2);
    assert!(run.stderr.contains("protected"), "{run:#?}");
    assert!(schema_exists(&db, "public").await);

    // Exists but was not created by strav: never dropped.
    let mut conn = db.raw().await;
    conn.execute("CREATE SCHEMA handmade").await.unwrap();
    conn.close().await.ok();
    let run = strav(&["schema:delete", "handmade", "--force"]).errors_in_one_line(2);
    assert!(run.stderr.contains("not registered"), "{run:#?}");
    assert!(schema_exists(&db, "handmade").await);
    let run = strav(&["schema:delete", "never_existed", "--force"]).errors_in_one_line(2);
    assert!(run.stderr.contains("not registered"), "{run:#?}");

    // clap's own usage errors share the code.
    strav(&["schema:create"]).exits(2);
    strav(&["schema:frobnicate"]).exits(2);
}

#[tokio::test]
async fn malformed_default_config_names_file_and_key() {
    // The file is read (and rejected) even when DATABASE_URL is set.
    let project = Project::empty().with_database_url(strav_tests::server_url());
    project.write(
        "config/database.toml",
        "[pool]\nmax_connections = \"lots\"\n",
    );
    let run = project.strav(&["schema:list"]).errors(2);
    let first = run.first_stderr_line();
    assert!(
        first.starts_with("error: config/database.toml: key `pool.max_connections`: "),
        "{run:#?}"
    );
    assert!(first.contains("\"lots\""), "{run:#?}");

    // A syntax error points at the line.
    project.write("config/database.toml", "[pool\nmax_connections = 2\n");
    let run = project.strav(&["schema:list"]).errors(2);
    assert!(
        run.first_stderr_line()
            .starts_with("error: config/database.toml: "),
        "{run:#?}"
    );
    assert!(run.stderr.contains("line 1"), "{run:#?}");
}

#[tokio::test]
async fn explicit_config_must_exist_and_parse() {
    let project = Project::empty();
    let path = project.write("elsewhere/db.toml", "[database]\nhots = \"localhost\"\n");
    let path = path.to_str().unwrap();
    let run = project.strav(&["--config", path, "schema:list"]).errors(2);
    let first = run.first_stderr_line();
    assert!(
        first.starts_with(&format!("error: {path}: key `database.hots`: ")),
        "{run:#?}"
    );
    assert!(first.contains("`host`"), "suggests the real keys: {run:#?}");

    let missing = project.path("missing.toml");
    let missing = missing.to_str().unwrap();
    let run = project
        .strav(&["schema:list", "--config", missing])
        .errors_in_one_line(2);
    assert!(run.stderr.contains(missing), "{run:#?}");
    assert!(run.stderr.contains("cannot read"), "{run:#?}");
}

#[tokio::test]
async fn config_file_is_used_for_the_connection() {
    let db = TestDb::new().await;
    let project = Project::empty();
    let path = project.write(
        "custom.toml",
        &format!(
            "[database]\nurl = \"{}\"\n\n[pool]\nmax_connections = 1\n",
            db.url()
        ),
    );
    project
        .strav(&[
            "--config",
            path.to_str().unwrap(),
            "schema:create",
            "from_file",
        ])
        .ok();
    assert!(schema_exists(&db, "from_file").await);
}

#[tokio::test]
async fn unreachable_database_exits_1() {
    let project = Project::empty().with_database_url(UNREACHABLE_URL);
    let run = project.strav(&["schema:list"]).errors_in_one_line(1);
    assert!(
        run.stderr
            .starts_with("error: cannot connect to the database at 127.0.0.1:1/x: "),
        "{run:#?}"
    );
    // Bad names are refused before any connection is tried.
    let run = project
        .strav(&["schema:create", "Bad-Name"])
        .errors_in_one_line(2);
    assert!(run.stderr.contains("invalid schema name"), "{run:#?}");
}

#[tokio::test]
async fn verbose_logs_to_stderr_only() {
    let db = TestDb::new().await;
    let project = Project::empty().with_database_url(db.url());
    let quiet = project.strav(&["schema:list", "--json"]).ok();
    assert_eq!(quiet.stderr, "", "warnings only by default");
    let loud = project.strav(&["-v", "schema:list", "--json"]).ok();
    assert!(loud.stderr.contains("DEBUG"), "{loud:#?}");
    assert_eq!(loud.stdout, quiet.stdout, "logs never reach stdout");
}

#[test]
fn help_lists_every_command() {
    let project = Project::empty();
    let run = project.strav(&["--help"]).ok();
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
    let run = project.strav(&["schema:delete", "--help"]).ok();
    assert!(run.stdout.contains("--force"), "{run:#?}");
}
