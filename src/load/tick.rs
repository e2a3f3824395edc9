//! Paced plain HTTP/1.1 without a reactor wake per response.
//!
//! tokio registers every socket edge-triggered for read and write, so each arriving response
//! wakes the shard's thread out of `epoll_wait`: at a few thousand requests per second that
//! is most of the driver's CPU (kernel time of going idle and waking up again). In a paced
//! run the pacer wakes on its own timer anyway, at most once per granule, so a connection is
//! taken out of the reactor once connected ([`TickStream`]) and polled from the pacer's
//! ticks instead: a read or write that would block parks the task in [`Ticker`], and every
//! pacer wake ([`Ticker::tick`]) lets the parked tasks retry. The thread then wakes about
//! once per tick, whatever the rate.
//!
//! The response is only *seen* at the next tick, so its completion time is not the time it is
//! seen: the socket has `SO_TIMESTAMPNS` on, and each `recvmsg` returns the kernel's receive
//! time of the last segment read (`CLOCK_REALTIME`). [`ClockMap`] converts it to the shard's
//! clock (`CLOCK_MONOTONIC`, as `Instant`) with an offset measured when the shard starts.
//! Slewing (NTP) moves both clocks alike and leaves the offset as it is; a *step* of the wall
//! clock during a run (`settimeofday`, a leap second) shifts it. A timestamp that is missing or
//! implausible (before the send, or later than now) therefore falls back to the time the
//! response was read, so a step can only move a completion within [send, read].

use super::local::Local;
use super::timer::{clock_ns, timespec_ns};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Tasks waiting for the next pacer tick to retry a read or a write.
#[derive(Default)]
pub struct Ticker {
    waiters: Local<Vec<Waker>>,
}

impl Ticker {
    fn park(&self, waker: &Waker) {
        self.waiters.borrow_mut().push(waker.clone());
    }

    /// Lets every parked task retry. They run on this thread after the caller yields: no
    /// `eventfd`, no extra `epoll_wait`.
    pub fn tick(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// `CLOCK_REALTIME` nanoseconds to nanoseconds after the shard's origin.
#[derive(Debug, Clone, Copy)]
pub struct ClockMap {
    /// `CLOCK_REALTIME` at the origin.
    realtime_at_origin_ns: i128,
}

fn realtime_ns() -> i128 {
    clock_ns(libc::CLOCK_REALTIME)
}

impl ClockMap {
    /// Measures the offset: the tightest of a few (realtime, origin) pairs.
    pub fn measure(origin: Instant) -> ClockMap {
        let mut best: Option<(i128, i128)> = None;
        for _ in 0..5 {
            let before = Instant::now();
            let real = realtime_ns();
            let after = Instant::now();
            let width = after.duration_since(before).as_nanos() as i128;
            // The origin may lie ahead (the plan starts after the shards are ready).
            let since_origin = before.saturating_duration_since(origin).as_nanos() as i128
                - origin.saturating_duration_since(before).as_nanos() as i128;
            let mid = since_origin + width / 2;
            if best.is_none_or(|(w, _)| width < w) {
                best = Some((width, real - mid));
            }
        }
        ClockMap {
            realtime_at_origin_ns: best.map_or(0, |(_, offset)| offset),
        }
    }

    #[cfg(test)]
    pub fn with_offset(realtime_at_origin_ns: i128) -> ClockMap {
        ClockMap {
            realtime_at_origin_ns,
        }
    }

    /// When a response read with kernel timestamp `rx_realtime_ns` completed, in nanoseconds
    /// after the origin: the timestamp when it lies between the send and `now_ns` (the read),
    /// else `now_ns`.
    pub fn completion_ns(&self, rx_realtime_ns: Option<i128>, sent_ns: u64, now_ns: u64) -> u64 {
        rx_realtime_ns
            .map(|rx| rx - self.realtime_at_origin_ns)
            .and_then(|at| u64::try_from(at).ok())
            .filter(|&at| at >= sent_ns && at <= now_ns)
            .unwrap_or(now_ns)
    }
}

/// A connected, non-blocking TCP stream outside the reactor, retried on pacer ticks.
pub struct TickStream {
    stream: std::net::TcpStream,
    ticker: std::sync::Arc<Ticker>,
    /// Kernel receive time (`CLOCK_REALTIME` ns) of the last segment read, since
    /// [`TickStream::take_rx_time`].
    rx_realtime_ns: Option<i128>,
    /// A request was just written: its response cannot be there yet, so the first read waits
    /// for the next tick without a `recvmsg` that would only return `EAGAIN`.
    just_wrote: bool,
}

impl TickStream {
    /// Takes `tcp` out of tokio's reactor and turns on receive timestamps.
    ///
    /// # Errors
    /// When the socket cannot be deregistered or configured.
    pub fn new(
        tcp: tokio::net::TcpStream,
        ticker: std::sync::Arc<Ticker>,
    ) -> io::Result<TickStream> {
        // Deregisters it; the std stream stays non-blocking.
        let stream = tcp.into_std()?;
        let on: libc::c_int = 1;
        // SAFETY: valid socket descriptor; the option value is a c_int of the given size.
        let rc = unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&raw const on).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TickStream {
            stream,
            ticker,
            rx_realtime_ns: None,
            just_wrote: false,
        })
    }

    /// The kernel receive time of the last segment read since the previous call.
    pub fn take_rx_time(&mut self) -> Option<i128> {
        self.rx_realtime_ns.take()
    }

    /// One non-blocking `recvmsg` into `buf`; records the `SCM_TIMESTAMPNS` it carries.
    /// `buf` may be uninitialised: the kernel only writes to it.
    fn recv(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // Room for one cmsg with a timespec, 8-aligned.
        let mut control = [0u64; 8];
        // SAFETY: an all-zero msghdr is valid (null name, no iovecs); filled in below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: `msg` points at `iov` (into `buf`, `buf.len()` writable bytes) and at
        // `control`, all of which outlive the call.
        let n = unsafe { libc::recvmsg(self.stream.as_raw_fd(), &raw mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `msg` was filled in by recvmsg; the CMSG macros stay inside `control`.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
        while !cmsg.is_null() {
            // SAFETY: `cmsg` is a non-null header inside `control` (CMSG_FIRSTHDR/NXTHDR).
            let header = unsafe { &*cmsg };
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_TIMESTAMPNS {
                // SAFETY: an SCM_TIMESTAMPNS payload is one timespec, maybe unaligned.
                let ts: libc::timespec =
                    unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
                self.rx_realtime_ns = Some(timespec_ns(&ts));
            }
            // SAFETY: as above.
            cmsg = unsafe { libc::CMSG_NXTHDR(&raw const msg, cmsg) };
        }
        Ok(n as usize)
    }
}

fn would_block(result: &io::Result<usize>) -> bool {
    matches!(result, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

impl AsyncRead for TickStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if std::mem::take(&mut this.just_wrote) {
            this.ticker.park(cx.waker());
            return Poll::Pending;
        }
        loop {
            // SAFETY: `recv` only writes into the slice (recvmsg never reads it), and exactly
            // the `n` bytes it reports are marked initialised below.
            let result = this.recv(unsafe { buf.unfilled_mut() });
            if would_block(&result) {
                this.ticker.park(cx.waker());
                return Poll::Pending;
            }
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
                Ok(n) => {
                    // SAFETY: recvmsg wrote these `n` bytes.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl AsyncWrite for TickStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            // std's write is a `send` with MSG_NOSIGNAL.
            let result = io::Write::write(&mut this.stream, data);
            if would_block(&result) {
                this.ticker.park(cx.waker());
                return Poll::Pending;
            }
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => {
                    this.just_wrote = other.is_ok();
                    return Poll::Ready(other);
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown(std::net::Shutdown::Write))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plausible_timestamp_is_the_completion_time() {
        // The origin was at realtime 1_000_000 ns.
        let map = ClockMap::with_offset(1_000_000);
        assert_eq!(map.completion_ns(Some(1_000_500), 400, 900), 500);
    }

    #[test]
    fn a_missing_or_implausible_timestamp_falls_back_to_the_read_time() {
        let map = ClockMap::with_offset(1_000_000);
        assert_eq!(map.completion_ns(None, 400, 900), 900);
        // Before the send (a wall-clock step back, or a stale segment).
        assert_eq!(map.completion_ns(Some(1_000_300), 400, 900), 900);
        // After the read (a wall-clock step forward).
        assert_eq!(map.completion_ns(Some(1_001_000), 400, 900), 900);
        // Before the origin.
        assert_eq!(map.completion_ns(Some(5), 0, 900), 900);
    }

    #[test]
    fn the_measured_offset_maps_now_to_now() {
        // An origin in the past, and one ahead (as when the plan starts after the setup).
        let past = Instant::now();
        let ahead = Instant::now() + std::time::Duration::from_millis(50);
        for origin in [past, ahead] {
            let map = ClockMap::measure(origin);
            std::thread::sleep(std::time::Duration::from_millis(60));
            let now = origin.elapsed().as_nanos() as u64;
            let mapped = map.completion_ns(Some(realtime_ns()), 0, u64::MAX);
            assert!(mapped.abs_diff(now) < 5_000_000, "{mapped} vs {now}");
        }
    }
}
