//! `fixproof verify` end to end with the local backend: the bundled checkout service in a git
//! repository the test creates, real `git apply`, real load, real verdicts.

use crate::util::{binary, s};
use fixproof::demo::bundle::{CASES, create_repo};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The pricing downstream, killed on drop.
pub struct Pricing(Child, pub u16);

impl Pricing {
    pub fn start() -> Pricing {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = binary()
            .args(["demo-service", "pricing"])
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pricing did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Pricing(child, port)
    }
}

impl Drop for Pricing {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub pricing: Pricing,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("repo")).unwrap();
        create_repo(&dir.path().join("repo")).unwrap();
        for case in CASES {
            std::fs::write(
                dir.path().join(format!("{}.json", case.name)),
                case.scenario,
            )
            .unwrap();
            for (name, _, diff) in case.patches {
                std::fs::write(dir.path().join(name), diff).unwrap();
            }
        }
        Fixture {
            dir,
            pricing: Pricing::start(),
        }
    }

    pub fn path(&self, name: &str) -> String {
        s(&self.dir.path().join(name)).to_string()
    }

    /// `fixproof verify` on the errors scenario for 4 s per arm (400 requests: enough for p99),
    /// with `extra` arguments, ready to run.
    pub fn command(&self, extra: &[&str], command: &[&str]) -> Command {
        let base = [
            "verify",
            "--scenario",
            &self.path("checkout-errors.json"),
            "--repo",
            &self.path("repo"),
            "--duration",
            "4s",
            "--warmup",
            "0s",
            "--results-dir",
            &self.path("results"),
            // Guards wide enough for a busy two-core machine; the slow patch's +25 ms still
            // regresses. The demo test covers the default guards.
            "--guard",
            "error_rate <= baseline + 1pp",
            "--guard",
            "p50 <= baseline + max(50%, 10ms)",
        ];
        let mut verify = binary();
        verify
            .args(base.iter().chain(extra).chain(&["--"]).chain(command))
            .env(
                "FIXPROOF_DEMO_PRICING",
                format!("127.0.0.1:{}", self.pricing.1),
            );
        verify
    }

    /// The results folder of the first verification.
    pub fn results_folder(&self) -> std::path::PathBuf {
        std::fs::read_dir(self.dir.path().join("results"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    }

    pub fn worktrees(&self) -> usize {
        let out = Command::new("git")
            .args(["-C", &self.path("repo"), "worktree", "list"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    }
}

pub fn checkout() -> Vec<String> {
    vec![
        env!("CARGO_BIN_EXE_fixproof").to_string(),
        "demo-service".into(),
        "checkout".into(),
    ]
}

fn run(fixture: &Fixture, extra: &[&str], command: &[String]) -> (i32, serde_json::Value, String) {
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    outcome(fixture.command(extra, &command).output().unwrap())
}

/// Exit code, the verdict JSON on stdout (`null` when there is none) and stderr.
pub fn outcome(output: Output) -> (i32, serde_json::Value, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap_or(-1), json, stderr)
}

#[test]
fn several_patches_pass_and_reject_and_every_worktree_goes() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    // The first patch from standard input (labelled `stdin`), the second labelled `baseline`,
    // which the baseline has: it becomes `baseline-2`.
    let mut command = f.command(
        &[
            "--patch",
            "-",
            "--patch",
            &f.path("guard-address-slow.diff"),
            "--label",
            "baseline",
        ],
        &checkout().iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let diff = std::fs::read(f.path("guard-address.diff")).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &diff).unwrap();
    let (code, json, stderr) = outcome(child.wait_with_output().unwrap());
    assert_eq!(code, 0, "{stderr}");
    let verdicts = json["verdicts"].as_array().unwrap();
    assert_eq!(verdicts[0]["verdict"], "pass", "{stderr}");
    assert_eq!(verdicts[1]["verdict"], "reject", "{stderr}");
    assert_eq!(json["ranking"][0]["label"], "stdin");
    assert_eq!(verdicts[0]["arms"]["candidate"]["patch"]["path"], "stdin");
    assert_eq!(verdicts[1]["arms"]["candidate"]["label"], "baseline-2");
    assert_eq!(f.worktrees(), 1, "worktrees left behind");
    // Every artifact, log, verdict and report is in the results folder.
    let results = f.results_folder();
    for name in [
        "baseline.json",
        "stdin.json",
        "baseline-2.json",
        "baseline.log",
        "baseline-2.log",
        "verdict.json",
        "report.md",
        "report.html",
    ] {
        assert!(
            results.join(name).exists(),
            "{name} missing in {}",
            results.display()
        );
    }
    // The HTML report found the artifacts it plots.
    let html = std::fs::read_to_string(results.join("report.html")).unwrap();
    assert!(html.contains("id=\"plot-percentiles\""), "{html}");
    assert!(!html.contains("is not plotted"), "{html}");
    // The user's checkout is untouched.
    let config = std::fs::read_to_string(f.dir.path().join("repo/checkout.json")).unwrap();
    assert!(config.contains("\"missing_address\": \"raise\""));
}

#[test]
fn labels_must_follow_their_patch_and_bad_file_patches_are_exit_65() {
    let f = Fixture::new();
    let (code, _, stderr) = run(
        &f,
        &["--label", "x", "--patch", &f.path("guard-address.diff")],
        &checkout(),
    );
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("--label x comes before any --patch"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&f, &["--patch", "-", "--patch", "-"], &checkout());
    assert_eq!(code, 64, "{stderr}");
    // A file-set patch written against another version of the file, and one that reaches
    // out of the repository: refused before any arm runs, nothing left behind.
    let before = std::fs::read_to_string(f.dir.path().join("repo/checkout.json")).unwrap();
    for (name, path, before, why) in [
        (
            "drifted.json",
            "checkout.json",
            before.replace("raise", "ignore"),
            "the patch was written against another version of checkout.json",
        ),
        (
            "escape.json",
            "../outside.txt",
            String::new(),
            "would leave the repository",
        ),
    ] {
        let patch = serde_json::json!({"files": [{"path": path, "before": before, "after": "{}"}]});
        std::fs::write(f.dir.path().join(name), patch.to_string()).unwrap();
        let (code, _, stderr) = run(&f, &["--patch", &f.path(name)], &checkout());
        assert_eq!(code, 65, "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
    }
    assert!(!f.dir.path().join("outside.txt").exists());
    assert_eq!(f.worktrees(), 1);
}

#[test]
fn a_patch_that_does_not_apply_is_exit_65_with_gits_message() {
    let f = Fixture::new();
    std::fs::write(
        f.dir.path().join("bad.diff"),
        "--- a/checkout.json\n+++ b/checkout.json\n@@ -1,1 +1,1 @@\n-nothing like this\n+x\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&f, &["--patch", &f.path("bad.diff")], &checkout());
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("bad.diff does not apply") && stderr.contains("patch failed"),
        "{stderr}"
    );
    assert_eq!(f.worktrees(), 1);
}

/// The patch that sets the checkout's pricing timeout to `value` (JSON).
fn pricing_timeout(value: &str) -> String {
    format!(
        "--- a/checkout.json\n+++ b/checkout.json\n@@ -1,5 +1,5 @@\n {{\n   \"service\": \"checkout\",\n-  \"pricing_timeout_ms\": null,\n+  \"pricing_timeout_ms\": {value},\n   \"on_pricing_timeout\": \"error\",\n   \"missing_address\": \"raise\",\n"
    )
}

#[test]
fn a_candidate_that_crashes_is_rejected_with_its_output() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    std::fs::write(
        f.dir.path().join("broken.diff"),
        pricing_timeout("\"soon\""),
    )
    .unwrap();
    let (code, json, stderr) = run(&f, &["--patch", &f.path("broken.diff")], &checkout());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(json["verdict"], "reject");
    assert_eq!(json["reasons"][0]["code"], "candidate_unavailable");
    assert!(
        json["feedback"].as_str().unwrap().contains("checkout.json"),
        "{}",
        json["feedback"]
    );
}

#[test]
fn a_candidate_whose_errors_run_away_is_stopped_early_and_rejected() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    // A 1 ms timeout on the pricing call that errors out: nearly every order fails.
    std::fs::write(f.dir.path().join("failing.diff"), pricing_timeout("1")).unwrap();
    let (code, json, stderr) = run(&f, &["--patch", &f.path("failing.diff")], &checkout());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(json["verdict"], "reject", "{json:#}");
    assert_eq!(json["reasons"][0]["code"], "candidate_ran_away");
    let summary = json["summary"].as_str().unwrap();
    assert!(summary.contains("was stopped early"), "{summary}");
    assert!(
        json["feedback"]
            .as_str()
            .unwrap()
            .contains("find why (its log and partial artifact show which requests)"),
        "{}",
        json["feedback"]
    );
    // The partial artifact is kept, stopped on purpose (not interrupted) long before the
    // plan's 400 requests, and judged on what it sent: its error rate is in the verdict.
    let results = std::fs::read_dir(f.dir.path().join("results")).unwrap();
    let run_dir = results.flatten().next().unwrap().path();
    let artifact = crate::util::read(&run_dir.join("failing.json"));
    assert!(!artifact.run.interrupted);
    let stopped = artifact.run.stopped.as_ref().unwrap();
    assert_eq!(stopped.reason, "error_rate_ran_away");
    assert!(artifact.validity.valid, "{:?}", artifact.validity.problems);
    assert!(
        artifact.counts.planned < artifact.plan.planned,
        "planned until the stop"
    );
    assert_eq!(json["arms"]["candidate"]["label"], "failing");
    assert!(
        json["slo"][0]["candidate"]["value"].as_f64().unwrap() > 0.5,
        "{json:#}"
    );
    assert!(
        artifact.counts.sent < artifact.plan.planned / 2,
        "{} of {}",
        artifact.counts.sent,
        artifact.plan.planned
    );
    // The same patch with the brake off runs to the end.
    let (code, json, _) = run(
        &f,
        &[
            "--patch",
            &f.path("failing.diff"),
            "--stop-error-rate",
            "off",
        ],
        &checkout(),
    );
    assert_eq!((code, &json["verdict"]), (1, &serde_json::json!("reject")));
    assert_ne!(json["reasons"][0]["code"], "candidate_ran_away", "{json:#}");
}

#[test]
fn a_baseline_that_never_gets_ready_is_exit_69() {
    let f = Fixture::new();
    let (code, _, stderr) = run(
        &f,
        &[
            "--patch",
            &f.path("guard-address.diff"),
            "--ready-timeout",
            "1s",
        ],
        &["sh".into(), "-c".into(), "echo starting; sleep 30".into()],
    );
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("not ready after") && stderr.contains("starting"),
        "{stderr}"
    );
    assert_eq!(f.worktrees(), 1);
}

#[test]
fn repro_scripts_decide_by_their_exit_code() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    // Fails (exit 1) while a checkout without an address answers 500.
    let script = r#"host=${FIXPROOF_URL#http://}; exec 3<>/dev/tcp/${host%:*}/${host#*:}
printf 'POST /checkout HTTP/1.1\r\nhost: x\r\n%s\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}' "$FIXPROOF_HEADER" >&3
read -r _ status _ <&3; echo "status $status"; [ "$status" != 500 ]"#;
    std::fs::write(f.dir.path().join("repro.sh"), script).unwrap();
    let repro = format!("bash {}", f.path("repro.sh"));
    let (code, json, stderr) = run(
        &f,
        &["--patch", &f.path("guard-address.diff"), "--repro", &repro],
        &checkout(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["outcome"], "fixed");
    assert_eq!(json["baseline"]["bug_present"], true);
    assert!(
        json["baseline"]["output"]
            .as_str()
            .unwrap()
            .contains("status 500")
    );
    let (code, json, _) = run(
        &f,
        &["--patch", &f.path("timeout-2s.diff"), "--repro", &repro],
        &checkout(),
    );
    assert_eq!((code, json["outcome"].as_str()), (1, Some("still_failing")));
}

#[test]
fn alternating_arms_run_abba_blocks_and_pool_them() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let (code, json, stderr) = run(
        &f,
        &[
            "--patch",
            &f.path("guard-address.diff"),
            "--arms",
            "alternating",
            "--blocks",
            "2",
            // Both blocks of each arm, in ABBA order (sequential looks may stop after one).
            "--sequential",
            "off",
        ],
        &checkout(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verdict"], "pass");
    let results = f.results_folder();
    let read = |name: &str| fixproof::load::RunArtifact::read(&results.join(name)).unwrap();
    let (b1, b2, c1, c2) = (
        read("baseline.block1.json"),
        read("baseline.block2.json"),
        read("guard-address.block1.json"),
        read("guard-address.block2.json"),
    );
    // A B, then B A.
    assert!(
        b1.run.started_at <= c1.run.started_at
            && c1.run.started_at <= c2.run.started_at
            && c2.run.started_at <= b2.run.started_at
    );
    let pooled = read("baseline.json");
    assert_eq!(pooled.counts.sent, b1.counts.sent + b2.counts.sent);
    assert_eq!(
        b1.plan.seed, c1.plan.seed,
        "both arms see the same requests in a block"
    );
    assert_eq!(f.worktrees(), 1);
}
