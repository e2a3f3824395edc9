//! Signals from CI systems, Kubernetes and terminals: SIGINT, SIGTERM and SIGHUP mid-load all
//! stop the load, tear the services down and remove the worktrees, with the signal's exit
//! code; a second signal exits at once; and when fixproof is killed outright, its watchdog
//! ends the services and the next run removes the worktrees it left.

use crate::util::binary;
use crate::verify::Fixture;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// `verify` of one patch for 60 s, each service's pid appended to `pids` as it starts; a
/// `stubborn` service ignores SIGTERM, so that its teardown waits out the grace period.
fn start(f: &Fixture, pids: &Path, stubborn: bool) -> Child {
    let command = format!(
        "echo $$ >> {}; {}exec {} demo-service checkout",
        pids.display(),
        if stubborn { "trap '' TERM; " } else { "" },
        env!("CARGO_BIN_EXE_fixproof")
    );
    binary()
        .args(["verify", "--scenario", &f.path("checkout-errors.json")])
        .args(["--repo", &f.path("repo"), "--duration", "60s"])
        .args(["--results-dir", &f.path("results")])
        .args(["--patch", &f.path("guard-address.diff")])
        .args(["--", "sh", "-c", &command])
        .env(
            "FIXPROOF_DEMO_PRICING",
            format!("127.0.0.1:{}", f.pricing.1),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the first service runs and the load has gone on for a moment.
fn mid_load(pids: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pids.exists() {
        assert!(Instant::now() < deadline, "the service never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
}

/// Every service that started is gone (or a zombie waiting for init), within `within`.
fn services_gone(pids: &Path, within: Duration) {
    let deadline = Instant::now() + within;
    for pid in std::fs::read_to_string(pids).unwrap().lines() {
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| !stat.contains(") Z"))
        };
        while alive() {
            assert!(Instant::now() < deadline, "service {pid} outlived fixproof");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn pids_file(f: &Fixture, name: &str) -> PathBuf {
    f.dir.path().join(name)
}

#[test]
fn sigint_sigterm_and_sighup_stop_everything_with_their_exit_codes() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    for (sig, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        let pids = pids_file(&f, &format!("pids-{sig}"));
        let child = start(&f, &pids, false);
        mid_load(&pids);
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "signal {sig}: {stderr}");
        assert!(
            stderr.contains("stopping the load and the services"),
            "{stderr}"
        );
        // The load was stopped and drained: its partial artifact is kept.
        assert!(stderr.contains("invalid: interrupted"), "{stderr}");
        services_gone(&pids, Duration::from_secs(1));
        assert_eq!(f.worktrees(), 1, "signal {sig}: worktrees left behind");
    }
    // A second signal does not wait for the teardown (here the grace period of a service
    // that ignores SIGTERM).
    let pids = pids_file(&f, "pids-twice");
    let child = start(&f, &pids, true);
    mid_load(&pids);
    signal(&child, libc::SIGTERM);
    // Pending together, the kernel would deliver the lower-numbered SIGINT first.
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("SIGINT after SIGTERM: killing the services"),
        "{stderr}"
    );
    services_gone(&pids, Duration::from_secs(1));
    // Exiting at once leaves the worktrees for the next run's sweep: this test removes them,
    // folder and all, so that none stays in the temporary directory.
    let listed = crate::third_party::git(
        Path::new(&f.path("repo")),
        &["worktree", "list", "--porcelain"],
    );
    for path in listed
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .skip(1)
    {
        crate::third_party::git(
            Path::new(&f.path("repo")),
            &["worktree", "remove", "--force", path],
        );
        if let Some(folder) = Path::new(path).parent() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
    assert_eq!(f.worktrees(), 1);
}

#[test]
fn a_fixproof_killed_outright_leaves_no_service_and_its_worktrees_go_with_the_next_run() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let pids = pids_file(&f, "pids");
    let mut child = start(&f, &pids, false);
    mid_load(&pids);
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    // The watchdog's SIGTERM, and its SIGKILL 2 s later at worst.
    services_gone(&pids, Duration::from_secs(5));
    assert_eq!(
        f.worktrees(),
        3,
        "the killed run could not remove its worktrees"
    );
    // The next run on the same repository removes them and says so (here a patch that does
    // not apply ends it early).
    std::fs::write(
        f.dir.path().join("bad.diff"),
        "--- a/nope\n+++ b/nope\n@@ -1 +1 @@\n-x\n+y\n",
    )
    .unwrap();
    let out = binary()
        .args(["verify", "--scenario", &f.path("checkout-errors.json")])
        .args([
            "--repo",
            &f.path("repo"),
            "--results-dir",
            &f.path("results"),
        ])
        .args(["--patch", &f.path("bad.diff"), "--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("removed 2 worktree(s) that an earlier run (pid")
            && stderr.contains("when it was killed"),
        "{stderr}"
    );
    assert_eq!(f.worktrees(), 1);
}
