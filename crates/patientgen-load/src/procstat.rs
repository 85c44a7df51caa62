//! RSS and CPU of the server processes, sampled from `/proc` while a run goes
//! (Linux only; elsewhere the summary says "not sampled"), and the soak's
//! memory-growth check over those samples.

use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One reading of one process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since sampling started.
    pub t: f64,
    /// Process.
    pub pid: u32,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// User + system CPU time so far, seconds (all threads).
    pub cpu_seconds: f64,
}

/// Reads a process's RSS and CPU time; `None` when it is gone or not readable.
#[cfg(target_os = "linux")]
pub fn read(pid: u32) -> Option<(u64, f64)> {
    // The kernel reports CPU times in clock ticks of USER_HZ, which is 100 on
    // every architecture this runs on (x86-64, aarch64).
    const USER_HZ: f64 = 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3;
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((rss_kb * 1024, (utime + stime) / USER_HZ))
}

/// Not on Linux: nothing to read.
#[cfg(not(target_os = "linux"))]
pub fn read(_pid: u32) -> Option<(u64, f64)> {
    None
}

/// Whether this platform can sample at all.
pub const SUPPORTED: bool = cfg!(target_os = "linux");

/// A background thread sampling some processes at a fixed interval.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<Sample>>,
}

impl Sampler {
    /// Starts sampling `pids` every `every` (a first sample is taken at once).
    pub fn start(pids: Vec<u32>, every: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut out = Vec::new();
            let mut next = start;
            loop {
                let t = start.elapsed().as_secs_f64();
                for &pid in &pids {
                    if let Some((rss_bytes, cpu_seconds)) = read(pid) {
                        out.push(Sample { t, pid, rss_bytes, cpu_seconds });
                    }
                }
                next += every;
                while Instant::now() < next {
                    if flag.load(Ordering::SeqCst) {
                        return out;
                    }
                    std::thread::park_timeout(next.saturating_duration_since(Instant::now()));
                }
                if flag.load(Ordering::SeqCst) {
                    return out;
                }
            }
        });
        Sampler { stop, handle }
    }

    /// Takes a last sample and returns them all.
    pub fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.thread().unpark();
        self.handle.join().unwrap_or_default()
    }
}

/// What the samples of one process say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessSummary {
    /// Process.
    pub pid: u32,
    /// Samples taken.
    pub samples: usize,
    /// RSS at the first sample, MB.
    pub rss_first_mb: f64,
    /// Highest RSS sampled, MB.
    pub rss_peak_mb: f64,
    /// RSS at the last sample, MB.
    pub rss_last_mb: f64,
    /// CPU seconds used between the first and last sample.
    pub cpu_seconds: f64,
    /// Mean CPU over the run, percent of one core.
    pub cpu_mean_pct: f64,
    /// Highest CPU over one sampling interval, percent of one core.
    pub cpu_peak_pct: f64,
}

const MB: f64 = 1024.0 * 1024.0;

/// Summaries per process, in pid order.
pub fn summarize(samples: &[Sample]) -> Vec<ProcessSummary> {
    let mut pids: Vec<u32> = samples.iter().map(|s| s.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .filter_map(|pid| {
            let s: Vec<&Sample> = samples.iter().filter(|s| s.pid == pid).collect();
            let (first, last) = (s.first()?, s.last()?);
            let wall = last.t - first.t;
            let cpu = last.cpu_seconds - first.cpu_seconds;
            let peak_cpu = s
                .windows(2)
                .filter(|w| w[1].t > w[0].t)
                .map(|w| (w[1].cpu_seconds - w[0].cpu_seconds) / (w[1].t - w[0].t) * 100.0)
                .fold(0.0, f64::max);
            Some(ProcessSummary {
                pid,
                samples: s.len(),
                rss_first_mb: first.rss_bytes as f64 / MB,
                rss_peak_mb: s.iter().map(|x| x.rss_bytes).max().unwrap_or(0) as f64 / MB,
                rss_last_mb: last.rss_bytes as f64 / MB,
                cpu_seconds: cpu,
                cpu_mean_pct: if wall > 0.0 { cpu / wall * 100.0 } else { 0.0 },
                cpu_peak_pct: peak_cpu,
            })
        })
        .collect()
}

/// The soak's bound on memory growth after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GrowthBound {
    /// Samples before this many seconds are warm-up and not judged.
    pub warmup_seconds: f64,
    /// Largest least-squares slope of RSS over time allowed, MB per minute.
    pub max_slope_mb_per_min: f64,
    /// Largest ratio of the last sample to the post-warm-up median allowed.
    pub max_last_over_median: f64,
}

impl Default for GrowthBound {
    fn default() -> Self {
        GrowthBound { warmup_seconds: 120.0, max_slope_mb_per_min: 1.0, max_last_over_median: 1.2 }
    }
}

/// The growth of one process after warm-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    /// Process.
    pub pid: u32,
    /// Samples judged (after warm-up).
    pub samples: usize,
    /// Least-squares slope of RSS over time, MB per minute.
    pub slope_mb_per_min: f64,
    /// Median RSS after warm-up, MB.
    pub median_mb: f64,
    /// Last RSS, MB.
    pub last_mb: f64,
    /// Within the bound.
    pub ok: bool,
    /// Why not, or what was judged.
    pub verdict: String,
}

/// Judges each process's RSS samples against `bound`.
pub fn growth(samples: &[Sample], bound: &GrowthBound) -> Vec<Growth> {
    let mut pids: Vec<u32> = samples.iter().map(|s| s.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .map(|pid| {
            let s: Vec<(f64, f64)> = samples
                .iter()
                .filter(|s| s.pid == pid && s.t >= bound.warmup_seconds)
                .map(|s| (s.t / 60.0, s.rss_bytes as f64 / MB))
                .collect();
            if s.len() < 3 {
                return Growth {
                    pid,
                    samples: s.len(),
                    slope_mb_per_min: 0.0,
                    median_mb: 0.0,
                    last_mb: 0.0,
                    ok: false,
                    verdict: format!("only {} samples after warm-up: run longer", s.len()),
                };
            }
            let slope = least_squares_slope(&s);
            let mut rss: Vec<f64> = s.iter().map(|p| p.1).collect();
            rss.sort_by(f64::total_cmp);
            let median = if rss.len() % 2 == 1 {
                rss[rss.len() / 2]
            } else {
                (rss[rss.len() / 2 - 1] + rss[rss.len() / 2]) / 2.0
            };
            let last = s.last().map_or(0.0, |p| p.1);
            let mut problems = Vec::new();
            if slope > bound.max_slope_mb_per_min {
                problems.push(format!("slope {slope:.2} MB/min > {} MB/min", bound.max_slope_mb_per_min));
            }
            if last > bound.max_last_over_median * median {
                problems.push(format!(
                    "last {last:.1} MB > {} × median {median:.1} MB",
                    bound.max_last_over_median
                ));
            }
            let ok = problems.is_empty();
            let verdict = if ok {
                format!("slope {slope:.2} MB/min, last/median {:.3}: within bound", last / median)
            } else {
                problems.join("; ")
            };
            Growth {
                pid,
                samples: s.len(),
                slope_mb_per_min: slope,
                median_mb: median,
                last_mb: last,
                ok,
                verdict,
            }
        })
        .collect()
}

/// Slope of the least-squares line through `(x, y)` points.
pub fn least_squares_slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(pid: u32, f: impl Fn(f64) -> f64) -> Vec<Sample> {
        (0..=120)
            .map(|i| {
                let t = f64::from(i) * 5.0;
                Sample { t, pid, rss_bytes: (f(t) * MB) as u64, cpu_seconds: t * 0.5 }
            })
            .collect()
    }

    #[test]
    fn slope_of_a_line() {
        let pts: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 3.0 * f64::from(i) + 1.0)).collect();
        assert!((least_squares_slope(&pts) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn flat_memory_passes_and_a_leak_fails() {
        let bound = GrowthBound::default();
        // Grows during warm-up, then flat with noise.
        let flat = series(1, |t| if t < 100.0 { 40.0 + t / 10.0 } else { 50.0 + (t / 5.0 % 3.0) * 0.3 });
        let g = growth(&flat, &bound);
        assert!(g[0].ok, "{:?}", g[0]);
        // 2 MB per minute after warm-up.
        let leak = series(2, |t| 50.0 + t / 30.0);
        let g = growth(&leak, &bound);
        assert!(!g[0].ok);
        assert!((g[0].slope_mb_per_min - 2.0).abs() < 1e-6, "{:?}", g[0]);
        // A late jump that a regression line over many samples dampens.
        let jump = series(3, |t| if t >= 600.0 { 80.0 } else { 50.0 });
        assert!(!growth(&jump, &bound)[0].ok);
    }

    #[test]
    fn too_few_samples_is_not_a_pass() {
        let short: Vec<Sample> = series(1, |_| 10.0).into_iter().take(20).collect();
        assert!(!growth(&short, &GrowthBound::default())[0].ok);
    }

    #[test]
    fn summaries_give_peak_and_cpu() {
        let s = series(9, |t| 10.0 + t / 100.0);
        let p = &summarize(&s)[0];
        assert_eq!(p.samples, 121);
        assert!((p.rss_peak_mb - 16.0).abs() < 0.01);
        assert!((p.cpu_mean_pct - 50.0).abs() < 1e-6);
        assert!((p.cpu_peak_pct - 50.0).abs() < 1e-6);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_can_be_read() {
        let (rss, cpu) = read(std::process::id()).expect("own /proc entry");
        assert!(rss > 0);
        assert!(cpu >= 0.0);
        assert_eq!(read(u32::MAX), None);
    }
}
