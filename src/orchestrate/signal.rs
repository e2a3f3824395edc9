//! Ctrl-C as an event. The first interrupt asks the verification to stop: the running load
//! drains and writes its partial artifact, services are torn down, worktrees removed, exit
//! 130. A second interrupt kills every service process group still alive and exits at once.

use crate::load::live::StopSignal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Shared interrupt state of one verification.
#[derive(Debug, Default)]
pub struct Interrupt {
    interrupted: AtomicBool,
    /// The stop signal of the load that is running now.
    current: Mutex<Vec<Arc<StopSignal>>>,
    /// Process groups of the services that are running now.
    groups: Mutex<Vec<i32>>,
}

impl Interrupt {
    /// Starts listening for Ctrl-C (call inside the runtime).
    pub fn listen() -> Arc<Interrupt> {
        let interrupt = Arc::new(Interrupt::default());
        let watcher = interrupt.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if watcher.interrupted.swap(true, Ordering::SeqCst) {
                    eprintln!("fixproof: interrupted twice: killing the services and exiting now");
                    watcher.kill_all();
                    std::process::exit(crate::exit_code::INTERRUPTED);
                }
                eprintln!(
                    "fixproof: interrupted: stopping the load and the services (Ctrl-C again to exit now)"
                );
                if let Ok(current) = watcher.current.lock() {
                    current.iter().for_each(|s| s.stop());
                }
            }
        });
        interrupt
    }

    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Registers the stop signal of a load that starts now.
    pub fn watch_load(&self, stop: Arc<StopSignal>) {
        if self.is_interrupted() {
            stop.stop();
        }
        if let Ok(mut current) = self.current.lock() {
            current.push(stop);
        }
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

    fn kill_all(&self) {
        if let Ok(groups) = self.groups.lock() {
            for pgid in groups.iter() {
                // SAFETY: killing process groups this verification started.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        }
    }
}
