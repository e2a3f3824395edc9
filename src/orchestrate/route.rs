//! Proof that a tagged request reached *this arm's* process, not the deployed copy.
//!
//! An answer to a tagged probe proves nothing under mirrord: while the steal is not yet in
//! place, the deployed pod answers it. And the app's peer address proves nothing either:
//! stolen connections reach the app through mirrord's local proxy. What does prove it is a
//! new connection on the app's own listening socket while the probe is in flight: the arm's
//! process tree and its sockets are on this machine.
//!
//! So the listening TCP ports of the arm's process group are found through `/proc` (its
//! processes' socket descriptors, matched with `/proc/net/tcp` and `tcp6` in state LISTEN),
//! and the connections on those ports are listed before the probe and after its answer. A
//! connection the app accepted stays listed for a while after it closes (TIME_WAIT on the side
//! that closed first), so a connection that appeared in between is seen even when it was
//! short: on the app's side (its local port is a listening port) or, from a local client such
//! as mirrord's proxy, on the client's side (its remote address is a loopback one).

use std::collections::BTreeSet;

/// A TCP connection as `/proc/net/tcp` lists it: local and remote `address:port`, in hex.
type Connection = (String, String);

/// TCP state codes of `/proc/net/tcp`.
const LISTEN: &str = "0A";

/// The listening ports of process group `pgid` and the connections on them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sockets {
    pub ports: BTreeSet<u16>,
    connections: BTreeSet<Connection>,
}

impl Sockets {
    /// Reads them now. Empty when the group has no listening socket (yet).
    pub fn of_group(pgid: i32) -> Sockets {
        let inodes = socket_inodes(pgid);
        let table = tcp_table();
        let ports: BTreeSet<u16> = table
            .iter()
            .filter(|e| e.state == LISTEN && inodes.contains(&e.inode))
            .filter_map(|e| port(&e.local))
            .collect();
        let connections = table
            .iter()
            .filter(|e| e.state != LISTEN)
            .filter(|e| {
                port(&e.local).is_some_and(|p| ports.contains(&p))
                    || (is_loopback(&e.remote)
                        && port(&e.remote).is_some_and(|p| ports.contains(&p)))
            })
            .map(|e| (e.local.clone(), e.remote.clone()))
            .collect();
        Sockets { ports, connections }
    }

    /// Whether a connection on the arm's listening ports appeared since `before`.
    pub fn accepted_since(&self, before: &Sockets) -> bool {
        self.connections
            .iter()
            .any(|c| !before.connections.contains(c))
    }
}

struct Entry {
    local: String,
    remote: String,
    state: String,
    inode: u64,
}

fn tcp_table() -> Vec<Entry> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    Some(Entry {
                        local: (*fields.get(1)?).to_string(),
                        remote: (*fields.get(2)?).to_string(),
                        state: (*fields.get(3)?).to_string(),
                        inode: fields.get(9)?.parse().ok()?,
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn port(address: &str) -> Option<u16> {
    u16::from_str_radix(address.rsplit(':').next()?, 16).ok()
}

/// 127.0.0.0/8 (little-endian hex in `/proc/net/tcp`), `::1`, or `::ffff:127.x.x.x`.
fn is_loopback(address: &str) -> bool {
    let Some((ip, _)) = address.split_once(':') else {
        return false;
    };
    match ip.len() {
        8 => ip.ends_with("7F"),
        32 => {
            ip == "00000000000000000000000001000000"
                || (ip.starts_with("0000000000000000FFFF0000") && ip.ends_with("7F"))
        }
        _ => false,
    }
}

/// The socket inodes held by the processes of group `pgid`.
fn socket_inodes(pgid: i32) -> BTreeSet<u64> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| process_group(pid) == Some(pgid))
        .flat_map(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|fd| {
                    let target = std::fs::read_link(fd.path()).ok()?;
                    let text = target.to_str()?;
                    text.strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .parse()
                        .ok()
                })
                .collect::<Vec<u64>>()
        })
        .collect()
}

fn process_group(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state, ppid, pgrp.
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn loopback_addresses_are_told_apart() {
        assert!(is_loopback("0100007F:1F90"));
        assert!(is_loopback("00000000000000000000000001000000:1F90"));
        assert!(is_loopback("0000000000000000FFFF00000100007F:1F90"));
        assert!(!is_loopback("0A00000A:1F90"), "10.0.0.10");
        assert_eq!(port("0100007F:1F90"), Some(8080));
    }

    #[test]
    fn a_connection_to_our_own_listener_is_seen_even_after_it_closed() {
        // This test process's own group stands for the arm.
        // SAFETY: a plain syscall.
        let pgid = unsafe { libc::getpgrp() };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let before = Sockets::of_group(pgid);
        assert!(before.ports.contains(&port), "{before:?}");
        let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut served, _) = listener.accept().unwrap();
        served.write_all(b"x").unwrap();
        drop(served);
        let mut byte = [0; 1];
        client.read_exact(&mut byte).unwrap();
        drop(client);
        assert!(Sockets::of_group(pgid).accepted_since(&before));
        // Nothing new since then: no proof.
        let now = Sockets::of_group(pgid);
        assert!(!Sockets::of_group(pgid).accepted_since(&now));
    }
}
