//! HTTP/2 through hyper: a few multiplexed connections per shard, shared by its workers.

use super::connect::Connector;
use super::local::Local;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Streams per connection before another connection is opened.
const STREAMS_PER_CONNECTION: usize = 100;

/// Why an HTTP/2 exchange failed.
#[derive(Debug)]
pub enum H2Error {
    Connect(std::io::Error),
    Handshake,
    Request(hyper::Error),
}

/// The shard's HTTP/2 connections.
pub struct H2Pool {
    connector: Connector,
    senders: Vec<Local<Option<SendRequest<Full<Bytes>>>>>,
}

impl H2Pool {
    /// A pool sized for `max_in_flight` concurrent streams.
    pub fn new(connector: Connector, max_in_flight: usize) -> H2Pool {
        let connections = max_in_flight.div_ceil(STREAMS_PER_CONNECTION).max(1);
        H2Pool {
            connector,
            senders: (0..connections).map(|_| Local::new(None)).collect(),
        }
    }

    /// Sends `request` on the connection for `worker`, opening it when needed; returns the
    /// status once the whole body has arrived.
    ///
    /// # Errors
    /// [`H2Error`] for connect, handshake or stream failures.
    pub async fn send(
        &self,
        worker: usize,
        request: http::Request<Full<Bytes>>,
    ) -> Result<u16, H2Error> {
        let slot = &self.senders[worker % self.senders.len()];
        let existing = slot
            .borrow_mut()
            .as_ref()
            .filter(|s| !s.is_closed())
            .cloned();
        let mut sender = match existing {
            Some(sender) => sender,
            None => {
                let sender = self.handshake().await?;
                *slot.borrow_mut() = Some(sender.clone());
                sender
            }
        };
        sender.ready().await.map_err(H2Error::Request)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(H2Error::Request)?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(H2Error::Request)?;
        }
        Ok(status)
    }

    async fn handshake(&self) -> Result<SendRequest<Full<Bytes>>, H2Error> {
        let stream = self.connector.connect().await.map_err(H2Error::Connect)?;
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|_| H2Error::Handshake)?;
        tokio::spawn(async move {
            // The connection's errors surface on its requests.
            let _ = connection.await;
        });
        Ok(sender)
    }
}
