//! The streamable HTTP transport: rmcp's service behind a hyper server on `--http ADDR`,
//! every request checked for the bearer token when the server has one. A loopback address
//! by default; another only with `--allow-remote` and `--token-file`.

use super::server::Server;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

/// Where the server listens and who may call it.
pub struct Listen {
    pub addr: SocketAddr,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
}

/// Checks `--http`, `--allow-remote` and `--token-file` together.
///
/// # Errors
/// A non-loopback address without `--allow-remote` and a token, or an unreadable or empty
/// token file.
pub fn listen(
    addr: SocketAddr,
    allow_remote: bool,
    token_file: Option<&std::path::Path>,
) -> Result<Listen, String> {
    let token = match token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
            let token = text.trim().to_string();
            if token.is_empty() {
                return Err(format!(
                    "--token-file {} is empty: write the bearer token in it",
                    path.display()
                ));
            }
            Some(token)
        }
        None => None,
    };
    let remote_allowed = allow_remote && token.is_some();
    if !(addr.ip().is_loopback() || remote_allowed) {
        return Err(format!(
            "--http {addr} is not a loopback address: anyone who reaches it could run verifications on this machine; give --allow-remote with --token-file FILE (a bearer token), or bind 127.0.0.1"
        ));
    }
    Ok(Listen { addr, token })
}

type Body = UnsyncBoxBody<Bytes, std::convert::Infallible>;

/// Serves `server` on `listen` until `stop` is cancelled, then every session ends.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(server: Server, listen: Listen, stop: CancellationToken) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen.addr).await?;
    eprintln!(
        "fixproof mcp: streamable HTTP on http://{}/mcp",
        listener.local_addr()?
    );
    let mut config =
        StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token());
    if !listen.addr.ip().is_loopback() {
        // The token guards it; the Host allowlist is for browsers on this machine.
        config = config.disable_allowed_hosts();
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let token = Arc::new(listen.token);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = stop.cancelled() => return Ok(()),
        };
        let (service, token) = (service.clone(), Arc::clone(&token));
        let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
            let (mut service, token) = (service.clone(), Arc::clone(&token));
            async move {
                if !authorized(&request, token.as_deref()) {
                    return Ok::<_, std::convert::Infallible>(unauthorized());
                }
                let response = service.call(request).await?;
                Ok(response.map(|b| b.boxed_unsync()))
            }
        });
        tokio::spawn(async move {
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let _ = builder
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
}

/// Whether `request` carries `Authorization: Bearer <token>` (always, without a token).
fn authorized(request: &Request<Incoming>, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let given = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthorized() -> Response<Body> {
    let body = r#"{"error":"unauthorized: send Authorization: Bearer <the token in the server's --token-file>"}"#;
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())).boxed_unsync());
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Bearer"),
    );
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
