use super::*;

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/checkout.py"),
        "TIMEOUT = None\r\ndef go():   \r\n    pass\r\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("old.txt"), "bye\n").unwrap();
    dir
}

fn json_patch(files: serde_json::Value) -> Patch {
    let body = serde_json::json!({
        "files": files,
        "summary": "time out the pricing call",
        "hypothesis": "the p99 comes from pricing's slow tail",
        "confidence": 0.8
    });
    Patch::from_bytes("fix.json", body.to_string().into_bytes(), "fix").unwrap()
}

fn apply(patch: &Patch, dir: &Path) -> Result<(), PatchError> {
    let Content::Files(set) = &patch.content else {
        panic!("not a file patch");
    };
    set.apply(dir, &patch.source)
}

#[test]
fn a_file_patch_is_told_from_a_diff_by_its_content() {
    let diff = Patch::from_bytes("a.diff", b"--- a/x\n+++ b/x\n".to_vec(), "a").unwrap();
    assert_eq!(diff.content, Content::Diff);
    let json = json_patch(serde_json::json!([]));
    assert_eq!(
        json.notes(),
        (
            Some("time out the pricing call"),
            Some("the p99 comes from pricing's slow tail")
        )
    );
    assert_eq!(json.sha256.len(), 64);
    // A byte-order mark and leading blank lines do not hide the JSON.
    let bom = Patch::from_bytes("b.json", "\u{feff}\n {\"files\": []}".into(), "b").unwrap();
    assert!(matches!(bom.content, Content::Files(_)));
    let broken = Patch::from_bytes("c.json", b"{\"files\": [".to_vec(), "c").unwrap_err();
    assert!(matches!(broken, PatchError::Json { .. }), "{broken}");
    assert!(
        broken
            .to_string()
            .starts_with("patch c.json starts with '{'")
    );
}

#[test]
fn a_good_file_patch_changes_creates_and_deletes() {
    let dir = tree();
    // `before` as the bridge saw it: LF endings, no trailing blanks.
    let patch = json_patch(serde_json::json!([
        {"path": "app/checkout.py", "before": "TIMEOUT = None\ndef go():\n    pass",
         "after": "TIMEOUT = 0.3\ndef go():\n    pass\n"},
        {"path": "app/new/fallback.py", "before": null, "after": "PRICE = 9.99\n"},
        {"path": "./old.txt", "before": "bye\n", "after": null}
    ]));
    apply(&patch, dir.path()).unwrap();
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    assert_eq!(
        read("app/checkout.py"),
        "TIMEOUT = 0.3\ndef go():\n    pass\n"
    );
    assert_eq!(read("app/new/fallback.py"), "PRICE = 9.99\n");
    assert!(!dir.path().join("old.txt").exists());
    // `before` may be absent for a new file.
    let absent = json_patch(serde_json::json!([{"path": "b.txt", "after": "x"}]));
    apply(&absent, dir.path()).unwrap();
    assert_eq!(read("b.txt"), "x");
}

#[test]
fn a_drifted_before_is_refused_and_nothing_is_written() {
    let dir = tree();
    let patch = json_patch(serde_json::json!([
        {"path": "app/new.py", "before": null, "after": "x = 1\n"},
        {"path": "app/checkout.py", "before": "TIMEOUT = 5\ndef go():\n    pass\n",
         "after": "TIMEOUT = 0.3\n"}
    ]));
    let e = apply(&patch, dir.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "patch fix.json: the patch was written against another version of app/checkout.py: its \"before\" differs from app/checkout.py at the base (line 1)"
    );
    assert!(
        !dir.path().join("app/new.py").exists(),
        "checked before writing"
    );
}

#[test]
fn creating_what_exists_or_changing_what_does_not_is_a_conflict() {
    let dir = tree();
    let exists = json_patch(serde_json::json!([{"path": "old.txt", "after": "hi\n"}]));
    assert!(
        apply(&exists, dir.path())
            .unwrap_err()
            .to_string()
            .contains("it exists at the base")
    );
    let missing =
        json_patch(serde_json::json!([{"path": "nope.txt", "before": "a", "after": "b"}]));
    assert!(
        apply(&missing, dir.path())
            .unwrap_err()
            .to_string()
            .contains("does not exist at the base")
    );
    let nothing = json_patch(serde_json::json!([{"path": "nope.txt"}]));
    assert!(matches!(
        apply(&nothing, dir.path()),
        Err(PatchError::Conflict { .. })
    ));
}

#[test]
fn paths_that_leave_the_tree_are_refused() {
    let dir = tree();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
    for (path, why) in [
        ("../escape.txt", "'..'"),
        ("app/../../escape.txt", "'..'"),
        ("/etc/passwd", "relative"),
        ("", "relative"),
        (".git/config", ".git"),
        ("link/escape.txt", "symlink"),
    ] {
        let patch = json_patch(serde_json::json!([{"path": path, "before": null, "after": "x"}]));
        let e = apply(&patch, dir.path()).unwrap_err();
        assert!(
            matches!(e, PatchError::Unsafe { .. }) && e.to_string().contains(why),
            "{path}: {e}"
        );
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn labels_are_sanitized_unique_and_never_baseline() {
    assert_eq!(sanitize("fix timeout (v2)"), "fix-timeout--v2-");
    assert_eq!(sanitize("../../etc"), "-..-etc");
    assert_eq!(sanitize("..hidden"), "hidden");
    assert_eq!(sanitize(""), "patch");
    assert_eq!(sanitize(&"x".repeat(100)).len(), 64);
    let mut patches: Vec<Patch> = ["fix", "fix", "baseline", "Fix", "stdin", "verdict", "fix-2"]
        .iter()
        .map(|l| Patch::from_bytes("p.diff", b"--- a/x".to_vec(), l).unwrap())
        .collect();
    dedupe_labels(&mut patches);
    let labels: Vec<&str> = patches.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "fix",
            "fix-2",
            "baseline-2",
            "Fix-3",
            "stdin",
            "verdict-2",
            "fix-2-2"
        ]
    );
}

#[test]
fn a_patch_read_from_a_file_is_labelled_by_its_stem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeout 300ms.diff");
    std::fs::write(&path, "--- a/x\n").unwrap();
    let patch = Patch::read(&path, None).unwrap();
    assert_eq!(
        (patch.label.as_str(), patch.content),
        ("timeout-300ms", Content::Diff)
    );
    let named = Patch::read(&path, Some("mine")).unwrap();
    assert_eq!(named.label, "mine");
    let missing = Patch::read(&dir.path().join("nope.diff"), None).unwrap_err();
    assert!(
        missing.to_string().starts_with("cannot read patch "),
        "{missing}"
    );
}
