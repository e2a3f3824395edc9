//! `fixproof mcp` driven by rmcp's own client, over the server's stdio (`stdio`) and over
//! streamable HTTP (`http`), and by the official Python SDK (`python`), on the demo's
//! checkout projects (`fixproof demo --write-project`): the tools listed and every answer
//! validated against its tool's output schema, `verify_patch` with progress,
//! `start_verification`/`get_run` to the end, a run cancelled mid-load with no service and no
//! worktree left, a client that goes away, queued runs, and each refusal with its error.

mod http;
mod python;
mod stdio;

use crate::util::binary;
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam, Tool};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
/// The demo's projects in a folder of their own, each service recording its pid.
pub struct Demo {
    pub dir: tempfile::TempDir,
}

impl Demo {
    pub fn new() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let out = binary()
            .args(["demo", "--write-project"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let demo = Demo { dir };
        let pids = demo.pids();
        let command = format!(
            "echo $$ >> {}; exec {} demo-service checkout",
            pids.display(),
            env!("CARGO_BIN_EXE_fixproof")
        );
        for name in ["checkout-p99", "checkout-errors"] {
            demo.edit(name, name, |p| p["command"] = json!(["sh", "-c", command]));
        }
        // The same project with nothing a call may override.
        demo.edit("checkout-p99", "checkout-locked", |p| {
            p["name"] = json!("checkout-locked");
            p["allow"] = json!({});
        });
        demo
    }

    fn edit(&self, from: &str, to: &str, change: impl FnOnce(&mut Value)) {
        let mut project: Value =
            serde_json::from_slice(&std::fs::read(self.project(from)).unwrap()).unwrap();
        change(&mut project);
        std::fs::write(
            self.project(to),
            serde_json::to_vec_pretty(&project).unwrap(),
        )
        .unwrap();
    }

    pub fn project(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.project.json"))
    }

    pub fn patch(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("patches").join(name)).unwrap()
    }

    pub fn pids(&self) -> PathBuf {
        self.dir.path().join("pids")
    }

    pub fn project_args(&self) -> Vec<String> {
        ["checkout-p99", "checkout-errors", "checkout-locked"]
            .iter()
            .flat_map(|n| {
                [
                    "--project".to_string(),
                    self.project(n).display().to_string(),
                ]
            })
            .collect()
    }

    /// Worktrees of the demo repository besides its own.
    pub fn worktrees(&self) -> usize {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(self.dir.path().join("repo"))
            .args(["worktree", "list"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count() - 1
    }

    /// Every service that started is gone (or a zombie), within `within`.
    pub fn services_gone(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let pids = std::fs::read_to_string(self.pids()).unwrap_or_default();
        for pid in pids.lines() {
            let alive = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| !stat.contains(") Z"))
            };
            while alive() {
                assert!(Instant::now() < deadline, "service {pid} outlived its run");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A client that keeps the progress messages it receives.
#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress
            .lock()
            .unwrap()
            .push(params.message.unwrap_or_default());
    }
}

pub type Client = RunningService<RoleClient, Recorder>;

pub async fn stdio(demo: &Demo) -> (Client, Recorder) {
    let recorder = Recorder::default();
    let args = demo.project_args();
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_fixproof")).configure(|c| {
        c.arg("mcp").args(&args).stderr(std::process::Stdio::null());
    });
    let client = recorder
        .clone()
        .serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap();
    (client, recorder)
}

/// Calls `tool`; its structured answer, validated against `tools`' output schema.
pub async fn call(client: &Client, tools: &[Tool], tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap();
    if result.is_error != Some(true) {
        let schema = tools
            .iter()
            .find(|t| t.name == tool)
            .unwrap()
            .output_schema
            .clone()
            .unwrap();
        let validator = jsonschema::validator_for(&Value::Object((*schema).clone())).unwrap();
        let content = result
            .structured_content
            .clone()
            .expect("structured content");
        let errors: Vec<String> = validator
            .iter_errors(&content)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{tool}: {}", errors.join("; "));
    }
    result
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn refused(result: &CallToolResult, says: &str) {
    assert_eq!(result.is_error, Some(true), "{}", text(result));
    assert!(text(result).contains(says), "{}", text(result));
}

/// Runs `body` on a runtime of its own, one heavy test at a time.
pub fn serially(body: impl std::future::Future<Output = ()>) {
    let _serial = crate::util::one_at_a_time();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(body);
}

/// The run id of `start_verification`'s answer.
pub fn run_id(answer: CallToolResult) -> String {
    answer.structured_content.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Starts a run that would take a minute (50 requests/s on checkout-errors) and waits until
/// its load flows; returns its id.
pub async fn start_long_run(client: &Client, tools: &[Tool], demo: &Demo) -> String {
    let patch = demo.patch("guard-address.diff");
    let args =
        json!({ "project": "checkout-errors", "patches": [{ "text": patch }], "rate": "50/s" });
    let run = run_id(call(client, tools, "start_verification", args).await);
    poll(client, tools, &run, |r| {
        r["progress"]["latest"]
            .as_str()
            .is_some_and(|l| l.contains("requests"))
    })
    .await;
    run
}

/// Polls `get_run` until `done` holds of its answer; returns that answer.
pub async fn poll(
    client: &Client,
    tools: &[Tool],
    run: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = call(client, tools, "get_run", json!({ "run_id": run })).await;
        let content = answer.structured_content.unwrap();
        if done(&content) {
            return content;
        }
        assert!(Instant::now() < deadline, "run {run} stuck: {content:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
