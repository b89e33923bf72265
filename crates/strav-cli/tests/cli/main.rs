//! The `strav` binary as a user runs it, in one test binary: each module is
//! one group of commands, and `support` holds what they all need (running the
//! binary, a temporary project directory, the checks on a run's outcome).
//! Tests that touch PostgreSQL make a database of their own
//! (strav_tests::TestDb), so they run in parallel and leave nothing behind.

mod support;

mod clone;
mod generate_migration;
mod generate_models;
mod migrate;
mod portable;
mod schema;
