//! The service under test as a child process: its own process group, its output captured to a
//! log file with a bounded tail kept in memory, readiness lines watched, and a teardown that
//! always ends the whole group (SIGTERM, a grace period, then SIGKILL).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// Lines of output kept in memory for error messages.
const TAIL_LINES: usize = 40;
/// Lines of output whose arrival time is kept (16 bytes each), for a verdict's evidence.
const TIMED_LINES: usize = 200_000;

/// When the lines of a service's log arrived, in Unix milliseconds: element `i` is line `i`
/// (from 0), for the first 200 000 lines.
pub type LineTimes = Arc<Mutex<Vec<u64>>>;

/// What to start.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    /// Variables removed from the inherited environment (e.g. every `MIRRORD_*`).
    pub env_remove: Vec<String>,
    pub log: PathBuf,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited by itself with this code (128 + N for signal N).
    Exited(i32),
    /// It stopped after SIGTERM.
    Terminated,
    /// It had to be killed.
    Killed,
}

/// A running service.
pub struct ServiceProcess {
    child: Child,
    pgid: i32,
    tail: Arc<Mutex<VecDeque<String>>>,
    /// Set once a line equal to (or containing) the readiness marker appeared on stdout.
    ready: watch::Receiver<bool>,
    pub log: PathBuf,
    times: LineTimes,
}

impl ServiceProcess {
    /// Spawns `launch` in a new process group; `ready_marker` is looked for in each stdout line.
    ///
    /// # Errors
    /// When the program cannot be started or the log cannot be created.
    pub async fn spawn(
        launch: &Launch,
        ready_marker: Option<&str>,
    ) -> std::io::Result<ServiceProcess> {
        let log = tokio::fs::File::create(&launch.log).await?;
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .current_dir(&launch.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.process_group(0).kill_on_drop(true);
        for name in &launch.env_remove {
            command.env_remove(name);
        }
        command.envs(launch.env.iter().map(|(k, v)| (k, v)));
        let mut child = command.spawn()?;
        let pgid = child.id().map_or(0, |id| id as i32);
        super::watchdog::watch_group(pgid);
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let times = LineTimes::default();
        let log = Arc::new(tokio::sync::Mutex::new(log));
        let (ready_tx, ready) = watch::channel(ready_marker.is_none());
        let marker = ready_marker.map(str::to_string);
        if let Some(stdout) = child.stdout.take() {
            let out = Output {
                log: log.clone(),
                tail: tail.clone(),
                times: times.clone(),
            };
            tokio::spawn(pump(stdout, "", out, marker.map(|m| (m, ready_tx))));
        }
        if let Some(stderr) = child.stderr.take() {
            let out = Output {
                log,
                tail: tail.clone(),
                times: times.clone(),
            };
            tokio::spawn(pump(stderr, "stderr| ", out, None));
        }
        Ok(ServiceProcess {
            child,
            pgid,
            tail,
            ready,
            log: launch.log.clone(),
            times,
        })
    }

    /// When each line of its log arrived.
    pub fn line_times(&self) -> LineTimes {
        self.times.clone()
    }

    /// The process group (the child's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The last lines the service printed.
    pub fn tail(&self) -> String {
        self.tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// The exit code when the child has already ended.
    pub fn try_exited(&mut self) -> Option<i32> {
        self.child.try_wait().ok().flatten().map(exit_code_of)
    }

    /// Waits until the readiness marker appears; `false` if stdout closed first.
    pub async fn wait_marker(&mut self) -> bool {
        self.ready.wait_for(|ready| *ready).await.is_ok()
    }

    /// SIGTERM to the group, up to `grace` to exit, then SIGKILL to the group.
    pub async fn shutdown(mut self, grace: Duration) -> Ended {
        if let Some(code) = self.try_exited() {
            signal_group(self.pgid, libc::SIGKILL);
            return Ended::Exited(code);
        }
        signal_group(self.pgid, libc::SIGTERM);
        let ended = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(_) => Ended::Terminated,
            Err(_) => {
                signal_group(self.pgid, libc::SIGKILL);
                let _ = self.child.wait().await;
                Ended::Killed
            }
        };
        // Whatever the service started and left behind in its group goes too.
        signal_group(self.pgid, libc::SIGKILL);
        ended
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        // The last line of defence (a panic, an early return): no process outlives fixproof.
        signal_group(self.pgid, libc::SIGKILL);
        super::watchdog::forget_group(self.pgid);
    }
}

/// SIGKILL to the process group `pgid` (a child spawned with `process_group(0)`).
pub fn kill_group(pgid: i32) {
    signal_group(pgid, libc::SIGKILL);
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: signalling a process group we created; a vanished group returns ESRCH.
        unsafe { libc::kill(-pgid, signal) };
    }
}

fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// Where a pump puts what it reads.
struct Output {
    log: Arc<tokio::sync::Mutex<tokio::fs::File>>,
    tail: Arc<Mutex<VecDeque<String>>>,
    times: LineTimes,
}

/// Now, in Unix milliseconds.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn pump(
    stream: impl AsyncRead + Unpin,
    prefix: &'static str,
    out: Output,
    mut marker: Option<(String, watch::Sender<bool>)>,
) {
    let Output { log, tail, times } = out;
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some((text, tx)) = &marker {
            if line.contains(text.as_str()) {
                let _ = tx.send(true);
                marker = None;
            }
        }
        {
            // Timed under the log's lock: the two pumps' lines stay in the file's order.
            let mut file = log.lock().await;
            let _ = file.write_all(format!("{prefix}{line}\n").as_bytes()).await;
            if let Ok(mut times) = times.lock() {
                if times.len() < TIMED_LINES {
                    times.push(unix_ms());
                }
            }
        }
        if let Ok(mut tail) = tail.lock() {
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(format!("{prefix}{line}"));
        }
    }
    let _ = log.lock().await.flush().await;
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
///
/// # Errors
/// When no port can be bound.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The log file of an arm in the results directory.
pub fn log_path(results: &Path, arm: &str) -> PathBuf {
    results.join(format!("{arm}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(script: &str, log: &Path) -> Launch {
        Launch {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            dir: std::env::temp_dir(),
            env: vec![("GREETING".into(), "hello".into())],
            env_remove: vec![],
            log: log.to_path_buf(),
        }
    }

    #[tokio::test]
    async fn output_is_logged_and_readiness_seen() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        let mut p = ServiceProcess::spawn(
            &launch(
                "echo $GREETING; echo ready now; echo oops >&2; sleep 30",
                &log,
            ),
            Some("ready"),
        )
        .await
        .unwrap();
        assert!(p.wait_marker().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(p.tail().contains("stderr| oops"), "{}", p.tail());
        assert_eq!(p.shutdown(Duration::from_secs(2)).await, Ended::Terminated);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with("hello\nready now\n"), "{text}");
    }

    #[tokio::test]
    async fn a_child_that_ignores_sigterm_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!(
            "trap '' TERM; sleep 60 & echo $! > {}; wait",
            pidfile.display()
        );
        let p = ServiceProcess::spawn(&launch(&script, &dir.path().join("b.log")), None)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let grandchild: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(p.shutdown(Duration::from_millis(300)).await, Ended::Killed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Gone, or a zombie waiting for init to reap it.
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let alive = stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'));
        assert!(!alive, "the grandchild outlived the teardown: {stat}");
    }

    #[tokio::test]
    async fn an_early_exit_is_reported_with_its_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = ServiceProcess::spawn(
            &launch("echo boom >&2; exit 3", &dir.path().join("c.log")),
            Some("never"),
        )
        .await
        .unwrap();
        assert!(!p.wait_marker().await, "stdout closed without the marker");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(p.try_exited(), Some(3));
        assert!(p.tail().contains("boom"));
    }
}
