//! Working copies: a detached `git worktree` of the base for the baseline and one per patch,
//! with the patch applied by `git apply` (a unified diff) or written file by file (a file-set
//! patch, see `patch`). The user's checkout and index are never touched, and
//! every worktree is removed when [`Workspaces`] is dropped — after success, failure or a
//! signal. Each run's worktrees live in one temporary folder with an `owner` file (the pid and
//! start time of the fixproof that made them): the next run on the same repository finds those
//! of a run that was killed outright and removes them, and says so.

use super::patch::{Content, Patch, PatchError};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a workspace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("git is not installed or not on PATH ({0}): install git")]
    GitMissing(std::io::Error),
    #[error("{repo} is not a git repository: give --repo the service's checkout")]
    NotARepo { repo: String },
    #[error("base '{base}' is not a commit in {repo}: {message}")]
    BadBase {
        base: String,
        repo: String,
        message: String,
    },
    #[error("patch {patch} does not apply to {base}:\n{message}")]
    PatchDoesNotApply {
        patch: String,
        base: String,
        message: String,
    },
    #[error(transparent)]
    Patch(#[from] PatchError),
    #[error("--revert {commit}: not a commit in {repo}: {message}")]
    BadRevert {
        commit: String,
        repo: String,
        message: String,
    },
    #[error(
        "reverting {commit} on {base} conflicts: the revert does not apply cleanly to the base, so it cannot be verified as it is:\n{message}"
    )]
    RevertConflicts {
        commit: String,
        base: String,
        message: String,
    },
    #[error("git {action} failed: {message}")]
    Git { action: String, message: String },
}

/// The worktrees of one verification.
pub struct Workspaces {
    repo: PathBuf,
    root: tempfile::TempDir,
    pub baseline: PathBuf,
    pub candidates: Vec<PathBuf>,
}

pub(super) fn git(
    dir: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> Result<std::process::Output, WorkspaceError> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().map_err(WorkspaceError::GitMissing)?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        std::io::Write::write_all(&mut pipe, bytes).map_err(|e| WorkspaceError::Git {
            action: args.join(" "),
            message: e.to_string(),
        })?;
    }
    child.wait_with_output().map_err(WorkspaceError::GitMissing)
}

pub(super) fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

impl Workspaces {
    /// Creates the baseline worktree at `base` and one patched worktree per patch.
    ///
    /// # Errors
    /// [`WorkspaceError`]; whatever was created before the error is removed.
    pub fn create(
        repo: &Path,
        base: &str,
        patches: &[Patch],
    ) -> Result<Workspaces, WorkspaceError> {
        let shown = repo.display().to_string();
        let top = git(repo, &["rev-parse", "--show-toplevel"], None)?;
        if !top.status.success() {
            return Err(WorkspaceError::NotARepo { repo: shown });
        }
        let repo = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
        let commit = git(
            &repo,
            &["rev-parse", "--verify", &format!("{base}^{{commit}}")],
            None,
        )?;
        if !commit.status.success() {
            return Err(WorkspaceError::BadBase {
                base: base.into(),
                repo: shown,
                message: stderr_of(&commit),
            });
        }
        let commit = String::from_utf8_lossy(&commit.stdout).trim().to_string();

        let root = tempfile::Builder::new()
            .prefix(ROOT_PREFIX)
            .tempdir()
            .and_then(|root| {
                std::fs::write(root.path().join(OWNER), owner_line(std::process::id()))?;
                Ok(root)
            })
            .map_err(|e| WorkspaceError::Git {
                action: "worktree add".into(),
                message: e.to_string(),
            })?;
        let mut workspaces = Workspaces {
            repo,
            baseline: root.path().join("baseline"),
            root,
            candidates: Vec::new(),
        };
        workspaces.add(&workspaces.baseline.clone(), &commit)?;
        for patch in patches {
            let dir = workspaces.root.path().join(&patch.label);
            workspaces.add(&dir, &commit)?;
            workspaces.candidates.push(dir.clone());
            match &patch.content {
                Content::Files(set) => set.apply(&dir, &patch.source)?,
                Content::Diff => apply_diff(&dir, patch, base)?,
                Content::Revert { commit, merge } => {
                    super::revert::apply(&dir, commit, *merge, &patch.source, base)?;
                }
                Content::Unchanged => {}
            }
        }
        Ok(workspaces)
    }

    fn add(&self, dir: &Path, commit: &str) -> Result<(), WorkspaceError> {
        // Labels are sanitized and unique (see `patch`), so this stays under the root.
        debug_assert!(dir.starts_with(self.root.path()));
        let path = dir.to_string_lossy();
        let output = git(
            &self.repo,
            &["worktree", "add", "--detach", "--quiet", &path, commit],
            None,
        )?;
        if !output.status.success() {
            return Err(WorkspaceError::Git {
                action: "worktree add".into(),
                message: stderr_of(&output),
            });
        }
        Ok(())
    }
}

/// The temporary folder of a run's worktrees starts with this.
const ROOT_PREFIX: &str = "fixproof-";
/// The file in it that names the run's process.
const OWNER: &str = "owner";

/// "PID STARTTIME": the start time (clock ticks after boot) tells a reused pid apart.
fn owner_line(pid: u32) -> String {
    format!("{pid} {}\n", start_time(pid).unwrap_or(0))
}

fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22; the command name (field 2) is in parentheses and may hold spaces.
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// Whether the run that wrote `owner` (its text) is gone.
fn owner_gone(owner: &str) -> Option<u32> {
    let mut parts = owner.split_whitespace();
    let pid: u32 = parts.next()?.parse().ok()?;
    let started: u64 = parts.next()?.parse().ok()?;
    (start_time(pid) != Some(started)).then_some(pid)
}

/// Removes the worktrees of `repo` that a killed run left: those in a `fixproof-*` folder
/// whose owner is no longer running. Returns what it removed; failures are left for `git
/// worktree prune`.
pub fn sweep(repo: &Path) -> Option<String> {
    let top = git(repo, &["rev-parse", "--show-toplevel"], None).ok()?;
    let repo = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    let repo = repo.as_path();
    let list = git(repo, &["worktree", "list", "--porcelain"], None).ok()?;
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    let mut removed: Vec<(u32, String)> = Vec::new();
    for path in listed.lines().filter_map(|l| l.strip_prefix("worktree ")) {
        let path = Path::new(path);
        let Some(root) = path.parent() else { continue };
        let ours = root
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(ROOT_PREFIX));
        let owner = std::fs::read_to_string(root.join(OWNER)).unwrap_or_default();
        let Some(pid) = ours.then(|| owner_gone(&owner)).flatten() else {
            continue;
        };
        let shown = path.display().to_string();
        let gone = git(repo, &["worktree", "remove", "--force", &shown], None);
        if gone.is_ok_and(|o| o.status.success()) {
            removed.push((pid, shown));
            // The folder is empty once its last worktree is gone, but for the owner file.
            if std::fs::read_dir(root).is_ok_and(|d| d.count() <= 1) {
                let _ = std::fs::remove_dir_all(root);
            }
        }
    }
    let (pid, _) = removed.first()?;
    let paths: Vec<&str> = removed.iter().map(|(_, p)| p.as_str()).collect();
    let _ = git(repo, &["worktree", "prune"], None);
    Some(format!(
        "removed {} worktree(s) that an earlier run (pid {pid}) left behind when it was killed: {}",
        removed.len(),
        paths.join(", ")
    ))
}

fn apply_diff(dir: &Path, patch: &Patch, base: &str) -> Result<(), WorkspaceError> {
    let applied = git(
        dir,
        &["apply", "--whitespace=nowarn", "-"],
        Some(&patch.bytes),
    )?;
    if applied.status.success() {
        return Ok(());
    }
    Err(WorkspaceError::PatchDoesNotApply {
        patch: patch.source.clone(),
        base: base.into(),
        message: stderr_of(&applied),
    })
}

impl Drop for Workspaces {
    fn drop(&mut self) {
        for dir in std::iter::once(&self.baseline).chain(&self.candidates) {
            if dir.exists() {
                let _ = git(
                    &self.repo,
                    &["worktree", "remove", "--force", &dir.to_string_lossy()],
                    None,
                );
            }
        }
        let _ = git(&self.repo, &["worktree", "prune"], None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            assert!(
                git(dir.path(), args, None).unwrap().status.success(),
                "{args:?}"
            )
        };
        run(&["init", "--quiet"]);
        std::fs::write(dir.path().join("config.txt"), "timeout = none\n").unwrap();
        run(&["add", "."]);
        run(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "--quiet",
            "-m",
            "base",
        ]);
        dir
    }

    const PATCH: &str =
        "--- a/config.txt\n+++ b/config.txt\n@@ -1 +1 @@\n-timeout = none\n+timeout = 150ms\n";

    #[test]
    fn worktrees_are_made_patched_and_removed() {
        let repo = repo();
        let patch = Patch::from_bytes("fix.diff", PATCH.as_bytes().to_vec(), "fix").unwrap();
        let ws = Workspaces::create(repo.path(), "HEAD", &[patch]).unwrap();
        assert_eq!(
            std::fs::read_to_string(ws.baseline.join("config.txt")).unwrap(),
            "timeout = none\n"
        );
        assert_eq!(
            std::fs::read_to_string(ws.candidates[0].join("config.txt")).unwrap(),
            "timeout = 150ms\n"
        );
        let dirs = [ws.baseline.clone(), ws.candidates[0].clone()];
        drop(ws);
        assert!(dirs.iter().all(|d| !d.exists()));
        // The user's checkout is untouched and no worktree is left registered.
        assert_eq!(
            std::fs::read_to_string(repo.path().join("config.txt")).unwrap(),
            "timeout = none\n"
        );
        let list = git(repo.path(), &["worktree", "list"], None).unwrap();
        assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
    }

    #[test]
    fn a_patch_that_does_not_apply_names_itself_and_cleans_up() {
        let repo = repo();
        let bad = Patch::from_bytes(
            "bad.diff",
            PATCH.replace("none", "nothing").into_bytes(),
            "bad",
        )
        .unwrap();
        let error = Workspaces::create(repo.path(), "HEAD", &[bad])
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.starts_with("patch bad.diff does not apply to HEAD"),
            "{error}"
        );
        assert!(error.contains("patch failed"), "{error}");
        let list = git(repo.path(), &["worktree", "list"], None).unwrap();
        assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
    }

    #[test]
    fn worktrees_of_a_killed_run_are_removed_by_the_next() {
        let repo = repo();
        let killed = Workspaces::create(repo.path(), "HEAD", &[]).unwrap();
        let left = killed.baseline.clone();
        // A run killed outright: its worktree stays, its owner is gone (pid 1 is running, but
        // not since the recorded start time).
        std::fs::write(left.parent().unwrap().join(OWNER), "1 1\n").unwrap();
        std::mem::forget(killed);
        assert!(left.exists());
        // A live run's worktrees are left alone.
        let swept = sweep(repo.path()).unwrap();
        assert!(swept.starts_with("removed 1 worktree(s)"), "{swept}");
        assert!(!left.exists(), "the killed run's worktree is gone");
        let live = Workspaces::create(repo.path(), "HEAD", &[]).unwrap();
        assert!(live.baseline.exists());
        let list = git(repo.path(), &["worktree", "list"], None).unwrap();
        assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 2);
        let again = Workspaces::create(repo.path(), "HEAD", &[]).unwrap();
        assert!(
            live.baseline.exists(),
            "a running owner keeps its worktrees"
        );
        drop((live, again));
    }

    #[test]
    fn bad_repos_and_bases_are_errors() {
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            Workspaces::create(empty.path(), "HEAD", &[]),
            Err(WorkspaceError::NotARepo { .. })
        ));
        let repo = repo();
        assert!(matches!(
            Workspaces::create(repo.path(), "nope", &[]),
            Err(WorkspaceError::BadBase { .. })
        ));
    }
}
