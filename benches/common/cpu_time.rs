//! CPU time of this process (all threads), for benchmarks on a shared machine where wall time
//! per core understates speed when other jobs compete for the cores.
//!
//! `getrusage(RUSAGE_SELF)` reports user + system time in microseconds: no clock-tick rate to
//! assume (/proc/self/stat counts ticks of `sysconf(_SC_CLK_TCK)`, not always 100 Hz), and a
//! failure is an error, never a silent 0.

/// CPU seconds used by this process so far (user + system, all threads).
pub fn cpu_seconds() -> Result<f64, String> {
    usage(libc::RUSAGE_SELF, "RUSAGE_SELF")
}

/// CPU seconds used by this process's terminated and waited-for children (the C reference
/// programs a bench runs).
#[allow(dead_code)] // used by benches/noise.rs only
pub fn children_cpu_seconds() -> Result<f64, String> {
    usage(libc::RUSAGE_CHILDREN, "RUSAGE_CHILDREN")
}

fn usage(who: libc::c_int, name: &str) -> Result<f64, String> {
    // SAFETY: getrusage only writes the zero-initialized struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return Err(format!(
            "getrusage({name}) failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Ok(secs(u.ru_utime) + secs(u.ru_stime))
}
