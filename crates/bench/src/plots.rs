//! The report's plots, as SVG: latency by percentile and throughput over time, one line per
//! scenario.

use std::path::Path;

use plotters::prelude::*;

use crate::suite::SuiteReport;

const SIZE: (u32, u32) = (900, 520);

/// The x position of percentile `p` on a "nines" axis: 0 at p0, 1 at p90, 2 at p99, 3 at p99.9…
fn nines(p: f64) -> f64 {
    -(1.0 - (p / 100.0).min(0.99999)).log10()
}

fn percentile_label(x: &f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let text = format!("{p:.3}");
    format!("p{}", text.trim_end_matches('0').trim_end_matches('.'))
}

fn drawing_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing a plot: {error}")
}

/// A chart of named lines over a linear x axis and a logarithmic y axis.
struct LineChart<'a> {
    caption: String,
    x_desc: &'a str,
    y_desc: &'a str,
    x_range: std::ops::Range<f64>,
    y_range: std::ops::Range<f64>,
    x_label: &'a dyn Fn(&f64) -> String,
    legend: SeriesLabelPosition,
    lines: Vec<(String, Vec<(f64, f64)>)>,
}

impl LineChart<'_> {
    fn draw(self, path: &Path) -> anyhow::Result<()> {
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.caption, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(self.x_range, self.y_range.log_scale())
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .x_labels(6)
            .x_label_formatter(self.x_label)
            .y_label_formatter(&|y: &f64| {
                if *y >= 1.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y}")
                }
            })
            .draw()
            .map_err(drawing_error)?;
        for (i, (name, points)) in self.lines.into_iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(drawing_error)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(self.legend)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
        Ok(())
    }
}

/// Latency (ms, log scale) by percentile for every scenario of `report`.
pub fn latency(report: &SuiteReport, path: &Path) -> anyhow::Result<()> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = report
        .scenarios
        .iter()
        .filter(|s| s.run.latency.count > 0)
        .map(|s| {
            let points = s
                .run
                .latency
                .percentiles
                .iter()
                .map(|&(p, ms)| (nines(p), ms.max(0.01)))
                .collect();
            (s.name.clone(), points)
        })
        .collect();
    let max_ms = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    LineChart {
        caption: format!("Latency by percentile, {} mode", report.mode.name()),
        x_desc: "percentile",
        y_desc: "latency (ms)",
        x_range: 0.0..nines(99.999),
        y_range: 0.01..max_ms * 1.5,
        x_label: &percentile_label,
        legend: SeriesLabelPosition::LowerRight,
        lines,
    }
    .draw(path)
}

/// Operations completed in each second of each scenario's run.
pub fn throughput(report: &SuiteReport, path: &Path) -> anyhow::Result<()> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = report
        .scenarios
        .iter()
        .map(|scenario| {
            // The last second is partial: leave it out.
            let full_seconds = scenario.run.per_second.len().saturating_sub(1);
            let points = scenario.run.per_second[..full_seconds]
                .iter()
                .enumerate()
                .map(|(second, &count)| (second as f64, count.max(1) as f64))
                .collect();
            (scenario.name.clone(), points)
        })
        .collect();
    let longest = lines.iter().map(|(_, p)| p.len()).max().unwrap_or(1).max(1);
    let peak = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    LineChart {
        caption: format!("Throughput over time, {} mode", report.mode.name()),
        x_desc: "second of the scenario",
        y_desc: "operations per second",
        x_range: 0.0..longest as f64,
        y_range: 1.0..peak * 2.0,
        x_label: &|x| format!("{x:.0}"),
        legend: SeriesLabelPosition::UpperRight,
        lines,
    }
    .draw(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nines_axis_puts_each_nine_one_step_further() {
        assert!((nines(0.0) - 0.0).abs() < 1e-9);
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.0) - 2.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(percentile_label(&2.0), "p99");
        assert_eq!(percentile_label(&3.0), "p99.9");
        assert_eq!(percentile_label(&0.0), "p0");
    }
}
