//! Integration tests: the real binary and library against loopback servers they start.

mod load;
mod load_errors;
mod server;
mod util;
