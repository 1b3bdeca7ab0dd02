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

/// Latency (ms, log scale) by percentile for every scenario of `report`.
pub fn latency(report: &SuiteReport, path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(drawing_error)?;
    let series: Vec<(String, Vec<(f64, f64)>)> = report
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
    let max_ms = series
        .iter()
        .flat_map(|(_, points)| points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Latency by percentile, {} mode", report.mode.name()),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..nines(99.999), (0.01..max_ms * 1.5).log_scale())
        .map_err(drawing_error)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_labels(6)
        .x_label_formatter(&percentile_label)
        .draw()
        .map_err(drawing_error)?;
    for (i, (name, points)) in series.into_iter().enumerate() {
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
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(drawing_error)?;
    root.present().map_err(drawing_error)?;
    Ok(())
}

/// Operations completed in each second of each scenario's run.
pub fn throughput(report: &SuiteReport, path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(drawing_error)?;
    let longest = report
        .scenarios
        .iter()
        .map(|s| s.run.per_second.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let peak = report
        .scenarios
        .iter()
        .flat_map(|s| s.run.per_second.iter().copied())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Throughput over time, {} mode", report.mode.name()),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0..longest as u32, (1..peak * 2).log_scale())
        .map_err(drawing_error)?;
    chart
        .configure_mesh()
        .x_desc("second of the scenario")
        .y_desc("operations per second")
        .draw()
        .map_err(drawing_error)?;
    for (i, scenario) in report.scenarios.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        // The last second is partial: leave it out.
        let full_seconds = scenario.run.per_second.len().saturating_sub(1);
        let points = scenario.run.per_second[..full_seconds]
            .iter()
            .enumerate()
            .map(|(second, &count)| (second as u32, count.max(1)));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(drawing_error)?
            .label(scenario.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(drawing_error)?;
    root.present().map_err(drawing_error)?;
    Ok(())
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
