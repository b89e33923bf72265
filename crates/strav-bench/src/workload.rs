//! Runs N workers for a fixed time and counts what they did.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

/// Runs `workers` copies of `step` until `seconds` pass; returns operations
/// per second. `step` does one unit of work and returns how many operations
/// it counted (a request of 5 lookups returns 5).
pub async fn throughput<F, Fut>(workers: usize, seconds: f64, step: F) -> f64
where
    F: Fn(usize, &mut StdRng) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = u64> + Send,
{
    let step = Arc::new(step);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut handles = Vec::with_capacity(workers);
    for w in 0..workers {
        let step = step.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(w as u64 * 7919 + 1);
            let mut done = 0u64;
            while Instant::now() < deadline {
                done += step(w, &mut rng).await;
            }
            done
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.expect("worker panicked");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// The median of a few rounds: these machines are noisy.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One unit of work of a workload (see [`throughput`]), boxed so workloads
/// of different shapes fit in one list.
pub type Step = Arc<
    dyn Fn(usize, &mut StdRng) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> + Send + Sync,
>;

/// Warms every workload up (filling statement caches), then runs `rounds`
/// rounds that interleave the workloads, so drift in the machine's speed hits
/// all alike. Returns the median operations/s of each, by name.
pub async fn measure_workloads(
    workloads: &[(&str, Step)],
    workers: usize,
    seconds: f64,
    rounds: usize,
) -> std::collections::BTreeMap<String, f64> {
    for (name, step) in workloads {
        let step = step.clone();
        let qps = throughput(workers, seconds.max(2.0), move |w, rng| step(w, rng)).await;
        eprintln!("warm-up {name:>24}: {qps:>9.0} ops/s");
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); workloads.len()];
    for round in 1..=rounds {
        for (i, (name, step)) in workloads.iter().enumerate() {
            let step = step.clone();
            let qps = throughput(workers, seconds, move |w, rng| step(w, rng)).await;
            eprintln!("round {round} {name:>24}: {qps:>9.0} ops/s");
            samples[i].push(qps);
        }
    }
    workloads
        .iter()
        .zip(samples)
        .map(|((name, _), s)| (name.to_string(), median(s)))
        .collect()
}

/// What the `routing` and `models` lookup benchmarks take on the command line.
#[derive(clap::Args)]
pub struct LookupArgs {
    /// Tenant schemas to create.
    #[arg(long, default_value_t = 1000)]
    pub tenants: usize,
    /// Rows in each tenant's orders table.
    #[arg(long, default_value_t = 100)]
    pub rows: i64,
    /// Concurrent workers.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Pool size, for Strav and for the sqlx baselines alike.
    #[arg(long, default_value_t = 8)]
    pub connections: u32,
    /// Seconds per measured round.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Measured rounds per workload (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}
