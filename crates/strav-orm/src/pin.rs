//! The connection a `with_schema` scope keeps between its queries.
//!
//! Switching a connection's `search_path` costs a round trip, as much as the
//! query itself. A request typically runs several queries in one tenant, so
//! the outermost scope keeps the connection its first query used and hands it
//! to the scope's next query, which then needs no switch. The slot is shared
//! by nested scopes (`with_schema` inside `with_schema`, `without_schema`) and
//! by tasks spawned with the context, so none of them waits for a second
//! connection while the first sits idle in the slot. It is emptied when the
//! outermost scope ends, however it ends.
//!
//! Concurrent queries of one scope do not wait for each other: a query that
//! finds the slot empty (its connection is busy) takes another from the pool.

use std::sync::{Arc, Mutex};

use crate::pool::Object;

#[derive(Default)]
pub(crate) struct PinSlot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    /// The idle pinned connection and the id of the `Database` it belongs to.
    conn: Option<(u64, Object)>,
    closed: bool,
}

impl PinSlot {
    /// Takes the idle pinned connection of database `db`, if there is one.
    pub(crate) fn take(&self, db: u64) -> Option<Object> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &state.conn {
            Some((owner, _)) if *owner == db => state.conn.take().map(|(_, c)| c),
            _ => None,
        }
    }

    /// Offers a connection back to the slot. Returns it when the slot does
    /// not take it (closed, or already holding one), so the caller drops it
    /// back into the pool outside the lock.
    pub(crate) fn put_back(&self, db: u64, conn: Object) -> Option<Object> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.closed || state.conn.is_some() {
            return Some(conn);
        }
        state.conn = Some((db, conn));
        None
    }

    /// Empties the slot for good when the returned guard drops.
    pub(crate) fn release_on_drop(self: &Arc<Self>) -> ReleaseOnDrop {
        ReleaseOnDrop(self.clone())
    }
}

impl std::fmt::Debug for PinSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("PinSlot")
            .field("holding", &state.conn.is_some())
            .field("closed", &state.closed)
            .finish()
    }
}

pub(crate) struct ReleaseOnDrop(Arc<PinSlot>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let released = {
            let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
            state.closed = true;
            state.conn.take()
        };
        // Returned to the pool here, outside the slot's lock.
        drop(released);
    }
}
