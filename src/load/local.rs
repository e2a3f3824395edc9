//! [`Local`]: interior mutability for state that one shard thread owns.
//!
//! A shard's tasks run on one current-thread runtime and never contend, but they are plain
//! `tokio::spawn` tasks (see `shard`), so what they share must be `Sync`. An uncontended
//! mutex costs one atomic exchange per borrow, far less than a `LocalSet`, whose every I/O
//! wake-up costs an `eventfd` write and an extra `epoll_wait`.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A value borrowed by one task at a time, never across an `.await`.
#[derive(Debug, Default)]
pub struct Local<T>(Mutex<T>);

impl<T> Local<T> {
    pub fn new(value: T) -> Local<T> {
        Local(Mutex::new(value))
    }

    /// Exclusive access. A panic while borrowed ends the shard anyway, so poisoning is
    /// ignored rather than turned into a second panic.
    pub fn borrow_mut(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}
