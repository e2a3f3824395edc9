//! A loopback HTTP server the tests start themselves (hyper, HTTP/1.1 and HTTP/2, optional
//! TLS with a self-signed certificate). It logs what it receives and answers as told.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn seq(&self) -> Option<u64> {
        self.header("x-verifier-seq").and_then(|v| v.parse().ok())
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status and body after a delay.
    Respond {
        status: u16,
        delay: Duration,
        body: &'static str,
    },
    /// Close the connection without answering.
    Close,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Respond {
            status: 200,
            delay: Duration::ZERO,
            body: "ok",
        }
    }
}

pub type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A running server; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Seen>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    /// A server answering 200 "ok" to everything.
    pub fn start() -> TestServer {
        Self::with_handler(Arc::new(|_: &Seen| Reply::ok()), false)
    }

    /// A server answering with `handler`, over TLS when `tls`.
    pub fn with_handler(handler: Handler, tls: bool) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let acceptor = tls.then(tls_acceptor);
        runtime.spawn(accept_loop(listener, handler, log.clone(), acceptor));
        TestServer {
            addr,
            log,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    handler: Handler,
    log: Arc<Mutex<Vec<Seen>>>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let (handler, log, tls) = (handler.clone(), log.clone(), tls.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, handler.clone(), log.clone()));
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            }
        });
    }
}

async fn respond(
    request: http::Request<hyper::body::Incoming>,
    handler: Handler,
    log: Arc<Mutex<Vec<Seen>>>,
) -> Result<http::Response<Full<Bytes>>, std::io::Error> {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let seen = Seen {
        at,
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or("/".into(), |p| p.to_string()),
        version: parts.version,
        headers: parts.headers,
        body,
    };
    let reply = handler(&seen);
    log.lock().unwrap().push(seen);
    match reply {
        Reply::Respond {
            status,
            delay,
            body,
        } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok(http::Response::builder()
                .status(status)
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap())
        }
        Reply::Close => Err(std::io::Error::other("closing without a response")),
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
