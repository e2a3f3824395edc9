//! A tool call's candidates as `verify` flags: `--patch FILE`, `--revert COMMIT` or nothing,
//! then each `--candidate-env NAME=VALUE`, then `--label`. An env-only candidate goes first:
//! on the command line, a `--candidate-env` joins the candidate before it.

use std::ffi::OsString;
use std::path::PathBuf;

/// Where a candidate's change comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum CandidateSource {
    /// A patch written into the run's folder.
    File(PathBuf),
    /// A commit to roll back.
    Revert(String),
    /// The base's code, with the candidate's env.
    Env,
}

/// One candidate of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateArgs {
    pub source: CandidateSource,
    pub label: Option<String>,
    pub env: Vec<(String, String)>,
}

/// The flags of `candidates`, the env-only one first.
pub fn flags(candidates: &[CandidateArgs]) -> Vec<OsString> {
    let (alone, others): (Vec<&CandidateArgs>, Vec<&CandidateArgs>) = candidates
        .iter()
        .partition(|c| c.source == CandidateSource::Env);
    let mut argv: Vec<OsString> = Vec::new();
    for c in alone.into_iter().chain(others) {
        match &c.source {
            CandidateSource::File(path) => {
                argv.extend(["--patch".into(), path.clone().into_os_string()]);
            }
            CandidateSource::Revert(commit) => argv.extend(["--revert".into(), commit.into()]),
            CandidateSource::Env => {}
        }
        for (name, value) in &c.env {
            argv.extend(["--candidate-env".into(), format!("{name}={value}").into()]);
        }
        if let Some(label) = &c.label {
            argv.extend(["--label".into(), label.into()]);
        }
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_only_candidate_comes_first_and_each_env_follows_its_candidate() {
        let env = |k: &str| vec![(k.to_string(), "1".to_string())];
        let argv = flags(&[
            CandidateArgs {
                source: CandidateSource::File("a.diff".into()),
                label: Some("a".into()),
                env: env("A"),
            },
            CandidateArgs {
                source: CandidateSource::Env,
                label: None,
                env: env("FLAG"),
            },
            CandidateArgs {
                source: CandidateSource::Revert("abc".into()),
                label: None,
                env: vec![],
            },
        ]);
        let argv: Vec<String> = argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            argv,
            [
                "--candidate-env",
                "FLAG=1",
                "--patch",
                "a.diff",
                "--candidate-env",
                "A=1",
                "--label",
                "a",
                "--revert",
                "abc"
            ]
        );
    }
}
