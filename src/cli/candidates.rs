//! The candidates of `verify`'s command line, in the order given: each `--patch FILE` and
//! `--revert COMMIT` is one, a `--label` names the one just before it, a `--candidate-env
//! NAME=VALUE` joins the one just before it, and before any of them starts an env-only
//! candidate (the base's code with that environment).

use super::Failure;
use super::verify::VerifyArgs;
use crate::exit_code;
use crate::orchestrate::Patch;
use std::path::PathBuf;

/// Where a candidate's change comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `--patch FILE` (`-` for standard input).
    Patch(PathBuf),
    /// `--revert COMMIT`.
    Revert(String),
    /// `--candidate-env` alone: the base's code.
    Env,
}

/// One candidate as the command line gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateArg {
    pub source: Source,
    pub label: Option<String>,
    pub env: Vec<(String, String)>,
}

/// Orders `--patch`, `--revert`, `--label` and `--candidate-env` by their place on the command
/// line into [`VerifyArgs::candidates`].
///
/// # Errors
/// A `--label` before any candidate, or two for one.
pub fn arrange(args: &mut VerifyArgs, matches: &clap::ArgMatches) -> Result<(), String> {
    enum Item {
        Patch(PathBuf),
        Revert(String),
        Label(String),
        Env((String, String)),
    }
    /// Each value of the flag `id` with its place on the command line.
    fn placed<'a, T: Clone + 'a>(
        matches: &clap::ArgMatches,
        id: &str,
        values: &'a [T],
        item: fn(T) -> Item,
    ) -> impl Iterator<Item = (usize, Item)> + 'a {
        let at: Vec<usize> = matches
            .indices_of(id)
            .map(Iterator::collect)
            .unwrap_or_default();
        at.into_iter()
            .zip(values)
            .map(move |(i, v)| (i, item(v.clone())))
    }
    let mut items: Vec<(usize, Item)> = Vec::new();
    items.extend(placed(matches, "patches", &args.patches, Item::Patch));
    items.extend(placed(matches, "reverts", &args.reverts, Item::Revert));
    items.extend(placed(matches, "labels", &args.labels, Item::Label));
    items.extend(placed(
        matches,
        "candidate_envs",
        &args.candidate_envs,
        Item::Env,
    ));
    items.sort_by_key(|(i, _)| *i);
    let mut candidates: Vec<CandidateArg> = Vec::new();
    let new = |source| CandidateArg {
        source,
        label: None,
        env: Vec::new(),
    };
    for (_, item) in items {
        match item {
            Item::Patch(path) => candidates.push(new(Source::Patch(path))),
            Item::Revert(commit) => candidates.push(new(Source::Revert(commit))),
            Item::Env(pair) => match candidates.last_mut() {
                Some(last) => last.env.push(pair),
                None => {
                    let mut only = new(Source::Env);
                    only.env.push(pair);
                    candidates.push(only);
                }
            },
            Item::Label(label) => {
                let Some(last) = candidates.last_mut() else {
                    return Err(format!(
                        "--label {label} comes before any --patch or --revert: give it right after the candidate it names"
                    ));
                };
                if let Some(first) = &last.label {
                    return Err(format!(
                        "{} has two labels ({first} and {label}): give one --label per candidate",
                        shown(&last.source)
                    ));
                }
                last.label = Some(label);
            }
        }
    }
    args.candidates = candidates;
    Ok(())
}

fn shown(source: &Source) -> String {
    match source {
        Source::Patch(path) => format!("--patch {}", path.display()),
        Source::Revert(commit) => format!("--revert {commit}"),
        Source::Env => "the --candidate-env candidate".into(),
    }
}

/// The candidates, read, resolved and labelled (clashes numbered).
///
/// # Errors
/// A [`Failure`]: 64 for standard input twice, 65 for a patch that cannot be read or a
/// revert of no commit.
pub fn read(args: &VerifyArgs) -> Result<Vec<Patch>, Failure> {
    let data = |e: &dyn std::fmt::Display| Failure::new(exit_code::DATA, anyhow::anyhow!("{e}"));
    if args.patches.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!("--patch - reads standard input, which can be read once: give it once"),
        ));
    }
    let mut patches = Vec::with_capacity(args.candidates.len());
    for candidate in &args.candidates {
        let label = candidate.label.as_deref();
        let mut patch = match &candidate.source {
            Source::Patch(path) => Patch::read(path, label).map_err(|e| data(&e))?,
            Source::Revert(commit) => {
                crate::orchestrate::revert::candidate(&args.repo, commit, label).map_err(|e| {
                    match e {
                        crate::orchestrate::workspace::WorkspaceError::GitMissing(_) => {
                            Failure::new(exit_code::UNAVAILABLE, anyhow::anyhow!("{e}"))
                        }
                        e => data(&e),
                    }
                })?
            }
            Source::Env => Patch::env_only(candidate.env.clone(), label),
        };
        patch.env.clone_from(&candidate.env);
        patches.push(patch);
    }
    crate::orchestrate::patch::dedupe_labels(&mut patches);
    Ok(patches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(argv: &[&str]) -> Result<VerifyArgs, String> {
        let argv: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
        crate::cli::parse_verify(&argv)
    }

    #[test]
    fn env_joins_the_candidate_before_it_and_alone_makes_one() {
        let args = parsed(&[
            "-s",
            "x.json",
            "--candidate-env",
            "A=1",
            "--candidate-env",
            "C=",
            "--patch",
            "p.diff",
            "--candidate-env",
            "B=2",
            "--label",
            "fix",
            "--revert",
            "abc",
            "--",
            "run",
        ])
        .unwrap();
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            args.candidates,
            [
                CandidateArg {
                    source: Source::Env,
                    label: None,
                    env: vec![pair("A", "1"), pair("C", "")],
                },
                CandidateArg {
                    source: Source::Patch("p.diff".into()),
                    label: Some("fix".into()),
                    env: vec![pair("B", "2")],
                },
                CandidateArg {
                    source: Source::Revert("abc".into()),
                    label: None,
                    env: vec![],
                },
            ]
        );
    }

    #[test]
    fn misplaced_labels_and_bad_names_are_refused() {
        let error = parsed(&["-s", "x", "--label", "a", "--patch", "p", "--", "r"]).unwrap_err();
        assert!(
            error.contains("comes before any --patch or --revert"),
            "{error}"
        );
        let error = parsed(&[
            "-s", "x", "--revert", "c", "--label", "a", "--label", "b", "--", "r",
        ])
        .unwrap_err();
        assert!(
            error.contains("--revert c has two labels (a and b)"),
            "{error}"
        );
        let error = parsed(&["-s", "x", "--candidate-env", "1X=2", "--", "r"]).unwrap_err();
        assert!(
            error.contains("not an environment variable name"),
            "{error}"
        );
        let error = parsed(&["-s", "x", "--candidate-env", "FLAG", "--", "r"]).unwrap_err();
        assert!(error.contains("is not NAME=VALUE"), "{error}");
        let error = parsed(&["-s", "x", "--", "r"]).unwrap_err();
        assert!(error.contains("--patch"), "{error}");
    }
}
