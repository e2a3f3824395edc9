//! The mirrord config of each arm of a verification: checked for the arm's key before anything
//! runs, and, where it had to be made safe, a rendered copy per arm in the results folder.

use super::arm::ArmSpec;
use super::events::{Event, Hooks};
use super::mirrord::{self, MirrordError};
use super::verify::{ArmOrder, VerifyPlan};
use std::path::PathBuf;

/// Checks the mirrord config for every arm's key. Where it had to be made safe, the arm gets a
/// rendered copy (`<label>.mirrord.json` in the results folder), and the notes say so.
pub(super) fn check_mirrord(
    options: &mirrord::MirrordOptions,
    specs: &mut [ArmSpec],
    plan: &VerifyPlan,
    hooks: &Hooks,
) -> Result<Vec<String>, MirrordError> {
    if which(&options.bin).is_none() {
        return Err(MirrordError::Missing {
            bin: options.bin.clone(),
        });
    }
    let wanted = mirrord::CheckFor {
        concurrent: plan.order != ArmOrder::Sequential,
        kafka: plan.settings.workload.consumes_queue(),
    };
    let mut notes = Vec::new();
    for spec in specs {
        let mut checked = mirrord::check(
            &options.config,
            &spec.key,
            plan.settings.tag_header.as_str(),
            wanted,
        )?;
        if !spec.env.is_empty() {
            let names: Vec<&str> = spec.env.iter().map(|(k, _)| k.as_str()).collect();
            super::mirrord_config::override_env(&mut checked.rendered, &spec.env);
            let note = format!(
                "{} in the rendered config's feature.env.override (the pod's environment beats the local one)",
                names.join(", ")
            );
            match &mut checked.rewrite {
                Some(rewrite) => rewrite.note = format!("{}; {note}", rewrite.note),
                None => checked.rewrite = Some(super::mirrord_config::Rewrite { note }),
            }
        }
        if let Some(rewrite) = checked.rewrite {
            let copy = plan
                .settings
                .results_dir
                .join(format!("{}.mirrord.json", spec.label));
            let json = serde_json::to_vec_pretty(&checked.rendered).expect("JSON serializes");
            crate::load::artifact::write_atomically(&copy, &json).map_err(|source| {
                MirrordError::Read {
                    path: copy.display().to_string(),
                    source,
                }
            })?;
            hooks.emit(Event::Note {
                message: format!("{}: {} ({})", spec.label, rewrite.note, copy.display()),
            });
            if notes.is_empty() {
                notes.push(rewrite.note);
            }
            spec.mirrord_config = Some(copy);
        }
        let config = spec.mirrord_config.as_deref().unwrap_or(&options.config);
        mirrord::verify_config(&options.bin, config, &spec.key, options.target.is_some()).map_err(
            |e| MirrordError::Invalid {
                path: config.display().to_string(),
                message: e.to_string(),
            },
        )?;
    }
    Ok(notes)
}

/// The path of `bin` when it names an executable on PATH (or is a path to one).
fn which(bin: &str) -> Option<PathBuf> {
    let is_exec = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        })
    };
    if bin.contains('/') {
        return is_exec(std::path::Path::new(bin)).then(|| PathBuf::from(bin));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(bin))
            .find(|p| is_exec(p))
    })
}
