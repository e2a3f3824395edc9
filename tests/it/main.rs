//! Integration tests: the real binary and library against loopback servers they start.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod import;
mod load;
mod load_errors;
mod record;
mod server;
mod util;
