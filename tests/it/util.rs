//! Helpers: running fixproof in-process or as a child, reading artifacts, writing scenarios.

#![allow(dead_code)]

use fixproof::load::RunArtifact;
use std::path::{Path, PathBuf};

/// Runs fixproof in-process with `args` and returns its exit code.
pub fn fixproof(args: &[&str]) -> i32 {
    let mut argv = vec!["fixproof"];
    argv.extend_from_slice(args);
    fixproof::cli::run(argv)
}

/// The built binary, for tests that need a real process (signals, exit codes, stdout).
pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_fixproof"))
}

/// The stand-in `mirrord` (test equipment, the workspace member `standin`): built beside the
/// test binary by `cargo test --workspace`, or here when a narrower `cargo test` did not.
pub fn standin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let test = std::env::current_exe().unwrap();
            // target/<profile>/deps/it-… → target/<profile>/mirrord
            let path = test.parent().unwrap().parent().unwrap().join("mirrord");
            if !path.exists() {
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let status = std::process::Command::new(cargo)
                    .args([
                        "build",
                        "--quiet",
                        "-p",
                        "fixproof-standin",
                        "--bin",
                        "mirrord",
                    ])
                    .current_dir(env!("CARGO_MANIFEST_DIR"))
                    .status()
                    .unwrap();
                assert!(status.success(), "cannot build the stand-in mirrord");
            }
            path
        })
        .clone()
}

/// Writes `json` as a scenario file in `dir`.
pub fn scenario(dir: &Path, name: &str, json: &serde_json::Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
    path
}

pub fn read(path: &Path) -> RunArtifact {
    RunArtifact::read(path).unwrap()
}

pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Serializes the tests whose verdicts depend on timing (whole verifications, the demo): on
/// two cores, several of them at once would judge the machine's load, not the patches.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
