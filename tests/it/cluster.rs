//! What stands for the cluster in tests of the mirrord backend: a steal proxy on the
//! "service URL" that reads the stand-in mirrord's session files and routes every request to
//! the session whose header filter matches one of its `name: value` lines, or else to the
//! "deployed" copy. As with iptables redirection, a connection accepted before any session's
//! steal took effect (`steal_from_ms`, see the stand-in's delayed steal) goes to the deployed
//! copy for its whole life. It logs each request's route, tag and sequence header.

#![allow(dead_code)]

use crate::server::TestServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where one request went.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// `deployed`, or the key of the session that stole it.
    pub to: String,
    pub tag: Option<String>,
    /// `x-verifier-seq`: a number for load requests, `probe` for readiness probes.
    pub seq: Option<String>,
}

impl Routed {
    /// A request of the driver's load (not a readiness probe).
    pub fn is_load(&self) -> bool {
        self.seq
            .as_deref()
            .is_some_and(|s| s.parse::<u64>().is_ok())
    }
}

/// The sessions whose steal is in effect now.
fn stealing(cluster: &Path) -> Vec<serde_json::Value> {
    let now = fixproof_standin::agent::now_ms();
    fixproof_standin::live_sessions(cluster)
        .into_iter()
        .filter(|s| s["steal"] == true && s["steal_from_ms"].as_u64().is_none_or(|t| t <= now))
        .collect()
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub deployed: TestServer,
    pub service_url: String,
    pub log: Arc<Mutex<Vec<Routed>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Cluster {
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let deployed = TestServer::start();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let service_url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime.spawn(accept(
            listener,
            dir.path().to_path_buf(),
            deployed.addr.port(),
            log.clone(),
        ));
        Cluster {
            dir,
            deployed,
            service_url,
            log,
            runtime: Some(runtime),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn routed(&self) -> Vec<Routed> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn accept(
    listener: tokio::net::TcpListener,
    cluster: PathBuf,
    deployed: u16,
    log: Arc<Mutex<Vec<Routed>>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let (cluster, log) = (cluster.clone(), log.clone());
        // Redirected or not for the connection's whole life, as iptables does.
        let redirected = !stealing(&cluster).is_empty();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                route(request, cluster.clone(), redirected, deployed, log.clone())
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(
    request: http::Request<hyper::body::Incoming>,
    cluster: PathBuf,
    redirected: bool,
    deployed: u16,
    log: Arc<Mutex<Vec<Routed>>>,
) -> Result<http::Response<Full<Bytes>>, hyper::Error> {
    let lines: Vec<String> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some(format!("{}: {}", name.as_str(), value.to_str().ok()?)))
        .collect();
    let tag = request
        .headers()
        .get("x-verifier-run")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let seq = request
        .headers()
        .get("x-verifier-seq")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let sessions = if redirected {
        stealing(&cluster)
    } else {
        Vec::new()
    };
    let stolen = sessions.into_iter().find(|session| {
        let filter = session["header_filter"]
            .as_str()
            .and_then(|f| regex::Regex::new(&format!("(?i){f}")).ok());
        filter.is_some_and(|re| lines.iter().any(|line| re.is_match(line)))
    });
    let (to, port) = match &stolen {
        Some(session) => (
            session["key"].as_str().unwrap_or("?").to_string(),
            session["app_port"].as_u64().unwrap_or(0) as u16,
        ),
        None => ("deployed".to_string(), deployed),
    };
    log.lock().unwrap().push(Routed { to, tag, seq });
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let forwarded = http::Request::from_parts(parts, Full::new(body));
    let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return Ok(http::Response::builder()
            .status(502)
            .body(Full::new(Bytes::from_static(b"no upstream")))
            .unwrap());
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(forwarded).await?;
    let (parts, body) = response.into_parts();
    Ok(http::Response::from_parts(
        parts,
        Full::new(body.collect().await?.to_bytes()),
    ))
}
