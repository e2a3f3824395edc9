//! A client that is not fixproof: the official MCP Python SDK.

use super::*;

/// Whether the official MCP Python SDK is importable (CI installs it; see `.ci/run`).
fn python_sdk() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import mcp.client.stdio"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_demo_checkout_case_is_verified_from_the_official_python_sdk() {
    if !python_sdk() {
        eprintln!(
            "SKIPPED: the MCP Python SDK is not installed (python3 -m pip install mcp); CI installs it"
        );
        return;
    }
    let _serial = crate::util::one_at_a_time();
    let demo = Demo::new();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/python/mcp_client.py"
    );
    let patch = demo
        .dir
        .path()
        .join("patches")
        .join("timeout-150ms-cached.diff");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_fixproof"))
        .arg(demo.project("checkout-p99"))
        .arg(&patch)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(answer["is_error"], false, "{answer:#}");
    assert_eq!(answer["kind"], "verdict", "{answer:#}");
    assert_eq!(answer["verdict"], "pass", "{answer:#}");
    assert!(
        answer["text"].as_str().unwrap().contains("cached: PASS"),
        "{answer:#}"
    );
    assert!(answer["progress"].as_u64().unwrap() > 3, "{answer:#}");
    assert_eq!(answer["tools"].as_array().unwrap().len(), 8);
    demo.services_gone(Duration::from_secs(2));
}
