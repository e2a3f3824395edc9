//! A single tagged request, for readiness checks: the same connection code as the driver, so
//! a target the probe reaches is a target the driver reaches.

use super::connect::Connector;
use super::http1::{ExchangeError, Http1Conn};
use super::request::{SEQ_HEADER, Tag};
use crate::scenario::{HttpVersion, Target};
use std::io;

/// Sends `GET path` with the tag header to `target` and returns the response status.
///
/// # Errors
/// The connect, TLS or exchange error.
pub async fn probe(target: &Target, path: &str, tag: &Tag, insecure: bool) -> io::Result<u16> {
    let connector = Connector::new(target, HttpVersion::Http1, insecure).await?;
    let mut conn = Http1Conn::new(connector.connect().await?);
    let request = format!(
        "GET {}{path} HTTP/1.1\r\nhost: {}\r\n{}: {}\r\n{SEQ_HEADER}: probe\r\nconnection: close\r\n\r\n",
        target.base_path,
        target.authority,
        tag.header,
        tag.value.to_str().unwrap_or_default()
    );
    conn.exchange(request.as_bytes(), false)
        .await
        .map_err(|e| match e {
            ExchangeError::Io { error, .. } => error,
            ExchangeError::Protocol => {
                io::Error::new(io::ErrorKind::InvalidData, "the answer is not HTTP/1.1")
            }
        })
}
