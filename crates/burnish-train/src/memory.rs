//! The process's memory use, for the run's metrics.
//!
//! On Linux the kernel keeps the peak resident set size of a process (`VmHWM` in
//! `/proc/self/status`); on CPU backends that is the peak memory of training, tensors
//! included. GPU memory is not part of it. Elsewhere the functions return `None`.

/// Peak resident memory of this process so far, in bytes (`VmHWM`); `None` where the system
/// does not report it.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// Resident memory of this process now, in bytes (`VmRSS`); `None` where the system does not
/// report it.
pub fn current_rss_bytes() -> Option<u64> {
    status_kib("VmRSS:").map(|kib| kib * 1024)
}

/// The machine's physical memory in bytes (`MemTotal` of `/proc/meminfo`); `None` where the
/// system does not report it.
pub fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_kib(&meminfo, "MemTotal:").map(|kib| kib * 1024)
}

/// The value of a `kB` line of `/proc/self/status`.
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_kib(&status, key)
}

fn parse_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let status = "Name:\tburnish\nVmPeak:\t  200 kB\nVmHWM:\t    1234 kB\nVmRSS:\t  999 kB\n";
        assert_eq!(parse_kib(status, "VmHWM:"), Some(1234));
        assert_eq!(parse_kib(status, "VmRSS:"), Some(999));
        assert_eq!(parse_kib(status, "VmSwap:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn peak_is_at_least_current_and_grows_with_an_allocation() {
        let before = peak_rss_bytes().unwrap();
        assert!(before >= current_rss_bytes().unwrap() / 2);
        // Touch 64 MiB so it becomes resident.
        let block = vec![1u8; 64 << 20];
        assert!(block.iter().step_by(4096).all(|&b| b == 1));
        let after = peak_rss_bytes().unwrap();
        assert!(after >= before.max(64 << 20), "{before} -> {after}");
    }
}
