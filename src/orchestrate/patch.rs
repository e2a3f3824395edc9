//! Candidates and their labels.
//!
//! A candidate is the base changed by a patch, a revert or nothing, run with its own
//! environment overrides (`env`). A patch is a unified diff (applied by `git apply`) or the
//! file-set JSON that MetalBear's reference verifier's LLM bridge emits, `{"files": [{"path",
//! "before", "after"}], "summary"?, "hypothesis"?, …}` with whole files before and after; they
//! are told apart by content. A revert is `git revert --no-commit` of a commit (`revert`).
//! Each candidate is labelled by its file's stem (`stdin` for standard input) or by
//! `--label`, sanitized to `[A-Za-z0-9._-]`; the label names its worktree, artifact, log and
//! place in the verdict, so it is never `baseline` (or `verdict`) and clashes get `-2`, `-3`.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};

/// Why a patch cannot be read or applied. Every one is bad input (exit 65).
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("cannot read patch {patch}: {source}")]
    Read {
        patch: String,
        source: std::io::Error,
    },
    #[error(
        "patch {patch} starts with '{{' but is not a file patch: {message} (expected {{\"files\": [{{\"path\": …, \"before\": …, \"after\": …}}]}})"
    )]
    Json { patch: String, message: String },
    #[error("patch {patch}: {path}: {why}")]
    Unsafe {
        patch: String,
        path: String,
        why: &'static str,
    },
    #[error(
        "patch {patch}: the patch was written against another version of {path}: its \"before\" differs from {path} at the base (line {line})"
    )]
    Drifted {
        patch: String,
        path: String,
        line: usize,
    },
    #[error("patch {patch}: {path}: {why}")]
    Conflict {
        patch: String,
        path: String,
        why: String,
    },
    #[error("patch {patch}: cannot write {path}: {source}")]
    Write {
        patch: String,
        path: String,
        source: std::io::Error,
    },
}

/// One file of a file-set patch: `before: null` (or absent) creates it, `after: null` deletes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileChange {
    /// The file, relative to the repository's root.
    pub path: String,
    /// The file at the base; `null` (or absent) for a file the patch creates.
    #[serde(default)]
    pub before: Option<String>,
    /// The file with the patch; `null` for a file the patch deletes.
    #[serde(default)]
    pub after: Option<String>,
}

/// A file-set patch, as MetalBear's reference verifier's bridge emits it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileSet {
    /// The files the patch changes.
    pub files: Vec<FileChange>,
    /// What the patch does, in its author's words.
    #[serde(default)]
    pub summary: Option<String>,
    /// Why its author thinks it fixes the alert.
    #[serde(default)]
    pub hypothesis: Option<String>,
}

/// What a candidate changes in the base's code.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A unified diff, for `git apply`.
    Diff,
    /// Whole files before and after.
    Files(FileSet),
    /// `git revert --no-commit` of this commit (full hex; `-m 1` for a merge).
    Revert { commit: String, merge: bool },
    /// Nothing: the base's code, run with the candidate's `env`.
    Unchanged,
}

/// A candidate: a change of the base's code and environment overrides.
#[derive(Debug, Clone)]
pub struct Patch {
    /// Names the candidate's worktree, artifact and log, and the candidate in the verdict.
    pub label: String,
    /// The file as given, or `stdin`; the commit as given for a revert; `env` for none.
    pub source: String,
    /// The patch as read (a revert's commit, an env-only candidate's `NAME=VALUE` lines).
    pub bytes: Vec<u8>,
    /// Of `bytes`, hex.
    pub sha256: String,
    /// What it changes in the code.
    pub content: Content,
    /// Environment overrides of the candidate's service (under mirrord, the rendered
    /// config's `feature.env.override`, which beats the pod's environment).
    pub env: Vec<(String, String)>,
}

impl Patch {
    /// Reads a patch from a file, or from standard input for `-`; `label` is `--label`'s.
    ///
    /// # Errors
    /// [`PatchError::Read`], or [`PatchError::Json`] for a file patch that does not parse.
    pub fn read(path: &Path, label: Option<&str>) -> Result<Patch, PatchError> {
        let stdin = path.as_os_str() == "-";
        let source = if stdin {
            "stdin".to_string()
        } else {
            path.display().to_string()
        };
        let bytes = if stdin {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
        } else {
            std::fs::read(path)
        }
        .map_err(|source_error| PatchError::Read {
            patch: source.clone(),
            source: source_error,
        })?;
        let stem = if stdin {
            "stdin".to_string()
        } else {
            path.file_stem()
                .map_or_else(|| source.clone(), |s| s.to_string_lossy().into_owned())
        };
        Patch::from_bytes(&source, bytes, label.unwrap_or(&stem))
    }

    /// A patch from its bytes; `label` is sanitized (clashes are [`dedupe_labels`]'s job).
    ///
    /// # Errors
    /// [`PatchError::Json`] for a file patch that does not parse.
    pub fn from_bytes(source: &str, bytes: Vec<u8>, label: &str) -> Result<Patch, PatchError> {
        let text = String::from_utf8_lossy(&bytes);
        let body = text.trim_start_matches('\u{feff}').trim_start();
        let content = if body.starts_with('{') {
            let set: FileSet = serde_json::from_str(body).map_err(|e| PatchError::Json {
                patch: source.to_string(),
                message: e.to_string(),
            })?;
            Content::Files(set)
        } else {
            Content::Diff
        };
        Ok(Patch::of(source, bytes, label, content))
    }

    fn of(source: &str, bytes: Vec<u8>, label: &str, content: Content) -> Patch {
        Patch {
            label: sanitize(label),
            source: source.to_string(),
            sha256: hex(&Sha256::digest(&bytes)),
            bytes,
            content,
            env: Vec::new(),
        }
    }

    /// The revert of `commit` (full hex, resolved from `given`), labelled `revert-<short sha>`
    /// unless `label` is given.
    pub fn revert(given: &str, commit: &str, merge: bool, label: Option<&str>) -> Patch {
        let short: String = commit.chars().take(SHORT_SHA).collect();
        let content = Content::Revert {
            commit: commit.to_string(),
            merge,
        };
        let label = label.map_or_else(|| format!("revert-{short}"), str::to_string);
        Patch::of(given, commit.as_bytes().to_vec(), &label, content)
    }

    /// The base's code with `env` only, labelled `env-<first name>` unless `label` is given.
    pub fn env_only(env: Vec<(String, String)>, label: Option<&str>) -> Patch {
        let lines: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let first = env.first().map_or("override", |(k, _)| k.as_str());
        let label = label.map_or_else(|| format!("env-{first}"), str::to_string);
        let mut patch = Patch::of("env", lines.into_bytes(), &label, Content::Unchanged);
        patch.env = env;
        patch
    }

    /// `patch`, `revert` or `env`: what the verdict records the candidate as.
    pub fn kind(&self) -> &'static str {
        match self.content {
            Content::Diff | Content::Files(_) => "patch",
            Content::Revert { .. } => "revert",
            Content::Unchanged => "env",
        }
    }

    /// `diff`, `files`, `revert` or `none`: the form of its change of the code.
    pub fn format(&self) -> &'static str {
        match self.content {
            Content::Diff => "diff",
            Content::Files(_) => "files",
            Content::Revert { .. } => "revert",
            Content::Unchanged => "none",
        }
    }

    /// The file-set patch's summary and hypothesis, if it has them.
    pub fn notes(&self) -> (Option<&str>, Option<&str>) {
        match &self.content {
            Content::Files(set) => (set.summary.as_deref(), set.hypothesis.as_deref()),
            _ => (None, None),
        }
    }
}

/// An environment variable's name: letters, digits and `_`, not starting with a digit.
///
/// # Errors
/// A sentence naming it and what a name is.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not an environment variable name: use letters, digits and _, e.g. FEATURE_NEW_PRICING=off"
        ))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hex digits of a revert's label (`git log --oneline`'s default).
const SHORT_SHA: usize = 7;

/// Longest label kept: labels name files and Kafka topics.
const MAX_LABEL: usize = 64;

/// `[A-Za-z0-9._-]` only (others become `-`), no leading dot, at most 64 characters, never
/// empty.
pub fn sanitize(label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean: String = clean
        .trim_start_matches('.')
        .chars()
        .take(MAX_LABEL)
        .collect();
    if clean.is_empty() {
        "patch".into()
    } else {
        clean
    }
}

/// Names the results folder has already: a candidate may not take them.
const RESERVED: [&str; 2] = ["baseline", "verdict"];

/// Makes every label unique and unreserved: the second `fix` becomes `fix-2`, a patch labelled
/// `baseline` becomes `baseline-2`. Compared without case, as on case-insensitive file systems.
pub fn dedupe_labels(patches: &mut [Patch]) {
    let mut taken: Vec<String> = RESERVED.iter().map(|r| r.to_string()).collect();
    for patch in patches {
        let wanted = patch.label.clone();
        let mut label = wanted.clone();
        let mut n = 1;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&label)) {
            n += 1;
            label = format!("{wanted}-{n}");
        }
        taken.push(label.clone());
        patch.label = label;
    }
}

impl FileSet {
    /// Writes the files into `dir`, the candidate's fresh worktree of the base.
    ///
    /// # Errors
    /// [`PatchError`]: a path outside the tree, a `before` that is not the file at the base, a
    /// file created that exists or changed that does not, a write that fails.
    pub fn apply(&self, dir: &Path, patch: &str) -> Result<(), PatchError> {
        let root = dir.canonicalize().map_err(|source| PatchError::Write {
            patch: patch.into(),
            path: dir.display().to_string(),
            source,
        })?;
        // Everything is checked before anything is written.
        let mut plan = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let target = inside(&root, &file.path, patch)?;
            check_before(file, &target, patch)?;
            plan.push((file, target));
        }
        for (file, target) in plan {
            let failed = |source| PatchError::Write {
                patch: patch.into(),
                path: file.path.clone(),
                source,
            };
            match &file.after {
                Some(after) => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(failed)?;
                    }
                    std::fs::write(&target, after).map_err(failed)?;
                }
                None => std::fs::remove_file(&target).map_err(failed)?,
            }
        }
        Ok(())
    }
}

/// The path `relative` names under `root`, refused when it could reach outside the tree: an
/// absolute path, `..`, `.git`, or a symlink on the way that leads out.
fn inside(root: &Path, relative: &str, patch: &str) -> Result<PathBuf, PatchError> {
    let refuse = |why| PatchError::Unsafe {
        patch: patch.into(),
        path: relative.into(),
        why,
    };
    let path = Path::new(relative);
    if relative.is_empty() || path.is_absolute() {
        return Err(refuse("paths must be relative to the repository's root"));
    }
    let mut target = root.to_path_buf();
    for component in path.components() {
        match component {
            Component::Normal(part) if part == ".git" => {
                return Err(refuse("a patch may not change the repository's .git"));
            }
            Component::Normal(part) => target.push(part),
            Component::CurDir => {}
            _ => return Err(refuse("'..' and absolute paths would leave the repository")),
        }
        // A symlink on the way (or the file itself) must resolve inside the tree.
        if let Ok(resolved) = target.canonicalize() {
            if !resolved.starts_with(root) {
                return Err(refuse("a symlink on this path leads out of the repository"));
            }
        } else if target.symlink_metadata().is_ok() {
            return Err(refuse("a dangling symlink is on this path"));
        }
    }
    Ok(target)
}

/// `before` must be the file at the base: absent for a file the patch creates, equal (line
/// endings normalized, trailing whitespace ignored) otherwise.
fn check_before(file: &FileChange, target: &Path, patch: &str) -> Result<(), PatchError> {
    let conflict = |why: String| PatchError::Conflict {
        patch: patch.into(),
        path: file.path.clone(),
        why,
    };
    let current = match std::fs::read(target) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(conflict(format!("cannot read it at the base: {e}"))),
    };
    match (&file.before, &current, &file.after) {
        (None, None, None) => Err(conflict(
            "\"before\" and \"after\" are both null: nothing to do".into(),
        )),
        (None, Some(_), _) => Err(conflict(
            "\"before\" is null (a new file) but it exists at the base: give its contents as \"before\""
                .into(),
        )),
        (Some(_), None, _) => Err(conflict(
            "it does not exist at the base: give \"before\": null to create it".into(),
        )),
        (None, None, Some(_)) => Ok(()),
        (Some(before), Some(current), _) => match first_difference(before, current) {
            None => Ok(()),
            Some(line) => Err(PatchError::Drifted {
                patch: patch.into(),
                path: file.path.clone(),
                line,
            }),
        },
    }
}

/// The first line (1-based) where `a` and `b` differ, with line endings normalized and
/// trailing whitespace ignored (on every line and at the end); `None` when they agree.
fn first_difference(a: &str, b: &str) -> Option<usize> {
    let lines = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .replace("\r\n", "\n")
            .split(['\n', '\r'])
            .map(|l| l.trim_end().to_string())
            .collect();
        while v.last().is_some_and(String::is_empty) {
            v.pop();
        }
        v
    };
    let (a, b) = (lines(a), lines(b));
    let n = a.len().max(b.len());
    (0..n).find(|&i| a.get(i) != b.get(i)).map(|i| i + 1)
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
