//! Integration tests: the real binary and library against loopback servers they start.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod load;
mod load_errors;
mod server;
mod util;
