//! The stand-in behaves as the real `mirrord` does where fixproof relies on it: an error
//! before `Ready!` exits 1 with a report on stderr, and `verify-config` prints its JSON
//! verdict and exits 0 either way.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn mirrord() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mirrord"))
}

#[test]
fn exec_without_a_cluster_fails_before_ready_with_exit_1() {
    let out = mirrord()
        .args(["exec", "--", "true"])
        .env_remove(fixproof_standin::CLUSTER_ENV)
        .env("MIRRORD_PROGRESS_MODE", "json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Error: "));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Ready!"));
}

#[test]
fn verify_config_answers_in_json_and_exits_0() {
    let dir = std::env::temp_dir().join(format!("standin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("c.json");
    std::fs::write(
        &config,
        r#"{"feature":{"network":{"incoming":{"mode":"steal","http_filter":{"header_filter":"^x: {{ key }}$"}}}}}"#,
    )
    .unwrap();
    let judged = |ide: bool| {
        let mut command = mirrord();
        command.arg("verify-config");
        if ide {
            command.arg("--ide");
        }
        let out = command.arg(&config).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A steal needs a target: given later (`--ide`), or not at all.
    assert!(judged(false).contains("\"type\": \"Fail\""));
    assert!(judged(true).contains("\"type\": \"Success\""));
    let _ = std::fs::remove_dir_all(dir);
}
