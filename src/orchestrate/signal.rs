//! One shutdown path for every command. SIGINT (Ctrl-C), SIGTERM (a CI cancel, `timeout`,
//! Kubernetes) and SIGHUP (a closed terminal) all become one stop token, [`Shutdown`]:
//!
//! - the first signal stops every load registered with it (the driver drains and writes its
//!   partial artifact), sets every registered flag, and wakes whoever waits for it; the
//!   command then tears its services down, removes its worktrees and exits with the signal's
//!   code (130, 143, 129), or, for `record` and `kafka lag`/`produce`, ends normally;
//! - a second signal escalates: every service process group still registered is killed and
//!   the process exits at once with the first signal's code.
//!
//! A `kill -9` of fixproof itself is the watchdog's business (`watchdog`).

use crate::load::live::StopSignal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

/// A signal that stops fixproof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a CI cancel, `timeout`, Kubernetes.
    Terminate,
    /// SIGHUP: the terminal went away.
    HangUp,
    /// No signal: the caller cancelled the run (an MCP client's `notifications/cancelled`,
    /// `cancel_run`, or its disconnect), with the same cleanup as Ctrl-C.
    Cancel,
}

impl Signal {
    /// 128 + the signal's number (DESIGN.md "Exit codes").
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt | Signal::Cancel => crate::exit_code::INTERRUPTED,
            Signal::Terminate => crate::exit_code::TERMINATED,
            Signal::HangUp => crate::exit_code::HUNG_UP,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::HangUp => "SIGHUP",
            Signal::Cancel => "a cancellation",
        }
    }
}

/// The stop token of one command.
#[derive(Debug, Default)]
pub struct Shutdown {
    first: OnceLock<Signal>,
    stopped: Notify,
    /// Loads running now: stopped (as interrupted) by the first signal.
    loads: Mutex<Vec<Arc<StopSignal>>>,
    /// Flags of parts that poll one (the Kafka producer and lag probe).
    flags: Mutex<Vec<Arc<AtomicBool>>>,
    /// Process groups of the services running now: killed by a second signal.
    groups: Mutex<Vec<i32>>,
}

impl Shutdown {
    /// Starts listening for SIGINT, SIGTERM and SIGHUP (call inside the runtime). `doing` says
    /// what the first signal does, for the message on stderr ("stopping the load and the
    /// services").
    ///
    /// # Errors
    /// When a handler cannot be installed.
    pub fn listen(doing: &'static str) -> std::io::Result<Arc<Shutdown>> {
        let mut streams = [
            (Signal::Interrupt, signal(SignalKind::interrupt())?),
            (Signal::Terminate, signal(SignalKind::terminate())?),
            (Signal::HangUp, signal(SignalKind::hangup())?),
        ];
        let shutdown = Arc::new(Shutdown::default());
        let watcher = Arc::clone(&shutdown);
        tokio::spawn(async move {
            loop {
                let [(a, int), (b, term), (c, hup)] = &mut streams;
                let received = tokio::select! {
                    Some(()) = int.recv() => *a,
                    Some(()) = term.recv() => *b,
                    Some(()) = hup.recv() => *c,
                    else => return,
                };
                watcher.receive(received, doing);
            }
        });
        Ok(shutdown)
    }

    fn receive(&self, signal: Signal, doing: &str) {
        if let Some(first) = self.first.get() {
            eprintln!(
                "fixproof: {} after {}: killing the services and exiting now",
                signal.name(),
                first.name()
            );
            self.kill_groups();
            std::process::exit(first.exit_code());
        }
        let _ = self.first.set(signal);
        eprintln!(
            "fixproof: {}: {doing} (a second signal exits at once)",
            signal.name()
        );
        self.stop_all();
    }

    /// Stops the command as a first signal does (loads stopped, flags set, waiters woken),
    /// for a run cancelled by its caller; the caller then waits for the same cleanup. Later
    /// calls, and calls after a signal, do nothing.
    pub fn cancel(&self) {
        if self.first.set(Signal::Cancel).is_ok() {
            self.stop_all();
        }
    }

    fn stop_all(&self) {
        if let Ok(loads) = self.loads.lock() {
            loads.iter().for_each(|s| s.stop());
        }
        if let Ok(flags) = self.flags.lock() {
            flags.iter().for_each(|f| f.store(true, Ordering::Relaxed));
        }
        self.stopped.notify_waiters();
    }

    /// The first signal received, if any.
    pub fn signal(&self) -> Option<Signal> {
        self.first.get().copied()
    }

    /// Whether a signal asked the command to stop.
    pub fn is_stopping(&self) -> bool {
        self.first.get().is_some()
    }

    /// Waits for the first signal.
    pub async fn requested(&self) -> Signal {
        loop {
            let notified = self.stopped.notified();
            if let Some(signal) = self.signal() {
                return signal;
            }
            notified.await;
        }
    }

    /// Registers the stop signal of a load that starts now (stopped at once when a signal came
    /// already).
    pub fn watch_load(&self, stop: Arc<StopSignal>) {
        if self.is_stopping() {
            stop.stop();
        }
        if let Ok(mut loads) = self.loads.lock() {
            loads.push(stop);
        }
    }

    /// Registers a flag to set at the first signal; returns it.
    pub fn flag(&self) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(self.is_stopping()));
        if let Ok(mut flags) = self.flags.lock() {
            flags.push(Arc::clone(&flag));
        }
        flag
    }

    pub fn watch_group(&self, pgid: i32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.push(pgid);
        }
    }

    pub fn forget_group(&self, pgid: i32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.retain(|g| *g != pgid);
        }
    }

    fn kill_groups(&self) {
        if let Ok(groups) = self.groups.lock() {
            for pgid in groups.iter().filter(|g| **g > 0) {
                // SAFETY: killing process groups this command started.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_stops_loads_and_flags_and_wakes_waiters() {
        let shutdown = Arc::new(Shutdown::default());
        let (load, flag) = (Arc::new(StopSignal::default()), shutdown.flag());
        shutdown.watch_load(Arc::clone(&load));
        let waiter = tokio::spawn({
            let shutdown = Arc::clone(&shutdown);
            async move { shutdown.requested().await }
        });
        tokio::task::yield_now().await;
        shutdown.receive(Signal::Terminate, "stopping");
        assert_eq!(waiter.await.unwrap(), Signal::Terminate);
        assert!(load.is_stopped() && flag.load(Ordering::Relaxed));
        assert_eq!(shutdown.signal().map(Signal::exit_code), Some(143));
        // A load or flag registered after the signal is stopped at once.
        let late = Arc::new(StopSignal::default());
        shutdown.watch_load(Arc::clone(&late));
        assert!(late.is_stopped() && shutdown.flag().load(Ordering::Relaxed));
    }

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        let codes: Vec<i32> = [Signal::Interrupt, Signal::Terminate, Signal::HangUp]
            .into_iter()
            .map(Signal::exit_code)
            .collect();
        assert_eq!(
            codes,
            [128 + libc::SIGINT, 128 + libc::SIGTERM, 128 + libc::SIGHUP]
        );
    }
}
