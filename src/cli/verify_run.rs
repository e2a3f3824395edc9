//! Running `fixproof verify`: the plan prepared (and refused above its caps before anything
//! is made), the verification, the reports. The MCP server prepares its runs here too, so a
//! tool call means exactly what the same flags mean on the command line.

use super::verify::{VerifyArgs, plan};
use super::{Failure, present};
use crate::exit_code;
use crate::orchestrate::{Budget, Hooks, Shutdown, VerifyPlan};
use crate::verdict::Outcome;
use std::path::Path;
use std::sync::Arc;

/// A verification ready to run.
pub struct Prepared {
    /// The plan.
    pub plan: VerifyPlan,
    /// What the arms will send, checked against the caps.
    pub budget: Budget,
    /// Kept until the verification ends: the embedded broker of a Kafka scenario.
    _broker: Option<Box<dyn std::any::Any>>,
}

/// The checked plan of `args`, with the embedded broker a Kafka scenario needs.
///
/// # Errors
/// A [`Failure`] naming the flag, file or cap, with its exit code.
pub fn prepare(args: &VerifyArgs) -> Result<Prepared, Failure> {
    prepare_plan(plan(args)?, args)
}

/// [`prepare`] of a plan already made from `args` (the MCP server makes it when the call
/// comes, to refuse a bad one at once, and prepares it when the run's turn comes).
///
/// # Errors
/// As [`prepare`].
pub fn prepare_plan(mut plan: VerifyPlan, args: &VerifyArgs) -> Result<Prepared, Failure> {
    let broker = super::verify_kafka::kafka_arms(&mut plan, args)?
        .map(|b| Box::new(b) as Box<dyn std::any::Any>);
    let budget = Budget::of(&plan);
    if plan.repro.is_none() {
        // Refused before anything is made; `orchestrate::verify::run` checks it again.
        budget
            .check(&plan.knobs)
            .map_err(|e| Failure::new(e.exit_code(), e))?;
    }
    let results = &plan.settings.results_dir;
    std::fs::create_dir_all(results).map_err(|e| {
        Failure::new(
            exit_code::INTERNAL,
            anyhow::anyhow!("cannot create {}: {e}", results.display()),
        )
    })?;
    Ok(Prepared {
        plan,
        budget,
        _broker: broker,
    })
}

/// Runs `prepared` with `hooks` and writes `verdict.json`, `report.md` and `report.html`.
///
/// # Errors
/// A [`Failure`] with the verification's exit code, or 70 when a report cannot be written.
pub async fn execute(prepared: &Prepared, hooks: &Arc<Hooks>) -> Result<Outcome, Failure> {
    let outcome = crate::orchestrate::verify(&prepared.plan, hooks)
        .await
        .map_err(|e| Failure::new(e.exit_code(), e))?;
    publish(&outcome, &prepared.plan.settings.results_dir)?;
    Ok(outcome)
}

fn publish(outcome: &Outcome, results: &Path) -> Result<(), Failure> {
    crate::report::publish(outcome, results).map_err(|(path, e)| {
        Failure::new(
            exit_code::INTERNAL,
            anyhow::anyhow!("cannot write {}: {e}", path.display()),
        )
    })
}

/// `fixproof verify`.
pub async fn run(args: VerifyArgs) -> Result<i32, Failure> {
    let prepared = prepare(&args)?;
    let plan = &prepared.plan;
    let results = plan.settings.results_dir.clone();
    eprintln!(
        "fixproof: verifying {} patch(es) on {} ({:?} backend); results in {}",
        plan.patches.len(),
        plan.scenario.name,
        args.backend,
        results.display()
    );
    if plan.repro.is_none() {
        eprintln!(
            "fixproof: the service's downstreams will see {}",
            prepared.budget.describe()
        );
    }
    let shutdown = Shutdown::listen("stopping the load and the services")
        .map_err(|e| Failure::new(exit_code::INTERNAL, e))?;
    let hooks = Hooks::new(shutdown, Arc::new(present::Stderr));
    let outcome = execute(&prepared, &hooks).await?;
    eprintln!(
        "fixproof: verdict.json, report.md and report.html are in {}",
        results.display()
    );
    Ok(present::print(&outcome, args.format, true))
}
