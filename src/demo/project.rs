//! The demo's checkout cases as MCP projects (`fixproof demo --write-project DIR`): the demo
//! repository, its scenarios and patches, and one project file per case, ready for
//! `fixproof mcp --project DIR/checkout-p99.project.json`. The checkout service the projects
//! run starts its own pricing downstream (`fixproof demo-service checkout`).

use super::DemoError;
use super::bundle::{CASES, create_repo};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The cases a project is written for: the HTTP ones (the Kafka case needs the demo's
/// consumer and broker, which `fixproof demo` runs itself).
const PROJECT_CASES: [&str; 2] = ["checkout-p99", "checkout-errors"];

/// Writes the projects into `dir` (made if missing; must not hold a repository yet), whose
/// service command is `exe demo-service checkout`; returns the project files.
///
/// # Errors
/// [`DemoError::Io`] for a file that cannot be written, [`DemoError::Git`] for the repository.
pub fn write_project(dir: &Path, exe: &Path) -> Result<Vec<PathBuf>, DemoError> {
    let repo = dir.join("repo");
    if repo.exists() {
        return Err(DemoError::io(
            repo.display(),
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists: give a new folder",
            ),
        ));
    }
    for sub in [&repo, &dir.join("scenarios"), &dir.join("patches")] {
        std::fs::create_dir_all(sub).map_err(|e| DemoError::io(sub.display(), e))?;
    }
    create_repo(&repo)?;
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| DemoError::io(path.display(), e))
    };
    let mut projects = Vec::new();
    for case in CASES.iter().filter(|c| PROJECT_CASES.contains(&c.name)) {
        write(
            dir.join("scenarios").join(format!("{}.json", case.name)),
            case.scenario,
        )?;
        for (name, _, diff) in case.patches {
            write(dir.join("patches").join(name), diff)?;
        }
        let project = json!({
            "name": case.name,
            "description": format!("the fixproof demo: {}", case.alert),
            "repo": "repo",
            "base": "HEAD",
            "scenario": format!("scenarios/{}.json", case.name),
            "command": [exe.display().to_string(), "demo-service", "checkout"],
            "results_dir": format!("results/{}", case.name),
            "caps": { "max_rate": "500/s", "max_requests": 20000, "max_duration": "30s" },
            "allow": { "slo": true, "guards": true, "rate": true },
        });
        let path = dir.join(format!("{}.project.json", case.name));
        let text = serde_json::to_string_pretty(&project).map_err(|e| DemoError::Bundled {
            case: case.name,
            message: e.to_string(),
        })?;
        write(path.clone(), &(text + "\n"))?;
        projects.push(path);
    }
    Ok(projects)
}
