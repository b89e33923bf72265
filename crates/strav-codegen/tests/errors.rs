//! Every kind of definition error, with its exact `file:line:column`, and all of a run's
//! errors reported together.

use strav_codegen::{Diagnostic, Project};

/// Diagnostics of a project that must fail.
fn errors(project: Project) -> Vec<Diagnostic> {
    match project.catalog() {
        Ok(_) => panic!("expected the definitions to be rejected"),
        Err(e) => e
            .diagnostics()
            .expect("a definitions error, not an I/O error")
            .iter()
            .cloned()
            .collect(),
    }
}

/// The only diagnostic of a project; panics showing all of them otherwise.
fn only(project: Project) -> Diagnostic {
    let mut all = errors(project);
    assert_eq!(all.len(), 1, "expected one error, got: {all:#?}");
    all.remove(0)
}

fn assert_at(d: &Diagnostic, location: &str, message_part: &str) {
    assert_eq!(d.location(), location, "location of {d}");
    assert!(
        d.message.contains(message_part),
        "message of {d} should contain {message_part:?}"
    );
}

fn help(d: &Diagnostic) -> &str {
    d.help.as_deref().unwrap_or("")
}

const ID: &str = "id = { type = \"bigserial\", primary_key = true }\n";

fn table(domain: &str, file: &str, columns: &str) -> Project {
    Project::new().with_definition(domain, file, format!("[columns]\n{ID}{columns}"))
}

#[test]
fn toml_syntax_error() {
    let d = only(Project::new().with_definition(
        "tenant",
        "orders.toml",
        "[columns\nid = { type = \"bigint\" }\n",
    ));
    assert_eq!(d.file.to_str(), Some("tenant/orders.toml"));
    assert_eq!((d.line, d.column), (1, 9));
    assert!(d.message.starts_with("invalid TOML"), "{d}");
}

#[test]
fn duplicate_column_key() {
    let d = only(table(
        "tenant",
        "orders.toml",
        "note = \"text\"\nnote = { type = \"text\" }\n",
    ));
    assert_at(&d, "tenant/orders.toml:4:1", "duplicate key note");
    assert!(help(&d).contains("only once"));
}

#[test]
fn duplicate_column_from_timestamps() {
    let d = only(Project::new().with_definition(
        "public",
        "users.toml",
        format!("timestamps = true\n[columns]\n{ID}created_at = \"timestamptz\"\n"),
    ));
    assert_at(&d, "public/users.toml:4:1", "duplicate column `created_at`");
    assert_eq!(
        d.notes,
        ["`timestamps = true` is at public/users.toml:1:14"]
    );
}

#[test]
fn unknown_type_suggests_the_builtin() {
    let d = only(table(
        "tenant",
        "orders.toml",
        "note = { type = \"strng\" }\n",
    ));
    assert_at(&d, "tenant/orders.toml:3:17", "unknown type `strng`");
    assert!(help(&d).starts_with("did you mean `text`?"), "{d}");
    assert!(help(&d).contains("rust_type"), "{d}");

    let d = only(table("tenant", "orders.toml", "at = \"datetime\"\n"));
    assert_at(&d, "tenant/orders.toml:3:6", "unknown type `datetime`");
    assert!(help(&d).starts_with("did you mean `timestamptz`?"), "{d}");
}

#[test]
fn invalid_type_modifier() {
    let d = only(table("tenant", "orders.toml", "total = \"numeric(2,5)\"\n"));
    assert_at(&d, "tenant/orders.toml:3:9", "invalid precision or scale");
}

#[test]
fn enum_used_but_not_declared() {
    let d = only(table(
        "tenant",
        "orders.toml",
        "status = { type = \"order_state\" }\n[enums]\norder_status = [\"pending\"]\n",
    ));
    assert_at(
        &d,
        "tenant/orders.toml:3:19",
        "no enum `order_state` is declared in domain `tenant`",
    );
    assert!(
        help(&d).starts_with("did you mean enum `order_status`?"),
        "{d}"
    );

    // Qualified: the enum must be declared in the named domain.
    let d = only(
        table("marketing", "campaigns.toml", "role = \"public.role\"\n").with_definition(
            "public",
            "users.toml",
            format!("[columns]\n{ID}"),
        ),
    );
    assert_at(
        &d,
        "marketing/campaigns.toml:3:8",
        "no enum `role` is declared in domain `public`",
    );
}

#[test]
fn unknown_keys_everywhere() {
    let all = errors(
        Project::new()
            .with_definition(
                "tenant",
                "orders.toml",
                format!(
                    "tabel = \"orders\"\n[columns]\n{ID}note = {{ type = \"text\", nulable = true }}\n[[indexes]]\ncolumns = [\"note\"]\nunique = true\n"
                ),
            )
            .with_config("config/generators.toml", "[model_naming]\ntenant = \"T\"\n[ouput]\n"),
    );
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), help(d).split('?').next().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            (
                "config/generators.toml:3:2".to_string(),
                "did you mean `output`"
            ),
            ("tenant/orders.toml:1:1".to_string(), "did you mean `table`"),
            (
                "tenant/orders.toml:4:25".to_string(),
                "did you mean `nullable`"
            ),
            (
                "tenant/orders.toml:7:1".to_string(),
                "known keys: columns, name, using"
            ),
        ]
    );
    assert_eq!(all[2].message, "unknown key `nulable` in column `note`");
}

#[test]
fn wrong_value_kinds() {
    let all = errors(table(
        "tenant",
        "orders.toml",
        "a = { type = \"text\", nullable = \"yes\" }\nb = { type = \"text\", unique = \"true\" }\nc = 5\n",
    ));
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "tenant/orders.toml:3:33".to_string(),
                "`nullable` must be a boolean, found a string"
            ),
            (
                "tenant/orders.toml:4:31".to_string(),
                "`unique` must be a boolean, found the string \"true\""
            ),
            (
                "tenant/orders.toml:5:5".to_string(),
                "column `c` must be a table or a type name, found an integer"
            ),
        ]
    );
    assert_eq!(help(&all[1]), "drop the quotes: `unique = true`");
}

#[test]
fn column_without_type_and_table_without_columns_or_key() {
    let d = only(table(
        "tenant",
        "orders.toml",
        "note = { nullable = true }\n",
    ));
    assert_at(&d, "tenant/orders.toml:3:1", "column `note` has no `type`");

    let d = only(Project::new().with_definition("tenant", "orders.toml", "model = \"Order\"\n"));
    assert_at(
        &d,
        "tenant/orders.toml:1:1",
        "table `orders` has no [columns]",
    );

    let d = only(Project::new().with_definition(
        "tenant",
        "orders.toml",
        "[columns]\nnote = \"text\"\n",
    ));
    assert_at(
        &d,
        "tenant/orders.toml:1:2",
        "table `orders` has no primary key",
    );
}

#[test]
fn primary_key_problems() {
    let d = only(Project::new().with_definition(
        "tenant",
        "orders.toml",
        "[columns]\nid = { type = \"bigint\", primary_key = true, nullable = true }\n",
    ));
    assert_at(&d, "tenant/orders.toml:2:56", "cannot be nullable");

    let all = errors(Project::new().with_definition(
        "tenant",
        "lines.toml",
        "primary_key = [\"order_id\", \"line\", \"order_id\"]\n[columns]\norder_id = \"bigint\"\nline_no = \"integer\"\n",
    ));
    let got: Vec<String> = all.iter().map(|d| d.location()).collect();
    assert_eq!(got, ["tenant/lines.toml:1:28", "tenant/lines.toml:1:36"]);
    assert!(all[0]
        .message
        .contains("column `line`, which table `lines` does not have"));
    assert!(all[1].message.contains("lists column `order_id` twice"));

    let d = only(Project::new().with_definition(
        "tenant",
        "lines.toml",
        "primary_key = [\"a\"]\n[columns]\na = { type = \"bigint\", primary_key = true }\n",
    ));
    assert_at(
        &d,
        "tenant/lines.toml:1:15",
        "the primary key is given twice",
    );
}

#[test]
fn reference_to_missing_table_and_column() {
    let all = errors(
        table(
            "tenant",
            "orders.toml",
            "customer_id = { type = \"bigint\", references = \"customer.id\" }\nuser_id = { type = \"bigint\", references = \"public.users.uid\" }\nx = { type = \"bigint\", references = \"billing.a.id\" }\nbad = { type = \"bigint\", references = \"users\" }\n",
        )
        .with_definition("tenant", "customers.toml", format!("[columns]\n{ID}"))
        .with_definition("public", "users.toml", format!("[columns]\n{ID}")),
    );
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "tenant/orders.toml:3:47".to_string(),
                "`references` names table `customer`, which domain `tenant` does not have"
            ),
            (
                "tenant/orders.toml:4:43".to_string(),
                "`references` names column `uid`, which table `public.users` does not have"
            ),
            (
                "tenant/orders.toml:5:37".to_string(),
                "`references` names domain `billing`, which has no definitions"
            ),
            (
                "tenant/orders.toml:6:39".to_string(),
                "`references = \"users\"` is not `table.column` or `domain.table.column`"
            ),
        ]
    );
    assert!(
        help(&all[0]).starts_with("did you mean `customers`?"),
        "{}",
        all[0]
    );
    assert!(help(&all[0]).contains("for another domain write `domain.table.column`"));
    assert!(
        help(&all[1]).starts_with("did you mean `id`?"),
        "{}",
        all[1]
    );
}

#[test]
fn reference_rules() {
    let all = errors(
        table(
            "tenant",
            "orders.toml",
            concat!(
                "a = { type = \"integer\", references = \"customers.id\" }\n",
                "b = { type = \"text\", references = \"customers.name\" }\n",
                "c = { type = \"bigint\", references = \"customers.id\", on_delete = \"set null\" }\n",
                "d = { type = \"bigint\", on_delete = \"cascade\" }\n",
                "e = { type = \"bigint\", references = \"customers.id\", on_update = \"explode\" }\n",
            ),
        )
        .with_definition(
            "tenant",
            "customers.toml",
            format!("[columns]\n{ID}name = \"text\"\n"),
        )
        .with_definition(
            "public",
            "users.toml",
            format!("[columns]\n{ID}order_id = {{ type = \"bigint\", references = \"tenant.orders.id\" }}\n"),
        ),
    );
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "public/users.toml:3:44".to_string(),
                "column `order_id` references per-tenant domain `tenant` from domain `public`"
            ),
            (
                "tenant/orders.toml:3:38".to_string(),
                "column `a` is `integer` but references `customers.id`, which is `bigserial`"
            ),
            (
                "tenant/orders.toml:4:35".to_string(),
                "`customers.name` is neither the primary key nor unique, so it cannot be referenced"
            ),
            (
                "tenant/orders.toml:5:65".to_string(),
                "`on_delete = \"set null\"` on column `c`, which is NOT NULL"
            ),
            (
                "tenant/orders.toml:6:36".to_string(),
                "`on_delete` on column `d`, which references nothing"
            ),
            (
                "tenant/orders.toml:7:65".to_string(),
                "unknown referential action \"explode\""
            ),
        ]
    );
    assert_eq!(help(&all[1]), "declare `a` as `bigint`");
}

#[test]
fn defaults_are_checked_against_the_type() {
    let all = errors(table(
        "tenant",
        "orders.toml",
        concat!(
            "a = { type = \"boolean\", default = \"yes\" }\n",
            "b = { type = \"smallint\", default = 40000 }\n",
            "c = { type = \"order_status\", default = \"lost\" }\n",
            "d = { type = \"timestamptz\", default = \"now()\" }\n",
            "e = { type = \"varchar(2)\", default = \"abc\" }\n",
            "f = { type = \"date\", default = 09:00:00 }\n",
            "g = { type = \"bigserial\", default = 1 }\n",
            "h = { type = \"text\", default = \"x\", default_sql = \"'y'\" }\n",
            "[enums]\norder_status = [\"pending\", \"paid\"]\n",
        ),
    ));
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "tenant/orders.toml:3:35".to_string(),
                "column `a`: default for a `boolean` column must be a boolean, found a string"
            ),
            (
                "tenant/orders.toml:4:36".to_string(),
                "column `b`: default 40000 is out of range for `smallint` (-32768 to 32767)"
            ),
            (
                "tenant/orders.toml:5:40".to_string(),
                "column `c`: default \"lost\" is not a label of enum `order_status`"
            ),
            (
                "tenant/orders.toml:6:39".to_string(),
                "column `d`: default \"now()\" would be read as a value, fixed when the table is created"
            ),
            (
                "tenant/orders.toml:7:38".to_string(),
                "column `e`: default \"abc\" is longer than `character varying(2)` allows (2 characters)"
            ),
            (
                "tenant/orders.toml:8:32".to_string(),
                "column `f`: default 09:00:00 does not fit a `date` column"
            ),
            (
                "tenant/orders.toml:9:37".to_string(),
                "column `g`: a `bigserial` column takes its default from a sequence"
            ),
            (
                "tenant/orders.toml:10:51".to_string(),
                "column `h` has both `default` and `default_sql`"
            ),
        ]
    );
    assert_eq!(help(&all[2]), "use one of: \"pending\", \"paid\"");
    assert_eq!(
        help(&all[3]),
        "for the time of each insert write `default_sql = \"now()\"`"
    );
}

#[test]
fn index_and_unique_columns_must_exist() {
    let all = errors(table(
        "tenant",
        "orders.toml",
        "note = \"text\"\n[[indexes]]\ncolumns = [\"note\", \"missing\"]\nusing = \"gin\"\n[[uniques]]\nname = \"u\"\n[[indexes]]\ncolumns = [\"id\"]\nusing = \"rtree\"\n",
    ));
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "tenant/orders.toml:5:20".to_string(),
                "`indexes` names column `missing`, which table `orders` does not have"
            ),
            (
                "tenant/orders.toml:7:1".to_string(),
                "an entry of `uniques` has no `columns`"
            ),
            (
                "tenant/orders.toml:11:9".to_string(),
                "unknown index method \"rtree\""
            ),
        ]
    );
}

#[test]
fn names_must_be_snake_case_and_rust_types_must_parse() {
    let all = errors(table(
        "tenant",
        "Orders.toml",
        "CustomerId = \"bigint\"\nip = { type = \"inet\", rust_type = \"std::net::\" }\n[enums]\nOrderStatus = [\"a\"]\n",
    ));
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "tenant/Orders.toml:1:1".to_string(),
                "file name `Orders` is not a valid table name"
            ),
            (
                "tenant/Orders.toml:3:1".to_string(),
                "column `CustomerId` is not a valid name"
            ),
            (
                "tenant/Orders.toml:4:35".to_string(),
                "`rust_type` \"std::net::\" is not a Rust type: unexpected end of input, expected identifier"
            ),
            (
                "tenant/Orders.toml:6:1".to_string(),
                "enum `OrderStatus` is not a valid name"
            ),
        ]
    );
    assert_eq!(
        help(&all[1]),
        "use lower-case snake_case of at most 63 bytes, such as `customer_id`"
    );
}

#[test]
fn enum_label_problems_and_duplicate_declarations() {
    let all = errors(
        table(
            "tenant",
            "orders.toml",
            "[enums]\nstate = [\"in_progress\", \"In Progress\", \"a\", \"a\", \"\"]\n",
        )
        .with_definition(
            "tenant",
            "products.toml",
            format!("[columns]\n{ID}[enums]\nkind = [\"x\"]\n"),
        )
        .with_definition(
            "tenant",
            "shipments.toml",
            format!("[columns]\n{ID}[enums]\nkind = [\"x\"]\n"),
        ),
    );
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "tenant/orders.toml:4:25".to_string(),
                "enum `state`: labels \"in_progress\" and \"In Progress\" both become the Rust variant `InProgress`"
            ),
            (
                "tenant/orders.toml:4:45".to_string(),
                "enum `state`: label \"a\" is listed twice"
            ),
            (
                "tenant/orders.toml:4:50".to_string(),
                "enum `state`: an empty label"
            ),
            (
                "tenant/shipments.toml:4:1".to_string(),
                "enum `kind` of domain `tenant` is declared twice: in tenant/products.toml and in tenant/shipments.toml"
            ),
        ]
    );
    assert_eq!(all[3].notes, ["first declared at tenant/products.toml:4:1"]);
}

#[test]
fn per_tenant_enums_stay_in_their_domain() {
    let d = only(
        table(
            "marketing",
            "campaigns.toml",
            "s = \"tenant.order_status\"\n",
        )
        .with_definition(
            "tenant",
            "orders.toml",
            format!("[columns]\n{ID}[enums]\norder_status = [\"a\"]\n"),
        ),
    );
    assert_at(
        &d,
        "marketing/campaigns.toml:3:5",
        "belongs to per-tenant domain `tenant` and cannot be used from domain `marketing`",
    );
}

#[test]
fn duplicate_table_names_in_a_domain_name_both_files() {
    let d = only(table("public", "users.toml", "").with_definition(
        "public",
        "people.toml",
        format!("table = \"users\"\n[columns]\n{ID}"),
    ));
    assert_at(
        &d,
        "public/people.toml:1:9",
        "table `users` of domain `public` is defined twice: in public/people.toml and in public/users.toml",
    );
    assert_eq!(d.notes, ["also defined in public/users.toml"]);
}

#[test]
fn config_errors() {
    let all = errors(table("public", "users.toml", "").with_config(
        "config/generators.toml",
        "[model_naming]\ntenant = true\nfactory = \"plant\"\n[domains]\nper_tenant = [\"tenant\", \"public\"]\n",
    ));
    let got: Vec<(String, &str)> = all
        .iter()
        .map(|d| (d.location(), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "config/generators.toml:2:10".to_string(),
                "model prefix of domain `tenant` must be a string or `false`, found `true`"
            ),
            (
                "config/generators.toml:3:11".to_string(),
                "model prefix \"plant\" of domain `factory` is not a PascalCase identifier"
            ),
            (
                "config/generators.toml:5:25".to_string(),
                "domain `public` cannot be per-tenant: it always lives in schema `public`"
            ),
        ]
    );
    assert!(
        help(&all[0]).contains("`tenant = \"Tenant\"`"),
        "{}",
        all[0]
    );
}

#[test]
fn a_broken_file_does_not_cascade_into_missing_table_errors() {
    // orders.toml references customers, whose file does not parse: only the syntax error
    // is reported, not a "no such table" that fixing the syntax would make go away.
    let all = errors(
        table(
            "tenant",
            "orders.toml",
            "customer_id = { type = \"bigint\", references = \"customers.id\" }\nstate = \"customer_state\"\n",
        )
        .with_definition("tenant", "customers.toml", "[columns\n"),
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].file.to_str(), Some("tenant/customers.toml"));
}

#[test]
fn all_errors_of_a_run_are_reported_sorted_by_file_and_position() {
    let all = errors(
        table(
            "tenant",
            "orders.toml",
            "a = \"strng\"\nb = { type = \"text\", nulable = true }\nc = { type = \"bigint\", references = \"nope.id\" }\n",
        )
        .with_definition("public", "users.toml", "[columns]\nid = { type = \"bigserial\" }\n")
        .with_definition("factory", "machines.toml", "[columns\n"),
    );
    let got: Vec<String> = all.iter().map(|d| d.location()).collect();
    assert_eq!(
        got,
        [
            "factory/machines.toml:1:9",
            "public/users.toml:1:2",
            "tenant/orders.toml:3:5",
            "tenant/orders.toml:4:22",
            "tenant/orders.toml:5:37",
        ]
    );
    let rendered = Project::new()
        .with_definition(
            "tenant",
            "orders.toml",
            format!("[columns]\n{ID}a = \"strng\"\n"),
        )
        .with_definition(
            "public",
            "users.toml",
            "[columns]\nid = { type = \"bigserial\" }\n",
        )
        .catalog()
        .unwrap_err()
        .to_string();
    insta::assert_snapshot!(rendered);
}

#[test]
fn files_outside_domain_directories_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("users.toml"), "[columns]\n").unwrap();
    std::fs::write(
        dir.path().join("public/users.toml"),
        format!("[columns]\n{ID}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("public/README.md"), "ignored").unwrap();
    let project = Project::load(dir.path(), None).unwrap();
    let d = only(project);
    assert_eq!(d.file, dir.path().join("users.toml"));
    assert_eq!((d.line, d.column), (1, 1));
    assert_eq!(d.message, "definition file outside a domain directory");
}

#[test]
fn index_and_constraint_names_are_unique_per_domain() {
    let d = only(
        table(
            "tenant",
            "orders.toml",
            "code = { type = \"text\", unique = true }\n",
        )
        .with_definition(
            "tenant",
            "products.toml",
            format!("[columns]\n{ID}sku = \"text\"\n[[uniques]]\ncolumns = [\"sku\"]\nname = \"orders_code_key\"\n"),
        ),
    );
    assert_at(
        &d,
        "tenant/products.toml:6:8",
        "index or constraint name `orders_code_key` is used twice in domain `tenant`",
    );
    assert_eq!(d.notes, ["also used at tenant/orders.toml:3:34"]);
}
