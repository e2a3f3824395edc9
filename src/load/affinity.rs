//! Where the driver runs: the CPUs this process may run on, pinning a shard's thread to one,
//! and the memory hint of a process that only drives load.

/// The CPUs in this process's affinity mask (what `taskset` or a cgroup cpuset allows), in
/// order; the first `available_parallelism` CPUs when the mask cannot be read.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bitmask that sched_getaffinity fills; CPU_ISSET reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
                .collect();
            if !cpus.is_empty() {
                return cpus;
            }
        }
    }
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// Pins the calling thread to `cpu` (best effort: a refusal leaves it unpinned).
pub fn pin_current_thread(cpu: usize) {
    // SAFETY: as above; a thread id of 0 means the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// CPU time (user + system) the calling thread has used.
pub fn thread_cpu_time() -> std::time::Duration {
    // SAFETY: `usage` is a plain struct that getrusage fills.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    std::time::Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// Turns off transparent huge pages for this process (best effort).
///
/// The allocator asks for huge pages, and each first touch of one zeroes 2 MiB: a fresh
/// thread's heap, a histogram, an artifact's encoder: 7 ms of CPU per run on average and up
/// to 55 ms (measured on the development machine), for a driver whose memory is a few MiB.
/// Only for a process that starts no others: children inherit the setting, and the services
/// `verify` starts must run as they would anywhere.
pub fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_may_run_somewhere() {
        assert!(!super::allowed_cpus().is_empty());
    }
}
