//! `verify` on services fixproof was not written against, the way users run it: a Python
//! standard-library checkout service calling a slow-tailed Python pricing service, on the same
//! two cores as the driver, with a CPU-burning process beside them, at tens of requests per
//! second. Three patches an AI-SRE might propose: a timeout that lets the error through, a
//! timeout too long to matter, and a timeout with a fallback price (a file-set JSON patch).

use crate::util::{binary, s};
use crate::verify::outcome;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/python");

/// A child process killed on drop.
pub(crate) struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn python(script: &str, port: Option<u16>) -> Killed {
    let mut command = Command::new("python3");
    command
        .arg(Path::new(FIXTURES).join(script))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(port) = port {
        command.env("PORT", port.to_string());
    }
    let child = Killed(command.spawn().expect("python3 runs the test peers"));
    if let Some(port) = port {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{script} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    child
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

const CALL: &str = r#"urllib.request.urlopen(f"{PRICING}/price/{item}")"#;

/// The repository with the checkout service, and the three patches beside it.
pub(crate) struct Case {
    dir: tempfile::TempDir,
    _pricing: Killed,
    pricing_port: u16,
}

impl Case {
    pub(crate) fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        let original = std::fs::read_to_string(Path::new(FIXTURES).join("checkout.py")).unwrap();
        std::fs::write(repo.join("checkout.py"), &original).unwrap();
        git(&repo, &["init", "--quiet"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "--quiet", "-m", "checkout"]);
        // Two unified diffs, made by git from edited copies.
        for (name, call) in [
            ("timeout-raise.diff", CALL.replace(")", ", timeout=0.15)")),
            ("timeout-5s.diff", CALL.replace(")", ", timeout=5)")),
        ] {
            std::fs::write(repo.join("checkout.py"), original.replace(CALL, &call)).unwrap();
            std::fs::write(dir.path().join(name), git(&repo, &["diff"])).unwrap();
            git(&repo, &["checkout", "--quiet", "."]);
        }
        // A file-set patch, as MetalBear's verifier's bridge writes one.
        let fallback = original.replace(
            "    with urllib.request.urlopen(f\"{PRICING}/price/{item}\") as response:\n        return json.load(response)[\"price\"]\n",
            "    try:\n        with urllib.request.urlopen(f\"{PRICING}/price/{item}\", timeout=0.15) as response:\n            return json.load(response)[\"price\"]\n    except OSError:\n        return 9.99  # the list price, when pricing is slow\n",
        );
        assert_ne!(fallback, original);
        let patch = json!({
            "files": [{ "path": "checkout.py", "before": original, "after": fallback }],
            "summary": "time out the pricing call after 150 ms and fall back to the list price",
            "hypothesis": "the p99 comes from pricing's slow tail"
        });
        std::fs::write(dir.path().join("fallback.json"), patch.to_string()).unwrap();
        let pricing_port = free_port();
        let pricing = python("pricing.py", Some(pricing_port));
        Case {
            dir,
            _pricing: pricing,
            pricing_port,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn scenario(&self, rate: &str, duration: &str) -> PathBuf {
        let scenario = json!({
            "name": "checkout-p99",
            "http": { "timeout": "3s" },
            "load": { "arrival": "constant", "rate": rate, "duration": duration, "warmup": "1s", "seed": 7 },
            "requests": [{ "name": "checkout", "path": "/checkout/{{random_int(1,500)}}" }],
            "slo": ["p99 < 300ms"]
        });
        crate::util::scenario(self.dir.path(), "checkout-p99", &scenario)
    }

    fn verify(&self, extra: &[&str]) -> (i32, Value, String) {
        self.verify_on(&self.scenario("40/s", "10s"), extra)
    }

    /// `verify` of `scenario` with `extra` flags, on the checkout service.
    pub(crate) fn verify_on(&self, scenario: &Path, extra: &[&str]) -> (i32, Value, String) {
        self.verify_repo(&self.path("repo"), scenario, extra)
    }

    /// `verify_on` of the service in `repo` (run as `python3 checkout.py` there).
    pub(crate) fn verify_repo(
        &self,
        repo: &Path,
        scenario: &Path,
        extra: &[&str],
    ) -> (i32, Value, String) {
        let mut command = binary();
        command
            .args(["verify", "--scenario", s(scenario), "--repo"])
            .arg(repo)
            .arg("--results-dir")
            .arg(self.path("results"))
            .args(extra)
            .args(["--", "python3", "checkout.py"])
            .env(
                "PRICING_URL",
                format!("http://127.0.0.1:{}", self.pricing_port),
            );
        outcome(command.output().unwrap())
    }

    fn results(&self) -> PathBuf {
        std::fs::read_dir(self.path("results"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    }
}

pub(crate) fn verdict_of<'a>(json: &'a Value, label: &str) -> &'a Value {
    json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["arms"]["candidate"]["label"] == label)
        .unwrap_or_else(|| panic!("no verdict labelled {label}: {json:#}"))
}

#[test]
fn a_python_service_beside_a_cpu_hog_gets_the_right_three_verdicts_by_name() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let _hog = python("burn.py", None);
    let patches = ["timeout-raise.diff", "timeout-5s.diff", "fallback.json"];
    let mut args: Vec<String> = Vec::new();
    for p in patches {
        args.extend(["--patch".into(), s(&case.path(p)).to_string()]);
    }
    args.extend(["--label".into(), "timeout-with-fallback".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, json, stderr) = case.verify(&args);
    assert_eq!(code, 0, "the best candidate passes: {stderr}");
    assert!(
        stderr.contains("downstreams will see up to 40 req/s in total (one arm at a time)"),
        "{stderr}"
    );
    let raise = verdict_of(&json, "timeout-raise");
    assert_eq!(raise["verdict"], "reject", "{stderr}");
    assert!(
        raise["summary"]
            .as_str()
            .unwrap()
            .contains("error rate rose from 0 %"),
        "{}",
        raise["summary"]
    );
    let long = verdict_of(&json, "timeout-5s");
    assert_eq!(long["verdict"], "reject", "{stderr}");
    assert_eq!(long["slo"][0]["status"], "violated");
    let fallback = verdict_of(&json, "timeout-with-fallback");
    assert_eq!(fallback["verdict"], "pass", "{stderr}");
    // Every run was valid, and the verdicts name their patches.
    for v in json["verdicts"].as_array().unwrap() {
        for role in ["baseline", "candidate"] {
            assert_eq!(
                v["arms"][role]["valid"], true,
                "{role}: {:#}",
                v["arms"][role]
            );
        }
    }
    let patch = &fallback["arms"]["candidate"]["patch"];
    assert_eq!(patch["format"], "files");
    assert_eq!(patch["path"], s(&case.path("fallback.json")));
    assert_eq!(patch["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        patch["hypothesis"],
        "the p99 comes from pricing's slow tail"
    );
    assert_eq!(raise["arms"]["candidate"]["patch"]["format"], "diff");
    assert_eq!(json["ranking"][0]["label"], "timeout-with-fallback");
    let results = case.results();
    for name in [
        "timeout-raise.json",
        "timeout-5s.log",
        "timeout-with-fallback.json",
        "baseline.json",
    ] {
        assert!(
            results.join(name).exists(),
            "{name} in {}",
            results.display()
        );
    }
    let report = std::fs::read_to_string(results.join("report.md")).unwrap();
    assert!(
        report.contains("summary: time out the pricing call after 150 ms"),
        "{report}"
    );

    // The same runs with the baseline's marked invalid (slots missed): a candidate whose own
    // valid run violates the absolute SLO is still rejected, and one that meets it is not
    // passed on an invalid baseline.
    let mut baseline: Value =
        serde_json::from_slice(&std::fs::read(results.join("baseline.json")).unwrap()).unwrap();
    baseline["validity"]["valid"] = json!(false);
    baseline["validity"]["problems"] = json!(["40 slots missed: no free connection"]);
    let invalid = case.path("invalid-baseline.json");
    std::fs::write(&invalid, baseline.to_string()).unwrap();
    let compare = |candidate: &str| {
        outcome(
            binary()
                .args(["compare", "--slo", "p99 < 300ms", "--format", "json", "-b"])
                .arg(&invalid)
                .arg("-c")
                .arg(results.join(candidate))
                .output()
                .unwrap(),
        )
    };
    let (code, v, stderr) = compare("timeout-5s.json");
    assert_eq!(
        (code, v["verdict"].as_str()),
        (1, Some("reject")),
        "{stderr}"
    );
    let reasons: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    // The candidate stopped once decided: the fixed design may also find its p99 short of
    // requests for a bound, which does not change the reject either.
    assert_eq!(reasons[..2], ["slo_violated", "invalid_arm"], "{reasons:?}");
    let (code, v, stderr) = compare("timeout-with-fallback.json");
    assert_eq!(
        (code, v["verdict"].as_str()),
        (2, Some("inconclusive")),
        "{stderr}"
    );
}

#[test]
fn a_baseline_whose_errors_run_away_is_judged_and_reproduces_the_alert() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    // Pricing is not there: every checkout of the baseline is a 500; the fallback candidate
    // answers the list price.
    let scenario = case.scenario("100/s", "6s");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut command = binary();
    command
        .args(["verify", "--scenario", s(&scenario), "--repo"])
        .arg(case.path("repo"))
        .arg("--patch")
        .arg(case.path("fallback.json"))
        .args(["--slo", "error_rate < 5%", "--arms", "concurrent"])
        // A p99 guard, so the brake waits for the 299 requests its bound needs; a wide one, as
        // the p99 of a stopped arm's few hundred requests is often unresolved against 10 %,
        // and this test is about the stop, not the tail.
        .args(["--guard", "p99 <= baseline + max(50%, 50ms)"])
        .arg("--results-dir")
        .arg(case.path("results"))
        .args(["--", "python3", "checkout.py"])
        .env("PRICING_URL", &dead);
    let (code, json, stderr) = outcome(command.output().unwrap());
    // The baseline ran away (every call fails) and was stopped, yet judged: it reproduces the
    // error-rate alert. The fallback candidate answers the list price: its errors are gone.
    assert!(stderr.contains("baseline: was stopped early"), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verdict"], "pass", "{json:#}");
    assert_eq!(json["slo"][0]["reproduced"], true);
    assert_eq!(json["arms"]["baseline"]["valid"], true, "{json:#}");
    assert!(
        json["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("the baseline was stopped early")),
        "{json:#}"
    );
    assert!(
        stderr.contains("up to 200 req/s in total (2 arms at once at up to 100 req/s each)"),
        "{stderr}"
    );
}

#[test]
fn concurrent_arms_are_capped_in_total() {
    let case = Case::new();
    let scenario = case.scenario("40/s", "10s");
    let run = |extra: &[&str]| {
        let mut command = binary();
        command
            .args(["verify", "--scenario", s(&scenario), "--repo"])
            .arg(case.path("repo"))
            .args(["--patch", s(&case.path("timeout-5s.diff"))])
            .args(["--patch", s(&case.path("fallback.json"))])
            .args(extra)
            .arg("--results-dir")
            .arg(case.path("results"))
            .args(["--", "python3", "checkout.py"]);
        outcome(command.output().unwrap())
    };
    let (code, _, stderr) = run(&["--arms", "concurrent", "--max-rate", "100/s"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("the arms would send 120 req/s in total, above --max-rate 100/s"),
        "{stderr}"
    );
    assert!(stderr.contains("concurrent arms add up"), "{stderr}");
    // 3 arms × 440 requests (warm-up included).
    let (code, _, stderr) = run(&["--arms", "alternating", "--max-requests", "1000"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("the arms would send 1,320 requests in total, above --max-requests 1000"),
        "{stderr}"
    );
    assert!(!case.path("results").exists(), "nothing ran");
}
