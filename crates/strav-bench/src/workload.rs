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
