//! Notifications of changes to the tenant registry, for other processes.
//!
//! Every write to `public.strav_schemas` (create, clone, delete) sends a
//! PostgreSQL `NOTIFY` on [`SCHEMA_EVENTS_CHANNEL`] in the same transaction,
//! so it is delivered when, and only if, the change commits. A process that
//! caches "is this a tenant?" answers (`strav-tower`'s validation cache)
//! `LISTEN`s on the channel and forgets a deleted tenant at once instead of
//! at cache expiry.
//!
//! The payload is `created:<schema>` or `deleted:<schema>`; [`SchemaEvent`]
//! writes and reads it, so the format lives here and nowhere else.

/// The channel registry changes are announced on.
pub const SCHEMA_EVENTS_CHANNEL: &str = "strav_schema_events";

/// One change to the registry, as carried by a notification's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaEvent {
    /// A schema was created (or cloned) and registered.
    Created(String),
    /// A schema was dropped and unregistered.
    Deleted(String),
}

impl SchemaEvent {
    /// Reads a payload sent on [`SCHEMA_EVENTS_CHANNEL`]; `None` for one
    /// this version does not know.
    pub fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("created", name) => Some(SchemaEvent::Created(name.to_owned())),
            ("deleted", name) => Some(SchemaEvent::Deleted(name.to_owned())),
            _ => None,
        }
    }

    /// The payload to send for this event.
    pub fn payload(&self) -> String {
        match self {
            SchemaEvent::Created(name) => format!("created:{name}"),
            SchemaEvent::Deleted(name) => format!("deleted:{name}"),
        }
    }

    /// The schema the event is about.
    pub fn schema(&self) -> &str {
        match self {
            SchemaEvent::Created(name) | SchemaEvent::Deleted(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        for event in [
            SchemaEvent::Created("acme".into()),
            SchemaEvent::Deleted("t_1".into()),
        ] {
            assert_eq!(SchemaEvent::parse(&event.payload()), Some(event));
        }
        assert_eq!(SchemaEvent::parse("renamed:acme"), None);
        assert_eq!(SchemaEvent::parse("acme"), None);
    }
}
