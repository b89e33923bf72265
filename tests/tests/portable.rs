//! `SchemaManager::export_schema` / `import_schema` against real databases:
//! a tenant written to a file and recreated under another name in another
//! database must be the same tenant (pg_dump, row checksums, sequences), and
//! a file that is damaged in any way must be refused with nothing changed.

use std::path::PathBuf;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{AssertSqlSafe, Executor, PgConnection};
use strav_orm::migrate::Outcome;
use strav_orm::portable::{read_header, FileProblem, MigrationReference};
use strav_orm::{Error, Migrations, SchemaManager};
use strav_tests::dump::{dump, substitute};
use strav_tests::TestDb;

const V1: &str = "
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped');
CREATE TYPE address AS (street text, city text, zip integer);
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TYPE price_band AS RANGE (SUBTYPE = numeric);
CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku varchar(64) NOT NULL UNIQUE,
    name text NOT NULL,
    price numeric(12,2) NOT NULL DEFAULT 0 CONSTRAINT price_not_negative CHECK (price >= 0),
    attributes jsonb NOT NULL DEFAULT '{}',
    band price_band,
    photo bytea
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES public.users (id),
    status order_status NOT NULL DEFAULT 'pending',
    history order_status[] NOT NULL DEFAULT '{}',
    total numeric(12,2) NOT NULL DEFAULT 0,
    total_cents numeric GENERATED ALWAYS AS (total * 100) STORED,
    ship_to address,
    tags text[] NOT NULL DEFAULT '{}',
    note text,
    ratio double precision,
    wait interval,
    created_at timestamptz NOT NULL DEFAULT now(),
    due date
);
CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no smallint NOT NULL,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity positive_int NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, line_no)
);
CREATE SEQUENCE invoice_no AS integer START 1000 INCREMENT 10;
CREATE TABLE invoices (
    no integer PRIMARY KEY DEFAULT nextval('invoice_no'),
    order_id bigint UNIQUE REFERENCES orders (id)
);
CREATE TABLE events (
    id bigserial PRIMARY KEY,
    order_id bigint REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    kind text NOT NULL
);
CREATE INDEX orders_status_idx ON orders (status, created_at);
CREATE INDEX orders_tags_idx ON orders USING gin (tags);
";

const V2: &str = "
CREATE FUNCTION item_count(o orders) RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT count(*) FROM order_items i WHERE i.order_id = o.id $$;
CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO events (order_id, kind) VALUES (NEW.id, lower(TG_OP));
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_log AFTER INSERT OR UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION log_order();
CREATE VIEW order_summary AS
    SELECT o.id, u.name AS customer, o.status, item_count(o) AS items
    FROM orders o JOIN public.users u ON u.id = o.user_id;
CREATE MATERIALIZED VIEW product_sales AS
    SELECT product_id, count(*) AS lines FROM order_items GROUP BY product_id;
COMMENT ON TABLE orders IS 'orders of the tenant';
COMMENT ON COLUMN orders.note IS 'free text';
";

const V3: &str = "ALTER TABLE products ADD COLUMN discontinued boolean NOT NULL DEFAULT false;";

const F1: &str = "20260101000000_create.up.sql";
const F2: &str = "20260102000000_views.up.sql";
const F3: &str = "20260103000000_discontinued.up.sql";

fn migrations(files: &[(&'static str, &'static str)]) -> Migrations {
    let files: Vec<(&str, &str, &str)> = files.iter().map(|(n, t)| ("tenant", *n, *t)).collect();
    Migrations::from_embedded(&files).unwrap()
}

fn at_v2() -> Migrations {
    migrations(&[(F1, V1), (F2, V2)])
}

const USERS: &str = "CREATE TABLE public.users (id bigserial PRIMARY KEY, name text NOT NULL);
INSERT INTO public.users (name) VALUES ('ann'), ('bob');";

/// Rows with the values text COPY has to get right: tabs, newlines,
/// backslashes, quotes, Unicode, NULLs and empty strings, arrays of the
/// tenant's own enum, composites, ranges, bytea, NaN and infinity, tiny
/// floats, intervals, time zones. And a function, added by hand, that names
/// its own schema.
fn rows(schema: &str) -> String {
    format!(
        r#"
SET search_path TO {schema}, public;
INSERT INTO products (sku, name, price, attributes, band, photo) VALUES
    ('p-1', 'Pen', 1.50, '{{"colour": "blue", "nested": {{"a": [1, 2]}}}}', '[1,2)', '\x00ff10'),
    ('p-2', E'Ink\twith tab\nand newline \\ backslash', 7.00, '{{}}', NULL, NULL),
    ('p-3', 'Ünïcödé ✓ 日本', 0, '{{"k": "quote \" and \\\\"}}', '(,5]', ''::bytea);
INSERT INTO orders (user_id, status, history, total, ship_to, tags, note, ratio, wait, created_at, due) VALUES
    (1, 'pending', '{{}}', 3, ROW('Main St 1', 'Oslo', 123), '{{a,b}}', 'a', 0.1, '1 day 02:03:04.5', '2026-01-02 03:04:05.123456+02', '2026-02-01'),
    (2, 'paid', '{{pending,paid}}', 7.25, NULL, '{{"with space","with,comma",NULL}}', NULL, 1e-300, '-3 mons', '1999-12-31 23:59:59+00', NULL),
    (1, 'shipped', '{{pending,paid,shipped}}', 100, ROW(NULL, 'x"y', NULL), '{{}}', '', 'NaN', NULL, now(), 'infinity');
UPDATE orders SET status = 'paid' WHERE id = 1;
INSERT INTO order_items (order_id, line_no, product_id, quantity) VALUES (1, 1, 1, 2), (1, 2, 3, 1), (2, 1, 2, 5);
INSERT INTO invoices (order_id) VALUES (2), (3);
REFRESH MATERIALIZED VIEW product_sales;
CREATE FUNCTION order_total(p_id bigint) RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT total FROM {schema}.orders WHERE id = p_id $$;
RESET search_path;
"#
    )
}

/// A database with `public.users` and, when `tenant` is given, that tenant
/// registered, migrated to `m` and filled.
async fn database_with(tenant: Option<&str>, m: Migrations) -> TestDb {
    let t = TestDb::new().await;
    let mut raw = t.raw().await;
    raw.execute(USERS).await.unwrap();
    if let Some(tenant) = tenant {
        let db = t.database(2).await;
        let sm = SchemaManager::new(&db).with_migrations(m);
        sm.create_migrated_schema(tenant, "tenant").await.unwrap();
        raw.execute(AssertSqlSafe(rows(tenant))).await.unwrap();
        db.close();
    }
    t
}

fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("strav-portable-")
        .tempdir()
        .unwrap();
    let file = dir.path().join(name);
    (dir, file)
}

#[track_caller]
fn assert_same_lines(expected: &str, actual: &str, what: &str) {
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(20)
            .map(|(n, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", n + 1))
            .collect();
        panic!(
            "{what} differs ({} vs {} lines):\n{}\n\nactual:\n{actual}",
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Each table's rows as an md5 over their text forms, sorted; plus each
/// sequence's position.
async fn fingerprint(raw: &mut PgConnection, schema: &str) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'm') ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut *raw)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let sum: String = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '') FROM \"{schema}\".\"{table}\" r"
        )))
        .fetch_one(&mut *raw)
        .await
        .unwrap();
        out.push((table, sum));
    }
    let sequences: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'sequence ' || sequencename, coalesce(last_value::text, 'fresh') FROM pg_sequences WHERE schemaname = $1 ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut *raw)
    .await
    .unwrap();
    out.extend(sequences);
    out
}

/// What an import must leave alone when it refuses: schemas, registry,
/// every relation.
async fn database_state(raw: &mut PgConnection) -> (Vec<String>, Vec<String>, i64) {
    let schemas = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace ORDER BY 1")
        .fetch_all(&mut *raw)
        .await
        .unwrap();
    let registered =
        sqlx::query_scalar("SELECT name || ':' || domain FROM public.strav_schemas ORDER BY 1")
            .fetch_all(&mut *raw)
            .await
            .unwrap_or_default();
    let relations = sqlx::query_scalar("SELECT count(*) FROM pg_class")
        .fetch_one(&mut *raw)
        .await
        .unwrap();
    (schemas, registered, relations)
}

#[tokio::test]
async fn a_tenant_exported_and_imported_elsewhere_is_the_same_tenant() {
    let (source_db, target_db) = tokio::join!(
        database_with(Some("acme"), at_v2()),
        // The target has a tenant of the domain at the same version.
        database_with(Some("beta"), at_v2())
    );
    let (_dir, file) = scratch("acme.strav");
    let db1 = source_db.database(2).await;
    let db2 = target_db.database(2).await;
    let sm1 = SchemaManager::new(&db1);
    let sm2 = SchemaManager::new(&db2);

    let exported = sm1.export_schema("acme", &file).await.unwrap();
    assert_eq!(exported.schema, "acme");
    assert_eq!(exported.domain, "tenant");
    assert_eq!(exported.migration_version, Some(20260102000000));
    assert_eq!(exported.migrations, 2);
    assert_eq!(
        (
            exported.tables,
            exported.views,
            exported.functions,
            exported.types
        ),
        (6, 2, 3, 4)
    );
    // 3 products, 3 orders, 3 items, 2 invoices, 4 events (3 inserts, 1 update)
    assert_eq!(exported.rows, 15);
    assert_eq!(exported.bytes, std::fs::metadata(&file).unwrap().len());
    assert!(!file.with_extension("strav.partial").exists());

    let header = read_header(&file).await.unwrap();
    assert_eq!(header.format_version, strav_orm::portable::FORMAT_VERSION);
    assert_eq!(header.source_schema, "acme");
    assert_eq!(header.domain, "tenant");
    assert_eq!(header.migration_version, Some(20260102000000));
    assert_eq!(header.source_database, source_db.name());

    let imported = sm2.import_schema(&file, "acme_moved").await.unwrap();
    assert_eq!(imported.schema, "acme_moved");
    assert_eq!(imported.domain, "tenant");
    assert_eq!(imported.source_schema, "acme");
    assert_eq!(imported.rows, 15);
    assert_eq!(imported.migrations, 2);
    assert_eq!(
        imported.checked_against,
        MigrationReference::Database { schemas: 1 }
    );

    // The same structure, as pg_dump sees it, with the name substituted.
    let expected = substitute(&dump(&source_db, "acme"), "acme", "acme_moved");
    assert!(expected.contains("CREATE SCHEMA acme_moved;"));
    assert_same_lines(&expected, &dump(&target_db, "acme_moved"), "pg_dump");

    // The same rows, migrations and sequence positions.
    let mut raw1 = source_db.raw().await;
    let mut raw2 = target_db.raw().await;
    let before = fingerprint(&mut raw1, "acme").await;
    assert_eq!(before.len(), 6 + 1 + 4, "{before:?}");
    assert_eq!(fingerprint(&mut raw2, "acme_moved").await, before);
    let registered: String =
        sqlx::query_scalar("SELECT domain FROM public.strav_schemas WHERE name = 'acme_moved'")
            .fetch_one(&mut raw2)
            .await
            .unwrap();
    assert_eq!(registered, "tenant");

    // It works on its own: sequences continue, the trigger writes into the
    // new schema, the hand-written function reads from it.
    let (id, events, total): (i64, i64, String) = sqlx::query_as(
        "WITH o AS (INSERT INTO acme_moved.orders (user_id, total) VALUES (2, 9) RETURNING id)
         SELECT id, (SELECT count(*) FROM acme_moved.events), acme_moved.order_total(1)::text FROM o",
    )
    .fetch_one(&mut raw2)
    .await
    .unwrap();
    assert_eq!((id, events, total.as_str()), (4, 4, "3.00"));
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM acme_moved.events")
        .fetch_one(&mut raw2)
        .await
        .unwrap();
    assert_eq!(events, 5, "the trigger fired in the new schema");

    // `strav migrate` has nothing to do there.
    let report = sm2
        .clone()
        .with_migrations(at_v2())
        .migrate_schema("acme_moved")
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Current);

    // The move's last step.
    sm1.delete_schema("acme").await.unwrap();
    db1.close();
    db2.close();
}

#[tokio::test]
async fn damaged_and_truncated_files_are_refused_and_change_nothing() {
    let t = database_with(Some("acme"), at_v2()).await;
    let db = t.database(2).await;
    let sm = SchemaManager::new(&db);
    let (_dir, file) = scratch("acme.strav");
    sm.export_schema("acme", &file).await.unwrap();
    let good = std::fs::read(&file).unwrap();
    let bad = file.with_extension("bad");
    let mut raw = t.raw().await;
    let state = database_state(&mut raw).await;

    let refuse = async |bytes: &[u8], what: &str| -> FileProblem {
        std::fs::write(&bad, bytes).unwrap();
        let err = sm.import_schema(&bad, "acme_copy").await.unwrap_err();
        let Error::ExportFile { problem, .. } = err else {
            panic!("{what}: not a file refusal: {err:?}");
        };
        problem
    };

    // The named cases.
    let mut b = good.clone();
    b[0] ^= 0x20;
    assert_eq!(refuse(&b, "signature").await, FileProblem::NotAnExport);
    let mut b = good.clone();
    b[11] = 2;
    assert!(matches!(
        refuse(&b, "version").await,
        FileProblem::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    ));
    let mut b = good.clone();
    let mid = b.len() / 2;
    b[mid] ^= 1;
    assert_eq!(
        refuse(&b, "a flipped bit").await,
        FileProblem::ChecksumMismatch
    );
    let n = good.len() as u64;
    assert_eq!(
        refuse(&good[..good.len() - 100], "cut").await,
        FileProblem::Truncated {
            expected: Some(n),
            actual: n - 100
        }
    );
    assert_eq!(
        refuse(&good[..30], "cut in the header").await,
        FileProblem::Truncated {
            expected: None,
            actual: 30
        }
    );
    let mut longer = good.clone();
    longer.push(b'\n');
    assert_eq!(
        refuse(&longer, "appended").await,
        FileProblem::ChecksumMismatch
    );
    assert_eq!(
        refuse(b"", "empty").await,
        FileProblem::Truncated {
            expected: None,
            actual: 0
        }
    );

    // Random damage: a byte changed anywhere, or the file cut anywhere.
    let mut rng = StdRng::seed_from_u64(0x5747_4156);
    for round in 0..300 {
        let mut b = good.clone();
        let what = if round % 3 == 2 {
            let len = rng.random_range(0..good.len());
            b.truncate(len);
            format!("cut at {len}")
        } else {
            let at = rng.random_range(0..good.len());
            b[at] ^= rng.random_range(1..=255u8);
            format!("byte {at} changed")
        };
        refuse(&b, &what).await;
        if round % 50 == 0 {
            assert_eq!(database_state(&mut raw).await, state, "after {what}");
        }
    }
    assert_eq!(database_state(&mut raw).await, state);

    // And the intact file still imports, here into the same database.
    let report = sm.import_schema(&file, "acme_copy").await.unwrap();
    assert_eq!(report.rows, 15);
    assert_eq!(
        fingerprint(&mut raw, "acme_copy").await,
        fingerprint(&mut raw, "acme").await
    );
    db.close();
}

#[tokio::test]
async fn migrations_behind_or_ahead_and_taken_names_are_refused() {
    let (source_db, target_db) = tokio::join!(
        database_with(Some("acme"), at_v2()),
        // The target's tenants went on to version 3.
        database_with(Some("beta"), migrations(&[(F1, V1), (F2, V2), (F3, V3)]))
    );
    let (_dir, file) = scratch("acme.strav");
    let db1 = source_db.database(2).await;
    let db2 = target_db.database(2).await;
    SchemaManager::new(&db1)
        .export_schema("acme", &file)
        .await
        .unwrap();
    let mut raw = target_db.raw().await;
    let state = database_state(&mut raw).await;
    let sm2 = SchemaManager::new(&db2);

    // Against the target database: behind by version 3.
    let Error::MigrationMismatch(m) = sm2.import_schema(&file, "acme").await.unwrap_err() else {
        panic!("expected a migration mismatch");
    };
    assert_eq!(m.against, MigrationReference::Database { schemas: 1 });
    assert_eq!(
        (m.file_version, m.target_version),
        (Some(20260102000000), Some(20260103000000))
    );
    assert_eq!(m.behind, [20260103000000]);
    assert!(m.ahead.is_empty() && m.changed.is_empty());
    let err = Error::MigrationMismatch(m);
    assert!(err.is_user_error());
    assert!(
        err.to_string()
            .contains("the file is behind, it lacks 20260103000000"),
        "{err}"
    );

    // Against migration files, which win over the database: ahead of them,
    // other checksums, and finally the same.
    let only_v1 = sm2.clone().with_migrations(migrations(&[(F1, V1)]));
    let Error::MigrationMismatch(m) = only_v1.import_schema(&file, "acme").await.unwrap_err()
    else {
        panic!("expected a migration mismatch");
    };
    assert_eq!(
        (m.against.clone(), m.ahead.clone()),
        (MigrationReference::Files, vec![20260102000000])
    );
    let edited = sm2
        .clone()
        .with_migrations(migrations(&[(F1, V1), (F2, "SELECT 'edited';")]));
    let Error::MigrationMismatch(m) = edited.import_schema(&file, "acme").await.unwrap_err() else {
        panic!("expected a migration mismatch");
    };
    assert_eq!(m.changed, [20260102000000]);
    assert!(m.behind.is_empty() && m.ahead.is_empty());
    assert_eq!(
        database_state(&mut raw).await,
        state,
        "refusals change nothing"
    );

    // A taken name: an existing schema, registered or not.
    let same = sm2.clone().with_migrations(at_v2());
    for taken in ["beta", "public_like"] {
        if taken == "public_like" {
            raw.execute("CREATE SCHEMA public_like").await.unwrap();
        }
        let err = same.import_schema(&file, taken).await.unwrap_err();
        assert!(
            matches!(&err, Error::SchemaAlreadyExists(n) if n == taken),
            "{err:?}"
        );
    }
    // Invalid names.
    for bad in ["public", "pg_x", "Bad-Name"] {
        let err = same.import_schema(&file, bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidSchemaName { .. }), "{err:?}");
    }

    let report = same.import_schema(&file, "acme").await.unwrap();
    assert_eq!(report.checked_against, MigrationReference::Files);

    // A database with no tenant of the domain: a refusal there does not
    // even create the registry; without files there is nothing to compare.
    let empty = database_with(None, at_v2()).await;
    let db3 = empty.database(2).await;
    let err = SchemaManager::new(&db3)
        .with_migrations(migrations(&[(F1, V1)]))
        .import_schema(&file, "acme")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MigrationMismatch(_)), "{err:?}");
    let mut raw3 = empty.raw().await;
    let registry: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public.strav_schemas')::text")
            .fetch_one(&mut raw3)
            .await
            .unwrap();
    assert_eq!(registry, None, "a refused import creates no registry");
    let report = SchemaManager::new(&db3)
        .import_schema(&file, "acme")
        .await
        .unwrap();
    assert_eq!(report.checked_against, MigrationReference::Unchecked);
    for db in [db1, db2, db3] {
        db.close();
    }
}

#[tokio::test]
async fn an_export_waits_for_a_running_migration_and_sees_all_of_it() {
    let t = database_with(Some("acme"), at_v2()).await;
    let db = t.database(2).await;
    let (_dir, file) = scratch("acme.strav");
    // A migration half-way: lock held, a column added, not yet recorded.
    let mut migration = t.raw().await;
    migration
        .execute(
            "BEGIN;
             SELECT pg_advisory_xact_lock(hashtextextended('strav_migrate:acme', 0));
             ALTER TABLE acme.products ADD COLUMN discontinued boolean NOT NULL DEFAULT false;",
        )
        .await
        .unwrap();
    let export = tokio::spawn({
        let db = db.clone();
        let file = file.clone();
        async move { SchemaManager::new(&db).export_schema("acme", &file).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!export.is_finished(), "the export waits for the migration");
    migration
        .execute(
            "INSERT INTO acme.strav_migrations (version, name, checksum, batch)
                 VALUES (20260103000000, 'discontinued', 'c3', 9);
             COMMIT;",
        )
        .await
        .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(10), export)
        .await
        .expect("the export ends once the migration committed")
        .unwrap()
        .unwrap();
    assert_eq!(report.migration_version, Some(20260103000000));

    // Imported elsewhere, it has the column and the row: one consistent state.
    let other = database_with(None, at_v2()).await;
    let db2 = other.database(2).await;
    SchemaManager::new(&db2)
        .import_schema(&file, "acme")
        .await
        .unwrap();
    let mut raw = other.raw().await;
    let (has_column, recorded): (bool, i64) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'acme' AND column_name = 'discontinued'),
                (SELECT count(*) FROM acme.strav_migrations)",
    )
    .fetch_one(&mut raw)
    .await
    .unwrap();
    assert_eq!((has_column, recorded), (true, 3));
    db.close();
    db2.close();
}

#[tokio::test]
async fn an_import_that_fails_half_way_leaves_nothing() {
    let source = database_with(Some("acme"), at_v2()).await;
    let db1 = source.database(2).await;
    let (_dir, file) = scratch("acme.strav");
    SchemaManager::new(&db1)
        .export_schema("acme", &file)
        .await
        .unwrap();
    // The target lacks a user the rows point at: the foreign key added after
    // the rows fails, late in the import.
    let target = TestDb::new().await;
    let mut raw = target.raw().await;
    raw.execute(
        "CREATE TABLE public.users (id bigserial PRIMARY KEY, name text NOT NULL);
         INSERT INTO public.users (name) VALUES ('ann');",
    )
    .await
    .unwrap();
    let state = database_state(&mut raw).await;
    let db2 = target.database(2).await;
    let err = SchemaManager::new(&db2)
        .import_schema(&file, "acme")
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate().as_deref(), Some("23503"), "{err:?}");
    assert!(!err.is_user_error());
    assert_eq!(
        database_state(&mut raw).await,
        state,
        "no schema, no registry, no relation"
    );
    db1.close();
    db2.close();
}
