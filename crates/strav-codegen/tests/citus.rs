//! `[citus] enabled = true` in `generators.toml`: the migration SQL Citus's schema-based
//! sharding needs, checked as text (no Citus can be installed where these tests run),
//! and the definitions it refuses, as errors with their place.

use std::path::PathBuf;

use strav_codegen::catalog::TableRef;
use strav_codegen::citus::{Layout, Placement};
use strav_codegen::diff::{create_domain_sql, plan, SchemaSnapshot};
use strav_codegen::{Catalog, Diagnostic, Project};

const DOMAINS: [&str; 4] = ["public", "tenant", "factory", "marketing"];

fn reference_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// The reference definitions, with the reference `generators.toml` plus `extra`.
fn reference(extra: &str) -> Catalog {
    let root = reference_root();
    let config = std::fs::read_to_string(root.join("config/generators.toml")).unwrap();
    Project::load(&root.join("database/schemas"), None)
        .unwrap()
        .with_config("config/generators.toml", format!("{config}{extra}"))
        .catalog()
        .unwrap_or_else(|e| panic!("{e}"))
}

const CITUS: &str = "\n[citus]\nenabled = true\n";

fn citus_project() -> Project {
    Project::new().with_config("config/generators.toml", CITUS)
}

fn errors(project: Project) -> Vec<Diagnostic> {
    match project.catalog() {
        Ok(_) => panic!("expected the definitions to be rejected"),
        Err(e) => e.diagnostics().unwrap().iter().cloned().collect(),
    }
}

fn t(domain: &str, table: &str) -> TableRef {
    TableRef {
        domain: domain.to_owned(),
        table: table.to_owned(),
    }
}

#[test]
fn reference_schemas_make_public_tables_referenced_by_tenants_reference_tables() {
    let catalog = reference(CITUS);
    assert!(catalog.citus);
    let public = create_domain_sql(&catalog, "public").unwrap();
    insta::assert_snapshot!("citus_public_up", public);

    // Each call after its CREATE TABLE and before every foreign key and index; the
    // table users references first.
    let at = |needle: &str| {
        public
            .find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in\n{public}"))
    };
    let organizations = at("SELECT create_reference_table('organizations');");
    let users = at("SELECT create_reference_table('users');");
    assert!(at("CREATE TABLE organizations (") < organizations);
    assert!(at("CREATE TABLE users (") < organizations);
    assert!(organizations < users);
    assert!(users < at("CREATE INDEX users_organization_id_role_idx"));
    assert!(users < at("FOREIGN KEY"));
    assert_eq!(public.matches("create_reference_table").count(), 2);

    // Nothing to emit elsewhere: tenant tables are distributed by their schema, and
    // factory and marketing reference public but no tenant table references them.
    let plain = reference("");
    for domain in ["tenant", "factory", "marketing"] {
        assert_eq!(
            create_domain_sql(&catalog, domain),
            create_domain_sql(&plain, domain),
            "{domain}"
        );
    }
}

#[test]
fn without_citus_nothing_changes() {
    let on = reference(CITUS);
    let off = reference("");
    let explicit_off = reference("\n[citus]\nenabled = false\n");
    assert!(!off.citus && !explicit_off.citus);
    for domain in DOMAINS {
        let plain = create_domain_sql(&off, domain).unwrap();
        assert!(!plain.contains("create_reference_table"), "{plain}");
        assert!(!plain.contains("Citus"), "{plain}");
        assert_eq!(create_domain_sql(&explicit_off, domain).unwrap(), plain);
        // The Citus lines, and the blank line of their phase, are all that differs.
        let citus = create_domain_sql(&on, domain).unwrap();
        let without = citus
            .replace("\n\n-- Citus: ", "\n-- Citus: ")
            .lines()
            .filter(|l| !l.starts_with("-- Citus: ") && !l.contains("create_reference_table"))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        assert_eq!(without, plain, "{domain}");
    }
    // The down migration of a new domain only drops: the same with and without.
    for domain in DOMAINS {
        let d_on = on.domain(domain).unwrap();
        let d_off = off.domain(domain).unwrap();
        assert_eq!(
            plan(d_on, &on, &SchemaSnapshot::default()).down,
            plan(d_off, &off, &SchemaSnapshot::default()).down
        );
    }
}

#[test]
fn layout_of_the_reference_schemas() {
    let catalog = reference("");
    let layout = Layout::of(&catalog);
    let placement = |d: &str, t: &str| layout.placement(d, t).cloned();
    for table in ["orders", "order_items", "products"] {
        assert_eq!(placement("tenant", table), Some(Placement::Distributed));
    }
    assert_eq!(
        placement("public", "users"),
        Some(Placement::Reference {
            because: t("tenant", "orders")
        })
    );
    assert_eq!(
        placement("public", "organizations"),
        Some(Placement::Reference {
            because: t("public", "users")
        })
    );
    // Linked to a reference table by a foreign key: Citus adds them to its metadata.
    assert_eq!(
        placement("factory", "machines"),
        Some(Placement::Local {
            via: t("public", "users")
        })
    );
    assert!(matches!(
        placement("factory", "production_log"),
        Some(Placement::Local { .. })
    ));
    assert_eq!(
        placement("marketing", "campaigns"),
        Some(Placement::Local {
            via: t("public", "organizations")
        })
    );
    assert_eq!(
        layout.reference_tables(),
        [t("public", "organizations"), t("public", "users")]
    );
    assert_eq!(
        layout.reference_table_sql(&catalog),
        "SELECT create_reference_table('public.organizations');\n\
         SELECT create_reference_table('public.users');\n"
    );
}

#[test]
fn reference_tables_follow_references_across_fixed_domains() {
    // tenant.visits -> factory.sites -> public.regions: both become reference tables,
    // each in the migration of its own domain, and public.regions comes first.
    let catalog = citus_project()
        .with_definition(
            "public",
            "regions.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\n\"user\" = \"text\"\n",
        )
        .with_definition(
            "factory",
            "sites.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\nregion_id = { type = \"bigint\", references = \"public.regions.id\", on_delete = \"cascade\" }\n",
        )
        .with_definition(
            "factory",
            "sheds.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\nsite_id = { type = \"bigint\", references = \"sites.id\" }\n",
        )
        .with_definition(
            "tenant",
            "visits.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\nsite_id = { type = \"bigint\", references = \"factory.sites.id\" }\n",
        )
        .catalog()
        .unwrap_or_else(|e| panic!("{e}"));
    let factory = create_domain_sql(&catalog, "factory").unwrap();
    insta::assert_snapshot!("citus_cross_domain_factory_up", factory);
    assert!(factory.contains(
        "-- Citus: a reference table (copied to every node), since per-tenant table `tenant.visits` references it\nSELECT create_reference_table('sites');\n"
    ));
    assert!(
        !factory.contains("create_reference_table('sheds')"),
        "{factory}"
    );
    let public = create_domain_sql(&catalog, "public").unwrap();
    assert!(public.contains(
        "-- Citus: a reference table (copied to every node), since reference table `factory.sites` references it\nSELECT create_reference_table('regions');\n"
    ));
    let layout = Layout::of(&catalog);
    assert_eq!(
        layout.reference_tables(),
        [t("public", "regions"), t("factory", "sites")]
    );
    assert_eq!(
        layout.placement("factory", "sheds"),
        Some(&Placement::Local {
            via: t("factory", "sites")
        })
    );
}

#[test]
fn a_reserved_word_table_is_quoted_inside_the_literal() {
    let catalog = citus_project()
        .with_definition(
            "public",
            "user.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\n",
        )
        .with_definition(
            "tenant",
            "notes.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\nauthor_id = { type = \"bigint\", references = \"public.user.id\" }\n",
        )
        .catalog()
        .unwrap_or_else(|e| panic!("{e}"));
    let sql = create_domain_sql(&catalog, "public").unwrap();
    assert!(
        sql.contains("SELECT create_reference_table('\"user\"');"),
        "{sql}"
    );
}

/// `public.users` exists; a later version of the definitions adds `public.plans`, which a
/// tenant table references: only the new table gets the call.
#[test]
fn only_the_migration_that_creates_a_table_makes_it_a_reference_table() {
    const USERS: &str = "[columns]\nid = { type = \"bigserial\", primary_key = true }\n";
    const PLANS: &str = "[columns]\nid = { type = \"bigserial\", primary_key = true }\n";
    const ORDERS: &str = "[columns]\nid = { type = \"bigserial\", primary_key = true }\nuser_id = { type = \"bigint\", references = \"public.users.id\" }\n";
    const ORDERS_2: &str = "[columns]\nid = { type = \"bigserial\", primary_key = true }\nuser_id = { type = \"bigint\", references = \"public.users.id\" }\nplan_id = { type = \"bigint\", references = \"public.plans.id\" }\n";
    let before = citus_project()
        .with_definition("public", "users.toml", USERS)
        .with_definition("tenant", "orders.toml", ORDERS)
        .catalog()
        .unwrap();
    let after = citus_project()
        .with_definition("public", "users.toml", USERS)
        .with_definition("public", "plans.toml", PLANS)
        .with_definition("tenant", "orders.toml", ORDERS_2)
        .catalog()
        .unwrap();
    let current = SchemaSnapshot::of_domain(&before, before.domain("public").unwrap());
    let public = plan(after.domain("public").unwrap(), &after, &current);
    assert_eq!(
        public.up,
        "CREATE TABLE plans (\n    id bigserial NOT NULL,\n    PRIMARY KEY (id)\n);\n\n\
         -- Citus: a reference table (copied to every node), since per-tenant table `tenant.orders` references it\n\
         SELECT create_reference_table('plans');\n"
    );
    assert_eq!(public.down, "DROP TABLE plans;\n");
    assert_eq!(public.statement_count(), 2);
    // Unchanged definitions plan nothing, Citus or not.
    let again = plan(after.domain("public").unwrap(), &after, &{
        SchemaSnapshot::of_domain(&after, after.domain("public").unwrap())
    });
    assert!(again.is_empty(), "{}", again.up);
}

const SEQUENCE_DEFAULT: &str = r#"[columns]
id = { type = "bigserial", primary_key = true }
product_id = { type = "bigint", default_sql = "nextval('fallback_product')", references = "products.id", on_delete = "set default" }
"#;
const PRODUCTS: &str = "[columns]\nid = { type = \"bigserial\", primary_key = true }\n";

#[test]
fn set_default_on_a_sequence_column_is_an_error_with_its_place() {
    let all = errors(
        citus_project()
            .with_definition("tenant", "orders.toml", SEQUENCE_DEFAULT)
            .with_definition("tenant", "products.toml", PRODUCTS),
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    let d = &all[0];
    assert_eq!(d.location(), "tenant/orders.toml:3:118");
    assert_eq!(
        d.message,
        "`on_delete = \"set default\"` on column `product_id`, whose default draws from a \
         sequence: Citus refuses this foreign key on `tenant.orders`, a table of a \
         distributed schema"
    );
    let help = d.help.as_deref().unwrap();
    assert!(
        help.contains("\"cascade\", \"restrict\" or \"set null\""),
        "{help}"
    );
    insta::assert_snapshot!("citus_set_default_error", d.to_string());

    // The same definitions without Citus are fine, and so is a table Citus does not
    // manage (a fixed table linked to no reference table).
    Project::new()
        .with_definition("tenant", "orders.toml", SEQUENCE_DEFAULT)
        .with_definition("tenant", "products.toml", PRODUCTS)
        .catalog()
        .unwrap();
    citus_project()
        .with_definition("factory", "orders.toml", SEQUENCE_DEFAULT)
        .with_definition("factory", "products.toml", PRODUCTS)
        .catalog()
        .unwrap();
}

#[test]
fn set_default_on_a_sequence_column_of_a_reference_table_is_an_error() {
    // public.orders becomes a reference table: a tenant table references it.
    let all = errors(
        citus_project()
            .with_definition("public", "orders.toml", SEQUENCE_DEFAULT)
            .with_definition("public", "products.toml", PRODUCTS)
            .with_definition(
                "tenant",
                "refunds.toml",
                "[columns]\nid = { type = \"bigserial\", primary_key = true }\norder_id = { type = \"bigint\", references = \"public.orders.id\" }\n",
            ),
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].location(), "public/orders.toml:3:118");
    assert!(
        all[0]
            .message
            .ends_with("on `public.orders`, a reference table"),
        "{}",
        all[0]
    );
}

#[test]
fn citus_config_errors_have_their_place() {
    let all = errors(Project::new().with_config(
        "config/generators.toml",
        "[citus]\nenable = true\nenabled = \"true\"\n",
    ));
    let got: Vec<(String, String, String)> = all
        .iter()
        .map(|d| {
            (
                d.location(),
                d.message.clone(),
                d.help.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "config/generators.toml:2:1".to_owned(),
                "unknown key `enable` in [citus]".to_owned(),
                "did you mean `enabled`? known keys: enabled".to_owned()
            ),
            (
                "config/generators.toml:3:11".to_owned(),
                "`enabled` must be a boolean, found the string \"true\"".to_owned(),
                "drop the quotes: `enabled = true`".to_owned()
            ),
        ]
    );
    let d = &errors(Project::new().with_config("config/generators.toml", "citus = true\n"))[0];
    assert_eq!(d.location(), "config/generators.toml:1:9");
    assert!(d.message.contains("must be a table"), "{d}");
    let d = &errors(Project::new().with_config("config/generators.toml", "[cytus]\n"))[0];
    assert_eq!(d.location(), "config/generators.toml:1:2");
    assert!(
        d.help.as_deref().unwrap().contains("did you mean `citus`?"),
        "{d}"
    );
    assert!(
        Project::new()
            .with_config("config/generators.toml", CITUS)
            .config()
            .unwrap()
            .citus
            .enabled
    );
}

/// Changes Citus refuses on an existing table it manages are planned with a warning.
#[test]
fn refused_changes_of_existing_tables_are_warned_about() {
    const V1: &str = "[columns]\nid = { type = \"bigint\", primary_key = true }\ncode = \"integer\"\nn = { type = \"integer\", identity = true }\n";
    const V2: &str = "[columns]\nid = { type = \"bigint\", primary_key = true, identity = true }\ncode = \"bigint\"\nn = \"integer\"\nseq = \"bigserial\"\n";
    let catalog = |config: &str, text: &str| {
        Project::new()
            .with_config("config/generators.toml", config)
            .with_definition("tenant", "items.toml", text)
            .catalog()
            .unwrap()
    };
    let warnings = |config: &str| {
        let before = catalog(config, V1);
        let after = catalog(config, V2);
        let current = SchemaSnapshot::of_domain(&before, before.domain("tenant").unwrap());
        plan(after.domain("tenant").unwrap(), &after, &current)
    };
    let on = warnings(CITUS);
    let citus: Vec<&String> = on
        .warnings
        .iter()
        .filter(|w| w.starts_with("Citus"))
        .collect();
    insta::assert_snapshot!(
        "citus_refused_warnings",
        citus.iter().map(|w| format!("{w}\n")).collect::<String>()
    );
    assert_eq!(citus.len(), 3, "{citus:#?}");
    assert!(
        on.up.contains("-- WARNING: Citus refuses ADD COLUMN seq"),
        "{}",
        on.up
    );
    // `code integer -> bigint` is a plain type change Citus runs.
    assert!(!citus.iter().any(|w| w.contains("code")), "{citus:#?}");
    let off = warnings("");
    assert!(
        !off.warnings.iter().any(|w| w.contains("Citus")),
        "{:#?}",
        off.warnings
    );
    assert_eq!(off.statement_count(), on.statement_count());
}
