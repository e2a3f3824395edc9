//! The bundled demo services, run by `fixproof demo-service NAME` (hidden): a `pricing`
//! downstream with a heavy tail and a `checkout` service that calls it, configured by
//! `checkout.json` in its working directory — the file the demo's patches change.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Environment variable that gives checkout the pricing service's address (`host:port`).
pub const PRICING_ENV: &str = "FIXPROOF_DEMO_PRICING";

/// Per mille of `bulk-*` pricing calls that take [`SLOW`].
const SLOW_PER_MILLE: u64 = 30;
const SLOW: Duration = Duration::from_millis(800);
const FAST: Duration = Duration::from_millis(2);

/// checkout.json.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutConfig {
    pub service: String,
    pub pricing_timeout_ms: Option<u64>,
    pub on_pricing_timeout: String,
    pub missing_address: String,
    pub address_check_ms: u64,
}

type Response = http::Response<Full<Bytes>>;

fn reply(status: u16, body: String) -> Response {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// Serves `handler` on 127.0.0.1:`port` until the process is terminated.
///
/// # Errors
/// When the port cannot be bound.
pub async fn serve<F, Fut>(port: u16, handler: F) -> std::io::Result<()>
where
    F: Fn(http::Request<hyper::body::Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on 127.0.0.1:{port}");
    loop {
        let (stream, _) = listener.accept().await?;
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let handler = handler.clone();
                async move { Ok::<_, std::convert::Infallible>(handler(request).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The pricing downstream: `GET /price?sku=S&seq=N`; 3 % of `bulk-*` SKUs take 800 ms,
/// chosen by the request's sequence number so that every arm meets the same slow calls.
pub async fn pricing(request: http::Request<hyper::body::Incoming>) -> Response {
    let query = request.uri().query().unwrap_or("");
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("")
    };
    let seq: u64 = param("seq").parse().unwrap_or(0);
    let slow = param("sku").starts_with("bulk")
        && crate::load::plan::splitmix64(seq) % 1000 < SLOW_PER_MILLE;
    tokio::time::sleep(if slow { SLOW } else { FAST }).await;
    reply(
        200,
        format!("{{\"sku\":\"{}\",\"price_cents\":1299}}", param("sku")),
    )
}

/// The checkout service: `POST /checkout` with `{"cart", "sku", "address"}`; `GET /` answers
/// for readiness.
pub async fn checkout(
    config: Arc<CheckoutConfig>,
    pricing_addr: Arc<String>,
    request: http::Request<hyper::body::Incoming>,
) -> Response {
    if request.method() == http::Method::GET {
        return reply(200, "ok".into());
    }
    let seq = request
        .headers()
        .get("x-verifier-seq")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("0")
        .to_string();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let Ok(order) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return reply(400, "body is not JSON".into());
    };
    if order.get("address").is_none() {
        return match config.missing_address.as_str() {
            "reject" => reply(422, "{\"error\":\"address is required\"}".into()),
            _ => reply(500, "Traceback (most recent call last):\n  File \"checkout.py\", line 42, in handle\nKeyError: 'address'".into()),
        };
    }
    tokio::time::sleep(Duration::from_millis(config.address_check_ms)).await;
    let sku = order.get("sku").and_then(|s| s.as_str()).unwrap_or("std-1");
    let call = price(&pricing_addr, sku, &seq);
    let price = match config.pricing_timeout_ms {
        Some(ms) => tokio::time::timeout(Duration::from_millis(ms), call)
            .await
            .ok(),
        None => Some(call.await),
    };
    match (price, config.on_pricing_timeout.as_str()) {
        (Some(Ok(_)), _) => reply(
            200,
            format!("{{\"cart\":{},\"total_cents\":1299}}", order["cart"]),
        ),
        (Some(Err(e)), _) => reply(502, format!("pricing failed: {e}")),
        (None, "cached") => reply(
            200,
            format!(
                "{{\"cart\":{},\"total_cents\":1299,\"price\":\"cached\"}}",
                order["cart"]
            ),
        ),
        (None, _) => reply(504, "pricing timed out".into()),
    }
}

/// One HTTP/1.1 call to pricing (a new connection each time, as a naive client would).
async fn price(addr: &str, sku: &str, seq: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET /price?sku={sku}&seq={seq} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    if response.starts_with(b"HTTP/1.1 200") {
        Ok(response)
    } else {
        Err(std::io::Error::other("pricing answered an error"))
    }
}

/// Reads checkout.json from the working directory.
///
/// # Errors
/// [`DemoError::Config`](super::DemoError::Config) naming what is wrong.
pub fn read_config() -> Result<CheckoutConfig, super::DemoError> {
    let config = |message: String| super::DemoError::Config(message);
    let text = std::fs::read_to_string("checkout.json")
        .map_err(|e| config(format!("cannot read it: {e}")))?;
    serde_json::from_str(&text).map_err(|e| config(e.to_string()))
}
