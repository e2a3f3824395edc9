//! The mirrord backend against the stand-in `mirrord` (this binary under that name) and a
//! steal proxy standing for the cluster: tagged traffic reaches only the arm, untagged traffic
//! only the deployed copy, and unsafe configs are refused before anything runs.

use crate::cluster::Cluster;
use crate::verify::{Fixture, checkout, outcome};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A folder with `mirrord` → the fixproof binary, to put first on PATH.
fn standin_bin(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if !bin.join("mirrord").exists() {
        std::os::unix::fs::symlink(crate::util::standin(), bin.join("mirrord")).unwrap();
    }
    bin
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn config(dir: &Path, name: &str, value: serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    path.display().to_string()
}

fn steal_config(filter: serde_json::Value) -> serde_json::Value {
    json!({ "target": { "path": "deployment/checkout", "namespace": "shop" },
            "feature": { "network": { "incoming": { "mode": "steal", "http_filter": filter } } } })
}

/// The demo's fixture, a stand-in cluster and a steal config filtered on the run's tag.
fn filtered_setup() -> (Fixture, Cluster, String) {
    let f = Fixture::new();
    let cluster = Cluster::start();
    let cfg = config(
        f.dir.path(),
        "verifier.json",
        steal_config(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
    );
    (f, cluster, cfg)
}

fn verify_mirrord(
    f: &Fixture,
    cluster: &Cluster,
    config: &str,
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    verify_mirrord_with(f, cluster, config, extra, &[])
}

/// `verify_mirrord` with extra environment for the stand-in (its agent's behaviours).
fn verify_mirrord_with(
    f: &Fixture,
    cluster: &Cluster,
    config: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, serde_json::Value, String) {
    let patch = f.path("guard-address.diff");
    let mut args = vec!["--patch", patch.as_str()];
    args.extend(extra);
    run_mirrord(f, cluster, config, &args, env)
}

/// `verify` of the demo's checkout under the stand-in, with `args` naming the candidates.
fn run_mirrord(
    f: &Fixture,
    cluster: &Cluster,
    config: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, serde_json::Value, String) {
    let bin = standin_bin(f.dir.path());
    let mut args = vec![
        "--backend",
        "mirrord",
        "--mirrord-config",
        config,
        "--target",
        "deployment/checkout",
        "--url",
        &cluster.service_url,
    ];
    args.extend(extra);
    let checkout = checkout();
    let command: Vec<&str> = checkout.iter().map(String::as_str).collect();
    let output = f
        .command(&args, &command)
        .env("PATH", path_with(&bin))
        .env("FIXPROOF_STANDIN_CLUSTER", cluster.path())
        .env("MIRRORD_AGENT_TCP_STEAL_TRAFFIC", "false")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    outcome(output)
}

#[test]
fn tagged_traffic_reaches_only_the_arm_and_untagged_only_the_deployed_copy() {
    let _serial = crate::util::one_at_a_time();
    let (f, cluster, cfg) = filtered_setup();
    // Production traffic keeps arriving while the verification runs.
    let stop = Arc::new(AtomicBool::new(false));
    let url = cluster
        .service_url
        .trim_start_matches("http://")
        .to_string();
    let producer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut s) = std::net::TcpStream::connect(&url) {
                    use std::io::{Read, Write};
                    let _ = s.write_all(b"GET / HTTP/1.1\r\nhost: checkout\r\nuser-agent: production\r\nconnection: close\r\n\r\n");
                    let _ = s.read_to_end(&mut Vec::new());
                    sent += 1;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            sent
        })
    };
    let (code, json, stderr) = verify_mirrord(&f, &cluster, &cfg, &[]);
    stop.store(true, Ordering::Relaxed);
    let production = producer.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verdict"], "pass", "{stderr}");
    let routed = cluster.routed();
    let keys: Vec<String> = [
        &json["arms"]["baseline"]["key"],
        &json["arms"]["candidate"]["key"],
    ]
    .iter()
    .map(|k| k.as_str().unwrap().to_string())
    .collect();
    assert!(
        // Both arms' load, each at least the 200 requests a sequential look needs.
        routed.iter().filter(|r| r.tag.is_some()).count() > 400,
        "the load went through the cluster"
    );
    for r in &routed {
        match &r.tag {
            Some(tag) => assert_eq!(
                &r.to, tag,
                "tagged traffic must reach its own arm, never the deployed copy"
            ),
            None => assert_eq!(r.to, "deployed", "untagged traffic must never reach an arm"),
        }
    }
    assert!(routed.iter().filter(|r| r.tag.is_none()).count() >= production.min(10));
    assert!(
        cluster
            .deployed
            .seen()
            .iter()
            .all(|r| r.header("x-verifier-run").is_none())
    );
    assert!(
        keys.iter().all(|k| routed.iter().any(|r| &r.to == k)),
        "both arms received their load"
    );
}

#[test]
fn unsafe_configs_and_a_missing_binary_are_refused_before_anything_runs() {
    let f = Fixture::new();
    let cluster = Cluster::start();
    let dir = f.dir.path();
    let cases = [
        (
            config(
                dir,
                "open.json",
                json!({ "target": "deployment/checkout", "feature": { "network": { "incoming": "steal" } } }),
            ),
            vec![],
            64,
            "without an http_filter",
        ),
        (
            config(
                dir,
                "loose.json",
                steal_config(json!({ "header_filter": "x-verifier-run" })),
            ),
            vec![],
            64,
            "also matches",
        ),
        (
            config(
                dir,
                "ok.json",
                steal_config(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
            ),
            vec!["--arms", "concurrent"],
            64,
            "operator",
        ),
        (
            config(
                dir,
                "ok2.json",
                steal_config(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
            ),
            vec!["--mirrord-bin", "/nonexistent/mirrord"],
            69,
            "install mirrord",
        ),
    ];
    for (cfg, extra, code, message) in cases {
        let (got, _, stderr) = verify_mirrord(&f, &cluster, &cfg, &extra);
        assert_eq!(got, code, "{cfg}: {stderr}");
        assert!(
            stderr.contains(message),
            "{cfg}: expected '{message}' in {stderr}"
        );
    }
    assert!(
        cluster.routed().is_empty(),
        "nothing may run when the config is refused"
    );
    assert_eq!(f.worktrees(), 1);
}

#[test]
fn the_standin_refuses_a_second_session_on_a_target_like_the_open_source_agent() {
    let dir = tempfile::tempdir().unwrap();
    let bin = standin_bin(dir.path());
    let cfg = config(
        dir.path(),
        "c.json",
        steal_config(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
    );
    let mirrord = |key: &str| {
        let mut command = std::process::Command::new(bin.join("mirrord"));
        command
            .args(["exec", "-f", &cfg, "-k", key, "--", "sleep", "3"])
            .env("FIXPROOF_STANDIN_CLUSTER", dir.path())
            .env("MIRRORD_PROGRESS_MODE", "json");
        command
    };
    let mut first = mirrord("k1").stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = mirrord("k2").output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("Detected dirty iptables"));
    first.kill().unwrap();
    let out = first.wait_with_output().unwrap();
    let progress = String::from_utf8_lossy(&out.stdout);
    assert!(
        progress
            .lines()
            .last()
            .unwrap()
            .contains("\"message\":\"Ready!\""),
        "{progress}"
    );
    // verify-config prints JSON and exits 0 either way.
    let report = std::process::Command::new(bin.join("mirrord"))
        .args(["verify-config", &cfg])
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&report.stdout).contains("\"type\": \"Success\""));
}

const CLEANUP: &str = fixproof_standin::agent::CLEANUP_ENV;
const DELAY: &str = fixproof_standin::agent::STEAL_DELAY_ENV;

fn filtered(dir: &Path) -> String {
    config(
        dir,
        "verifier.json",
        steal_config(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
    )
}

#[test]
fn a_good_patch_passes_through_an_agent_cleanup_window_and_a_delayed_steal() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let cluster = Cluster::start();
    let cfg = filtered(f.dir.path());
    // Each agent needs 1.5 s after its session to clean up; each steal takes 2 s after Ready!.
    let env = [(CLEANUP, "1500"), (DELAY, "2000")];
    let (code, json, stderr) = verify_mirrord_with(&f, &cluster, &cfg, &[], &env);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verdict"], "pass", "{stderr}");
    assert!(
        stderr.contains("still cleaning up") && stderr.contains("retrying in"),
        "the candidate's session met the baseline's agent cleaning up: {stderr}"
    );
    let routed = cluster.routed();
    assert!(
        routed
            .iter()
            .any(|r| r.to == "deployed" && r.tag.is_some() && !r.is_load()),
        "probes were answered by the deployed copy before the steal took effect"
    );
    let load: Vec<_> = routed.iter().filter(|r| r.is_load()).collect();
    assert!(load.len() > 400, "{} load requests", load.len());
    let early = routed
        .iter()
        .filter(|r| r.to == "deployed" && r.tag.is_some() && !r.is_load())
        .count();
    eprintln!(
        "{} tagged load requests, {} tagged probes answered by the deployed copy before the steal",
        load.len(),
        early
    );
    for r in &load {
        assert_eq!(
            Some(&r.to),
            r.tag.as_ref(),
            "a tagged load request reached {}",
            r.to
        );
    }
    // Independently of the proxy's log: the deployed copy saw no request of the load.
    let seen = cluster.deployed.seen();
    assert!(
        seen.iter().all(|r| r
            .header("x-verifier-seq")
            .is_none_or(|s| s.parse::<u64>().is_err())),
        "the deployed copy served tagged load requests"
    );
}

#[test]
fn a_session_that_never_comes_is_never_a_reject() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let cluster = Cluster::start();
    let cfg = filtered(f.dir.path());
    // The baseline's agent cleans up for 8 s, longer than the 2 s start budget: the candidate
    // never gets a session.
    let env = [(CLEANUP, "8000")];
    let budget = ["--start-timeout", "2s"];
    let (code, json, stderr) = verify_mirrord_with(&f, &cluster, &cfg, &budget, &env);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(json["verdict"], "inconclusive", "{json:#}");
    assert_eq!(
        json["reasons"][0]["code"], "backend_unavailable",
        "{json:#}"
    );
    let feedback = json["feedback"].as_str().unwrap();
    assert!(
        feedback.starts_with("Nothing to change in the patch")
            && feedback.contains("Detected dirty iptables"),
        "{feedback}"
    );
    // At once again: now the baseline meets that agent, and nothing can be measured.
    let (code, _, stderr) = verify_mirrord_with(&f, &cluster, &cfg, &budget, &env);
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("the baseline could not be measured")
            && stderr.contains("within --start-timeout 2s")
            && stderr.contains("Detected dirty iptables"),
        "{stderr}"
    );
    assert_eq!(f.worktrees(), 1);
}

#[test]
fn the_recipe_s_config_runs_with_other_ports_local_and_toml_and_yaml_are_read() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let cluster = Cluster::start();
    // MetalBear's post, verbatim.
    let recipe = config(
        f.dir.path(),
        "recipe.json",
        json!({"feature":{"network":{"incoming":{"mode":"steal","http_filter":{"header_filter":"^X-Verifier-Run: {{ key }}$","ports":[8080]}}}}}),
    );
    let (code, json, stderr) = verify_mirrord(&f, &cluster, &recipe, &[]);
    assert_eq!((code, &json["verdict"]), (0, &json!("pass")), "{stderr}");
    assert!(stderr.contains("sets incoming.ports to [8080]"), "{stderr}");
    assert!(
        json["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("so that other ports stay local")),
        "{json:#}"
    );
    let results = f.results_folder();
    let copy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(results.join("baseline.mirrord.json")).unwrap())
            .unwrap();
    assert_eq!(
        copy["feature"]["network"]["incoming"]["ports"],
        json!([8080])
    );
    // TOML and YAML configs, as mirrord reads them: both arms get their session and route.
    let dir = f.dir.path();
    let toml = dir.join("verifier.toml");
    std::fs::write(&toml, "[target]\npath = \"deployment/checkout\"\n[feature.network.incoming]\nmode = \"steal\"\n[feature.network.incoming.http_filter]\nheader_filter = \"^x-verifier-run: {{ key }}$\"\n").unwrap();
    let yaml = dir.join("verifier.yaml");
    std::fs::write(&yaml, "target:\n  path: deployment/checkout\nfeature:\n  network:\n    incoming:\n      mode: steal\n      http_filter:\n        header_filter: \"^x-verifier-run: {{ key }}$\"\n").unwrap();
    for cfg in [&toml, &yaml] {
        let shown = cfg.display().to_string();
        let (code, json, stderr) = verify_mirrord(&f, &cluster, &shown, &["--repro", "true"]);
        assert_eq!(
            (code, &json["outcome"]),
            (2, &json!("not_reproduced")),
            "{shown}: {stderr}"
        );
        assert_eq!(stderr.matches(": ready in").count(), 2, "{stderr}");
    }
    // A YAML steal without a filter is refused, with the corrected config.
    std::fs::write(&yaml, "feature:\n  network:\n    incoming: steal\n").unwrap();
    let (code, _, stderr) = verify_mirrord(&f, &cluster, &yaml.display().to_string(), &[]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("corrected config:")
            && stderr.contains("\"header_filter\": \"^x-verifier-run: {{ key }}$\""),
        "{stderr}"
    );
}

#[test]
fn an_env_candidate_s_override_beats_the_pod_s_environment() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let cluster = Cluster::start();
    // The pod's environment points at the real pricing; the candidate overrides it with a
    // port that refuses: only an override that beats the pod's value makes it fail.
    let pricing = format!("127.0.0.1:{}", f.pricing.1);
    std::fs::write(
        cluster.path().join("env.json"),
        json!({ "FIXPROOF_DEMO_PRICING": pricing }).to_string(),
    )
    .unwrap();
    let cfg = config(
        f.dir.path(),
        "verifier.json",
        steal_config(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
    );
    let args = [
        "--candidate-env",
        "FIXPROOF_DEMO_PRICING=127.0.0.1:9",
        "--format",
        "json",
    ];
    let (code, json, stderr) = run_mirrord(&f, &cluster, &cfg, &args, &[]);
    let label = "env-FIXPROOF_DEMO_PRICING";
    assert_eq!(json["arms"]["candidate"]["label"], label, "{stderr}");
    assert_eq!(
        (code, json["verdict"].as_str()),
        (1, Some("reject")),
        "{stderr}"
    );
    let patch = &json["arms"]["candidate"]["patch"];
    assert_eq!(
        (patch["kind"].as_str(), patch["format"].as_str()),
        (Some("env"), Some("none"))
    );
    assert_eq!(patch["env"]["FIXPROOF_DEMO_PRICING"], "127.0.0.1:9");
    let rendered: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.results_folder().join(format!("{label}.mirrord.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        rendered["feature"]["env"]["override"]["FIXPROOF_DEMO_PRICING"],
        "127.0.0.1:9"
    );
    assert!(stderr.contains("feature.env.override"), "{stderr}");
}

#[test]
fn a_pass_carries_its_preview_and_the_standin_s_preview_start_gets_its_arguments() {
    let _serial = crate::util::one_at_a_time();
    let (f, cluster, cfg) = filtered_setup();
    // The build runs in the passing candidate's worktree and prints the image last.
    let build =
        "test -f checkout.json && echo building >&2 && echo example/checkout:$FIXPROOF_LABEL";
    let (code, json, stderr) = verify_mirrord(
        &f,
        &cluster,
        &cfg,
        &[
            "--preview-build",
            build,
            "--preview",
            "--preview-ttl",
            "30",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        (code, json["verdict"].as_str()),
        (0, Some("pass")),
        "{stderr}"
    );
    let preview = &json["preview"];
    let key = preview["key"].as_str().unwrap();
    assert!(key.starts_with("fixproof-guard-address-"), "{preview:#}");
    assert_eq!(
        preview["command"],
        format!(
            "mirrord preview start -k {key} -i example/checkout:guard-address -t deployment/checkout --ttl 30"
        ),
    );
    assert_eq!(preview["header"], format!("baggage: mirrord-session={key}"));
    assert!(
        preview["curl"]
            .as_str()
            .unwrap()
            .contains(&cluster.service_url)
    );
    assert_eq!(preview["started"], true, "{preview:#}");
    let started: serde_json::Value = serde_json::from_slice(
        &std::fs::read(cluster.path().join(format!("previews/{key}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(started["flags"]["image"], "example/checkout:guard-address");
    assert_eq!(started["flags"]["target"], "deployment/checkout");
    assert_eq!(started["flags"]["ttl"], "30");

    // Refused before anything runs: --preview without an image, a preview without mirrord.
    let checkout = checkout();
    let command: Vec<&str> = checkout.iter().map(String::as_str).collect();
    let patch = f.path("guard-address.diff");
    for (extra, says) in [
        (vec!["--preview"], "--preview needs the image"),
        (vec!["--preview-image", "x"], "need --backend mirrord"),
    ] {
        let mut args = vec!["--patch", patch.as_str()];
        args.extend(extra);
        let (code, _, stderr) = outcome(f.command(&args, &command).output().unwrap());
        assert_eq!(code, 64, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
