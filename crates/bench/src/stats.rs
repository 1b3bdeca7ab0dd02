//! What a measurement keeps: latency distributions in milliseconds and the throughput of a run.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The percentiles each distribution keeps for its plot.
const PLOTTED_PERCENTILES: [f64; 14] = [
    0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0,
];

/// An empty histogram of durations in microseconds, from 1 µs to an hour at 3 significant digits.
/// (A fixed range: `saturating_record` clamps rather than grows an auto-resizing one.)
pub fn micros_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

/// A distribution of durations, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Distribution {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// (percentile, milliseconds), for the latency plot.
    pub percentiles: Vec<(f64, f64)>,
}

impl Distribution {
    /// From a histogram of microseconds.
    pub fn of(micros: &Histogram<u64>) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        let ms = |v: u64| v as f64 / 1000.0;
        Self {
            count: micros.len(),
            p50_ms: ms(micros.value_at_quantile(0.50)),
            p99_ms: ms(micros.value_at_quantile(0.99)),
            max_ms: ms(micros.max()),
            mean_ms: micros.mean() / 1000.0,
            percentiles: PLOTTED_PERCENTILES
                .iter()
                .map(|&p| (p, ms(micros.value_at_quantile(p / 100.0))))
                .collect(),
        }
    }

    /// From samples in milliseconds (negative ones count as 0).
    pub fn of_millis(samples: impl IntoIterator<Item = f64>) -> Self {
        let mut micros = crate::stats::micros_histogram();
        for sample in samples {
            micros.saturating_record((sample.max(0.0) * 1000.0).round() as u64);
        }
        Self::of(&micros)
    }
}

/// One load's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    pub clients: usize,
    pub elapsed_s: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub latency: Distribution,
    /// Operations completed in each second of the run.
    pub per_second: Vec<u64>,
}

impl Run {
    /// Completed operations per second over the whole run.
    pub fn throughput(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.latency.count as f64 / self.elapsed_s
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_samples() {
        let d = Distribution::of_millis((1..=1000).map(f64::from));
        assert_eq!(d.count, 1000);
        assert!((d.p50_ms - 500.0).abs() < 1.0, "p50 {}", d.p50_ms);
        assert!((d.p99_ms - 990.0).abs() < 1.0, "p99 {}", d.p99_ms);
        assert!((d.max_ms - 1000.0).abs() < 1.0, "max {}", d.max_ms);
        assert_eq!(d.percentiles.first().unwrap().0, 0.0);
        assert!((d.percentiles.last().unwrap().1 - 1000.0).abs() < 1.0);
    }

    #[test]
    fn long_durations_are_not_clamped() {
        let d = Distribution::of_millis([60_000.0]);
        assert!((d.max_ms - 60_000.0).abs() < 60.0, "max {}", d.max_ms);
    }

    #[test]
    fn negative_samples_count_as_zero() {
        let d = Distribution::of_millis([-5.0, 2.0]);
        assert_eq!(d.count, 2);
        assert_eq!(d.percentiles[0].1, 0.0);
    }

    #[test]
    fn throughput_is_completions_over_elapsed_time() {
        let run = Run {
            elapsed_s: 2.0,
            latency: Distribution::of_millis([1.0; 10]),
            ..Run::default()
        };
        assert_eq!(run.throughput(), 5.0);
        assert_eq!(Run::default().throughput(), 0.0);
    }
}
