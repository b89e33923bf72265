//! The randomized hostile workload, shared by the direct and the PgBouncer
//! tests: many tasks over many tenants mixing ordinary reads, writes and
//! transactions with raw SQL that changes the path in many spellings,
//! `DISCARD ALL`, statements of one scope run at once, cancelled statements
//! with errors still pending, and abandoned transactions. Counts
//! wrong-tenant reads, misplaced writes and lost acknowledged writes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::AssertSqlSafe;
use strav_orm::{with_schema, Config, Database, Error, RoutingMode};

use crate::cancel::cancel_after;
use crate::fixtures::marker_tenants;
use crate::TestDb;

const TENANTS: usize = 8;
const TASKS: usize = 12;
const OPS: usize = 120;

#[derive(Default)]
struct Tally {
    wrong_reads: AtomicUsize,
    unexpected_errors: Mutex<Vec<String>>,
    cancelled: AtomicUsize,
    acknowledged: Mutex<Vec<(String, i64)>>,
}

impl Tally {
    fn error(&self, what: &str, e: &Error) {
        self.unexpected_errors
            .lock()
            .unwrap()
            .push(format!("{what}: {e}"));
    }
}

async fn marker(db: &Database) -> Result<String, Error> {
    db.sql("SELECT tenant FROM marker").fetch_scalar().await
}

async fn insert(db: &Database, id: i64, tag: &str) -> Result<u64, Error> {
    db.sql("INSERT INTO writes (id, tag) VALUES ($1, $2)")
        .bind(id)
        .bind(tag)
        .execute()
        .await
}

fn path_changers(other: &str) -> Vec<String> {
    vec![
        format!("SET SCHEMA '{other}'"),
        format!("set search_path = {other}"),
        format!("/* x */ SeT sChEmA '{other}'"),
        format!("SELECT pg_catalog.set_config('search' || '_path', '{other}', false)"),
        format!("DO $$ BEGIN EXECUTE 'SET SCHEMA ''{other}'''; END $$"),
        "RESET search_path".to_owned(),
    ]
}

async fn worker(
    db: Database,
    tenants: Arc<Vec<String>>,
    seed: u64,
    ids: Arc<AtomicI64>,
    tally: Arc<Tally>,
    session: bool,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..OPS {
        let tenant = &tenants[rng.random_range(0..tenants.len())];
        let other = &tenants[rng.random_range(0..tenants.len())];
        let op = rng.random_range(0..9);
        let r: Result<(), Error> = with_schema(tenant, async {
            match op {
                // A read.
                0 => {
                    if marker(&db).await? != *tenant {
                        tally.wrong_reads.fetch_add(1, Ordering::SeqCst);
                    }
                }
                // An acknowledged write.
                1 => {
                    let id = ids.fetch_add(1, Ordering::SeqCst);
                    insert(&db, id, tenant).await?;
                    tally
                        .acknowledged
                        .lock()
                        .unwrap()
                        .push((tenant.clone(), id));
                }
                // A transaction of two writes and a read.
                2 => {
                    let (a, b) = (
                        ids.fetch_add(1, Ordering::SeqCst),
                        ids.fetch_add(1, Ordering::SeqCst),
                    );
                    let t = tenant.clone();
                    let seen = db
                        .transaction(async move |tx| {
                            for id in [a, b] {
                                tx.sql("INSERT INTO writes (id, tag) VALUES ($1, $2)")
                                    .bind(id)
                                    .bind(&t)
                                    .execute()
                                    .await?;
                            }
                            tx.sql("SELECT tenant FROM marker")
                                .fetch_scalar::<String>()
                                .await
                        })
                        .await?;
                    if seen != *tenant {
                        tally.wrong_reads.fetch_add(1, Ordering::SeqCst);
                    }
                    let mut ack = tally.acknowledged.lock().unwrap();
                    ack.push((tenant.clone(), a));
                    ack.push((tenant.clone(), b));
                }
                // Raw SQL that moves the session elsewhere, then a read.
                3 => {
                    let changers = path_changers(other);
                    let sql = changers[rng.random_range(0..changers.len())].clone();
                    db.sql(AssertSqlSafe(sql)).execute_script().await?;
                    if marker(&db).await? != *tenant {
                        tally.wrong_reads.fetch_add(1, Ordering::SeqCst);
                    }
                }
                // DISCARD ALL (not allowed in a transaction block, so only
                // where statements run outside one).
                4 if session => {
                    db.sql("DISCARD ALL").execute().await?;
                }
                // Statements of one scope at once.
                5 => {
                    for seen in join_all((0..4).map(|_| marker(&db))).await {
                        if seen? != *tenant {
                            tally.wrong_reads.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                // A statement that fails (a duplicate key carrying this
                // tenant's data), cancelled before its error is read.
                6 => {
                    let id = ids.fetch_add(1, Ordering::SeqCst);
                    insert(&db, id, tenant).await?;
                    tally
                        .acknowledged
                        .lock()
                        .unwrap()
                        .push((tenant.clone(), id));
                    let waits = rng.random_range(0..3);
                    match cancel_after(waits, insert(&db, id, tenant)).await {
                        None => {
                            tally.cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(Err(e)) if e.sqlstate().as_deref() == Some("23505") => {}
                        Some(other) => panic!("a duplicate insert returned {other:?}"),
                    }
                }
                // A transaction abandoned part-way.
                7 => {
                    let (a, b) = (
                        ids.fetch_add(1, Ordering::SeqCst),
                        ids.fetch_add(1, Ordering::SeqCst),
                    );
                    let t = tenant.clone();
                    let waits = rng.random_range(0..8);
                    let done = cancel_after(
                        waits,
                        db.transaction(async move |tx| {
                            for id in [a, b] {
                                tx.sql("INSERT INTO writes (id, tag) VALUES ($1, $2)")
                                    .bind(id)
                                    .bind(&t)
                                    .execute()
                                    .await?;
                            }
                            Ok::<_, Error>(())
                        }),
                    )
                    .await;
                    match done {
                        Some(r) => {
                            r?;
                            let mut ack = tally.acknowledged.lock().unwrap();
                            ack.push((tenant.clone(), a));
                            ack.push((tenant.clone(), b));
                        }
                        None => {
                            tally.cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                // A plain read cancelled at a random point.
                _ => {
                    let waits = rng.random_range(0..3);
                    match cancel_after(waits, marker(&db)).await {
                        Some(seen) => {
                            if seen? != *tenant {
                                tally.wrong_reads.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        None => {
                            tally.cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            }
            Ok(())
        })
        .await;
        if let Err(e) = r {
            tally.error(&format!("op {op} in {tenant}"), &e);
        }
    }
}

/// What one run saw.
#[derive(Debug)]
pub struct Outcome {
    pub acknowledged: usize,
    pub cancelled: usize,
}

/// Runs the workload on a database made with `config` (pointing at `t`'s
/// database, directly or through a pooler) and asserts that nothing crossed
/// tenants, nothing acknowledged was lost and nothing failed unexpectedly.
pub async fn run(t: &TestDb, config: Config) -> Outcome {
    let routing = config.multi_tenant.routing;
    let pool = config.pool.max_connections;
    let db = Database::connect_with(config).await.unwrap();
    let tenants = Arc::new(marker_tenants(&db, TENANTS).await);
    let ids = Arc::new(AtomicI64::new(1));
    let tally = Arc::new(Tally::default());
    let session = routing == RoutingMode::Session;
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            tokio::spawn(worker(
                db.clone(),
                tenants.clone(),
                i as u64 * 7919 + pool as u64,
                ids.clone(),
                tally.clone(),
                session,
            ))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    let mut misplaced = 0i64;
    let mut stored = HashSet::new();
    let mut check = t.raw().await;
    for tenant in tenants.iter() {
        let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, tag FROM {tenant}.writes"
        )))
        .fetch_all(&mut check)
        .await
        .unwrap();
        for (id, tag) in rows {
            if tag != *tenant {
                misplaced += 1;
            }
            stored.insert((tenant.clone(), id));
        }
    }
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    let lost = acknowledged.iter().filter(|w| !stored.contains(*w)).count();
    let errors = tally.unexpected_errors.lock().unwrap().clone();
    let wrong = tally.wrong_reads.load(Ordering::SeqCst);
    let cancelled = tally.cancelled.load(Ordering::SeqCst);
    println!(
        "pool {pool}, {routing:?}: {} acknowledged writes, {cancelled} cancelled, {wrong} wrong reads, {misplaced} misplaced, {lost} lost, {} errors",
        acknowledged.len(),
        errors.len()
    );
    assert_eq!(wrong, 0, "wrong-tenant reads");
    assert_eq!(misplaced, 0, "rows written into another tenant");
    assert_eq!(lost, 0, "acknowledged writes missing");
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    assert!(
        cancelled >= 20,
        "only {cancelled} operations were cancelled"
    );
    assert!(acknowledged.len() >= TASKS * OPS / 10);
    db.close();
    Outcome {
        acknowledged: acknowledged.len(),
        cancelled,
    }
}
