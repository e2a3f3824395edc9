//! A project: what one MCP tool call may verify, fixed by whoever starts the server. The
//! client sends patches and, where the project allows, SLOs, guards and a lower rate; the
//! repository, the service command, the backend and the caps are the project's, so an agent
//! never chooses what runs on this machine.
//!
//! A project file is TOML (`.toml`) or JSON; relative paths are relative to it:
//!
//! ```toml
//! name = "checkout"
//! repo = "../checkout"                 # the service's git repository
//! base = "main"                        # default HEAD
//! scenario = "scenarios/checkout-p99.json"
//! command = ["python3", "app.py"]
//! backend = "local"                    # or "mirrord", with [mirrord]
//! results_dir = "results"              # default results/<name> beside the file
//! parallel_runs = false                # true: runs do not queue (mirrord needs the operator)
//! args = ["--ready-path", "/health"]   # any other `verify` flags
//!
//! [caps]
//! max_rate = "50/s"
//! max_requests = 20000
//! max_duration = "2m"
//!
//! [allow]                              # what a tool call may override (default: nothing)
//! slo = true
//! guards = true
//! rate = true
//! ```

use crate::cli::parse;
use crate::scenario::{Rate, Scenario};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: String,
    #[serde(default)]
    description: Option<String>,
    repo: PathBuf,
    #[serde(default = "head")]
    base: String,
    scenario: PathBuf,
    command: Vec<String>,
    #[serde(default)]
    backend: BackendName,
    #[serde(default)]
    arms: Option<String>,
    #[serde(default)]
    results_dir: Option<PathBuf>,
    #[serde(default)]
    parallel_runs: bool,
    #[serde(default)]
    mirrord: Option<RawMirrord>,
    #[serde(default)]
    caps: RawCaps,
    #[serde(default)]
    allow: Allow,
    #[serde(default)]
    args: Vec<String>,
}

fn head() -> String {
    "HEAD".into()
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BackendName {
    #[default]
    Local,
    Mirrord,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMirrord {
    config: PathBuf,
    url: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    bin: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaps {
    #[serde(default)]
    max_rate: Option<String>,
    #[serde(default)]
    max_requests: Option<u64>,
    #[serde(default)]
    max_duration: Option<String>,
}

/// What a tool call may override.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The SLOs (the alert's condition).
    #[serde(default)]
    pub slo: bool,
    /// The guards.
    #[serde(default)]
    pub guards: bool,
    /// The arrival rate, at most the cap.
    #[serde(default)]
    pub rate: bool,
}

/// A project, checked.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    pub repo: PathBuf,
    pub base: String,
    pub scenario_file: PathBuf,
    pub scenario: Scenario,
    pub command: Vec<String>,
    pub backend: BackendName,
    pub results_dir: PathBuf,
    pub parallel_runs: bool,
    pub max_rate: Option<Rate>,
    pub max_requests: Option<u64>,
    pub max_duration: Option<Duration>,
    pub allow: Allow,
    /// The flags every run gets, before the patches and the call's overrides.
    fixed: Vec<OsString>,
}

/// What a tool call asks of a project beyond its patches.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub slo: Vec<String>,
    pub guards: Vec<String>,
    pub rate: Option<String>,
}

/// Flags the project's `args` may not give: the server sets them.
const OWNED: [&str; 13] = [
    "--patch",
    "-p",
    "--label",
    "--scenario",
    "-s",
    "--repo",
    "--base",
    "--backend",
    "--results-dir",
    "--format",
    "--max-rate",
    "--max-requests",
    "--url",
];

impl Project {
    /// Reads and checks the project file at `path`.
    ///
    /// # Errors
    /// A message naming the file and the field, and how to fix it.
    pub fn read(path: &Path) -> Result<Project, String> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))?;
        let raw: RawProject = if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text).map_err(|e| format!("{file}: {e}"))?
        } else {
            serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        Project::check(raw, path, dir).map_err(|e| format!("{file}: {e}"))
    }

    fn check(raw: RawProject, path: &Path, dir: &Path) -> Result<Project, String> {
        if raw.name.is_empty() || crate::orchestrate::patch::sanitize(&raw.name) != raw.name {
            return Err(format!(
                "\"name\" {:?} must be non-empty [A-Za-z0-9._-]: tool calls name the project by it",
                raw.name
            ));
        }
        if raw.command.is_empty() {
            return Err("\"command\" is empty: give the command that starts the service, e.g. [\"python3\", \"app.py\"]".into());
        }
        let at = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        let scenario_file = at(&raw.scenario);
        let scenario =
            Scenario::from_file(&scenario_file).map_err(|e| format!("\"scenario\": {e}"))?;
        let max_rate = raw.caps.max_rate.as_deref().map(parse::rate).transpose();
        let max_rate = max_rate.map_err(|e| format!("\"caps.max_rate\": {e}"))?;
        let max_duration = raw
            .caps
            .max_duration
            .as_deref()
            .map(parse::positive_duration);
        let max_duration = max_duration
            .transpose()
            .map_err(|e| format!("\"caps.max_duration\": {e}"))?;
        if let Some(owned) = raw
            .args
            .iter()
            .find(|a| OWNED.contains(&a.split('=').next().unwrap_or(a)))
        {
            return Err(format!(
                "\"args\" may not give {owned}: the project's own fields and the tool calls set it"
            ));
        }
        let mut project = Project {
            name: raw.name.clone(),
            description: raw.description,
            file: path.to_path_buf(),
            repo: at(&raw.repo),
            base: raw.base,
            scenario_file,
            scenario,
            command: raw.command,
            backend: raw.backend,
            results_dir: raw
                .results_dir
                .as_deref()
                .map_or_else(|| dir.join("results").join(&raw.name), at),
            parallel_runs: raw.parallel_runs,
            max_rate,
            max_requests: raw.caps.max_requests,
            max_duration,
            allow: raw.allow,
            fixed: Vec::new(),
        };
        project.fixed = project.fixed_flags(raw.arms, raw.mirrord, raw.args, &at)?;
        // Every flag is checked now, as `verify` will read it, not at the first tool call.
        let probe = [super::candidates::CandidateArgs {
            source: super::candidates::CandidateSource::File(PathBuf::from("probe.diff")),
            label: Some("probe".into()),
            env: Vec::new(),
        }];
        let probe = project.argv(&probe, &Overrides::default(), &project.results_dir)?;
        crate::cli::parse_verify(&probe).map_err(|e| format!("its flags: {}", e.trim()))?;
        Ok(project)
    }

    fn fixed_flags(
        &self,
        arms: Option<String>,
        mirrord: Option<RawMirrord>,
        args: Vec<String>,
        at: &dyn Fn(&Path) -> PathBuf,
    ) -> Result<Vec<OsString>, String> {
        let mut flags: Vec<OsString> = Vec::new();
        let mut push = |flag: &str, value: OsString| {
            flags.push(flag.into());
            flags.push(value);
        };
        push("--scenario", self.scenario_file.clone().into());
        push("--repo", self.repo.clone().into());
        push("--base", self.base.clone().into());
        if let Some(arms) = arms {
            push("--arms", arms.into());
        }
        match (self.backend, mirrord) {
            (BackendName::Local, None) => push("--backend", "local".into()),
            (BackendName::Local, Some(_)) => {
                return Err("[mirrord] is set but \"backend\" is \"local\": set backend = \"mirrord\" or remove [mirrord]".into());
            }
            (BackendName::Mirrord, None) => {
                return Err("backend \"mirrord\" needs [mirrord] with config and url".into());
            }
            (BackendName::Mirrord, Some(m)) => {
                push("--backend", "mirrord".into());
                push("--mirrord-config", at(&m.config).into());
                push("--url", m.url.into());
                if let Some(t) = m.target {
                    push("--target", t.into());
                }
                if let Some(n) = m.namespace {
                    push("--target-namespace", n.into());
                }
                if let Some(b) = m.bin {
                    push("--mirrord-bin", b.into());
                }
            }
        }
        if let Some(rate) = self.max_rate {
            push("--max-rate", format!("{}/s", rate.get()).into());
        }
        if let Some(n) = self.max_requests {
            push("--max-requests", n.to_string().into());
        }
        if let Some(cap) = self
            .max_duration
            .filter(|cap| *cap < self.scenario.load.duration)
        {
            push(
                "--max-duration",
                crate::scenario::format_duration(cap).into(),
            );
        }
        flags.extend(args.into_iter().map(OsString::from));
        Ok(flags)
    }

    /// The `verify` arguments of a run of `candidates` with `overrides`, whose
    /// results folder is made under `results` (a folder of this project's results).
    ///
    /// # Errors
    /// An override the project does not allow, or a rate above its cap.
    pub fn argv(
        &self,
        candidates: &[super::candidates::CandidateArgs],
        o: &Overrides,
        results: &Path,
    ) -> Result<Vec<OsString>, String> {
        let refuse = |what: &str, field: &str| {
            Err(format!(
                "project '{}' does not allow overriding {what}: its file ({}) would need allow.{field} = true",
                self.name,
                self.file.display()
            ))
        };
        if !o.slo.is_empty() && !self.allow.slo {
            return refuse("the SLOs", "slo");
        }
        if !o.guards.is_empty() && !self.allow.guards {
            return refuse("the guards", "guards");
        }
        let mut argv = self.fixed.clone();
        argv.extend(["--results-dir".into(), results.as_os_str().to_owned()]);
        if let Some(rate) = &o.rate {
            if !self.allow.rate {
                return refuse("the rate", "rate");
            }
            let asked = parse::rate(rate).map_err(|e| format!("rate {rate:?}: {e}"))?;
            if let Some(cap) = self.max_rate.filter(|cap| asked.get() > cap.get()) {
                return Err(format!(
                    "rate {asked} is above project '{}''s cap of {cap} (caps.max_rate): ask for {cap} or less",
                    self.name
                ));
            }
            argv.extend(["--rate".into(), rate.into()]);
        }
        for slo in &o.slo {
            argv.extend(["--slo".into(), slo.into()]);
        }
        for guard in &o.guards {
            argv.extend(["--guard".into(), guard.into()]);
        }
        argv.extend(super::candidates::flags(candidates));
        argv.extend(["--format".into(), "json".into(), "--".into()]);
        argv.extend(self.command.iter().map(OsString::from));
        Ok(argv)
    }

    /// `path` (relative to the results folder, or absolute) if it lies under the results
    /// folder.
    ///
    /// # Errors
    /// A path outside it, or one that does not exist.
    pub fn result_path(&self, path: &str) -> Result<PathBuf, String> {
        let root = self.results_dir.canonicalize().map_err(|e| {
            format!(
                "project '{}' has no results yet ({}: {e})",
                self.name,
                self.results_dir.display()
            )
        })?;
        let asked = Path::new(path);
        let joined = if asked.is_absolute() {
            asked.to_path_buf()
        } else {
            root.join(asked)
        };
        let resolved = joined
            .canonicalize()
            .map_err(|e| format!("{path}: {e} (paths are relative to project '{}''s results folder; list_results lists them)", self.name))?;
        if resolved.starts_with(&root) {
            Ok(resolved)
        } else {
            Err(format!(
                "{path} is outside project '{}''s results folder: give a path that list_results lists",
                self.name
            ))
        }
    }
}
