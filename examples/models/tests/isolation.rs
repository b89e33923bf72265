//! The seed's "data isolation between tenants" scenario, on the models that
//! build.rs generated from schemas/, against a real PostgreSQL.

use std::path::Path;

use example_models::models::{
    Campaign, Channel, NewCampaign, NewOrganization, NewPlantMachine, NewTenantOrder,
    NewTenantProduct, NewUser, Organization, PlantMachine, PlantMachineState, TenantOrder,
    TenantOrderStatus, TenantProduct, User, UserRole,
};
use strav_orm::rust_decimal::Decimal;
use strav_orm::sqlx::AssertSqlSafe;
use strav_orm::{with_schema, Database, Error, SchemaManager};
use strav_tests::TestDb;

const TENANTS: [&str; 2] = ["test_schema_1", "test_schema_2"];

/// Creates every domain's tables from the same definitions the models came from.
async fn create_tables(db: &Database) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let catalog = strav_codegen::Project::load(
        &root.join("database/schemas"),
        Some(&root.join("config/generators.toml")),
    )
    .and_then(|p| p.catalog())
    .expect("the reference definitions are valid");
    let ddl = |domain| strav_codegen::diff::create_domain_sql(&catalog, domain).unwrap();
    db.sql(AssertSqlSafe(ddl("public")))
        .execute_script()
        .await
        .unwrap();
    for fixed in ["factory", "marketing"] {
        db.sql(AssertSqlSafe(format!("CREATE SCHEMA {fixed}")))
            .execute()
            .await
            .unwrap();
        with_schema(fixed, async {
            db.sql(AssertSqlSafe(ddl(fixed))).execute_script().await
        })
        .await
        .unwrap();
    }
    let schemas = SchemaManager::new(db);
    for tenant in TENANTS {
        schemas.create_schema(tenant, "tenant").await.unwrap();
        with_schema(tenant, async {
            db.sql(AssertSqlSafe(ddl("tenant"))).execute_script().await
        })
        .await
        .unwrap();
    }
}

async fn user(db: &Database, email: &str) -> User {
    User::create(
        db,
        NewUser {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn data_isolation_between_tenants() {
    let t = TestDb::new().await;
    data_isolation(&t.database(4).await).await;
}

/// The same scenario through a real PgBouncer in transaction mode, every
/// client sharing one server connection.
#[tokio::test]
async fn data_isolation_between_tenants_through_pgbouncer() {
    use strav_tests::pgbouncer::{require, POOL_OF_ONE};
    require(POOL_OF_ONE);
    let t = TestDb::new().await;
    let db = Database::connect_with(t.pgbouncer_config(POOL_OF_ONE, 4))
        .await
        .unwrap();
    data_isolation(&db).await;
}

async fn data_isolation(db: &Database) {
    let db = db.clone();
    create_tables(&db).await;
    let alice = user(&db, "alice@example.com").await;
    assert_eq!(
        alice.role,
        UserRole::Member,
        "the database default came back"
    );

    for (i, tenant) in TENANTS.iter().enumerate() {
        with_schema(*tenant, async {
            let product = TenantProduct::create(
                &db,
                NewTenantProduct {
                    sku: format!("SKU-{i}"),
                    name: format!("widget of {tenant}"),
                    price: Decimal::new(1999, 2),
                    ..Default::default()
                },
            )
            .await?;
            TenantOrder::create(
                &db,
                NewTenantOrder {
                    product_id: product.id,
                    user_id: alice.id,
                    note: Some(format!("order in {tenant}")),
                    ..Default::default()
                },
            )
            .await?;
            Ok::<_, Error>(())
        })
        .await
        .unwrap();
    }

    for tenant in TENANTS {
        let orders = with_schema(tenant, TenantOrder::all(&db)).await.unwrap();
        assert_eq!(orders.len(), 1, "{tenant} sees exactly its own order");
        assert_eq!(
            orders[0].note.as_deref(),
            Some(format!("order in {tenant}").as_str())
        );
        assert_eq!(orders[0].status, TenantOrderStatus::Pending);
        assert_eq!(orders[0].quantity, 1);
        let products = with_schema(tenant, TenantProduct::all(&db)).await.unwrap();
        assert_eq!(products.len(), 1);
        assert_eq!(products[0].name, format!("widget of {tenant}"));
    }
}

#[tokio::test]
async fn find_by_transactions_queries_and_fixed_schema_models() {
    let t = TestDb::new().await;
    let db = t.database(4).await;
    create_tables(&db).await;
    let alice = user(&db, "alice@example.com").await;
    let org = Organization::create(
        &db,
        NewOrganization {
            name: "Acme".into(),
            slug: "acme".into(),
            ..Default::default()
        },
    )
    .await;
    let org = match org {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };

    with_schema("test_schema_1", async {
        // A fixed-schema model read from inside a tenant context.
        let found = User::find_by(&db, User::EMAIL, "alice@example.com").await?;
        assert_eq!(found.as_ref().map(|u| u.id), Some(alice.id));

        // create in a transaction: committed, and rolled back on error.
        let product = db
            .transaction(async move |tx| {
                let p = TenantProduct::create(
                    tx,
                    NewTenantProduct {
                        sku: "A-1".into(),
                        name: "anvil".into(),
                        price: Decimal::new(5000, 2),
                        ..Default::default()
                    },
                )
                .await?;
                for (n, status) in [
                    TenantOrderStatus::Pending,
                    TenantOrderStatus::Paid,
                    TenantOrderStatus::Pending,
                ]
                .into_iter()
                .enumerate()
                {
                    TenantOrder::create(
                        tx,
                        NewTenantOrder {
                            product_id: p.id,
                            user_id: alice.id,
                            status: Some(status),
                            tags: Some(vec!["rush".into()]),
                            note: Some(format!("{status}-{n}")),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
                Ok::<_, Error>(p)
            })
            .await?;
        let failed: Result<(), Error> = db
            .transaction(async move |tx| {
                TenantProduct::create(
                    tx,
                    NewTenantProduct {
                        sku: "B-1".into(),
                        name: "rolled back".into(),
                        price: Decimal::ONE,
                        ..Default::default()
                    },
                )
                .await?;
                Err(Error::RowNotFound)
            })
            .await;
        assert!(failed.is_err());
        assert!(TenantProduct::find_by(&db, TenantProduct::SKU, "B-1")
            .await?
            .is_none());

        // The query builder, and the application's own impl on a generated model.
        let pending = TenantOrder::query()
            .filter(TenantOrder::STATUS.eq("pending"))
            .filter(TenantOrder::PRODUCT_ID.eq(product.id))
            .order_by(TenantOrder::CREATED_AT.desc())
            .all(&db)
            .await?;
        assert_eq!(pending.len(), 2);
        assert_eq!(TenantOrder::pending(&db).await?.len(), 2);
        let paid = TenantOrder::find_by(&db, TenantOrder::STATUS, TenantOrderStatus::Paid)
            .await?
            .expect("one paid order");
        assert_eq!(paid.tags, vec!["rush".to_owned()]);

        // Fixed-schema models of other domains, with enums and enum arrays.
        let machine = PlantMachine::create(
            &db,
            NewPlantMachine {
                serial_number: strav_orm::sqlx::types::Uuid::from_u128(7),
                name: "press".into(),
                owner_id: Some(alice.id),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(machine.state, PlantMachineState::Idle);
        let campaign = Campaign::create(
            &db,
            NewCampaign {
                organization_id: org.id,
                machine_id: Some(machine.id),
                name: "launch".into(),
                channel: Some(Channel::V2faReminder),
                audience: Some(vec![UserRole::Admin, UserRole::Guest]),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(campaign.audience, vec![UserRole::Admin, UserRole::Guest]);
        Ok::<_, Error>(())
    })
    .await
    .unwrap();

    // The other tenant saw none of it; the fixed-schema rows are shared.
    with_schema("test_schema_2", async {
        assert_eq!(TenantOrder::query().count(&db).await?, 0);
        assert_eq!(PlantMachine::all(&db).await?.len(), 1);
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
}
