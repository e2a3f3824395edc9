//! `fixproof mcp`: verification as tools for AI agents over the Model Context Protocol
//! (rmcp, the official Rust SDK), on stdio or streamable HTTP. The server is started with
//! its projects (`project`); a tool call names one and sends patches (`tools`, `server`).
//! Each run is `fixproof verify` on its own thread (`runs`), so a project means exactly what
//! the same flags mean on the command line. Logs go to stderr: stdout is the protocol's.
//!
//! Ctrl-C, SIGTERM or a client that goes away (stdio's end of input) cancel every run, wait
//! for their cleanup (no service left, no worktree), and end the server.

mod candidates;
mod events;
mod http;
mod project;
mod results;
mod runs;
mod server;
mod tools;

use super::Failure;
use crate::exit_code;
use crate::orchestrate::Shutdown;
use clap::Args;
use rmcp::ServiceExt;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// `fixproof mcp`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each --project file (TOML or JSON) fixes a repository, base, scenario, service command, backend and caps; a tool call names the project and may override only what its `allow` table allows. See README \"fixproof as an MCP tool\"."
)]
pub struct McpArgs {
    /// A project file (TOML or JSON); repeat for several.
    #[arg(long = "project", value_name = "FILE", required = true)]
    pub projects: Vec<PathBuf>,
    /// Serve streamable HTTP on ADDR (e.g. 127.0.0.1:8808) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Allow a non-loopback --http address (needs --token-file).
    #[arg(long, requires = "http")]
    pub allow_remote: bool,
    /// A file holding the bearer token every HTTP request must carry
    /// (`Authorization: Bearer <token>`).
    #[arg(long, value_name = "FILE", requires = "http")]
    pub token_file: Option<PathBuf>,
}

/// Runs the server until its client goes away or a signal stops it.
pub async fn run(args: McpArgs) -> Result<i32, Failure> {
    let usage = |m: String| Failure::new(exit_code::USAGE, anyhow::anyhow!(m));
    let mut projects = Vec::new();
    for file in &args.projects {
        let project = project::Project::read(file).map_err(usage)?;
        if projects
            .iter()
            .any(|p: &project::Project| p.name == project.name)
        {
            return Err(usage(format!(
                "{}: project '{}' is given twice: names must differ",
                file.display(),
                project.name
            )));
        }
        projects.push(project);
    }
    let listen = args
        .http
        .map(|addr| http::listen(addr, args.allow_remote, args.token_file.as_deref()))
        .transpose()
        .map_err(usage)?;
    let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
    eprintln!("fixproof mcp: projects {}", names.join(", "));
    let server = server::Server::new(projects);
    let runs = server.runs();
    let signals = Shutdown::listen("cancelling every run and stopping the server")
        .map_err(|e| Failure::new(exit_code::INTERNAL, e))?;
    let stop = CancellationToken::new();
    let served = async {
        match listen {
            Some(listen) => http::serve(server, listen, stop.clone())
                .await
                .map_err(|e| e.to_string()),
            None => match server.serve(rmcp::transport::stdio()).await {
                Ok(service) => service
                    .waiting()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        }
    };
    let code = tokio::select! {
        result = served => match result {
            Ok(()) => exit_code::OK,
            Err(e) => {
                eprintln!("fixproof mcp: {e}");
                exit_code::UNAVAILABLE
            }
        },
        signal = signals.requested() => signal.exit_code(),
    };
    stop.cancel();
    runs.cancel_all().await;
    Ok(code)
}
