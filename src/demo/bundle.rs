//! The demo's files, embedded in the binary: the checkout service's repository, the patches an
//! AI-SRE might propose, and the two alert scenarios.

use super::DemoError;
use crate::orchestrate::Patch;
use std::path::Path;
use std::process::Command;

/// The files of the demo repository's only commit.
pub const REPO_FILES: &[(&str, &str)] = &[
    ("checkout.json", include_str!("files/checkout.json")),
    ("README.md", include_str!("files/README.md")),
    ("consumer.json", include_str!("files/consumer.json")),
];

/// One demo case: an alert, its scenario, and the patches with the verdict each must get.
pub struct Case {
    pub name: &'static str,
    pub alert: &'static str,
    pub scenario: &'static str,
    pub patches: &'static [(&'static str, &'static str, &'static str)],
}

/// The cases `fixproof demo` runs: (patch file, expected verdict, what the patch does).
pub const CASES: &[Case] = &[
    Case {
        name: "checkout-p99",
        alert: "checkout p99 above 300 ms",
        scenario: include_str!("files/checkout-p99.json"),
        patches: &[
            (
                "timeout-150ms-cached.diff",
                "pass",
                include_str!("files/timeout-150ms-cached.diff"),
            ),
            (
                "timeout-2s.diff",
                "reject",
                include_str!("files/timeout-2s.diff"),
            ),
        ],
    },
    Case {
        name: "checkout-errors",
        alert: "checkout 5xx rate above 5 %",
        scenario: include_str!("files/checkout-errors.json"),
        patches: &[
            (
                "guard-address.diff",
                "pass",
                include_str!("files/guard-address.diff"),
            ),
            (
                "guard-address-slow.diff",
                "reject",
                include_str!("files/guard-address-slow.diff"),
            ),
        ],
    },
    Case {
        name: "billing-lag",
        alert: "billing consumer lag growing",
        scenario: include_str!("files/billing-lag.json"),
        patches: &[
            ("batch-50.diff", "pass", include_str!("files/batch-50.diff")),
            (
                "backoff-500ms.diff",
                "reject",
                include_str!("files/backoff-500ms.diff"),
            ),
        ],
    },
];

impl Case {
    /// The case's patches as the verifier reads them.
    pub fn patches(&self) -> Vec<Patch> {
        self.patches
            .iter()
            .map(|(name, _, diff)| {
                let stem = name.trim_end_matches(".diff");
                Patch::from_bytes(name, diff.as_bytes().to_vec(), stem)
                    .expect("the bundled patches are unified diffs")
            })
            .collect()
    }
}

/// Creates the demo repository in `dir`: `git init` and one commit of [`REPO_FILES`].
///
/// # Errors
/// [`DemoError::Git`] with git's own message when a step fails.
pub fn create_repo(dir: &Path) -> Result<(), DemoError> {
    for (name, text) in REPO_FILES {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| DemoError::io(path.display(), source))?;
    }
    let steps: [&[&str]; 3] = [
        &["init", "--quiet"],
        &["add", "."],
        &[
            "-c",
            "user.name=fixproof demo",
            "-c",
            "user.email=demo@fixproof.invalid",
            "commit",
            "--quiet",
            "-m",
            "checkout: the deployed configuration",
        ],
    ];
    for args in steps {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| DemoError::Git(format!("git is not available: {e}")))?;
        if !output.status.success() {
            return Err(DemoError::Git(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
    }
    Ok(())
}
