//! After a pass: a preview environment for the human who reviews it (mirrord Enterprise).
//! The candidate's image is `--preview-image`, or the last line `--preview-build CMD` prints
//! when run in a fresh worktree of that candidate. The verdict gets the exact `mirrord preview
//! start` command, the session header and a curl example; with `--preview` the command is run
//! too, by the same binary and environment rules as the arms' `mirrord exec`.

use super::arm::Backend;
use super::events::{Event, Hooks};
use super::verify::VerifyPlan;
use super::workspace::Workspaces;
use crate::verdict::preview::PreviewRecord;
use crate::verdict::{Decision, Outcome};
use std::time::Duration;

/// What `verify` was asked to do for a passing candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewPlan {
    /// Builds the image in the candidate's worktree and prints its reference last.
    pub build: Option<String>,
    /// An image built elsewhere.
    pub image: Option<String>,
    /// Run `mirrord preview start`, not only print it.
    pub start: bool,
    /// The preview's time to live, minutes.
    pub ttl_mins: u64,
}

/// The longest an image build or a preview start may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const START_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Gives each passing verdict of `outcome` its preview.
pub(super) async fn attach(plan: &VerifyPlan, outcome: &mut Outcome, hooks: &Hooks) {
    let Some(preview) = &plan.preview else { return };
    for verdict in outcome.verdicts_mut() {
        if verdict.verdict != Decision::Pass || hooks.is_stopping() {
            continue;
        }
        let label = verdict.arms.candidate.label.clone();
        let record = one(plan, preview, &label).await;
        hooks.emit(Event::Note {
            message: match (&record.command, &record.error) {
                (_, Some(error)) => format!("{label}: no preview: {error}"),
                (Some(command), None) => format!("{label}: preview: {command}"),
                (None, None) => format!("{label}: preview without a command"),
            },
        });
        verdict.preview = Some(record);
    }
}

async fn one(plan: &VerifyPlan, preview: &PreviewPlan, label: &str) -> PreviewRecord {
    let short = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("fixproof-{label}-{}", &short[..8]);
    let mut record = PreviewRecord {
        header: format!("baggage: mirrord-session={key}"),
        curl: plan
            .settings
            .url
            .as_ref()
            .map(|url| format!("curl -H 'baggage: mirrord-session={key}' {}/", url.origin())),
        key,
        image: None,
        command: None,
        started: None,
        output: None,
        error: None,
    };
    let Backend::Mirrord(options) = &plan.settings.backend else {
        record.error = Some("a preview needs --backend mirrord with --target".into());
        return record;
    };
    let Some(target) = &options.target else {
        record.error = Some("a preview needs --target (the deployment it replaces)".into());
        return record;
    };
    let image = match (&preview.image, &preview.build) {
        (Some(image), _) => Ok(image.clone()),
        (None, Some(build)) => built(plan, label, build).await,
        (None, None) => Err("give --preview-image IMAGE or --preview-build CMD".into()),
    };
    let image = match image {
        Ok(image) => image,
        Err(error) => {
            record.error = Some(error);
            return record;
        }
    };
    let mut args = vec![
        "preview".to_string(),
        "start".into(),
        "-k".into(),
        record.key.clone(),
        "-i".into(),
        image.clone(),
        "-t".into(),
        target.clone(),
    ];
    if let Some(namespace) = &options.namespace {
        args.extend(["-n".into(), namespace.clone()]);
    }
    args.extend(["--ttl".into(), preview.ttl_mins.to_string()]);
    record.command = Some(format!("{} {}", options.bin, args.join(" ")));
    record.image = Some(image);
    if preview.start {
        let mut command = tokio::process::Command::new(&options.bin);
        command.args(&args).kill_on_drop(true);
        for name in super::mirrord::inherited_mirrord_vars() {
            command.env_remove(name);
        }
        match run(command, START_TIMEOUT).await {
            Ok((ok, output)) => {
                record.started = Some(ok);
                record.output = Some(output);
                if !ok {
                    record.error = Some("mirrord preview start failed: see output".into());
                }
            }
            Err(error) => {
                record.started = Some(false);
                record.error = Some(error);
            }
        }
    }
    record
}

/// The image `build` prints last, run in a fresh worktree of the candidate `label`.
async fn built(plan: &VerifyPlan, label: &str, build: &str) -> Result<String, String> {
    let patch = plan
        .patches
        .iter()
        .find(|p| p.label == label)
        .ok_or_else(|| format!("no candidate labelled {label}"))?;
    let workspaces = Workspaces::create(&plan.repo, &plan.base, std::slice::from_ref(patch))
        .map_err(|e| e.to_string())?;
    let dir = workspaces
        .candidates
        .first()
        .ok_or("no worktree was made")?;
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(build)
        .current_dir(dir)
        .env("FIXPROOF_LABEL", label)
        .kill_on_drop(true);
    let (ok, output) = run(command, BUILD_TIMEOUT).await?;
    if !ok {
        return Err(format!("--preview-build failed: {output}"));
    }
    output
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("stderr| "))
        .map(str::to_string)
        .ok_or_else(|| "--preview-build printed no image reference on stdout".into())
}

/// Runs `command`; whether it succeeded and its last 20 lines (stderr prefixed).
async fn run(
    mut command: tokio::process::Command,
    timeout: Duration,
) -> Result<(bool, String), String> {
    command.stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .map_err(|_| {
            format!(
                "did not finish within {}",
                humantime::format_duration(timeout)
            )
        })?
        .map_err(|e| format!("could not be started: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<String> = stdout
        .lines()
        .map(str::to_string)
        .chain(stderr.lines().map(|l| format!("stderr| {l}")))
        .collect();
    let tail = super::process::last_lines(&lines.join("\n"), 20);
    Ok((output.status.success(), crate::report::redact::text(&tail)))
}
