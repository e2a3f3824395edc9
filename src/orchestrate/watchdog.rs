//! When fixproof itself is killed outright (`kill -9`, the OOM killer), nothing of its
//! services' process trees may survive: under mirrord an orphaned app is a live session that
//! blocks the next run. `PR_SET_PDEATHSIG` reaches only the direct child and fires when the
//! forking *thread* exits, so a supervisor does it instead.
//!
//! The watchdog is a child forked before any other thread exists. It moves into its own
//! session (a signal to fixproof's process group or terminal does not reach it), keeps only the
//! read end of a pipe whose write end fixproof holds (close-on-exec, so no service inherits
//! it), and reads `+PGID` / `-PGID` lines as services start and stop. At end of file, which
//! is fixproof's exit however it happened, it sends SIGTERM to every group still registered,
//! waits up to two seconds, sends SIGKILL and exits. After a normal run nothing is
//! registered and it just exits. Worktrees a killed run left are removed by the next run
//! (`workspace`).

use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::OnceLock;

static PIPE: OnceLock<OwnedFd> = OnceLock::new();

/// Groups the watchdog can track at once: far more services than a verification starts.
const MAX_GROUPS: usize = 256;
/// Time between SIGTERM and SIGKILL.
const GRACE_MS: u64 = 2_000;

/// Forks the watchdog. Call it once, before any other thread exists (the binary's entry
/// does, for the commands that start services); later calls do nothing.
pub fn start() {
    if PIPE.get().is_some() {
        return;
    }
    let mut fds = [0; 2];
    // SAFETY: a plain syscall writing two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    // SAFETY: called while the process has one thread, so the child may run ordinary code;
    // it still uses only async-signal-safe calls and no allocation, and never returns.
    match unsafe { libc::fork() } {
        0 => unsafe { watch(fds[0], fds[1]) },
        pid if pid > 0 => {
            // SAFETY: closing our copy of the read end; the write end is ours from now on.
            unsafe { libc::close(fds[0]) };
            // SAFETY: `fds[1]` is a fresh descriptor nothing else owns.
            let _ = PIPE.set(unsafe { OwnedFd::from_raw_fd(fds[1]) });
        }
        _ => {
            // SAFETY: closing the unused pipe after a failed fork.
            unsafe {
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
        }
    }
}

fn send(sign: u8, pgid: i32) {
    use std::os::fd::AsRawFd;
    let Some(pipe) = PIPE.get() else { return };
    if pgid <= 0 {
        return;
    }
    let line = format!("{}{pgid}\n", sign as char);
    // One small write to a pipe is atomic. SAFETY: writing a buffer we own.
    unsafe { libc::write(pipe.as_raw_fd(), line.as_ptr().cast(), line.len()) };
}

/// Registers a service's process group.
pub fn watch_group(pgid: i32) {
    send(b'+', pgid);
}

/// Forgets a process group that was torn down.
pub fn forget_group(pgid: i32) {
    send(b'-', pgid);
}

/// The watchdog's life. Only async-signal-safe calls, no allocation.
unsafe fn watch(read: i32, write: i32) -> ! {
    // SAFETY (whole function): syscalls on descriptors and process groups this child owns.
    unsafe {
        libc::close(write);
        libc::setsid();
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::dup2(read, 0);
        // Nothing else of fixproof's stays open here: no listening socket, no log file.
        libc::syscall(libc::SYS_close_range, 1u32, u32::MAX, 0u32);
        let mut groups = [0i32; MAX_GROUPS];
        let mut buf = [0u8; 512];
        let (mut number, mut sign, mut digits) = (0i64, 0u8, false);
        loop {
            let n = libc::read(0, buf.as_mut_ptr().cast(), buf.len());
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            if n <= 0 {
                break;
            }
            for &byte in &buf[..n as usize] {
                match byte {
                    b'+' | b'-' => (sign, number, digits) = (byte, 0, false),
                    b'0'..=b'9' => {
                        number = (number * 10 + i64::from(byte - b'0')).min(i64::from(i32::MAX));
                        digits = true;
                    }
                    b'\n' if digits => {
                        update(&mut groups, sign, number as i32);
                        (sign, digits) = (0, false);
                    }
                    _ => {}
                }
            }
        }
        end(&groups);
        libc::_exit(0)
    }
}

fn update(groups: &mut [i32; MAX_GROUPS], sign: u8, pgid: i32) {
    let slot = match sign {
        b'+' => groups.iter_mut().find(|g| **g == 0),
        b'-' => groups.iter_mut().find(|g| **g == pgid),
        _ => None,
    };
    if let Some(slot) = slot {
        *slot = if sign == b'+' { pgid } else { 0 };
    }
}

/// SIGTERM to every registered group, up to [`GRACE_MS`] for them to go, then SIGKILL.
fn end(groups: &[i32; MAX_GROUPS]) {
    let live = || groups.iter().filter(|&&g| g > 0);
    // SAFETY: signalling process groups fixproof registered.
    let alive = |g: i32| unsafe { libc::kill(-g, 0) } == 0;
    for &g in live() {
        // SAFETY: as above.
        unsafe { libc::kill(-g, libc::SIGTERM) };
    }
    let step = libc::timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    for _ in 0..GRACE_MS / 50 {
        if !live().any(|&g| alive(g)) {
            return;
        }
        // SAFETY: sleeping on a valid timespec.
        unsafe { libc::nanosleep(&step, std::ptr::null_mut()) };
    }
    for &g in live() {
        // SAFETY: as above.
        unsafe { libc::kill(-g, libc::SIGKILL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_and_go() {
        let mut groups = [0; MAX_GROUPS];
        update(&mut groups, b'+', 41);
        update(&mut groups, b'+', 42);
        update(&mut groups, b'-', 41);
        update(&mut groups, b'-', 7);
        let live: Vec<i32> = groups.iter().copied().filter(|&g| g > 0).collect();
        assert_eq!(live, [42]);
    }
}
