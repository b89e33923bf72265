//! Placeholder until the models issue lands.
