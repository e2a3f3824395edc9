//! `fixproof demo`, the embedded default, exactly as a user runs it.

use crate::util::binary;

/// The demo with sequential arms (the default) and with the fixed design: the same six
/// verdicts, the expected ones.
#[test]
fn the_demo_gets_every_expected_verdict() {
    let _serial = crate::util::one_at_a_time();
    for sequential in ["on", "off"] {
        demo(sequential);
    }
}

fn demo(sequential: &str) {
    let dir = tempfile::tempdir().unwrap();
    let output = binary()
        .args(["demo", "--sequential", sequential, "--results-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for (patch, verdict) in [
        ("timeout-150ms-cached.diff", "pass"),
        ("timeout-2s.diff", "reject"),
        ("guard-address.diff", "pass"),
        ("guard-address-slow.diff", "reject"),
        #[cfg(feature = "kafka")]
        ("batch-50.diff", "pass"),
        #[cfg(feature = "kafka")]
        ("backoff-500ms.diff", "reject"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(patch) && !l.contains("unexpected"))
            .unwrap_or_else(|| panic!("no row for {patch}: {stderr}"));
        assert!(line.split_whitespace().nth(3) == Some(verdict), "{line}");
    }
    let results = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for case in [
        "checkout-p99",
        "checkout-errors",
        #[cfg(feature = "kafka")]
        "billing-lag",
    ] {
        let verdict: serde_json::Value = serde_json::from_slice(
            &std::fs::read(results.join(case).join("verdict.json")).unwrap(),
        )
        .unwrap();
        let verdicts = verdict["verdicts"].as_array().unwrap();
        assert_eq!(verdicts.len(), 2);
        let looked = sequential == "on";
        for v in verdicts {
            assert_eq!(v.get("sequential").is_some(), looked, "{case}: {v:#}");
        }
        assert!(results.join(case).join("report.md").exists());
        assert!(results.join(case).join("report.html").exists());
    }
}
