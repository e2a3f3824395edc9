//! Integration tests: the real binary and library against loopback servers they start.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod cluster;
mod compare;
mod compare_errors;
mod demo;
mod fixtures;
mod import;
#[cfg(feature = "kafka")]
mod kafka;
#[cfg(feature = "kafka")]
mod kafka_cluster;
#[cfg(feature = "kafka")]
mod kafka_demo;
#[cfg(feature = "kafka")]
mod kafka_mirrord;
#[cfg(feature = "kafka")]
mod kafka_python;
#[cfg(feature = "kafka")]
mod kafka_secured;
#[cfg(feature = "kafka")]
mod kafka_verify;
mod load;
mod load_errors;
mod load_framing;
mod mcp;
mod mirrord;
mod pool;
mod propose;
mod record;
mod report;
mod report_browser;
mod schemas;
mod sequential;
mod server;
mod signals;
#[cfg(feature = "kafka")]
mod splitter;
mod third_party;
mod util;
mod verdict_golden;
mod verify;
mod verify_alert;
