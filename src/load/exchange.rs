//! One request, start to finish: render, send on the worker's connection, time, classify,
//! record.

use super::connect::Stream;
use super::http1::{ExchangeError, Http1Conn};
use super::http2::H2Error;
use super::live::ShardProgress;
use super::plan::Slot;
use super::recorder::Timing;
use super::samples::Detail;
use super::shard::{Job, Shard, ShardConfig};
use super::tally::Outcome;
use super::tick::TickStream;
use super::timer::duration_ns;
use crate::scenario::RenderContext;
use std::io;

/// A worker's HTTP/1.1 connection and encode buffer, kept across requests.
#[derive(Default)]
pub struct Conn {
    http1: Option<Http1Conn>,
    buf: Vec<u8>,
    /// The first bytes of the last failing response's body (HTTP/1.1).
    body: Vec<u8>,
}

/// Sends the slot's request and records how it ended.
pub(super) async fn execute(shard: &Shard, worker: usize, conn: &mut Conn, job: Job) {
    let Job {
        slot,
        due_ns,
        queued_ns,
    } = job;
    let sent_ns = shard.timer.now_ns();
    shard.recorder.borrow_mut().sent(&slot);
    let progress = shard.progress();
    ShardProgress::add(&progress.sent, 1);
    let deadline = sent_ns.saturating_add(duration_ns(shard.cfg.timeout));
    let exchange = send(shard, worker, conn, &slot);
    let (outcome, rx_time) = match shard.deadlines.run(worker, deadline, exchange).await {
        Some(done) => done,
        None => {
            // The exchange was cut mid-way: the connection's state is unknown.
            conn.http1 = None;
            (Outcome::Timeout, None)
        }
    };
    let now_ns = shard.timer.now_ns();
    // A ticked connection's response is seen at a pacer tick, after it arrived: it is timed
    // by the kernel's receive timestamp instead (see `tick`).
    let (outcome, done_ns) = match rx_time {
        Some(_) => match shard.clock.completion_ns(rx_time, sent_ns, now_ns) {
            // Arrived after its deadline, but before the tick that would have expired it.
            done if done > deadline => (Outcome::Timeout, deadline),
            done => (outcome, done),
        },
        None => (outcome, now_ns),
    };
    match outcome {
        Outcome::Status(code) if code < 500 => ShardProgress::add(&progress.completed, 1),
        Outcome::Status(_) => {
            ShardProgress::add(&progress.completed, 1);
            ShardProgress::add(&progress.errors, 1);
        }
        _ => ShardProgress::add(&progress.errors, 1),
    }
    let timing = Timing {
        due_ns,
        sent_ns,
        done_ns,
        queued_ns,
    };
    shard
        .recorder
        .borrow_mut()
        .finished_with(&slot, timing, outcome, || {
            Some(detail(&shard.cfg, slot.seq, slot.shape, Some(&conn.body)))
        });
}

/// The method, path and body head of a request kept as an example: the request of `seq`
/// rendered again, which renders the same (its templates are seeded by `seq`). The slowest
/// requests are rendered so once the shard has ended, without a body.
pub(super) fn detail(cfg: &ShardConfig, seq: u64, shape: u32, body: Option<&[u8]>) -> Detail {
    let shape = &cfg.shapes[shape as usize];
    let mut ctx = RenderContext {
        seq,
        rng: cfg.plan.template_rng(seq),
    };
    let mut encoded = Vec::new();
    shape.encode_http1(seq, &mut ctx, &mut encoded);
    let line = encoded.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split(' ');
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    Detail {
        request: shape.name.clone(),
        method,
        path,
        body: body.map(<[u8]>::to_vec),
    }
}

/// The outcome, and for a ticked connection the kernel receive time of the response's end.
async fn send(
    shard: &Shard,
    worker: usize,
    conn: &mut Conn,
    slot: &Slot,
) -> (Outcome, Option<i128>) {
    let shape = &shard.cfg.shapes[slot.shape as usize];
    let mut ctx = RenderContext {
        seq: slot.seq,
        rng: shard.cfg.plan.template_rng(slot.seq),
    };
    conn.body.clear();
    if let Some(pool) = &shard.h2 {
        let Ok(request) = shape.to_hyper(slot.seq, shard.cfg.scheme, &mut ctx) else {
            return (Outcome::Other, None);
        };
        let outcome = match pool.send(worker, request).await {
            Ok(status) => Outcome::Status(status),
            Err(H2Error::Connect(e)) => classify_connect(&e),
            Err(H2Error::Handshake) => Outcome::Other,
            Err(H2Error::Request(e))
                if e.is_closed() || e.is_incomplete_message() || e.is_canceled() =>
            {
                Outcome::Reset
            }
            Err(H2Error::Request(_)) => Outcome::Other,
        };
        return (outcome, None);
    }
    conn.buf.clear();
    shape.encode_http1(slot.seq, &mut ctx, &mut conn.buf);
    // A keep-alive connection the server closed while idle fails before any response byte:
    // that one is retried once on a fresh connection.
    for attempt in 0..2 {
        if conn.http1.is_none() {
            match connect(shard).await {
                Ok(stream) => conn.http1 = Some(Http1Conn::new(stream)),
                Err(e) => return (classify_connect(&e), None),
            }
        }
        let http1 = conn.http1.as_mut().expect("connected just above");
        let reused = http1.used;
        http1.take_rx_time();
        match http1.exchange(&conn.buf, shape.is_head()).await {
            Ok(status) => {
                let rx_time = http1.take_rx_time();
                conn.body.extend_from_slice(http1.body_head());
                if !http1.is_reusable() {
                    conn.http1 = None;
                }
                return (Outcome::Status(status), rx_time);
            }
            Err(ExchangeError::Io {
                error,
                before_response,
            }) => {
                conn.http1 = None;
                if !(reused && before_response && attempt == 0) {
                    return (classify_io(&error), None);
                }
            }
            Err(ExchangeError::Protocol) => {
                conn.http1 = None;
                return (Outcome::Other, None);
            }
        }
    }
    (Outcome::Reset, None)
}

/// A new connection; taken out of the reactor when the shard ticks its connections.
async fn connect(shard: &Shard) -> io::Result<Stream> {
    let stream = shard.cfg.connector.connect().await?;
    match (stream, &shard.ticker) {
        (Stream::Plain(tcp), Some(ticker)) => {
            Ok(Stream::Ticked(TickStream::new(tcp, ticker.clone())?))
        }
        (stream, _) => Ok(stream),
    }
}

fn classify_connect(error: &io::Error) -> Outcome {
    match error.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => Outcome::Other,
        _ => Outcome::Connect,
    }
}

fn classify_io(error: &io::Error) -> Outcome {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Outcome::Reset,
        _ => Outcome::Other,
    }
}
