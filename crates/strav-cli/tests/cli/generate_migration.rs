//! `strav generate:migration`, the real binary against a real PostgreSQL: one
//! database per test (strav_tests::TestDb) and a copy of the reference
//! project (`schemas/`) per test, so the tests run in parallel and leave
//! nothing behind.

use strav_orm::sqlx::{self, AssertSqlSafe, Connection, PgConnection};
use strav_tests::TestDb;

use crate::support::{Project, Run, UNREACHABLE_URL};

/// A copy of the reference project, runs connecting to `db`.
fn reference_project(db: &TestDb) -> Project {
    Project::reference().with_database_url(db.url())
}

fn generate(project: &Project, scope: &str, message: &str) -> Run {
    project.strav(&[
        "generate:migration",
        &format!("--scope={scope}"),
        &format!("--message={message}"),
    ])
}

/// `(up, down)` of a run that wrote one migration.
#[track_caller]
fn written_pair(project: &Project, run: &Run) -> (String, String) {
    let written = run.written();
    assert_eq!(written.len(), 2, "{run:#?}");
    assert!(
        written[0].to_string_lossy().ends_with(".up.sql")
            && written[1].to_string_lossy().ends_with(".down.sql"),
        "{run:#?}"
    );
    (project.read(&written[0]), project.read(&written[1]))
}

/// Runs `sql` with `schema` (created if needed) and then `public` on the path,
/// as the migration runner does.
async fn apply(db: &TestDb, schema: &str, sql: &str) {
    let mut conn = db.raw().await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\", public"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("applying to {schema} failed: {e}\n{sql}"));
    conn.close().await.ok();
}

/// Everything a migration can change in `schema`, one sorted line per object,
/// as PostgreSQL prints it (with the schema on the path, so unqualified).
async fn describe(db: &TestDb, schema: &str) -> Vec<String> {
    let mut conn: PgConnection = db.raw().await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET search_path TO \"{schema}\", public"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> 'strav_migrations'
         UNION ALL
         SELECT 'constraint ' || c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname <> 'strav_migrations'
         UNION ALL
         SELECT 'index ' || pg_get_indexdef(i.indexrelid)
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname <> 'strav_migrations'
         UNION ALL
         SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
         FROM pg_type t
         JOIN pg_namespace n ON n.oid = t.typnamespace
         JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE n.nspname = $1
         GROUP BY t.typname
         ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    // pg_get_indexdef qualifies the table whatever the path.
    let qualifier = format!(" ON {schema}.");
    rows.into_iter()
        .map(|(r,)| r.replace(&qualifier, " ON "))
        .collect()
}

async fn shadow_schemas(db: &TestDb) -> Vec<String> {
    let mut conn = db.raw().await;
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'strav\\_shadow\\_%' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    names.into_iter().map(|(n,)| n).collect()
}

/// The SQL statements of a file, comments dropped, whitespace collapsed.
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

/// Writes the first migration of `public` and applies it to `public`: tenant,
/// factory and marketing tables reference public.users and public.organizations.
async fn public_in_place(project: &Project, db: &TestDb) {
    let run = generate(project, "public", "create public").ok();
    let (up, _) = written_pair(project, &run);
    apply(db, "public", &up).await;
}

#[tokio::test]
async fn the_create_statements_of_every_reference_domain_plan_nothing() {
    // The crux: what PostgreSQL reports back for `create_domain_sql` must compare
    // equal to the definitions, for every type, default and key the reference
    // schemas use.
    let db = TestDb::new().await;
    let project = reference_project(&db);
    let catalog = strav_codegen::Project::load(
        &project.path("database/schemas"),
        Some(&project.path("config/generators.toml")),
    )
    .unwrap()
    .catalog()
    .unwrap();
    for domain in ["public", "factory", "tenant", "marketing"] {
        let sql = strav_codegen::diff::create_domain_sql(&catalog, domain).unwrap();
        project.write_migration(domain, "20200101000000_create.up.sql", &sql);
        // Other domains reference public and factory.
        if domain == "public" || domain == "factory" {
            apply(&db, domain, &sql).await;
        }
    }
    for domain in ["public", "factory", "tenant", "marketing"] {
        let run = generate(&project, domain, "nothing").ok();
        assert_eq!(
            run.stdout,
            format!("no changes: the migrations of {domain} already match its definitions\n"),
            "{run:#?}"
        );
        assert_eq!(run.stderr, "", "{run:#?}");
        assert_eq!(project.migration_files(domain).len(), 1);
    }
    assert_eq!(shadow_schemas(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_first_run_creates_everything_and_a_second_finds_nothing() {
    let db = TestDb::new().await;
    let project = reference_project(&db);
    public_in_place(&project, &db).await;

    let run = generate(&project, "tenant", "add orders table").ok();
    let written = run.written();
    assert_eq!(written.len(), 2, "{run:#?}");
    let up_name = written[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        up_name.ends_with("_add_orders_table.up.sql")
            && up_name.len() == "20260101120000_add_orders_table.up.sql".len(),
        "{up_name}"
    );
    assert!(
        written[0].starts_with("database/migrations/tenant"),
        "{written:?}"
    );
    let (up, down) = written_pair(&project, &run);
    assert!(up.starts_with("-- add orders table\n"), "{up}");
    for expected in [
        "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'on_hold', 'cancelled');",
        "CREATE TABLE orders (",
        "CREATE TABLE order_items (",
        "CREATE TABLE products (",
        "CREATE INDEX orders_tags_idx ON orders USING gin (tags);",
        // Same domain: unqualified. Another domain: qualified.
        "REFERENCES products (id) ON DELETE RESTRICT;",
        "REFERENCES public.users (id);",
    ] {
        assert!(up.contains(expected), "{expected:?} missing from\n{up}");
    }
    assert_eq!(
        statements(&down),
        [
            "ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey",
            "ALTER TABLE order_items DROP CONSTRAINT order_items_product_id_fkey",
            "ALTER TABLE orders DROP CONSTRAINT orders_product_id_fkey",
            "DROP TABLE order_items",
            "DROP TABLE orders",
            "DROP TABLE products",
            "DROP TYPE order_status",
        ]
    );

    // The up file builds exactly what the definitions' CREATE statements build.
    apply(&db, "fresh", &up).await;
    let catalog = strav_codegen::Project::load(
        &project.path("database/schemas"),
        Some(&project.path("config/generators.toml")),
    )
    .unwrap()
    .catalog()
    .unwrap();
    apply(
        &db,
        "reference",
        &strav_codegen::diff::create_domain_sql(&catalog, "tenant").unwrap(),
    )
    .await;
    let fresh = describe(&db, "fresh").await;
    assert!(!fresh.is_empty());
    assert_eq!(fresh, describe(&db, "reference").await);
    // And the down file takes it all away again.
    apply(&db, "fresh", &down).await;
    assert_eq!(describe(&db, "fresh").await, Vec::<String>::new());

    let again = generate(&project, "tenant", "again").ok();
    assert_eq!(
        again.stdout,
        "no changes: the migrations of tenant already match its definitions\n"
    );
    assert_eq!(
        project.migration_files("tenant").len(),
        2,
        "nothing new written"
    );
    assert_eq!(shadow_schemas(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn edits_become_exactly_those_changes_and_down_reverts_them() {
    let db = TestDb::new().await;
    let project = reference_project(&db);
    public_in_place(&project, &db).await;
    let first = generate(&project, "tenant", "create tenant").ok();
    let (first_up, _) = written_pair(&project, &first);
    apply(&db, "scratch", &first_up).await;
    let before = describe(&db, "scratch").await;

    let orders = "database/schemas/tenant/orders.toml";
    project.edit(
        orders,
        "ship_by     = { type = \"date\", nullable = true }",
        "ship_by     = { type = \"date\", nullable = true }\ncoupon      = { type = \"varchar(20)\", nullable = true }",
    );
    project.edit(
        orders,
        "[[uniques]]",
        "[[indexes]]\ncolumns = [\"ship_by\"]\n\n[[uniques]]",
    );
    project.edit(orders, "\"cancelled\"]", "\"cancelled\", \"refunded\"]");
    project.edit(
        orders,
        "note        = { type = \"text\", nullable = true }",
        "note        = { type = \"text\" }",
    );
    let run = generate(&project, "tenant", "coupons, refunds").ok();
    let (up, down) = written_pair(&project, &run);
    assert_eq!(
        statements(&up),
        [
            "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'cancelled'",
            "ALTER TABLE orders ADD COLUMN coupon character varying(20)",
            "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
            "CREATE INDEX orders_ship_by_idx ON orders (ship_by)",
        ],
        "{up}"
    );
    assert_eq!(
        statements(&down),
        [
            "DROP INDEX orders_ship_by_idx",
            "ALTER TABLE orders DROP COLUMN coupon",
            "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL",
        ],
        "{down}"
    );
    assert!(
        down.contains("cannot drop enum values: this leaves 'refunded' in `order_status`"),
        "{down}"
    );
    // The NOT NULL change is risky on existing rows: said, not hidden.
    assert!(
        run.stderr
            .contains("warning: column `orders.note` becomes NOT NULL"),
        "{run:#?}"
    );

    apply(&db, "scratch", &up).await;
    let after = describe(&db, "scratch").await;
    assert!(
        after
            .iter()
            .any(|l| l.starts_with("column orders.coupon character varying(20)")),
        "{after:#?}"
    );
    assert!(
        after.iter().any(|l| l.contains("orders_ship_by_idx")),
        "{after:#?}"
    );
    apply(&db, "scratch", &down).await;
    let reverted = describe(&db, "scratch").await;
    let without_enums = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| !l.starts_with("enum "))
            .cloned()
            .collect()
    };
    assert_eq!(without_enums(&reverted), without_enums(&before));
    // PostgreSQL cannot drop an enum value; everything else is as before.
    assert!(
        reverted.contains(
            &"enum order_status pending,paid,shipped,on_hold,cancelled,refunded".to_owned()
        ),
        "{reverted:#?}"
    );

    let again = generate(&project, "tenant", "again").ok();
    assert!(again.stdout.starts_with("no changes"), "{again:#?}");
}

#[tokio::test]
async fn works_with_no_tenant_schema_at_all() {
    let db = TestDb::new().await;
    let project = reference_project(&db);
    public_in_place(&project, &db).await;
    generate(&project, "tenant", "create tenant").ok();
    // A second run applies the first migration to the shadow schema: still no
    // tenant needed, and none appears.
    project.edit(
        "database/schemas/tenant/products.toml",
        "name        = \"text\"",
        "name        = \"text\"\nsummary     = { type = \"text\", nullable = true }",
    );
    let run = generate(&project, "tenant", "product summary").ok();
    let (up, _) = written_pair(&project, &run);
    assert_eq!(
        statements(&up),
        ["ALTER TABLE products ADD COLUMN summary text"]
    );
    let mut conn = db.raw().await;
    let schemas: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::text FROM pg_namespace
         WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    assert_eq!(schemas, [("public".to_owned(),)]);
}

#[tokio::test]
async fn no_shadow_schema_is_left_behind_even_when_a_migration_fails() {
    let db = TestDb::new().await;
    let project = reference_project(&db);
    public_in_place(&project, &db).await;
    generate(&project, "tenant", "create tenant").ok();
    project.write_migration(
        "tenant",
        "29990101000000_broken.up.sql",
        "CREATE TABLE broken (id no_such_type);\n",
    );
    let files_before = project.migration_files("tenant");
    let run = generate(&project, "tenant", "after the broken one").errors(1);
    assert!(
        run.stderr.contains("tenant/29990101000000_broken.up.sql"),
        "the error names the file: {run:#?}"
    );
    assert!(run.stderr.contains("no_such_type"), "{run:#?}");
    assert!(!run.stderr.contains("strav_shadow_"), "{run:#?}");
    assert_eq!(
        project.migration_files("tenant"),
        files_before,
        "nothing written"
    );
    assert_eq!(shadow_schemas(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_public_domain_works_the_same() {
    let db = TestDb::new().await;
    let project = reference_project(&db);
    public_in_place(&project, &db).await;
    project.edit(
        "database/schemas/public/users.toml",
        "avatar          = { type = \"bytea\", nullable = true }",
        "avatar          = { type = \"bytea\", nullable = true }\nnickname        = { type = \"varchar(40)\", nullable = true, unique = true }",
    );
    project.edit(
        "database/schemas/public/organizations.toml",
        "seats       = { type = \"integer\", default = 5 }",
        "seats       = { type = \"integer\", default = 10 }",
    );
    let run = generate(&project, "public", "nicknames").ok();
    let (up, down) = written_pair(&project, &run);
    assert_eq!(
        statements(&up),
        [
            "ALTER TABLE organizations ALTER COLUMN seats SET DEFAULT 10",
            "ALTER TABLE users ADD COLUMN nickname character varying(40)",
            "ALTER TABLE users ADD CONSTRAINT users_nickname_key UNIQUE (nickname)",
        ],
        "{up}"
    );
    assert!(!up.contains("public."), "own objects unqualified: {up}");
    // After the run: applying the migrations to the shadow schema created the
    // migration registry in `public`.
    let before = describe(&db, "public").await;
    apply(&db, "public", &up).await;
    assert_ne!(describe(&db, "public").await, before);
    apply(&db, "public", &down).await;
    assert_eq!(describe(&db, "public").await, before);
    assert_eq!(shadow_schemas(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_rename_is_written_as_drop_and_add_with_a_warning() {
    let db = TestDb::new().await;
    let project = reference_project(&db);
    public_in_place(&project, &db).await;
    generate(&project, "tenant", "create tenant").ok();
    project.edit(
        "database/schemas/tenant/orders.toml",
        "ship_by     = {",
        "ship_on     = {",
    );
    let run = generate(&project, "tenant", "rename ship_by").ok();
    let (up, _) = written_pair(&project, &run);
    assert_eq!(
        statements(&up),
        [
            "ALTER TABLE orders DROP COLUMN ship_by",
            "ALTER TABLE orders ADD COLUMN ship_on date",
        ]
    );
    let warning = "column `orders.ship_by` is dropped and `ship_on` is added: if that is a \
                   rename, replace the DROP COLUMN and ADD COLUMN with ALTER TABLE orders RENAME \
                   COLUMN ship_by TO ship_on";
    assert!(
        run.stderr.contains(&format!("warning: {warning}")),
        "{run:#?}"
    );
    assert!(up.contains(&format!("-- WARNING: {warning}")), "{up}");
}

#[tokio::test]
async fn bad_input_exits_2_and_a_dead_database_1() {
    let db = TestDb::new().await;
    let project = reference_project(&db);

    let run = generate(&project, "nope", "x").errors(2);
    assert!(
        run.stderr
            .contains("unknown scope \"nope\"; the domains found in database/schemas are: factory, marketing, public, tenant"),
        "{run:#?}"
    );
    let run = generate(&project, "tenant", " -- !!").errors(2);
    assert!(run.stderr.contains("empty file name"), "{run:#?}");

    project.edit(
        "database/schemas/tenant/products.toml",
        "name        = \"text\"",
        "name        = \"strng\"",
    );
    let run = generate(&project, "tenant", "x").exits(2);
    assert!(
        run.stderr.contains("products.toml:") && run.stderr.contains("unknown type `strng`"),
        "file:line:col: {run:#?}"
    );
    project.edit(
        "database/schemas/tenant/products.toml",
        "name        = \"strng\"",
        "name        = \"text\"",
    );

    // A migration of a fixed domain that names its own schema would reach the
    // real schema when replayed into the shadow one: refused before connecting.
    project.write_migration(
        "public",
        "20200101000000_qualified.up.sql",
        "CREATE TABLE public.notes (id int);\n",
    );
    let run = generate(&project, "public", "x").errors(2);
    assert!(
        run.stderr
            .contains("public/20200101000000_qualified.up.sql: names its own schema"),
        "{run:#?}"
    );
    assert!(project.migration_files("public").len() == 1);

    let run = project
        .strav_with_url(
            UNREACHABLE_URL,
            &["generate:migration", "--scope=tenant", "--message=x"],
        )
        .errors(1);
    assert!(run.stderr.contains("cannot connect"), "{run:#?}");
    assert!(project.migration_files("tenant").is_empty());
}
