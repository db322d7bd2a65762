//! PNG line charts of training curves, drawn with `plotters`.
//!
//! [`plot_curves`] draws one image with its [`Panel`]s stacked vertically — typically a "loss"
//! panel (training loss per step, validation loss per evaluation) and a "metric" panel
//! (validation accuracy / F1 per evaluation). Each panel has a frame, grid lines, round-number
//! tick labels, an x-axis label and a legend; sparse series (few points, like evaluations) get a
//! marker on every point. Text is set in DejaVu Sans, bundled with the crate
//! (`assets/DejaVuSans.ttf`, see `assets/README.md`), so rendering needs no system fonts and gives
//! the same pixels on every machine.
//!
//! Data problems never fail a plot: empty series are left out, non-finite points are skipped
//! (the line breaks there), a single point is drawn as a marker, and a constant series gets a
//! padded axis range. Only writing the file can fail ([`PlotError`]; drawing errors are
//! reported too, though drawing into memory with the bundled font does not fail).

use std::collections::HashMap;
use std::error::Error;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Image width in pixels.
pub const WIDTH: u32 = 900;
/// Height of each panel in pixels.
pub const PANEL_HEIGHT: u32 = 350;
/// Height of the figure title band in pixels.
pub const TITLE_HEIGHT: u32 = 40;

/// Series colours, assigned in order of first appearance of each series name (the "tab10"
/// palette; a series with the same name in several panels keeps its colour).
pub const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// DejaVu Sans (Bitstream Vera licence, `assets/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// One named curve: `(x, y)` points in drawing order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in drawing order; non-finite points are skipped and break the line.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from its name and points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }
}

/// One chart: its title, the x-axis label and its series.
///
/// Panels of one figure with the same `x_label` share their x range, so training steps line up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    /// Drawn above the chart (name the y quantity here, e.g. "loss").
    pub title: String,
    /// Drawn below the x axis (e.g. "step").
    pub x_label: String,
    /// Curves; empty ones are skipped.
    pub series: Vec<Series>,
}

impl Panel {
    /// A panel with no series yet.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            series: Vec::new(),
        }
    }

    /// Adds a series.
    #[must_use]
    pub fn with_series(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        self.series.push(Series::new(name, points));
        self
    }
}

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Creating, writing or renaming the file failed.
    #[error("cannot write plot {}", path.display())]
    Io {
        /// The plot's destination.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// PNG encoding failed.
    #[error("cannot encode plot {} as PNG", path.display())]
    Encode {
        /// The plot's destination.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: png::EncodingError,
    },
    /// `plotters` could not draw the figure.
    #[error("cannot draw plot {}", path.display())]
    Draw {
        /// The plot's destination.
        path: PathBuf,
        /// The drawing error.
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
}

/// Renders `panels` under `title` and writes the PNG to `path` atomically (a temporary file in
/// the same directory, then a rename), so a reader never sees a half-written image.
///
/// The image is [`WIDTH`] × ([`TITLE_HEIGHT`] + [`PANEL_HEIGHT`] · max(1, panels)) pixels;
/// with no panels it shows one empty "no data" panel.
///
/// # Errors
/// [`PlotError::Io`] if the directory does not exist or is not writable, [`PlotError::Draw`] if
/// drawing fails, [`PlotError::Encode`] if PNG encoding fails.
pub fn plot_curves(path: &Path, title: &str, panels: &[Panel]) -> Result<(), PlotError> {
    let image = render(title, panels).map_err(|source| PlotError::Draw {
        path: path.to_owned(),
        source,
    })?;
    let png = image.encode_png().map_err(|source| PlotError::Encode {
        path: path.to_owned(),
        source,
    })?;
    burnish_fs::write_atomic(path, &png).map_err(|source| PlotError::Io {
        path: path.to_owned(),
        source,
    })
}

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RgbImage {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl RgbImage {
    fn encode_png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

type DrawError = Box<dyn Error + Send + Sync>;
type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

const INK: RGBColor = RGBColor(30, 30, 30);
const MUTED: RGBColor = RGBColor(85, 85, 85);
const GRID: RGBColor = RGBColor(232, 232, 232);
const FRAME: RGBColor = RGBColor(160, 160, 160);
const LEGEND_BORDER: RGBColor = RGBColor(200, 200, 200);

const TITLE_SIZE: f64 = 22.0;
const CAPTION_SIZE: f64 = 19.0;
const LABEL_SIZE: f64 = 15.0;
const LINE_WIDTH: u32 = 2;
const MARKER_RADIUS: u32 = 3;
/// A series whose points are at least this many pixels apart on average gets markers.
const SPARSE_SPACING: f64 = 12.0;
/// At most this many tick labels per axis.
const X_TICKS: usize = 10;
const Y_TICKS: usize = 6;
/// Space between the data and the frame, as a fraction of the data range.
const X_PAD: f64 = 0.02;
const Y_PAD: f64 = 0.06;
/// Values this large are treated as unplottable, like NaN.
const MAX_ABS: f64 = 1e150;

/// Registers the bundled font as `sans-serif` (once); false if it cannot be read.
fn font_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok())
}

fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FontFamily::SansSerif, size).into_font().color(&color)
}

fn usable(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite() && p.0.abs() < MAX_ABS && p.1.abs() < MAX_ABS
}

fn has_data(s: &Series) -> bool {
    s.points.iter().any(usable)
}

/// Colour of every series, parallel to `panels[i].series[j]`: series names get [`PALETTE`]
/// colours in order of first appearance (empty series take none), cycling after ten.
fn series_colors(panels: &[Panel]) -> Vec<Vec<RGBColor>> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    panels
        .iter()
        .map(|panel| {
            panel
                .series
                .iter()
                .map(|s| {
                    let index = if has_data(s) {
                        let next = by_name.len();
                        *by_name.entry(s.name.as_str()).or_insert(next) % PALETTE.len()
                    } else {
                        0
                    };
                    let [r, g, b] = PALETTE[index];
                    RGBColor(r, g, b)
                })
                .collect()
        })
        .collect()
}

/// Finite data range of some panels, along x or y.
fn range<'a>(panels: impl Iterator<Item = &'a Panel>, along_x: bool) -> Option<(f64, f64)> {
    panels
        .flat_map(|p| &p.series)
        .flat_map(|s| &s.points)
        .filter(|p| usable(p))
        .map(|p| if along_x { p.0 } else { p.1 })
        .fold(None, |out, v| {
            Some(out.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v))))
        })
}

/// `(lo, hi)` widened by `pad` of its width on each side; a degenerate range (a constant series
/// or a single point) is widened first.
fn padded((lo, hi): (f64, f64), pad: f64) -> (f64, f64) {
    let (lo, hi) = if hi - lo > hi.abs().max(lo.abs()) * 1e-12 {
        (lo, hi)
    } else {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - half, hi + half)
    };
    let margin = (hi - lo) * pad;
    (lo - margin, hi + margin)
}

/// Tick labels for the ticks plotters puts on `lo..hi` with at most `max_ticks` labels: all with
/// the decimals the step between ticks needs ("0.0", "0.5", "1.0"), in scientific notation for
/// very large or very small magnitudes ("5.0e-6", "1.0e-5").
fn tick_formatter(lo: f64, hi: f64, max_ticks: usize) -> impl Fn(&f64) -> String {
    let ticks = RangedCoordf64::from(lo..hi).key_points(max_ticks);
    let step = ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(hi - lo, f64::min);
    let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let scientific = largest >= 1e6 || (largest > 0.0 && largest < 1e-3);
    let unit = if scientific {
        10f64.powf(largest.log10().floor())
    } else {
        1.0
    };
    // The fewest decimals that write the step exactly.
    let decimals = (0..=12)
        .find(|&d| {
            let s = step / unit * 10f64.powi(d);
            (s - s.round()).abs() <= 1e-6 * s.abs().max(1.0)
        })
        .unwrap_or(12) as usize;
    move |&value| {
        // Rounding error must not print "-0.0" or "1.2e-17" for zero.
        let value = if value.abs() < step * 1e-6 {
            0.0
        } else {
            value
        };
        match (scientific, value == 0.0) {
            (true, true) => "0".to_owned(),
            (true, false) => format!("{value:.decimals$e}"),
            (false, _) => format!("{value:.decimals$}"),
        }
    }
}

/// Renders the figure (see [`plot_curves`]).
fn render(title: &str, panels: &[Panel]) -> Result<RgbImage, DrawError> {
    if !font_registered() {
        return Err("the bundled font DejaVuSans.ttf cannot be read".into());
    }
    let placeholder = [Panel::new("", "")];
    let panels = if panels.is_empty() {
        &placeholder[..]
    } else {
        panels
    };
    let (width, height) = (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT * panels.len() as u32);
    let mut pixels = vec![255; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(TITLE_HEIGHT);
        let centered = Pos::new(HPos::Center, VPos::Center);
        top.draw_text(
            title,
            &text(TITLE_SIZE, INK).pos(centered),
            (width as i32 / 2, TITLE_HEIGHT as i32 / 2),
        )?;

        // The y ranges first: the widest tick label sets one label area for every panel, so the
        // plot areas line up.
        let y_ranges: Vec<Option<(f64, f64)>> = panels
            .iter()
            .map(|p| range(std::iter::once(p), false).map(|r| padded(r, Y_PAD)))
            .collect();
        let mut label_width = 0;
        for &(lo, hi) in y_ranges.iter().flatten() {
            let format = tick_formatter(lo, hi, Y_TICKS);
            for tick in RangedCoordf64::from(lo..hi).key_points(Y_TICKS) {
                let (w, _) = root.estimate_text_size(&format(&tick), &text(LABEL_SIZE, MUTED))?;
                label_width = label_width.max(w);
            }
        }
        let colors = series_colors(panels);
        for (i, area) in body.split_evenly((panels.len(), 1)).iter().enumerate() {
            let panel = &panels[i];
            // Panels with the same x label share the x range.
            let x_range = range(panels.iter().filter(|p| p.x_label == panel.x_label), true)
                .map(|r| padded(r, X_PAD));
            let ranges = x_range.zip(y_ranges[i]);
            draw_panel(area, panel, &colors[i], ranges, label_width + 14)?;
        }
        root.present()?;
    }
    Ok(RgbImage {
        width,
        height,
        pixels,
    })
}

/// Consecutive usable points of a series (a non-finite point splits a run).
fn runs(series: &Series) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for p in &series.points {
        if usable(p) {
            out.last_mut().expect("never empty").push(*p);
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Draws one panel: caption, axes, curves and legend; `ranges` are the x and y ranges, `None`
/// when the panel has no data.
fn draw_panel(
    area: &Area<'_>,
    panel: &Panel,
    colors: &[RGBColor],
    ranges: Option<((f64, f64), (f64, f64))>,
    y_label_width: u32,
) -> Result<(), DrawError> {
    let ((x0, x1), (y0, y1)) = ranges.unwrap_or(((0.0, 1.0), (0.0, 1.0)));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, text(CAPTION_SIZE, INK))
        .margin_top(4)
        .margin_left(10)
        .margin_right(24)
        .margin_bottom(6)
        .x_label_area_size(48)
        .y_label_area_size(y_label_width)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let plot = chart.plotting_area().strip_coord_spec();
    let (w, h) = plot.dim_in_pixel();
    if ranges.is_none() {
        plot.draw(&Rectangle::new(
            [(0, 0), (w as i32 - 1, h as i32 - 1)],
            FRAME,
        ))?;
        plot.draw_text(
            "no data",
            &text(LABEL_SIZE, MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
            (w as i32 / 2, h as i32 / 2),
        )?;
        return Ok(());
    }
    let (x_format, y_format) = (
        tick_formatter(x0, x1, X_TICKS),
        tick_formatter(y0, y1, Y_TICKS),
    );
    chart
        .configure_mesh()
        .x_labels(X_TICKS)
        .y_labels(Y_TICKS)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .x_desc(panel.x_label.as_str())
        .label_style(text(LABEL_SIZE, MUTED))
        .axis_desc_style(text(LABEL_SIZE, MUTED))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(FRAME)
        .draw()?;
    plot.draw(&Rectangle::new(
        [(0, 0), (w as i32 - 1, h as i32 - 1)],
        FRAME,
    ))?;

    // Curves, and where they pass (in [0, 1]², y up) for placing the legend.
    let mut samples = Vec::new();
    let mut longest_name = 0;
    for (series, &color) in panel.series.iter().zip(colors) {
        let runs = runs(series);
        let count: usize = runs.iter().map(Vec::len).sum();
        if count == 0 {
            continue;
        }
        let sparse = f64::from(w) / count as f64 >= SPARSE_SPACING;
        // `filled` fills the markers; lines ignore it.
        let style = color.filled().stroke_width(LINE_WIDTH);
        for run in &runs {
            let unit = |&(x, y): &(f64, f64)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0));
            samples.extend(run.iter().map(unit));
            for pair in run.windows(2) {
                let (a, b) = (unit(&pair[0]), unit(&pair[1]));
                let steps = ((b.0 - a.0).hypot(b.1 - a.1) * 100.0).ceil() as usize;
                samples.extend((1..steps).map(|k| {
                    let t = k as f64 / steps as f64;
                    (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
                }));
            }
        }
        chart
            .draw_series(runs.into_iter().flat_map(|run| {
                let marker = if sparse || run.len() == 1 {
                    MARKER_RADIUS
                } else {
                    0
                };
                LineSeries::new(run, style).point_size(marker)
            }))?
            .label(series.name.as_str())
            .legend(move |(x, y)| {
                let marker = if sparse { MARKER_RADIUS } else { 0 };
                EmptyElement::at((x, y))
                    + PathElement::new([(0, 0), (24, 0)], style)
                    + Circle::new((12, 0), marker, style)
            });
        let (name_width, _) = area.estimate_text_size(&series.name, &text(LABEL_SIZE, INK))?;
        longest_name = longest_name.max(name_width);
    }
    if samples.is_empty() {
        return Ok(());
    }
    let entries = panel.series.iter().filter(|s| has_data(s)).count();
    // The legend's size as a fraction of the plot (swatch, padding, rows of text).
    let size = (
        f64::from(longest_name + 60) / f64::from(w),
        (entries as f64 * (LABEL_SIZE + 6.0) + 16.0) / f64::from(h),
    );
    chart
        .configure_series_labels()
        .position(legend_corner(&samples, size))
        .margin(10)
        .legend_area_size(32)
        .label_font(text(LABEL_SIZE, INK))
        .background_style(WHITE)
        .border_style(LEGEND_BORDER)
        .draw()?;
    Ok(())
}

/// The plot corner where a legend of `size` (fractions of the plot's width and height) hides
/// the fewest curve samples (points in [0, 1]², y up); on ties: top right, top left, bottom
/// right, bottom left.
fn legend_corner(samples: &[(f64, f64)], (w, h): (f64, f64)) -> SeriesLabelPosition {
    let margin = 0.03;
    let corners = [
        (
            SeriesLabelPosition::UpperRight,
            (1.0 - w, 1.0),
            (1.0 - h, 1.0),
        ),
        (SeriesLabelPosition::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (SeriesLabelPosition::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (SeriesLabelPosition::LowerLeft, (0.0, w), (0.0, h)),
    ];
    let hidden = |&(_, (xa, xb), (ya, yb)): &(SeriesLabelPosition, (f64, f64), (f64, f64))| {
        samples
            .iter()
            .filter(|&&(x, y)| {
                x >= xa - margin && x <= xb + margin && y >= ya - margin && y <= yb + margin
            })
            .count()
    };
    corners
        .into_iter()
        .min_by_key(hidden)
        .map_or(SeriesLabelPosition::UpperRight, |corner| corner.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fresh scratch directory under the system temp dir.
    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("burnish-plot-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Training curves shaped like a real fine-tuning run.
    fn sample_panels() -> Vec<Panel> {
        let train: Vec<(f64, f64)> = (1..=600)
            .map(|s| {
                let s = f64::from(s);
                let noise = 0.08 * (s * 0.7).sin() + 0.05 * (s * 1.3).cos();
                (s, 0.25 + 0.9 * (-s / 150.0).exp() + noise)
            })
            .collect();
        let evals: Vec<f64> = (1..=12).map(|k| f64::from(k) * 50.0).collect();
        let val_loss = evals
            .iter()
            .map(|&s| {
                (
                    s,
                    0.33 + 0.75 * (-s / 170.0).exp() + 0.0004 * (s - 300.0).max(0.0),
                )
            })
            .collect();
        let acc = evals
            .iter()
            .map(|&s| (s, 0.90 - 0.35 * (-s / 120.0).exp()))
            .collect();
        let f1 = evals
            .iter()
            .map(|&s| (s, 0.88 - 0.45 * (-s / 110.0).exp()))
            .collect();
        vec![
            Panel::new("loss", "step")
                .with_series("train loss", train)
                .with_series("validation loss", val_loss),
            Panel::new("validation metrics", "step")
                .with_series("accuracy", acc)
                .with_series("f1_macro", f1),
        ]
    }

    fn decode(path: &Path) -> (png::OutputInfo, Vec<u8>) {
        let file = io::BufReader::new(fs::File::open(path).unwrap());
        let mut reader = png::Decoder::new(file).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    /// Pixels of exactly `color` in the rows `rows` of an RGB image [`WIDTH`] wide.
    fn count_color(rgb: &[u8], rows: std::ops::Range<u32>, color: RGBColor) -> usize {
        let row = WIDTH as usize * 3;
        rgb[rows.start as usize * row..rows.end as usize * row]
            .chunks_exact(3)
            .filter(|p| *p == [color.0, color.1, color.2])
            .count()
    }

    /// The rows of panel `i`.
    fn panel_rows(i: u32) -> std::ops::Range<u32> {
        TITLE_HEIGHT + i * PANEL_HEIGHT..TITLE_HEIGHT + (i + 1) * PANEL_HEIGHT
    }

    /// The longest horizontal run of `color` in the rows `rows` (a legend frame's top edge).
    fn longest_run(rgb: &[u8], rows: std::ops::Range<u32>, color: RGBColor) -> usize {
        let row = WIDTH as usize * 3;
        rgb[rows.start as usize * row..rows.end as usize * row]
            .chunks_exact(row)
            .flat_map(|line| {
                line.chunks_exact(3)
                    .scan(0, |run, p| {
                        *run = if p == [color.0, color.1, color.2] {
                            *run + 1
                        } else {
                            0
                        };
                        Some(*run)
                    })
                    .max()
            })
            .max()
            .unwrap_or(0)
    }

    /// Dark pixels in `rows`: text (lines, grid and frame are lighter or coloured).
    fn dark_pixels(rgb: &[u8], rows: std::ops::Range<u32>) -> usize {
        let row = WIDTH as usize * 3;
        rgb[rows.start as usize * row..rows.end as usize * row]
            .chunks_exact(3)
            .filter(|p| p.iter().all(|&c| c < 120))
            .count()
    }

    #[test]
    fn two_panels_round_trip_through_png() {
        let dir = scratch_dir("two-panels");
        let path = dir.join("curves.png");
        let panels = sample_panels();
        plot_curves(&path, "fine-tune sst2 (MiniLM)", &panels).unwrap();

        let (info, rgb) = decode(&path);
        assert_eq!(
            (info.width, info.height),
            (WIDTH, TITLE_HEIGHT + 2 * PANEL_HEIGHT)
        );
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(
            rgb,
            render("fine-tune sst2 (MiniLM)", &panels).unwrap().pixels
        );
        // The title is drawn in its band.
        assert!(dark_pixels(&rgb, 0..TITLE_HEIGHT) > 100);

        let colors = series_colors(&panels);
        let palette = |i: usize| RGBColor(PALETTE[i][0], PALETTE[i][1], PALETTE[i][2]);
        assert_eq!(colors, [[palette(0), palette(1)], [palette(2), palette(3)]]);
        for (i, (panel, colors)) in panels.iter().zip(&colors).enumerate() {
            let rows = panel_rows(i as u32);
            for (series, &color) in panel.series.iter().zip(colors) {
                // Line, markers and the legend swatch.
                let n = count_color(&rgb, rows.clone(), color);
                assert!(
                    n > 200,
                    "series {:?}: only {n} pixels of {color:?}",
                    series.name
                );
            }
            // Caption, tick labels, axis label and legend text.
            assert!(
                dark_pixels(&rgb, rows.clone()) > 600,
                "panel {i} has no text"
            );
            // The legend's frame, wider than its longest name.
            assert!(
                longest_run(&rgb, rows, LEGEND_BORDER) > 100,
                "panel {i} has no legend"
            );
        }
        // Series pixels are inside their own panel.
        assert_eq!(count_color(&rgb, panel_rows(0), palette(2)), 0);
        assert_eq!(count_color(&rgb, panel_rows(1), palette(0)), 0);

        // Atomic write leaves nothing else behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["curves.png"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Writes the sample figure for a human to look at:
    /// `cargo test -p burnish-train plot::tests::write_sample -- --ignored`.
    #[test]
    #[ignore = "writes <tmp>/burnish-plot-sample.png for visual inspection"]
    fn write_sample() {
        let path = std::env::temp_dir().join("burnish-plot-sample.png");
        let mut panels = sample_panels();
        panels.push(
            Panel::new(
                "edge cases: single point, constant, NaN gap, empty",
                "epoch",
            )
            .with_series("single", vec![(2.5, 0.6)])
            .with_series(
                "constant",
                vec![(0.0, 0.75), (1.0, 0.75), (2.0, 0.75), (3.0, 0.75)],
            )
            .with_series(
                "gap",
                vec![
                    (0.0, 0.2),
                    (1.0, 0.3),
                    (1.5, f64::NAN),
                    (2.0, 0.5),
                    (3.0, f64::INFINITY),
                    (4.0, 0.4),
                ],
            )
            .with_series("empty", vec![]),
        );
        panels.push(Panel::new("nothing to show", "step"));
        plot_curves(&path, "burnish: sample training curves", &panels).unwrap();
        println!("wrote {}", path.display());
    }

    #[test]
    fn edge_cases_render() {
        let nan = f64::NAN;
        let panels = vec![
            Panel::new("empty", "step").with_series("nothing", vec![]),
            Panel::new("single", "step").with_series("one", vec![(5.0, 0.3)]),
            Panel::new("constant", "epoch")
                .with_series("flat", vec![(0.0, 2.0), (1.0, 2.0), (2.0, 2.0)]),
            Panel::new("zeros", "epoch").with_series("zero", vec![(0.0, 0.0), (0.0, 0.0)]),
            Panel::new("non-finite", "x").with_series(
                "gaps",
                vec![
                    (0.0, 1.0),
                    (nan, 2.0),
                    (2.0, f64::INFINITY),
                    (3.0, 4.0),
                    (4.0, 1e308),
                    (5.0, -1.0),
                ],
            ),
            Panel::new("only NaN", "x")
                .with_series("bad", vec![(nan, nan), (1.0, f64::NEG_INFINITY)]),
            Panel::new("huge and tiny", "x")
                .with_series("big", vec![(0.0, 3e9), (1.0, 7e9)])
                .with_series("small", vec![(0.0, 1e-6), (1.0, 2e-6)]),
        ];
        let img = render("edge cases \u{e9}\u{2014} non-ASCII", &panels).unwrap();
        assert_eq!(
            (img.width, img.height),
            (WIDTH, TITLE_HEIGHT + 7 * PANEL_HEIGHT)
        );
        assert_eq!(img.pixels.len(), (img.width * img.height * 3) as usize);
        // Empty and all-NaN series take no colour, so "one" is the first colour.
        let colors = series_colors(&panels);
        let first = RGBColor(PALETTE[0][0], PALETTE[0][1], PALETTE[0][2]);
        assert_eq!(colors[1][0], first);
        assert_eq!(
            colors[2][0],
            RGBColor(PALETTE[1][0], PALETTE[1][1], PALETTE[1][2])
        );
        assert!(
            count_color(&img.pixels, panel_rows(1), first) > 20,
            "single point drawn as a marker"
        );
        // Panels without data get a frame and "no data", but no legend.
        for i in [0, 5] {
            assert!(dark_pixels(&img.pixels, panel_rows(i)) > 100, "panel {i}");
            assert!(longest_run(&img.pixels, panel_rows(i), LEGEND_BORDER) < 10);
        }

        let none = render("", &[]).unwrap();
        assert_eq!(
            (none.width, none.height),
            (WIDTH, TITLE_HEIGHT + PANEL_HEIGHT)
        );
    }

    #[test]
    fn same_series_name_keeps_its_colour() {
        let panels = vec![
            Panel::new("a", "step")
                .with_series("train", vec![(0.0, 1.0)])
                .with_series("val", vec![(0.0, 1.0)]),
            Panel::new("b", "step")
                .with_series("val", vec![(0.0, 1.0)])
                .with_series("test", vec![(0.0, 1.0)]),
        ];
        let index: Vec<Vec<usize>> = series_colors(&panels)
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| PALETTE.iter().position(|p| *p == [c.0, c.1, c.2]).unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(index, [[0, 1], [1, 2]]);
    }

    #[test]
    fn tick_labels_are_round_and_distinct() {
        let labels = |lo: f64, hi: f64, n: usize| -> Vec<String> {
            let format = tick_formatter(lo, hi, n);
            RangedCoordf64::from(lo..hi)
                .key_points(n)
                .iter()
                .map(format)
                .collect()
        };
        assert_eq!(labels(0.0, 2.3, 6), ["0.0", "0.5", "1.0", "1.5", "2.0"]);
        assert_eq!(
            labels(1.0, 600.0, 6),
            ["100", "200", "300", "400", "500", "600"]
        );
        assert_eq!(
            labels(0.815, 0.862, 6),
            ["0.82", "0.83", "0.84", "0.85", "0.86"]
        );
        assert_eq!(
            labels(-0.31, 0.2, 6),
            ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2"]
        );
        assert_eq!(
            labels(0.0, 2.5e-5, 6),
            ["0", "5.0e-6", "1.0e-5", "1.5e-5", "2.0e-5", "2.5e-5"]
        );
        assert_eq!(labels(2e6, 6e6, 3), ["2e6", "4e6", "6e6"]);
        // Constant and single-value ranges are padded.
        let (lo, hi) = padded((2.0, 2.0), Y_PAD);
        assert!(lo < 2.0 && hi > 2.0);
        assert_eq!(padded((0.0, 0.0), 0.0), (-1.0, 1.0));
        assert_eq!(padded((0.0, 10.0), 0.1), (-1.0, 11.0));
    }

    #[test]
    fn legend_goes_where_the_curves_are_not() {
        let falling: Vec<(f64, f64)> = (0..=100)
            .map(|i| (i as f64 / 100.0, 1.0 - i as f64 / 100.0))
            .collect();
        let size = (0.3, 0.2);
        // A falling line crosses the top left and bottom right corners.
        assert_eq!(
            legend_corner(&falling, size),
            SeriesLabelPosition::UpperRight
        );
        let rising: Vec<(f64, f64)> = falling.iter().map(|&(x, y)| (x, 1.0 - y)).collect();
        assert_eq!(legend_corner(&rising, size), SeriesLabelPosition::UpperLeft);
        let high: Vec<(f64, f64)> = falling.iter().map(|&(x, _)| (x, 0.9)).collect();
        assert_eq!(legend_corner(&high, size), SeriesLabelPosition::LowerRight);
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let path = std::env::temp_dir().join("burnish-plot-no-such-dir/sub/curves.png");
        let err = plot_curves(&path, "t", &sample_panels()).unwrap_err();
        assert!(matches!(err, PlotError::Io { .. }));
        assert!(
            err.to_string()
                .contains("burnish-plot-no-such-dir/sub/curves.png"),
            "{err}"
        );
    }

    #[test]
    fn overwrites_existing_file() {
        let dir = scratch_dir("overwrite");
        let path = dir.join("p.png");
        fs::write(&path, b"old").unwrap();
        plot_curves(&path, "t", &sample_panels()[..1]).unwrap();
        let (info, _) = decode(&path);
        assert_eq!(info.height, TITLE_HEIGHT + PANEL_HEIGHT);
        fs::remove_dir_all(&dir).unwrap();
    }
}
