//! The MCP server: one handler for every transport, dispatching each tool call to the
//! projects, the runs and the results. Refusals are tool errors an agent can read (an
//! unknown project, an override the project does not allow, a rate above its cap).

use super::project::{Overrides, Project};
use super::results;
use super::runs::{EventStream, Run, RunState, Runs};
use super::tools::{
    self, Caps, CompareInput, ProjectInfo, ProjectInput, ProjectsOutput, ReportInput, RunInfo,
    RunInput, RunOutput, VerifyInput,
};
use crate::verdict::Outcome;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The server's state, shared by every session.
#[derive(Clone)]
pub struct Server {
    projects: Arc<Vec<Project>>,
    runs: Arc<Runs>,
}

/// A tool's answer, or the refusal an agent reads.
type Answer = Result<CallToolResult, String>;

impl Server {
    pub fn new(projects: Vec<Project>) -> Server {
        let runs = Arc::new(Runs::new(&projects));
        Server {
            projects: Arc::new(projects),
            runs,
        }
    }

    /// The runs, for the transports' shutdown.
    pub fn runs(&self) -> Arc<Runs> {
        Arc::clone(&self.runs)
    }

    fn project(&self, name: &str) -> Result<&Project, String> {
        self.projects.iter().find(|p| p.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.projects.iter().map(|p| p.name.as_str()).collect();
            format!(
                "unknown project '{name}': this server verifies {} (list_projects describes them)",
                known.join(", ")
            )
        })
    }

    fn list_projects(&self) -> Answer {
        let projects = self.projects.iter().map(info).collect();
        structured(&ProjectsOutput::Projects { projects }, None)
    }

    fn start(&self, input: VerifyInput) -> Result<(Arc<Run>, EventStream), String> {
        let project = self.project(&input.project)?;
        let patches = input.patches;
        let overrides = Overrides {
            slo: input.slo,
            guards: input.guards,
            rate: input.rate,
        };
        self.runs.start(project, &patches, &overrides)
    }

    fn run_answer(&self, run: &Run) -> Answer {
        let info = RunInfo {
            run_id: run.id.clone(),
            project: run.project.clone(),
            labels: run.labels.clone(),
            queue_position: self.runs.queue_position(run),
            status: run.status(),
        };
        let line = format!(
            "run {} on project '{}': {:?}",
            run.id, run.project, info.status.state
        );
        structured(&RunOutput::Run(info), Some(line))
    }

    async fn verify_patch(
        &self,
        input: VerifyInput,
        context: &RequestContext<RoleServer>,
    ) -> Answer {
        let (run, stream) = self.start(input)?;
        let token = context.meta.get_progress_token();
        let forward = token.map(|token| {
            let queued = self.runs.queue_position(&run);
            tokio::spawn(forward_progress(
                context.peer.clone(),
                token,
                stream,
                queued,
            ))
        });
        tokio::select! {
            () = run.finished() => {}
            () = context.ct.cancelled() => {
                run.cancel();
                run.finished().await;
            }
        }
        if let Some(forward) = forward {
            forward.abort();
        }
        let status = run.status();
        match (status.state, run.outcome()) {
            (RunState::Done, Some(outcome)) => outcome_answer(&outcome),
            _ => Err(format!(
                "run {} {}: {} (exit code {})",
                run.id,
                if status.state == RunState::Cancelled {
                    "was cancelled"
                } else {
                    "failed"
                },
                status.error.unwrap_or_default(),
                status.exit_code.unwrap_or(crate::exit_code::INTERNAL)
            )),
        }
    }

    fn get_run(&self, input: &RunInput) -> Result<Arc<Run>, String> {
        self.runs.get(&input.run_id).ok_or_else(|| {
            format!(
                "unknown run '{}': start_verification returns run ids",
                input.run_id
            )
        })
    }

    fn compare_runs(&self, input: CompareInput) -> Answer {
        let project = self.project(&input.project)?;
        let baseline = project.result_path(&input.baseline)?;
        let candidates = input
            .candidates
            .iter()
            .map(|c| project.result_path(c))
            .collect::<Result<Vec<_>, _>>()?;
        if candidates.is_empty() || input.slo.is_empty() {
            return Err("compare_runs needs at least one candidate and one SLO".into());
        }
        let settings = crate::verdict::Settings::default();
        let outcome = crate::cli::compare::compare_files(
            (&baseline, &candidates),
            (&input.slo, &input.guards),
            &settings,
            None,
        )
        .map_err(|f| format!("{:#}", f.error))?;
        outcome_answer(&outcome)
    }

    async fn call(
        &self,
        request: CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Answer {
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        match request.name.as_ref() {
            "list_projects" => self.list_projects(),
            "verify_patch" => self.verify_patch(input(args)?, context).await,
            "start_verification" => {
                let (run, _) = self.start(input(args)?)?;
                self.run_answer(&run)
            }
            "get_run" => {
                let run = self.get_run(&input(args)?)?;
                self.run_answer(&run)
            }
            "cancel_run" => {
                let run = self.get_run(&input(args)?)?;
                run.cancel();
                run.finished().await;
                self.run_answer(&run)
            }
            "compare_runs" => self.compare_runs(input(args)?),
            "render_report" => {
                let i: ReportInput = input(args)?;
                let (output, line) = results::render(self.project(&i.project)?, &i.run, i.format)?;
                structured(&output, Some(line))
            }
            "list_results" => {
                let i: ProjectInput = input(args)?;
                structured(&results::list(self.project(&i.project)?)?, None)
            }
            other => Err(format!("unknown tool '{other}': tools/list lists them")),
        }
    }
}

/// The tool's arguments as its input type; the error names the field.
fn input<T: DeserializeOwned>(args: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at {path}")
        };
        format!("invalid arguments{at}: {}", e.inner())
    })
}

fn structured<T: Serialize>(output: &T, line: Option<String>) -> Answer {
    let value =
        serde_json::to_value(output).map_err(|e| format!("cannot serialize the answer: {e}"))?;
    let text = line.unwrap_or_else(|| value.to_string());
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    Ok(result)
}

/// The outcome as structured content; each candidate's summary and feedback as text.
fn outcome_answer(outcome: &Outcome) -> Answer {
    structured(outcome, Some(results::summary_text(outcome)))
}

fn info(p: &Project) -> ProjectInfo {
    ProjectInfo {
        name: p.name.clone(),
        description: p.description.clone(),
        scenario: p.scenario.name.clone(),
        slo: p.scenario.slo.clone(),
        guards: p.scenario.guards.clone(),
        rate_per_s: crate::load::demand(&p.scenario).requests as f64
            / (p.scenario.load.duration + p.scenario.load.warmup)
                .as_secs_f64()
                .max(1e-3),
        backend: p.backend,
        base: p.base.clone(),
        caps: Caps {
            max_rate_per_s: p.max_rate.map(|r| r.get()),
            max_requests: p.max_requests,
            max_duration_s: p.max_duration.map(|d| d.as_secs_f64()),
        },
        allow: p.allow,
        parallel_runs: p.parallel_runs,
    }
}

/// Sends each event of a run that has a line as a progress notification.
async fn forward_progress(
    peer: Peer<RoleServer>,
    token: rmcp::model::ProgressToken,
    mut stream: EventStream,
    queued: Option<u64>,
) {
    let mut n = 0.0;
    if let Some(ahead) = queued.filter(|a| *a > 0) {
        let message = format!("queued behind {ahead} run(s) of this project");
        let _ = peer
            .notify_progress(ProgressNotificationParam::new(token.clone(), n).with_message(message))
            .await;
    }
    while let Some(event) = stream.recv().await {
        let Some(line) = crate::cli::present::line(&event) else {
            continue;
        };
        n += 1.0;
        let param =
            ProgressNotificationParam::new(token.clone(), n).with_message(line.trim().to_string());
        if peer.notify_progress(param).await.is_err() {
            return;
        }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("fixproof", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "fixproof proves or refutes a proposed fix for a production alert: verify_patch runs the unpatched baseline and each patched candidate of a project under load and answers pass, reject or inconclusive, with feedback to act on. list_projects first.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::all().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let answer = self.call(request, &context).await;
        Ok(match answer {
            Ok(result) => result,
            Err(message) => {
                eprintln!("fixproof mcp: {name}: {message}");
                CallToolResult::error(vec![ContentBlock::text(message)])
            }
        }
        .into())
    }
}
