//! The capture server of `fixproof record`: it answers `200` with an empty body to every
//! request (HTTP/1.1 and HTTP/2 over cleartext) and keeps what it received, as
//! [`Recorded`] requests for the scenario importer (`scenario::import::build`).
//!
//! Its use: run under `mirrord exec` in mirror mode, it receives copies of a deployment's
//! incoming traffic while the deployment keeps serving it (mirrord drops the copy's
//! responses), so request shapes are recorded from production without touching production.
//! It lives in `load` because it is the crate's other async HTTP endpoint; it uses only
//! `scenario` types.

use crate::scenario::import::Recorded;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// The limits of one recording.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    /// Stop after this long; `None` records until the stop future completes.
    pub duration: Option<Duration>,
    /// Stop once this many requests are kept.
    pub max_requests: usize,
    /// A body longer than this is not kept; its request is, without the body.
    pub max_body_bytes: usize,
    /// Once the kept bodies add up to this, later bodies are not kept either.
    pub max_total_body_bytes: u64,
}

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `duration` passed.
    Duration,
    /// `max_requests` were kept.
    Limit,
    /// The stop future completed (Ctrl-C).
    Stopped,
}

/// What a recording kept.
#[derive(Debug)]
pub struct Recording {
    /// In arrival order; `time_us` counts from the start of the recording.
    pub requests: Vec<Recorded>,
    pub reason: StopReason,
    pub elapsed: Duration,
    /// Requests kept without their body: over `max_body_bytes`, or past
    /// `max_total_body_bytes`.
    pub oversized_bodies: u64,
}

/// A bound capture server, not yet recording.
#[derive(Debug)]
pub struct Recorder {
    listener: TcpListener,
}

/// State the connections share.
struct Shared {
    start: Instant,
    config: RecordConfig,
    requests: Mutex<Vec<Recorded>>,
    oversized: AtomicU64,
    body_bytes: AtomicU64,
    full: Notify,
}

impl Recorder {
    /// Binds `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// The bind error (address in use, permission denied).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Recorder> {
        Ok(Recorder {
            listener: TcpListener::bind(addr).await?,
        })
    }

    /// The address it listens on.
    ///
    /// # Errors
    /// When the socket cannot say.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Records until `config.duration` passes, `config.max_requests` are kept, or `stop`
    /// completes. Connections still open are then closed.
    pub async fn run(self, config: RecordConfig, stop: impl Future<Output = ()>) -> Recording {
        let shared = Arc::new(Shared {
            start: Instant::now(),
            config,
            requests: Mutex::new(Vec::new()),
            oversized: AtomicU64::new(0),
            body_bytes: AtomicU64::new(0),
            full: Notify::new(),
        });
        let deadline = deadline(shared.config.duration);
        tokio::pin!(deadline, stop);
        let mut connections = JoinSet::new();
        let reason = loop {
            tokio::select! {
                () = &mut deadline => break StopReason::Duration,
                () = &mut stop => break StopReason::Stopped,
                () = shared.full.notified() => break StopReason::Limit,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve(stream, shared.clone()));
                    }
                    // Out of file descriptors or a connection reset before accept: go on.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        };
        connections.abort_all();
        let requests = std::mem::take(
            &mut *shared
                .requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        Recording {
            requests,
            reason,
            elapsed: shared.start.elapsed(),
            oversized_bodies: shared.oversized.load(Ordering::Relaxed),
        }
    }
}

async fn deadline(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| capture(request, shared.clone()));
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Keeps one request and answers `200` with an empty body.
async fn capture(
    request: http::Request<hyper::body::Incoming>,
    shared: Arc<Shared>,
) -> Result<http::Response<Full<Bytes>>, std::convert::Infallible> {
    let time_us = i64::try_from(shared.start.elapsed().as_micros()).unwrap_or(i64::MAX);
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, shared.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(collected) => Some(shared.within_budget(collected.to_bytes())),
        Err(e) if e.is::<LengthLimitError>() => {
            shared.oversized.fetch_add(1, Ordering::Relaxed);
            Some(Bytes::new())
        }
        // The client went away before the body ended: not a whole request.
        Err(_) => None,
    };
    if let Some(body) = body {
        shared.keep(recorded(&parts, &body, time_us));
    }
    Ok(http::Response::new(Full::new(Bytes::new())))
}

impl Shared {
    /// `body`, or an empty one (counted) when the kept bodies would pass the total budget.
    fn within_budget(&self, body: Bytes) -> Bytes {
        let len = body.len() as u64;
        let before = self.body_bytes.fetch_add(len, Ordering::Relaxed);
        if before + len <= self.config.max_total_body_bytes {
            return body;
        }
        self.body_bytes.fetch_sub(len, Ordering::Relaxed);
        self.oversized.fetch_add(1, Ordering::Relaxed);
        Bytes::new()
    }

    fn keep(&self, mut request: Recorded) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if requests.len() >= self.config.max_requests {
            return;
        }
        request.at = format!("request {}", requests.len() + 1);
        requests.push(request);
        if requests.len() == self.config.max_requests {
            self.full.notify_one();
        }
    }
}

fn recorded(parts: &http::request::Parts, body: &Bytes, time_us: i64) -> Recorded {
    let uri = &parts.uri;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    // HTTP/2 requests and proxy-style absolute URIs carry their authority in the URI.
    let url = match uri.authority() {
        Some(authority) => format!("{}://{authority}{path}", uri.scheme_str().unwrap_or("http")),
        None => path.to_string(),
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    Recorded {
        method: parts.method.to_string(),
        url,
        headers,
        body: body.to_vec(),
        time_us: Some(time_us),
        at: String::new(),
    }
}
