//! Planning a migration from Rust with `strav-migrate`, as `strav
//! generate:migration` does: write the plan, apply it, and the next plan is
//! empty.

use std::path::Path;

use strav_orm::{Migrations, SchemaManager};
use strav_tests::TestDb;

#[tokio::test]
async fn a_migration_planned_from_rust_applies_and_the_next_plan_is_empty() {
    let t = TestDb::new().await;
    let db = t.database(2).await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let catalog = strav_codegen::Project::load(
        &root.join("database/schemas"),
        Some(&root.join("config/generators.toml")),
    )
    .and_then(|p| p.catalog())
    .expect("the reference definitions are valid");
    let dir = tempfile::tempdir().unwrap();
    let none = Migrations::default();

    // public first: the tenant domain references its tables.
    for domain in ["public", "tenant"] {
        let migrations = Migrations::from_dir(dir.path()).unwrap_or_default();
        let plan = strav_migrate::plan(&db, &catalog, &migrations, domain)
            .await
            .unwrap();
        assert!(!plan.is_empty(), "{domain} starts from nothing");
        let files =
            strav_migrate::write(dir.path(), domain, "create everything", &migrations, &plan)
                .unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0]
            .to_string_lossy()
            .ends_with("_create_everything.up.sql"));
    }
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    let sm = SchemaManager::new(&db).with_migrations(migrations.clone());
    sm.migrate_schema("public").await.unwrap();
    sm.create_migrated_schema("acme", "tenant").await.unwrap();
    for domain in ["public", "tenant"] {
        let again = strav_migrate::plan(&db, &catalog, &migrations, domain)
            .await
            .unwrap();
        assert!(again.is_empty(), "{domain}: {}", again.up);
    }

    // Mistakes are typed errors that say what to do.
    let err = strav_migrate::plan(&db, &catalog, &none, "nope")
        .await
        .unwrap_err();
    assert!(
        err.is_user_error() && err.to_string().contains("unknown scope"),
        "{err}"
    );
    let err =
        strav_migrate::write(dir.path(), "tenant", "!!!", &none, &Default::default()).unwrap_err();
    assert!(
        matches!(err, strav_migrate::Error::EmptyMessage { .. }),
        "{err}"
    );
}
