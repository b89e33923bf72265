//! Model names, prefixes, collisions, keywords and per-tenant configuration, through the
//! public API (definitions in, catalog and code out).

use strav_codegen::catalog::DomainKind;
use strav_codegen::{Catalog, Project};

const ID: &str = "[columns]\nid = { type = \"bigserial\", primary_key = true }\n";

fn catalog(project: Project) -> Catalog {
    project
        .catalog()
        .unwrap_or_else(|e| panic!("expected valid definitions:\n{e}"))
}

fn models(catalog: &Catalog) -> Vec<(String, String)> {
    catalog
        .tables()
        .map(|(d, t)| (format!("{}.{}", d.name, t.name), t.model.clone()))
        .collect()
}

fn code(project: &Project, file: &str) -> String {
    project
        .render()
        .unwrap_or_else(|e| panic!("expected valid definitions:\n{e}"))
        .into_iter()
        .find(|f| f.path.to_str() == Some(file))
        .unwrap_or_else(|| panic!("no generated {file}"))
        .contents
}

#[test]
fn model_names_are_pascal_case_singular_including_irregular_plurals() {
    let mut project = Project::new();
    for table in [
        "people",
        "categories",
        "statuses",
        "addresses",
        "data",
        "order_items",
        "news",
    ] {
        project = project.with_definition("public", &format!("{table}.toml"), ID);
    }
    assert_eq!(
        models(&catalog(project)),
        [
            ("public.addresses".to_string(), "Address".to_string()),
            ("public.categories".to_string(), "Category".to_string()),
            ("public.data".to_string(), "Datum".to_string()),
            ("public.news".to_string(), "News".to_string()),
            ("public.order_items".to_string(), "OrderItem".to_string()),
            ("public.people".to_string(), "Person".to_string()),
            ("public.statuses".to_string(), "Status".to_string()),
        ]
    );
}

#[test]
fn default_prefixes_without_config() {
    let project = Project::new()
        .with_definition("public", "users.toml", ID)
        .with_definition("tenant", "orders.toml", ID)
        .with_definition("field_service", "visits.toml", ID);
    assert_eq!(
        models(&catalog(project)),
        [
            (
                "field_service.visits".to_string(),
                "FieldServiceVisit".to_string()
            ),
            ("public.users".to_string(), "User".to_string()),
            ("tenant.orders".to_string(), "TenantOrder".to_string()),
        ]
    );
}

#[test]
fn configured_prefixes_empty_false_and_custom() {
    let project = Project::new()
        .with_config(
            "config/generators.toml",
            "[model_naming]\npublic = \"Core\"\ntenant = \"\"\nfactory = \"Plant\"\nmarketing = false\n",
        )
        .with_definition("public", "users.toml", ID)
        .with_definition("tenant", "orders.toml", ID)
        .with_definition("factory", "machines.toml", ID)
        .with_definition("marketing", "campaigns.toml", ID)
        .with_definition("billing", "invoices.toml", ID);
    assert_eq!(
        models(&catalog(project)),
        [
            ("billing.invoices".to_string(), "BillingInvoice".to_string()),
            ("factory.machines".to_string(), "PlantMachine".to_string()),
            ("marketing.campaigns".to_string(), "Campaign".to_string()),
            ("public.users".to_string(), "CoreUser".to_string()),
            ("tenant.orders".to_string(), "Order".to_string()),
        ]
    );
}

#[test]
fn model_override_keeps_the_domain_prefix_and_table_override_names_the_table() {
    let project = Project::new().with_definition(
        "tenant",
        "purchases.toml",
        format!("table = \"purchase_log\"\nmodel = \"Purchase\"\n{ID}"),
    );
    let c = catalog(project);
    let t = &c.domain("tenant").unwrap().tables[0];
    assert_eq!(
        (t.name.as_str(), t.model.as_str()),
        ("purchase_log", "TenantPurchase")
    );
}

#[test]
fn enums_get_the_domain_prefix_too() {
    let project = Project::new()
        .with_config("g.toml", "[model_naming]\nfactory = \"Plant\"\n")
        .with_definition(
            "factory",
            "machines.toml",
            format!("{ID}state = \"machine_state\"\n[enums]\nmachine_state = [\"idle\"]\n"),
        );
    let c = catalog(project);
    assert_eq!(
        c.enum_rust_name("factory", "machine_state"),
        Some("PlantMachineState")
    );
}

#[test]
fn the_same_model_name_in_two_domains_is_an_error_naming_both_files() {
    let project = Project::new()
        .with_config(
            "config/generators.toml",
            "[model_naming]\nmarketing = false\n",
        )
        .with_definition("public", "users.toml", ID)
        .with_definition("marketing", "users.toml", ID);
    let err = project.catalog().unwrap_err();
    let all: Vec<_> = err.diagnostics().unwrap().iter().collect();
    assert_eq!(all.len(), 1, "{err}");
    assert_eq!(all[0].location(), "public/users.toml:1:1");
    assert_eq!(
        all[0].message,
        "Rust name `User` is produced twice: by table `marketing.users` in marketing/users.toml and by table `public.users` in public/users.toml"
    );
    assert!(all[0]
        .help
        .as_deref()
        .unwrap()
        .contains("[model_naming] in config/generators.toml"));
}

#[test]
fn a_model_clashing_with_an_enum_is_an_error() {
    let project = Project::new()
        .with_definition(
            "public",
            "users.toml",
            format!("{ID}role = \"role\"\n[enums]\nrole = [\"admin\"]\n"),
        )
        .with_definition("public", "roles.toml", format!("model = \"Role\"\n{ID}"));
    let err = project.catalog().unwrap_err();
    let all: Vec<_> = err.diagnostics().unwrap().iter().collect();
    assert_eq!(all.len(), 1, "{err}");
    assert_eq!(all[0].location(), "public/users.toml:5:1");
    assert!(all[0].message.contains("by table `public.roles` in public/roles.toml and by enum `public.role` in public/users.toml"));
}

#[test]
fn keyword_model_names_are_rejected() {
    let project =
        Project::new().with_definition("public", "selves.toml", format!("model = \"Self\"\n{ID}"));
    let err = project.catalog().unwrap_err();
    let d = err.diagnostics().unwrap().iter().next().unwrap().clone();
    assert_eq!(d.location(), "public/selves.toml:1:9");
    assert!(d.message.contains("is not a PascalCase Rust identifier"));
}

#[test]
fn rust_keywords_become_raw_identifiers_and_sql_reserved_words_are_quoted() {
    let project = Project::new().with_definition(
        "public",
        "things.toml",
        format!(
            "{ID}type = \"text\"\nmatch = \"text\"\nasync = \"text\"\nself = \"text\"\norder = \"integer\"\nuser = \"text\"\n"
        ),
    );
    let c = catalog(project.clone());
    let fields: Vec<&str> = c.domains[0].tables[0]
        .columns
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["id", "r#type", "r#match", "r#async", "self_", "order", "user"]
    );
    let code = code(&project, "public.rs");
    for expected in [
        "    #[strav(column = \"type\")]\n    pub r#type: ::std::string::String,",
        "    #[strav(column = \"match\")]\n    pub r#match: ::std::string::String,",
        "    #[strav(column = \"self\")]\n    pub self_: ::std::string::String,",
        "    /// `\"order\" integer NOT NULL`\n    pub order: i32,",
        "    /// `\"user\" text NOT NULL`\n    pub user: ::std::string::String,",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
}

#[test]
fn per_tenant_domains_come_from_config_and_decide_the_schema_attribute() {
    let project = Project::new()
        .with_config(
            "config/generators.toml",
            "[domains]\nper_tenant = [\"tenant\", \"shop\"]\n",
        )
        .with_definition("public", "users.toml", ID)
        .with_definition("tenant", "orders.toml", ID)
        .with_definition("shop", "carts.toml", ID)
        .with_definition("factory", "machines.toml", ID);
    let c = catalog(project.clone());
    let kinds: Vec<(&str, DomainKind, Option<&str>)> = c
        .domains
        .iter()
        .map(|d| (d.name.as_str(), d.kind.clone(), d.schema()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("factory", DomainKind::Fixed, Some("factory")),
            ("public", DomainKind::Public, Some("public")),
            ("shop", DomainKind::PerTenant, None),
            ("tenant", DomainKind::PerTenant, None),
        ]
    );
    assert!(code(&project, "shop.rs").contains("#[strav(table = \"carts\", domain = \"shop\")]"));
    assert!(code(&project, "public.rs")
        .contains("#[strav(table = \"users\", domain = \"public\", schema = \"public\")]"));
    assert!(code(&project, "factory.rs")
        .contains("#[strav(table = \"machines\", domain = \"factory\", schema = \"factory\")]"));
}

#[test]
fn mod_rs_declares_every_domain_and_reexports_every_type() {
    let project = Project::new()
        .with_definition("public", "users.toml", ID)
        .with_definition(
            "tenant",
            "orders.toml",
            format!("{ID}s = \"order_status\"\n[enums]\norder_status = [\"a\"]\n"),
        );
    let code = code(&project, "mod.rs");
    assert!(code.starts_with("// @generated by strav-codegen from public/*.toml, tenant/*.toml.\n"));
    assert!(code.contains("pub mod public;\n"));
    assert!(code.contains("pub mod tenant;\n"));
    assert!(
        code.contains("pub use self::public::{NewUser, User};\n"),
        "{code}"
    );
    assert!(
        code.contains("pub use self::tenant::{NewTenantOrder, TenantOrder, TenantOrderStatus};\n"),
        "{code}"
    );
}
