//! The stand-in's "agent": what makes back-to-back sessions meet the open-source agent's
//! cleanup, and a steal that takes a moment to take effect.
//!
//! - **Cleanup window.** The open-source agent lives while its session's app lives, then needs
//!   a moment (`agent.ttl`, iptables cleanup) before it is gone; a session that starts on the
//!   same target meanwhile fails with "Detected dirty iptables…" (mirrord's
//!   `agent/src/entrypoint.rs`). An orphaned app that is still running keeps it alive too
//!   (`cli/src/pitm.rs`). The stand-in spawns a helper process per session, in a session of its
//!   own (so the app's group teardown does not reach it), that waits for the app to exit and
//!   then for `FIXPROOF_STANDIN_CLEANUP_MS` (default 0) before it exits itself; the session
//!   is "dirty" while the helper lives.
//! - **Delayed steal.** `FIXPROOF_STANDIN_STEAL_DELAY_MS` (default 0) after `Ready!`, the
//!   session's steal takes effect: the cluster's proxy sends every connection opened before
//!   that to the deployed copy for its whole life, as iptables redirection does.

use std::os::unix::process::CommandExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The window after the app exits during which its agent still holds the target.
pub const CLEANUP_ENV: &str = "FIXPROOF_STANDIN_CLEANUP_MS";
/// How long after `Ready!` the steal takes effect.
pub const STEAL_DELAY_ENV: &str = "FIXPROOF_STANDIN_STEAL_DELAY_MS";

/// mirrord's agent message for a target another (or a not yet cleaned up) agent holds.
pub const DIRTY_IPTABLES: &str = "mirrord-agent: Detected dirty iptables. Either some other mirrord agent is running or the previous agent failed to clean up before exit. If no other mirrord agent is targeting this pod, please delete the pod.";

fn millis(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// When this session's steal takes effect, in epoch milliseconds.
pub fn steal_from_ms() -> u64 {
    now_ms() + millis(STEAL_DELAY_ENV)
}

/// Starts the agent helper that outlives the app (this process, once it execs) by the cleanup
/// window; its pid, or `None` when it could not start.
pub fn spawn(app_pid: u32) -> Option<u32> {
    let exe = std::env::current_exe().ok()?;
    let mut command = std::process::Command::new(exe);
    command
        .arg0("mirrord")
        .args([
            "__agent",
            &app_pid.to_string(),
            &millis(CLEANUP_ENV).to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: `setsid` is async-signal-safe; the helper leaves the app's process group so
    // that the app's teardown does not end it.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    command.spawn().ok().map(|child| child.id())
}

/// The helper: waits for `app_pid` to exit, then for the cleanup window. Returns the exit
/// code.
pub fn agent(args: &[String]) -> i32 {
    let (Some(pid), Some(window)) = (
        args.first().and_then(|a| a.parse::<i32>().ok()),
        args.get(1).and_then(|a| a.parse::<u64>().ok()),
    ) else {
        return 2;
    };
    while crate::session::is_alive(pid) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(window));
    0
}
