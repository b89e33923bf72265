//! Opening a Database from config/database.toml with env() values.

use strav_orm::{Config, Database};
use strav_tests::TestDb;

#[tokio::test]
async fn connects_from_a_config_file_reading_the_environment() {
    let t = TestDb::new().await;
    let url: sqlx::postgres::PgConnectOptions = t.url().parse().unwrap();
    let dir = std::env::temp_dir().join(format!("strav_cfg_{}", t.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("database.toml");
    // Variable names unique to this test, so parallel tests cannot interfere.
    let var = format!("STRAV_T_{}", t.name().to_uppercase());
    std::fs::write(
        &path,
        format!(
            r#"
[database]
host = "env('{var}_HOST', '{host}')"
port = "env('{var}_PORT', {port})"
database = "env('{var}_DB')"
username = "{user}"

[pool]
max_connections = 3

[multi_tenant]
enabled = true
"#,
            host = url.get_host(),
            port = url.get_port(),
            user = url.get_username(),
        ),
    )
    .unwrap();
    let missing = Config::load_from(&path, false).unwrap_err().to_string();
    assert!(
        missing.contains(&format!("{var}_DB is not set")),
        "{missing}"
    );
    assert!(
        missing.contains("database.database"),
        "names the key: {missing}"
    );

    // SAFETY of set_var: the name is unique to this test.
    std::env::set_var(format!("{var}_DB"), t.name());
    let mut config = Config::load_from(&path, false).unwrap();
    // DATABASE_URL (if the harness has one) would override the file; this
    // test is about the file.
    if std::env::var("DATABASE_URL").is_ok() {
        config = Config::parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
    }
    let db = Database::connect_with(config).await.unwrap();
    let name: String = db
        .sql("SELECT current_database()::text")
        .fetch_scalar()
        .await
        .unwrap();
    assert_eq!(name, t.name());
    assert_eq!(db.pool_status().max, 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_wrong_address_fails_at_connect() {
    let err = Database::connect("postgres://postgres@127.0.0.1:1/nope")
        .await
        .unwrap_err();
    assert!(!err.is_user_error());
    assert!(err.to_string().contains("database error"), "{err}");
}
