//! Process exit codes, in one place (DESIGN.md "Exit codes").
//!
//! The numbers follow BSD `sysexits.h` where one fits, so shell users and CI systems can tell
//! a verdict from a broken invocation.

/// The candidate passed (`verify`, `compare`), or the command did what it was asked.
pub const OK: i32 = 0;
/// The candidate was rejected: an SLO is violated or a guard regressed.
pub const REJECT: i32 = 1;
/// The evidence cannot decide: too few samples, an invalid arm, or an unreproduced alert.
pub const INCONCLUSIVE: i32 = 2;
/// Bad flags or expressions on the command line (`EX_USAGE`).
pub const USAGE: i32 = 64;
/// Bad input data: a scenario, an artifact or a patch that cannot be used (`EX_DATAERR`).
pub const DATA: i32 = 65;
/// A needed component is unavailable: a binary is missing, the service did not start, or the
/// target is unreachable (`EX_UNAVAILABLE`).
pub const UNAVAILABLE: i32 = 69;
/// An internal error: a bug in fixproof, or an I/O failure it did not expect (`EX_SOFTWARE`).
pub const INTERNAL: i32 = 70;
/// Interrupted by the user (128 + SIGINT).
pub const INTERRUPTED: i32 = 130;
/// Terminated: a CI cancel, `timeout`, Kubernetes (128 + SIGTERM).
pub const TERMINATED: i32 = 143;
/// Hung up: the terminal went away (128 + SIGHUP).
pub const HUNG_UP: i32 = 129;
