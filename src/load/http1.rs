//! A lean HTTP/1.1 keep-alive client connection: writes a pre-encoded request, reads the
//! response head with `httparse` and skips the body (content-length, chunked, or to close).
//!
//! This is the hot path of the driver at high rates: one reusable read buffer per connection,
//! no allocation per request, no header map. HTTP/2 goes through hyper instead.

use super::connect::Stream;
use bytes::{Buf, BytesMut};
use std::io;
use std::mem::MaybeUninit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAX_HEADERS: usize = 96;
const READ_CHUNK: usize = 16 * 1024;

/// Why an exchange failed.
#[derive(Debug)]
pub enum ExchangeError {
    /// The connection failed; `before_response` when not one byte of a response arrived.
    Io {
        error: io::Error,
        before_response: bool,
    },
    /// The peer sent something that is not HTTP/1.1.
    Protocol,
}

/// One keep-alive connection.
pub struct Http1Conn {
    stream: Stream,
    buf: BytesMut,
    /// False once the server asked to close or the framing was to-close.
    reusable: bool,
    /// True once the connection carried a request (a later failure may be a stale keep-alive).
    pub used: bool,
    /// The first bytes of the last response's body, kept for a status of 400 and above.
    body_head: Vec<u8>,
    keep_body: bool,
}

enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Http1Conn {
    pub fn new(stream: Stream) -> Http1Conn {
        Http1Conn {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
            reusable: true,
            used: false,
            body_head: Vec::new(),
            keep_body: false,
        }
    }

    /// The first bytes ([`super::samples::BODY_BYTES`]) of the last response's body when its
    /// status was 400 or above, else empty.
    pub fn body_head(&self) -> &[u8] {
        &self.body_head
    }

    /// Keeps the start of `buf` while a failing response's body is skipped.
    fn keep(&mut self, n: usize) {
        let room = super::samples::BODY_BYTES.saturating_sub(self.body_head.len());
        if self.keep_body && room > 0 {
            let n = n.min(room).min(self.buf.len());
            self.body_head.extend_from_slice(&self.buf[..n]);
        }
    }

    /// For a ticked connection, the kernel receive time of the last segment read since the
    /// previous call (see `tick`).
    pub fn take_rx_time(&mut self) -> Option<i128> {
        match &mut self.stream {
            Stream::Ticked(stream) => stream.take_rx_time(),
            _ => None,
        }
    }

    /// True when another request may be sent on this connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Sends `request` and reads the whole response; returns its status code.
    ///
    /// # Errors
    /// [`ExchangeError`]; the connection must then be dropped.
    pub async fn exchange(&mut self, request: &[u8], head: bool) -> Result<u16, ExchangeError> {
        self.used = true;
        self.stream
            .write_all(request)
            .await
            .map_err(|error| ExchangeError::Io {
                error,
                before_response: true,
            })?;
        loop {
            let (status, framing) = self.read_head(head).await?;
            if (100..200).contains(&status) && status != 101 {
                continue; // 1xx informational: the real response follows.
            }
            self.body_head.clear();
            self.keep_body = status >= 400;
            self.skip_body(framing)
                .await
                .map_err(|error| ExchangeError::Io {
                    error,
                    before_response: false,
                })?;
            return Ok(status);
        }
    }

    async fn read_head(&mut self, head: bool) -> Result<(u16, Framing), ExchangeError> {
        loop {
            if let Some(parsed) = self.parse_head(head)? {
                return Ok(parsed);
            }
            let before_response = self.buf.is_empty();
            let error = match self.fill().await {
                Ok(0) => io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before a response",
                ),
                Ok(_) => continue,
                Err(error) => error,
            };
            return Err(ExchangeError::Io {
                error,
                before_response,
            });
        }
    }

    /// The status and framing of the response head in the buffer (consumed), or `None` while
    /// it is incomplete.
    ///
    /// Synchronous on purpose: the header array then lives on the stack, not in the future's
    /// state, where it would make every exchange future 3 KiB larger (moved and zeroed per
    /// request). It is also left uninitialised, for the same reason.
    fn parse_head(&mut self, head: bool) -> Result<Option<(u16, Framing)>, ExchangeError> {
        let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut response,
            &self.buf,
            &mut headers,
        );
        match parsed {
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                let (framing, reusable) = framing(&response, status, head)?;
                self.reusable &= reusable;
                self.buf.advance(len);
                Ok(Some((status, framing)))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(_) => Err(ExchangeError::Protocol),
        }
    }

    async fn skip_body(&mut self, framing: Framing) -> io::Result<()> {
        match framing {
            Framing::Empty => Ok(()),
            Framing::Length(n) => self.skip(n).await,
            Framing::Chunked => self.skip_chunked().await,
            Framing::UntilClose => {
                self.keep(self.buf.len());
                self.buf.clear();
                while self.fill().await? > 0 {
                    self.keep(self.buf.len());
                    self.buf.clear();
                }
                Ok(())
            }
        }
    }

    /// Discards exactly `n` body bytes.
    async fn skip(&mut self, mut n: u64) -> io::Result<()> {
        loop {
            let available = (self.buf.len() as u64).min(n);
            self.keep(available as usize);
            self.buf.advance(available as usize);
            n -= available;
            if n == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a body",
                ));
            }
        }
    }

    async fn skip_chunked(&mut self) -> io::Result<()> {
        loop {
            let line = self.read_line().await?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad chunk size '{size_text}'"),
                )
            })?;
            if size == 0 {
                // Trailers, up to an empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(());
            }
            self.skip(size).await?;
            let keep = std::mem::replace(&mut self.keep_body, false);
            self.skip(2).await?;
            self.keep_body = keep;
        }
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    async fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.advance(end + 2);
                return Ok(line);
            }
            if self.buf.len() > 8 * 1024 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk header line too long",
                ));
            }
            if self.fill().await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a chunked body",
                ));
            }
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.buf.reserve(READ_CHUNK);
        self.stream.read_buf(&mut self.buf).await
    }
}

/// How the body of `response` is delimited, and whether the connection stays usable after it.
fn framing(
    response: &httparse::Response<'_, '_>,
    status: u16,
    head: bool,
) -> Result<(Framing, bool), ExchangeError> {
    let mut length = None;
    let mut chunked = false;
    let mut reusable = response.version != Some(0);
    for header in response.headers.iter() {
        let name = header.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let text = std::str::from_utf8(header.value).map_err(|_| ExchangeError::Protocol)?;
            length = Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| ExchangeError::Protocol)?,
            );
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = contains_ignore_case(header.value, b"chunked");
        } else if name.eq_ignore_ascii_case(b"connection")
            && contains_ignore_case(header.value, b"close")
        {
            reusable = false;
        }
    }
    let framing = if head || status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        reusable = false;
        Framing::UntilClose
    };
    Ok((framing, reusable))
}

/// True when `needle` (lowercase) occurs in `haystack`, ignoring ASCII case; no allocation.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}
