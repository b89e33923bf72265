use super::*;
use crate::catalog::ReferentialAction;
use crate::Project;

const USERS: &str = r#"
[columns]
id = { type = "bigserial", primary_key = true }
email = { type = "text", unique = true }
"#;

const ORDERS: &str = r#"
timestamps = true

[columns]
id = { type = "bigserial", primary_key = true }
user_id = { type = "bigint", references = "public.users.id" }
status = { type = "order_status", default = "pending" }
total = { type = "numeric(12,2)", default = "0.00" }
tags = { type = "text[]", default = [] }
note = { type = "text", nullable = true }

[[indexes]]
columns = ["status", "created_at"]

[enums]
order_status = ["pending", "paid"]
"#;

const ITEMS: &str = r#"
[columns]
order_id = { type = "bigint", primary_key = true, references = "orders.id", on_delete = "cascade" }
line_no = { type = "smallint", primary_key = true }
quantity = { type = "integer", default = 1 }
"#;

fn catalog(tenant: &[(&str, &str)]) -> Catalog {
    let mut project = Project::new().with_definition("public", "users.toml", USERS);
    for (file, text) in tenant {
        project = project.with_definition("tenant", file, *text);
    }
    project.catalog().unwrap_or_else(|e| panic!("{e}"))
}

/// The plan from the state `old` definitions describe to the `new` ones.
fn plan_between(old: &[(&str, &str)], new: &[(&str, &str)]) -> MigrationPlan {
    let before = catalog(old);
    let current = match before.domain("tenant") {
        Some(d) => SchemaSnapshot::of_domain(&before, d),
        None => SchemaSnapshot::default(),
    };
    let after = catalog(new);
    plan(after.domain("tenant").unwrap(), &after, &current)
}

fn statements(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

#[track_caller]
fn assert_statements(sql: &str, expected: &[&str]) {
    assert_eq!(statements(sql), expected, "\n{sql}");
}

#[track_caller]
fn assert_before(sql: &str, first: &str, second: &str) {
    let a = sql
        .find(first)
        .unwrap_or_else(|| panic!("no {first:?} in\n{sql}"));
    let b = sql
        .find(second)
        .unwrap_or_else(|| panic!("no {second:?} in\n{sql}"));
    assert!(a < b, "{first:?} must come before {second:?}:\n{sql}");
}

/// What PostgreSQL reports for a schema made by `create_domain_sql` of ORDERS + ITEMS.
fn postgres_snapshot() -> SchemaSnapshot {
    let col = |name: &str, ty: &str, nullable: bool, default: Option<&str>| ColumnSnapshot {
        name: name.into(),
        ty: ty.into(),
        nullable,
        default: default.map(Into::into),
        identity: None,
    };
    SchemaSnapshot {
        enums: vec![EnumSnapshot {
            name: "order_status".into(),
            labels: vec!["pending".into(), "paid".into()],
        }],
        tables: vec![
            TableSnapshot {
                name: "order_items".into(),
                columns: vec![
                    col("order_id", "bigint", false, None),
                    col("line_no", "smallint", false, None),
                    col("quantity", "integer", false, Some("1")),
                ],
                primary_key: Some(PrimaryKeySnapshot {
                    name: "order_items_pkey".into(),
                    columns: vec!["order_id".into(), "line_no".into()],
                }),
                uniques: vec![],
                indexes: vec![],
                foreign_keys: vec![ForeignKeySnapshot {
                    name: "order_items_order_id_fkey".into(),
                    columns: vec!["order_id".into()],
                    target_schema: None,
                    target_table: "orders".into(),
                    target_columns: vec!["id".into()],
                    on_delete: ReferentialAction::Cascade,
                    on_update: ReferentialAction::NoAction,
                }],
            },
            TableSnapshot {
                name: "orders".into(),
                columns: vec![
                    col(
                        "id",
                        "bigint",
                        false,
                        Some("nextval('orders_id_seq'::regclass)"),
                    ),
                    col("user_id", "bigint", false, None),
                    col(
                        "status",
                        "order_status",
                        false,
                        Some("'pending'::order_status"),
                    ),
                    col("total", "numeric(12,2)", false, Some("0.00")),
                    col("tags", "text[]", false, Some("'{}'::text[]")),
                    col("note", "text", true, None),
                    col(
                        "created_at",
                        "timestamp with time zone",
                        false,
                        Some("now()"),
                    ),
                    col(
                        "updated_at",
                        "timestamp with time zone",
                        false,
                        Some("now()"),
                    ),
                ],
                primary_key: Some(PrimaryKeySnapshot {
                    name: "orders_pkey".into(),
                    columns: vec!["id".into()],
                }),
                uniques: vec![],
                indexes: vec![IndexSnapshot {
                    name: "orders_status_created_at_idx".into(),
                    columns: vec!["status".into(), "created_at".into()],
                    method: "btree".into(),
                }],
                foreign_keys: vec![ForeignKeySnapshot {
                    name: "orders_user_id_fkey".into(),
                    columns: vec!["user_id".into()],
                    target_schema: Some("public".into()),
                    target_table: "users".into(),
                    target_columns: vec!["id".into()],
                    on_delete: ReferentialAction::NoAction,
                    on_update: ReferentialAction::NoAction,
                }],
            },
        ],
    }
}

#[test]
fn no_change_against_what_postgres_reports() {
    let c = catalog(&[("orders.toml", ORDERS), ("order_items.toml", ITEMS)]);
    let p = plan(c.domain("tenant").unwrap(), &c, &postgres_snapshot());
    assert!(p.is_empty(), "{p:#?}");
    assert_eq!(p.up, "");
    assert_eq!(p.down, "");
    assert!(p.warnings.is_empty());
}

#[test]
fn no_change_against_the_definitions_themselves() {
    let defs = [("orders.toml", ORDERS), ("order_items.toml", ITEMS)];
    assert!(plan_between(&defs, &defs).is_empty());
}

#[test]
fn create_tables_enums_indexes_and_foreign_keys() {
    let p = plan_between(&[], &[("orders.toml", ORDERS), ("order_items.toml", ITEMS)]);
    assert!(!p.is_empty());
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let up = &p.up;
    assert!(
        up.contains("CREATE TYPE order_status AS ENUM ('pending', 'paid');"),
        "{up}"
    );
    assert!(up.contains("    id bigserial NOT NULL,\n"), "{up}");
    assert!(
        up.contains("status order_status NOT NULL DEFAULT 'pending'"),
        "{up}"
    );
    assert!(up.contains("PRIMARY KEY (order_id, line_no)"), "{up}");
    // Same domain: unqualified; another domain: qualified.
    assert!(
        up.contains(
            "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY \
             (order_id) REFERENCES orders (id) ON DELETE CASCADE;"
        ),
        "{up}"
    );
    assert!(
        up.contains(
            "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) \
             REFERENCES public.users (id);"
        ),
        "{up}"
    );
    assert!(
        up.contains("CREATE INDEX orders_status_created_at_idx ON orders (status, created_at);"),
        "{up}"
    );
    assert_before(up, "CREATE TYPE", "CREATE TABLE");
    assert_before(up, "CREATE TABLE orders", "FOREIGN KEY");
    assert_statements(
        &p.down,
        &[
            // Between the dropped tables only; DROP TABLE takes the rest along.
            "ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey",
            "DROP TABLE order_items",
            "DROP TABLE orders",
            "DROP TYPE order_status",
        ],
    );
}

#[test]
fn drop_table_and_its_down_recreates_it() {
    let p = plan_between(
        &[("orders.toml", ORDERS), ("order_items.toml", ITEMS)],
        &[("orders.toml", ORDERS)],
    );
    assert_statements(&p.up, &["DROP TABLE order_items"]);
    assert!(p.up.contains("-- drops table `order_items` with its rows"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let down = &p.down;
    assert!(down.contains("rows are not restored"), "{down}");
    assert!(down.contains("CREATE TABLE order_items ("), "{down}");
    assert!(
        down.contains("quantity integer NOT NULL DEFAULT 1"),
        "{down}"
    );
    assert!(down.contains("PRIMARY KEY (order_id, line_no)"), "{down}");
    assert_before(down, "CREATE TABLE order_items", "REFERENCES orders (id)");
}

#[test]
fn add_and_drop_columns() {
    let new = ORDERS.replace(
        "note = { type = \"text\", nullable = true }",
        "coupon = { type = \"varchar(20)\", nullable = true }\nweight = { type = \"real\", default = 0 }",
    );
    // A dropped and an added column in one table could be a rename: see below. Here the
    // old column stays, so only additions.
    let kept = new.replace(
        "coupon =",
        "note = { type = \"text\", nullable = true }\ncoupon =",
    );
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &kept)]);
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE orders ADD COLUMN coupon character varying(20)",
            "ALTER TABLE orders ADD COLUMN weight real NOT NULL DEFAULT 0",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "ALTER TABLE orders DROP COLUMN coupon",
            "ALTER TABLE orders DROP COLUMN weight",
        ],
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = plan_between(&[("orders.toml", &kept)], &[("orders.toml", ORDERS)]);
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE orders DROP COLUMN coupon",
            "ALTER TABLE orders DROP COLUMN weight",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "ALTER TABLE orders ADD COLUMN coupon character varying(20)",
            "ALTER TABLE orders ADD COLUMN weight real NOT NULL DEFAULT 0",
        ],
    );
}

#[test]
fn adding_a_not_null_column_without_default_warns() {
    let new = ORDERS.replace("note = {", "code = \"text\"\nnote = {");
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &new)]);
    assert_statements(&p.up, &["ALTER TABLE orders ADD COLUMN code text NOT NULL"]);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].contains("without a default"),
        "{:?}",
        p.warnings
    );
    assert!(p
        .up
        .contains("-- WARNING: column `orders.code` is added NOT NULL"));
}

#[test]
fn type_nullability_and_default_changes() {
    let new = ORDERS
        .replace(
            "numeric(12,2)\", default = \"0.00\"",
            "numeric(14,4)\", default = \"1.5\"",
        )
        .replace(
            "note = { type = \"text\", nullable = true }",
            "note = { type = \"text\", default = \"\" }",
        )
        .replace(
            "user_id = { type = \"bigint\"",
            "user_id = { type = \"bigint\", nullable = true",
        );
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &new)]);
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE orders ALTER COLUMN user_id DROP NOT NULL",
            "ALTER TABLE orders ALTER COLUMN total DROP DEFAULT",
            "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,4) USING total::numeric(14,4)",
            "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 1.5",
            "ALTER TABLE orders ALTER COLUMN note SET DEFAULT ''",
            "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
        ],
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("`orders.note` becomes NOT NULL")),
        "{:?}",
        p.warnings
    );
    assert_statements(
        &p.down,
        &[
            "ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL",
            "ALTER TABLE orders ALTER COLUMN total DROP DEFAULT",
            "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2) USING total::numeric(12,2)",
            "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0.00",
            "ALTER TABLE orders ALTER COLUMN note DROP DEFAULT",
            "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL",
        ],
    );
}

#[test]
fn serial_to_plain_and_back() {
    let plain = ORDERS.replace("id = { type = \"bigserial\"", "id = { type = \"bigint\"");
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &plain)]);
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE orders ALTER COLUMN id DROP DEFAULT",
            "DROP SEQUENCE IF EXISTS orders_id_seq",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "CREATE SEQUENCE orders_id_seq AS bigint OWNED BY orders.id",
            "SELECT setval('orders_id_seq', COALESCE(max(id), 0) + 1, false) FROM orders",
            "ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq'::regclass)",
        ],
    );
}

#[test]
fn serial_to_bigserial_widens_the_sequence() {
    let old = "[columns]\nid = { type = \"serial\", primary_key = true }\n";
    let new = "[columns]\nid = { type = \"bigserial\", primary_key = true }\n";
    let p = plan_between(&[("things.toml", old)], &[("things.toml", new)]);
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE things ALTER COLUMN id TYPE bigint USING id::bigint",
            "ALTER SEQUENCE things_id_seq AS bigint",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "ALTER TABLE things ALTER COLUMN id TYPE integer USING id::integer",
            "ALTER SEQUENCE things_id_seq AS integer",
        ],
    );
}

#[test]
fn primary_key_change_rebuilds_foreign_keys_that_need_it() {
    let new = ITEMS.replace(
        "line_no = { type = \"smallint\", primary_key = true }",
        "line_no = { type = \"smallint\" }",
    );
    let p = plan_between(
        &[("orders.toml", ORDERS), ("order_items.toml", ITEMS)],
        &[("orders.toml", ORDERS), ("order_items.toml", &new)],
    );
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE order_items DROP CONSTRAINT order_items_pkey",
            "ALTER TABLE order_items ADD PRIMARY KEY (order_id)",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "ALTER TABLE order_items DROP CONSTRAINT order_items_pkey",
            "ALTER TABLE order_items ADD PRIMARY KEY (order_id, line_no)",
        ],
    );

    // orders.id stops being the key that order_items references: that foreign key is
    // dropped before and added after.
    let orders = ORDERS.replace(
        "id = { type = \"bigserial\", primary_key = true }",
        "id = { type = \"bigserial\", unique = true }\ncode = { type = \"text\", primary_key = true }",
    );
    let p = plan_between(
        &[("orders.toml", ORDERS), ("order_items.toml", ITEMS)],
        &[("orders.toml", &orders), ("order_items.toml", ITEMS)],
    );
    let up = &p.up;
    assert_before(
        up,
        "ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey",
        "ALTER TABLE orders DROP CONSTRAINT orders_pkey",
    );
    assert_before(
        up,
        "ADD CONSTRAINT orders_id_key UNIQUE (id)",
        "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey",
    );
    assert_before(
        up,
        "ALTER TABLE orders ADD PRIMARY KEY (code)",
        "ADD CONSTRAINT order_items_order_id_fkey",
    );
}

#[test]
fn unique_constraints_and_indexes() {
    let new = ORDERS.replace(
        "[[indexes]]\ncolumns = [\"status\", \"created_at\"]",
        "[[indexes]]\ncolumns = [\"status\", \"created_at\"]\nname = \"orders_by_status\"\n\n\
         [[indexes]]\ncolumns = [\"tags\"]\nusing = \"gin\"\n\n[[uniques]]\ncolumns = [\"user_id\", \"note\"]",
    );
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &new)]);
    assert_statements(
        &p.up,
        &[
            // Same columns, another name: a rename, no rebuild.
            "ALTER INDEX orders_status_created_at_idx RENAME TO orders_by_status",
            "ALTER TABLE orders ADD CONSTRAINT orders_user_id_note_key UNIQUE (user_id, note)",
            "CREATE INDEX orders_tags_idx ON orders USING gin (tags)",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "DROP INDEX orders_tags_idx",
            "ALTER TABLE orders DROP CONSTRAINT orders_user_id_note_key",
            "ALTER INDEX orders_by_status RENAME TO orders_status_created_at_idx",
        ],
    );

    let changed = ORDERS.replace(
        "columns = [\"status\", \"created_at\"]",
        "columns = [\"status\", \"created_at\"]\nname = \"orders_status_created_at_idx\"\nusing = \"brin\"",
    );
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &changed)]);
    assert_statements(
        &p.up,
        &[
            "DROP INDEX orders_status_created_at_idx",
            "CREATE INDEX orders_status_created_at_idx ON orders USING brin (status, created_at)",
        ],
    );
}

#[test]
fn foreign_keys_same_domain_unqualified_and_cross_domain_qualified() {
    let old = ITEMS.replace(
        "order_id = { type = \"bigint\", primary_key = true, references = \"orders.id\", on_delete = \"cascade\" }",
        "order_id = { type = \"bigint\", primary_key = true }",
    );
    let new = format!("{old}buyer_id = {{ type = \"bigint\", nullable = true, references = \"public.users.id\", on_delete = \"set null\" }}\n")
        .replace(
            "order_id = { type = \"bigint\", primary_key = true }",
            "order_id = { type = \"bigint\", primary_key = true, references = \"orders.id\", on_update = \"cascade\" }",
        );
    let p = plan_between(
        &[("orders.toml", ORDERS), ("order_items.toml", &old)],
        &[("orders.toml", ORDERS), ("order_items.toml", &new)],
    );
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE order_items ADD COLUMN buyer_id bigint",
            "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON UPDATE CASCADE",
            "ALTER TABLE order_items ADD CONSTRAINT order_items_buyer_id_fkey FOREIGN KEY (buyer_id) REFERENCES public.users (id) ON DELETE SET NULL",
        ],
    );
    assert_statements(
        &p.down,
        &[
            "ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey",
            "ALTER TABLE order_items DROP CONSTRAINT order_items_buyer_id_fkey",
            "ALTER TABLE order_items DROP COLUMN buyer_id",
        ],
    );

    // A changed action: dropped and added again.
    let cascade = new.replace("on_update = \"cascade\"", "on_delete = \"cascade\"");
    let p = plan_between(
        &[("orders.toml", ORDERS), ("order_items.toml", &new)],
        &[("orders.toml", ORDERS), ("order_items.toml", &cascade)],
    );
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey",
            "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE",
        ],
    );
}

#[test]
fn fixed_domains_reference_their_schema() {
    let c = Project::new()
        .with_definition("public", "users.toml", USERS)
        .with_definition(
            "factory",
            "machines.toml",
            "[columns]\nid = { type = \"serial\", primary_key = true }\nowner_id = { type = \"bigint\", references = \"public.users.id\" }\n",
        )
        .with_definition(
            "marketing",
            "campaigns.toml",
            "[columns]\nid = { type = \"serial\", primary_key = true }\nmachine_id = { type = \"integer\", references = \"factory.machines.id\" }\n",
        )
        .catalog()
        .unwrap();
    let p = plan(
        c.domain("marketing").unwrap(),
        &c,
        &SchemaSnapshot::default(),
    );
    assert!(
        p.up.contains("REFERENCES factory.machines (id);"),
        "{}",
        p.up
    );
    let p = plan(c.domain("public").unwrap(), &c, &SchemaSnapshot::default());
    assert!(
        p.up.contains("CONSTRAINT users_email_key UNIQUE (email)"),
        "{}",
        p.up
    );
    assert!(!p.up.contains("public."), "{}", p.up);
}

#[test]
fn enum_create_add_value_and_what_cannot_be_undone() {
    let new = ORDERS.replace(
        "order_status = [\"pending\", \"paid\"]",
        "order_status = [\"draft\", \"pending\", \"on_hold\", \"paid\", \"shipped\"]\nsize = [\"s\", \"m\"]",
    );
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &new)]);
    assert_statements(
        &p.up,
        &[
            "CREATE TYPE size AS ENUM ('s', 'm')",
            "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'draft' BEFORE 'pending'",
            "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'on_hold' AFTER 'pending'",
            "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'shipped' AFTER 'paid'",
        ],
    );
    assert!(!p.no_transaction);
    assert_statements(&p.down, &["DROP TYPE size"]);
    assert!(
        p.down
            .contains("cannot drop enum values: this leaves 'draft', 'on_hold', 'shipped'"),
        "{}",
        p.down
    );

    // Removing a value: nothing to run, said in a warning.
    let p = plan_between(&[("orders.toml", &new)], &[("orders.toml", ORDERS)]);
    assert_statements(&p.up, &["DROP TYPE size"]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("cannot drop enum values")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn a_new_enum_value_used_as_default_runs_outside_a_transaction() {
    let new = ORDERS
        .replace(
            "[\"pending\", \"paid\"]",
            "[\"new\", \"pending\", \"paid\"]",
        )
        .replace("default = \"pending\"", "default = \"new\"");
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &new)]);
    assert!(p.no_transaction);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("outside a transaction")),
        "{:?}",
        p.warnings
    );
    assert_statements(
        &p.up,
        &[
            "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'new' BEFORE 'pending'",
            "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'",
        ],
    );
}

#[test]
fn a_rename_is_drop_and_add_with_a_warning() {
    let renamed = ORDERS.replace("note = {", "remark = {");
    let p = plan_between(&[("orders.toml", ORDERS)], &[("orders.toml", &renamed)]);
    assert_statements(
        &p.up,
        &[
            "ALTER TABLE orders DROP COLUMN note",
            "ALTER TABLE orders ADD COLUMN remark text",
        ],
    );
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].contains("`orders.note` is dropped and `remark` is added")
            && p.warnings[0].contains("ALTER TABLE orders RENAME COLUMN note TO remark"),
        "{:?}",
        p.warnings
    );
    assert_before(
        &p.up,
        "-- WARNING: column `orders.note`",
        "DROP COLUMN note",
    );

    let p = plan_between(
        &[("orders.toml", ORDERS), ("order_items.toml", ITEMS)],
        &[("orders.toml", ORDERS), ("lines.toml", ITEMS)],
    );
    assert!(
        p.warnings.iter().any(|w| w
            .contains("table `order_items` is dropped and `lines` is created")
            && w.contains("ALTER TABLE order_items RENAME TO lines")),
        "{:?}",
        p.warnings
    );
    assert!(p.up.contains("DROP TABLE order_items;"));
    assert!(p.up.contains("CREATE TABLE lines ("));
}

#[test]
fn identity_changes() {
    let old = "[columns]\nid = { type = \"bigint\", primary_key = true }\n";
    let new = "[columns]\nid = { type = \"bigint\", primary_key = true, identity = \"always\" }\n";
    let p = plan_between(&[("things.toml", old)], &[("things.toml", new)]);
    assert_statements(
        &p.up,
        &["ALTER TABLE things ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY"],
    );
    assert_statements(
        &p.down,
        &["ALTER TABLE things ALTER COLUMN id DROP IDENTITY"],
    );
}

#[test]
fn object_names_follow_postgres_truncation() {
    assert_eq!(pg_object_name("orders", None, "pkey"), "orders_pkey");
    assert_eq!(pg_object_name("orders", Some("id"), "seq"), "orders_id_seq");
    let long = "a".repeat(70);
    let name = pg_object_name(&long, Some("id"), "seq");
    assert_eq!(name.len(), 63);
    assert!(name.ends_with("_id_seq"));
    assert_eq!(
        referential_action_from_pg("c"),
        Some(ReferentialAction::Cascade)
    );
    assert_eq!(referential_action_from_pg("x"), None);
}

#[test]
fn creates_a_domain_in_dependency_order() {
    let project = Project::new()
        .with_definition(
            "public",
            "users.toml",
            "[columns]\nid = { type = \"bigserial\", primary_key = true }\n",
        )
        .with_definition(
            "tenant",
            "orders.toml",
            r#"
[columns]
id = { type = "bigserial", primary_key = true }
user_id = { type = "bigint", references = "public.users.id", on_delete = "cascade" }
status = { type = "order_status", default = "pending" }
"order" = { type = "integer", default = 0 }

[[indexes]]
columns = ["status"]

[enums]
order_status = ["pending", "it's paid"]
"#,
        );
    let catalog = project.catalog().unwrap();
    let sql = create_domain_sql(&catalog, "tenant").unwrap();
    let type_at = sql
        .find("CREATE TYPE order_status AS ENUM ('pending', 'it''s paid');")
        .unwrap();
    let table_at = sql.find("CREATE TABLE orders (").unwrap();
    let fk_at = sql
        .find("REFERENCES public.users (id) ON DELETE CASCADE;")
        .unwrap();
    assert!(type_at < table_at && table_at < fk_at, "{sql}");
    assert!(
        sql.contains("\"order\" integer NOT NULL DEFAULT 0"),
        "{sql}"
    );
    assert!(sql.contains("PRIMARY KEY (id)"), "{sql}");
    assert!(sql.contains("CREATE INDEX"), "{sql}");
    assert!(create_domain_sql(&catalog, "nope").is_none());
}
