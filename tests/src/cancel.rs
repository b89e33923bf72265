//! Cancelling a future at a point that depends on the future, not the clock.

/// Runs `fut` but drops it after it has returned `Pending` `waits + 1`
/// times: right after sending, mid-flight, mid-read, depending on `waits`.
/// (Counting the future's own waits makes the cancellation point independent
/// of the machine's speed; tokio's timers round to a millisecond anyway.)
pub async fn cancel_after<F: std::future::Future>(waits: u32, fut: F) -> Option<F::Output> {
    let mut fut = Box::pin(fut);
    let mut left = waits;
    std::future::poll_fn(move |cx| match fut.as_mut().poll(cx) {
        std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
        std::task::Poll::Pending if left == 0 => std::task::Poll::Ready(None),
        std::task::Poll::Pending => {
            left -= 1;
            std::task::Poll::Pending
        }
    })
    .await
}
