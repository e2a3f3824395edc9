//! Rollback candidates: the base with `git revert --no-commit COMMIT` applied in the
//! candidate's worktree (`-m 1`, the first parent's side, for a merge commit), as an AI-SRE's
//! "roll back commit abc123" means. The commit is resolved before anything runs, so that its
//! label (`revert-<short sha>`) and a bad name are known at once.

use super::patch::Patch;
use super::workspace::{WorkspaceError, git, stderr_of};
use std::path::Path;

/// The candidate that reverts `given` (a commit of `repo`, by any name git reads), labelled
/// `label` or `revert-<short sha>`.
///
/// # Errors
/// [`WorkspaceError::BadRevert`] when `given` names no commit, [`WorkspaceError::GitMissing`].
pub fn candidate(repo: &Path, given: &str, label: Option<&str>) -> Result<Patch, WorkspaceError> {
    let bad = |message: String| WorkspaceError::BadRevert {
        commit: given.to_string(),
        repo: repo.display().to_string(),
        message,
    };
    if given.starts_with('-') {
        return Err(bad("a commit name cannot start with '-'".into()));
    }
    let resolved = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{given}^{{commit}}"),
        ],
        None,
    )?;
    if !resolved.status.success() {
        return Err(bad(
            "git knows no such commit (give a sha, a tag or a ref of the repository)".into(),
        ));
    }
    let commit = String::from_utf8_lossy(&resolved.stdout).trim().to_string();
    // A merge has two or more parents: `rev-list --parents -n 1` prints the commit and them.
    let parents = git(repo, &["rev-list", "--parents", "-n", "1", &commit], None)?;
    if !parents.status.success() {
        return Err(bad(stderr_of(&parents)));
    }
    let merge = String::from_utf8_lossy(&parents.stdout)
        .split_whitespace()
        .count()
        > 2;
    Ok(Patch::revert(given, &commit, merge, label))
}

/// Reverts `commit` in `dir`, the candidate's fresh worktree of `base`, without committing.
///
/// # Errors
/// [`WorkspaceError::RevertConflicts`] with git's message when the revert does not apply.
pub(super) fn apply(
    dir: &Path,
    commit: &str,
    merge: bool,
    given: &str,
    base: &str,
) -> Result<(), WorkspaceError> {
    let mut args = vec!["revert", "--no-commit", "--no-edit"];
    if merge {
        args.extend(["-m", "1"]);
    }
    args.push(commit);
    let reverted = git(dir, &args, None)?;
    if reverted.status.success() {
        return Ok(());
    }
    let message = format!(
        "{}{}",
        String::from_utf8_lossy(&reverted.stdout),
        stderr_of(&reverted)
    );
    Err(WorkspaceError::RevertConflicts {
        commit: given.to_string(),
        base: base.to_string(),
        message: message.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrate::workspace::Workspaces;

    fn run(dir: &Path, args: &[&str]) -> String {
        let mut all = vec!["-c", "user.name=t", "-c", "user.email=t@t"];
        all.extend(args);
        let out = git(dir, &all, None).unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn commit(dir: &Path, file: &str, text: &str, message: &str) -> String {
        std::fs::write(dir.join(file), text).unwrap();
        run(dir, &["add", "."]);
        run(dir, &["commit", "--quiet", "-m", message]);
        run(dir, &["rev-parse", "HEAD"])
    }

    #[test]
    fn a_revert_candidate_undoes_its_commit_and_a_merge_reverts_to_its_first_parent() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path();
        run(dir, &["init", "--quiet", "-b", "main"]);
        commit(dir, "app.txt", "timeout = 150ms\n", "base");
        let bad = commit(dir, "app.txt", "timeout = none\n", "drop the timeout");
        commit(dir, "other.txt", "x\n", "unrelated");
        let revert = candidate(dir, &bad[..10], None).unwrap();
        assert_eq!(revert.label, format!("revert-{}", &bad[..7]));
        assert_eq!((revert.kind(), revert.format()), ("revert", "revert"));
        // A merge commit: its revert takes the first parent's side.
        run(dir, &["checkout", "--quiet", "-b", "feature"]);
        commit(dir, "flag.txt", "new path\n", "feature");
        run(dir, &["checkout", "--quiet", "main"]);
        commit(dir, "main.txt", "m\n", "main moves");
        run(
            dir,
            &[
                "merge",
                "--quiet",
                "--no-ff",
                "-m",
                "merge feature",
                "feature",
            ],
        );
        let merge = run(dir, &["rev-parse", "HEAD"]);
        let merged = candidate(dir, "HEAD", Some("undo-merge")).unwrap();
        assert!(
            matches!(&merged.content, super::super::patch::Content::Revert { commit, merge: true } if *commit == merge)
        );
        let ws = Workspaces::create(dir, "HEAD", &[revert, merged]).unwrap();
        let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).ok();
        assert_eq!(
            read(&ws.candidates[0], "app.txt").as_deref(),
            Some("timeout = 150ms\n")
        );
        assert_eq!(read(&ws.candidates[1], "flag.txt"), None);
        assert_eq!(read(&ws.candidates[1], "main.txt").as_deref(), Some("m\n"));
        assert_eq!(
            read(&ws.baseline, "flag.txt").as_deref(),
            Some("new path\n")
        );
    }

    #[test]
    fn an_unknown_commit_and_a_conflicting_revert_say_so() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path();
        run(dir, &["init", "--quiet"]);
        let first = commit(dir, "app.txt", "a\n", "one");
        commit(dir, "app.txt", "b\n", "two");
        let error = candidate(dir, "no-such-ref", None).unwrap_err().to_string();
        assert!(
            error.starts_with("--revert no-such-ref: not a commit in"),
            "{error}"
        );
        assert!(candidate(dir, "--all", None).is_err());
        // Reverting the first commit conflicts with the second, which changed its line.
        let revert = candidate(dir, &first, None).unwrap();
        let error = Workspaces::create(dir, "HEAD", &[revert]).err().unwrap();
        assert!(
            matches!(error, WorkspaceError::RevertConflicts { .. }),
            "{error}"
        );
        let text = error.to_string();
        assert!(text.contains("conflict"), "{text}");
        let list = git(dir, &["worktree", "list"], None).unwrap();
        assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
    }
}
