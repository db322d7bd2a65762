//! PNG line charts of training curves, with no dependency beyond the `png` encoder.
//!
//! [`plot_curves`] draws one image with its [`Panel`]s stacked vertically — typically a "loss"
//! panel (training loss per step, validation loss per evaluation) and a "metric" panel
//! (validation accuracy / F1 per evaluation). Each panel has a frame, grid lines, round-number
//! tick labels, an x-axis label and a legend; sparse series (few points, like evaluations) get a
//! marker on every point. Text is drawn with a small bitmap font embedded here, so rendering needs
//! no system fonts and gives the same pixels on every machine.
//!
//! Data problems never fail a plot: empty series are left out, non-finite points are skipped
//! (the line breaks there), a single point is drawn as a marker, and a constant series gets a
//! padded axis range. Only writing the file can fail ([`PlotError`]).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
}

/// Renders `panels` under `title` and writes the PNG to `path` atomically (a temporary file in
/// the same directory, then a rename), so a reader never sees a half-written image.
///
/// The image is [`WIDTH`] × ([`TITLE_HEIGHT`] + [`PANEL_HEIGHT`] · max(1, panels)) pixels;
/// with no panels it shows one empty "no data" panel.
///
/// # Errors
/// [`PlotError::Io`] if the directory does not exist or is not writable, [`PlotError::Encode`]
/// if PNG encoding fails.
pub fn plot_curves(path: &Path, title: &str, panels: &[Panel]) -> Result<(), PlotError> {
    let image = render_curves(title, panels);
    let png = image.encode_png().map_err(|source| PlotError::Encode {
        path: path.to_owned(),
        source,
    })?;
    write_atomic(path, &png).map_err(|source| PlotError::Io {
        path: path.to_owned(),
        source,
    })
}

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub pixels: Vec<u8>,
}

impl RgbImage {
    fn new(width: u32, height: u32, background: [u8; 3]) -> Self {
        let pixels = background.repeat(width as usize * height as usize);
        Self {
            width,
            height,
            pixels,
        }
    }

    /// The colour at `(x, y)`, or `None` outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        (x < self.width && y < self.height).then(|| {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
        })
    }

    /// Encodes as PNG.
    ///
    /// # Errors
    /// The encoder's error (only for degenerate sizes).
    pub fn encode_png(&self) -> Result<Vec<u8>, png::EncodingError> {
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

    /// Blends `color` over the pixel at integer `(x, y)` with opacity `alpha` in [0, 1].
    fn blend(&mut self, x: i64, y: i64, color: [u8; 3], alpha: f64) {
        if x < 0
            || y < 0
            || x >= i64::from(self.width)
            || y >= i64::from(self.height)
            || alpha.is_nan()
            || alpha <= 0.0
        {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        let a = alpha.min(1.0);
        for (c, &target) in self.pixels[i..i + 3].iter_mut().zip(&color) {
            *c = (f64::from(*c) * (1.0 - a) + f64::from(target) * a).round() as u8;
        }
    }

    fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: [u8; 3]) {
        for y in y0.max(0)..y1.min(i64::from(self.height)) {
            for x in x0.max(0)..x1.min(i64::from(self.width)) {
                self.blend(x, y, color, 1.0);
            }
        }
    }

    /// Outline of the rectangle whose inclusive corners are `(x0, y0)` and `(x1, y1)`.
    fn stroke_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: [u8; 3]) {
        self.fill_rect(x0, y0, x1 + 1, y0 + 1, color);
        self.fill_rect(x0, y1, x1 + 1, y1 + 1, color);
        self.fill_rect(x0, y0, x0 + 1, y1 + 1, color);
        self.fill_rect(x1, y0, x1 + 1, y1 + 1, color);
    }

    /// Anti-aliased segment of the given width between pixel-space points, limited to `clip`.
    fn line(&mut self, a: (f64, f64), b: (f64, f64), width: f64, color: [u8; 3], clip: &Rect) {
        let half = width / 2.0;
        let reach = half + 1.0;
        let xs = ((a.0.min(b.0) - reach).floor() as i64).max(clip.x0);
        let xe = ((a.0.max(b.0) + reach).ceil() as i64).min(clip.x1);
        let ys = ((a.1.min(b.1) - reach).floor() as i64).max(clip.y0);
        let ye = ((a.1.max(b.1) + reach).ceil() as i64).min(clip.y1);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        for y in ys..=ye {
            for x in xs..=xe {
                // Distance from the pixel centre to the segment.
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                let t = if len2 == 0.0 {
                    0.0
                } else {
                    (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0)
                };
                let (cx, cy) = (a.0 + t * dx - px, a.1 + t * dy - py);
                let d = (cx * cx + cy * cy).sqrt();
                self.blend(x, y, color, (half + 0.5 - d).clamp(0.0, 1.0));
            }
        }
    }

    /// Anti-aliased filled disc.
    fn disc(&mut self, c: (f64, f64), radius: f64, color: [u8; 3]) {
        let r = radius + 1.0;
        for y in (c.1 - r).floor() as i64..=(c.1 + r).ceil() as i64 {
            for x in (c.0 - r).floor() as i64..=(c.0 + r).ceil() as i64 {
                let d = ((x as f64 + 0.5 - c.0).powi(2) + (y as f64 + 0.5 - c.1).powi(2)).sqrt();
                self.blend(x, y, color, (radius + 0.5 - d).clamp(0.0, 1.0));
            }
        }
    }

    /// Draws `text` with its top-left corner at `(x, y)`; `bold` doubles every stroke sideways.
    fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, color: [u8; 3], bold: bool) {
        for (i, ch) in text.chars().enumerate() {
            let glyph = glyph(ch);
            let gx = x + i as i64 * ADVANCE * scale;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (1 << (GLYPH_W - 1 - col)) == 0 {
                        continue;
                    }
                    let px = gx + col * scale;
                    let py = y + row as i64 * scale;
                    self.fill_rect(px, py, px + scale + i64::from(bold), py + scale, color);
                }
            }
        }
    }
}

/// Pixel rectangle with inclusive corners.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [30, 30, 30];
const MUTED: [u8; 3] = [85, 85, 85];
const GRID: [u8; 3] = [232, 232, 232];
const FRAME: [u8; 3] = [160, 160, 160];
const LEGEND_BORDER: [u8; 3] = [200, 200, 200];

/// Text scale (pixels per font pixel) of titles, tick labels and legends.
const TITLE_SCALE: i64 = 2;
const LABEL_SCALE: i64 = 2;
const TICK_SCALE: i64 = 2;
const LEGEND_SCALE: i64 = 2;

/// Space between the plot frame and the outermost data.
const INNER_PAD: f64 = 8.0;
const RIGHT_MARGIN: i64 = 24;
const LINE_WIDTH: f64 = 2.0;
const MARKER_RADIUS: f64 = 3.5;
/// A series whose points are at least this many pixels apart on average gets markers.
const SPARSE_SPACING: f64 = 12.0;

/// Values this large are treated as unplottable, like NaN.
const MAX_ABS: f64 = 1e150;

fn usable(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite() && p.0.abs() < MAX_ABS && p.1.abs() < MAX_ABS
}

fn has_data(s: &Series) -> bool {
    s.points.iter().any(usable)
}

/// Colour of every series, parallel to `panels[i].series[j]`: series names get [`PALETTE`]
/// colours in order of first appearance (empty series take none), cycling after ten.
pub fn series_colors(panels: &[Panel]) -> Vec<Vec<[u8; 3]>> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    panels
        .iter()
        .map(|panel| {
            panel
                .series
                .iter()
                .map(|s| {
                    if !has_data(s) {
                        return PALETTE[0];
                    }
                    let next = by_name.len();
                    PALETTE[*by_name.entry(s.name.as_str()).or_insert(next) % PALETTE.len()]
                })
                .collect()
        })
        .collect()
}

/// An axis: its limits, tick positions and tick labels.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    labels: Vec<String>,
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    // The slack keeps rounding error in `raw` (e.g. 5.000000000000001) from skipping a step.
    let norm = raw / magnitude * (1.0 - 1e-9);
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Widens a degenerate range (a constant series or a single point).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if hi - lo > hi.abs().max(lo.abs()) * 1e-12 {
        return (lo, hi);
    }
    let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - pad, hi + pad)
}

/// Ticks every nice step within `[lo, hi]` with about `intervals` intervals; `expand` moves the
/// limits out to the enclosing ticks (used for y), otherwise the limits stay at the data.
fn axis(lo: f64, hi: f64, intervals: usize, expand: bool) -> Axis {
    let (lo, hi) = padded(lo, hi);
    let step = nice_step((hi - lo) / intervals.max(1) as f64);
    // The slack absorbs rounding error: 2.5e-5 / 5e-6 is 5.000000000000001.
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    let (lo, hi) = if expand {
        (first * step, last * step)
    } else {
        (lo, hi)
    };
    let ticks: Vec<f64> = (first as i64..=last as i64)
        .map(|k| k as f64 * step)
        .filter(|t| *t >= lo - step * 1e-9 && *t <= hi + step * 1e-9)
        .collect();
    let labels = tick_labels(&ticks, step);
    Axis {
        lo,
        hi,
        ticks,
        labels,
    }
}

/// Labels with as few decimals as the step needs; scientific notation for very large or very
/// small magnitudes.
fn tick_labels(ticks: &[f64], step: f64) -> Vec<String> {
    let max_abs = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    if max_abs >= 1e6 || (max_abs > 0.0 && max_abs < 1e-3) {
        let mut labels = Vec::new();
        for decimals in 0..=6 {
            labels = ticks
                .iter()
                .map(|t| {
                    if *t == 0.0 {
                        "0".to_owned()
                    } else {
                        format!("{t:.decimals$e}")
                    }
                })
                .collect();
            if labels.windows(2).all(|w| w[0] != w[1]) {
                break;
            }
        }
        return labels;
    }
    let decimals = (0..=12)
        .find(|&d| {
            let s = step * 10f64.powi(d);
            (s - s.round()).abs() <= 1e-6 * s.abs().max(1.0)
        })
        .unwrap_or(12) as usize;
    ticks
        .iter()
        .map(|t| {
            let label = format!("{t:.decimals$}");
            // "-0.00" -> "0.00"
            if label.starts_with('-') && label[1..].chars().all(|c| c == '0' || c == '.') {
                label[1..].to_owned()
            } else {
                label
            }
        })
        .collect()
}

/// Finite data range of some panels, along x or y.
fn range<'a>(panels: impl Iterator<Item = &'a Panel>, along_x: bool) -> Option<(f64, f64)> {
    let mut out: Option<(f64, f64)> = None;
    for p in panels
        .flat_map(|p| &p.series)
        .flat_map(|s| &s.points)
        .filter(|p| usable(p))
    {
        let v = if along_x { p.0 } else { p.1 };
        out = Some(out.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
    }
    out
}

fn text_width(text: &str, scale: i64) -> i64 {
    let n = text.chars().count() as i64;
    if n == 0 { 0 } else { (n * ADVANCE - 1) * scale }
}

/// `text`, shortened with "..." to at most `max_width` pixels.
fn fit(text: &str, scale: i64, max_width: i64) -> String {
    if text_width(text, scale) <= max_width {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "...";
        if text_width(&candidate, scale) <= max_width {
            return candidate;
        }
    }
    String::new()
}

/// Renders the figure without writing it (see [`plot_curves`]).
pub fn render_curves(title: &str, panels: &[Panel]) -> RgbImage {
    let placeholder = [Panel::new("", "")];
    let panels = if panels.is_empty() {
        &placeholder[..]
    } else {
        panels
    };
    let height = TITLE_HEIGHT + PANEL_HEIGHT * panels.len() as u32;
    let mut img = RgbImage::new(WIDTH, height, WHITE);
    let width = i64::from(WIDTH);

    let title = fit(title, TITLE_SCALE, width - 40);
    let tx = (width - text_width(&title, TITLE_SCALE)) / 2;
    img.text(
        tx,
        (i64::from(TITLE_HEIGHT) - CAP_H * TITLE_SCALE) / 2 + 2,
        &title,
        TITLE_SCALE,
        INK,
        true,
    );

    // y axes first: the widest tick label sets one left margin for every panel, so the plot
    // areas line up.
    let y_axes: Vec<Option<Axis>> = panels
        .iter()
        .map(|p| range(std::iter::once(p), false).map(|(lo, hi)| axis(lo, hi, 5, true)))
        .collect();
    let label_w = y_axes
        .iter()
        .flatten()
        .flat_map(|a| &a.labels)
        .map(|l| text_width(l, TICK_SCALE))
        .max()
        .unwrap_or(0);
    let left = 16 + label_w + 10;
    let colors = series_colors(panels);

    for (i, panel) in panels.iter().enumerate() {
        let top = i64::from(TITLE_HEIGHT) + i as i64 * i64::from(PANEL_HEIGHT);
        let rect = Rect {
            x0: left,
            y0: top + 14 + CAP_H * LABEL_SCALE + 12,
            x1: width - RIGHT_MARGIN,
            y1: top + i64::from(PANEL_HEIGHT)
                - (10 + CAP_H * TICK_SCALE + 12 + CAP_H * LABEL_SCALE + 16),
        };
        // Panels with the same x label share the x range.
        let x_range = range(panels.iter().filter(|p| p.x_label == panel.x_label), true);
        draw_panel(
            &mut img,
            panel,
            &colors[i],
            rect,
            y_axes[i].as_ref(),
            x_range,
        );
    }
    img
}

/// Maps data coordinates into a plot rectangle.
struct Frame {
    rect: Rect,
    x: Axis,
    y: Axis,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        let (a, b) = (
            self.rect.x0 as f64 + INNER_PAD,
            (self.rect.x1 + 1) as f64 - INNER_PAD,
        );
        a + (x - self.x.lo) / (self.x.hi - self.x.lo) * (b - a)
    }

    fn py(&self, y: f64) -> f64 {
        let (a, b) = (
            (self.rect.y1 + 1) as f64 - INNER_PAD,
            self.rect.y0 as f64 + INNER_PAD,
        );
        a + (y - self.y.lo) / (self.y.hi - self.y.lo) * (b - a)
    }

    fn point(&self, p: (f64, f64)) -> (f64, f64) {
        (self.px(p.0), self.py(p.1))
    }
}

/// Consecutive usable points of a series, in pixel space (a non-finite point splits a run).
fn runs(frame: &Frame, series: &Series) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for p in &series.points {
        if usable(p) {
            out.last_mut().expect("never empty").push(frame.point(*p));
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out.into_iter().map(decimate).collect()
}

/// Thins a run with many points per pixel column to the first, lowest, highest and last point of
/// each column, in their original order: the drawn envelope is unchanged, the work is bounded by
/// the plot width.
fn decimate(run: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if run.len() <= 2048 {
        return run;
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < run.len() {
        let column = run[start].0.floor();
        let mut end = start + 1;
        while end < run.len() && run[end].0.floor() == column {
            end += 1;
        }
        let bucket = &run[start..end];
        let by_y = |a: &&(f64, f64), b: &&(f64, f64)| a.1.total_cmp(&b.1);
        let lowest = bucket
            .iter()
            .enumerate()
            .min_by(|a, b| by_y(&a.1, &b.1))
            .map_or(0, |(i, _)| i);
        let highest = bucket
            .iter()
            .enumerate()
            .max_by(|a, b| by_y(&a.1, &b.1))
            .map_or(0, |(i, _)| i);
        let mut keep = [0, lowest, highest, bucket.len() - 1];
        keep.sort_unstable();
        let mut last = None;
        for i in keep {
            if last != Some(i) {
                out.push(bucket[i]);
                last = Some(i);
            }
        }
        start = end;
    }
    out
}

fn draw_panel(
    img: &mut RgbImage,
    panel: &Panel,
    colors: &[[u8; 3]],
    rect: Rect,
    y_axis: Option<&Axis>,
    x_range: Option<(f64, f64)>,
) {
    let plot_w = rect.x1 - rect.x0;
    let center = (rect.x0 + rect.x1) / 2;
    let title = fit(&panel.title, LABEL_SCALE, plot_w);
    img.text(
        center - text_width(&title, LABEL_SCALE) / 2,
        rect.y0 - 12 - CAP_H * LABEL_SCALE,
        &title,
        LABEL_SCALE,
        INK,
        true,
    );
    let x_label = fit(&panel.x_label, LABEL_SCALE, plot_w);
    let label_top = rect.y1 + 10 + CAP_H * TICK_SCALE + 12;
    img.text(
        center - text_width(&x_label, LABEL_SCALE) / 2,
        label_top,
        &x_label,
        LABEL_SCALE,
        MUTED,
        false,
    );

    let (Some(y), Some((xlo, xhi))) = (y_axis, x_range) else {
        img.stroke_rect(rect.x0, rect.y0, rect.x1, rect.y1, FRAME);
        let msg = "no data";
        let cy = (rect.y0 + rect.y1) / 2 - CAP_H * LABEL_SCALE / 2;
        img.text(
            center - text_width(msg, LABEL_SCALE) / 2,
            cy,
            msg,
            LABEL_SCALE,
            MUTED,
            false,
        );
        return;
    };
    // As many x ticks as fit without their labels touching.
    let inner_w = plot_w as f64 - 2.0 * INNER_PAD;
    let x = (2..=10)
        .rev()
        .map(|n| axis(xlo, xhi, n, false))
        .find(|a| {
            let widest = a
                .labels
                .iter()
                .map(|l| text_width(l, TICK_SCALE))
                .max()
                .unwrap_or(0) as f64;
            let gap = match a.ticks.as_slice() {
                [t0, t1, ..] => (t1 - t0) / (a.hi - a.lo) * inner_w,
                _ => f64::INFINITY,
            };
            gap >= widest + 16.0
        })
        .unwrap_or_else(|| axis(xlo, xhi, 1, false));
    let frame = Frame {
        rect,
        x,
        y: y.clone(),
    };

    // Grid, frame, ticks and their labels.
    for (t, label) in frame.y.ticks.iter().zip(&frame.y.labels) {
        let row = frame.py(*t).floor() as i64;
        img.fill_rect(rect.x0 + 1, row, rect.x1, row + 1, GRID);
        img.fill_rect(rect.x0 - 5, row, rect.x0, row + 1, MUTED);
        let w = text_width(label, TICK_SCALE);
        img.text(
            rect.x0 - 10 - w,
            row - CAP_H * TICK_SCALE / 2,
            label,
            TICK_SCALE,
            MUTED,
            false,
        );
    }
    for (t, label) in frame.x.ticks.iter().zip(&frame.x.labels) {
        let col = frame.px(*t).floor() as i64;
        img.fill_rect(col, rect.y0 + 1, col + 1, rect.y1, GRID);
        img.fill_rect(col, rect.y1 + 1, col + 1, rect.y1 + 6, MUTED);
        let w = text_width(label, TICK_SCALE);
        let x = (col - w / 2).clamp(2, i64::from(img.width) - 2 - w);
        img.text(x, rect.y1 + 10, label, TICK_SCALE, MUTED, false);
    }
    img.stroke_rect(rect.x0, rect.y0, rect.x1, rect.y1, FRAME);

    // Curves.
    let clip = Rect {
        x0: rect.x0 + 1,
        y0: rect.y0 + 1,
        x1: rect.x1 - 1,
        y1: rect.y1 - 1,
    };
    let mut entries = Vec::new();
    let mut samples = Vec::new();
    for (series, &color) in panel.series.iter().zip(colors) {
        let runs = runs(&frame, series);
        let count: usize = runs.iter().map(Vec::len).sum();
        if count == 0 {
            continue;
        }
        let sparse = inner_w / count as f64 >= SPARSE_SPACING;
        for run in &runs {
            for w in run.windows(2) {
                img.line(w[0], w[1], LINE_WIDTH, color, &clip);
                let steps = ((w[1].0 - w[0].0).hypot(w[1].1 - w[0].1) / 3.0)
                    .ceil()
                    .max(1.0) as usize;
                samples.extend((0..steps).map(|k| {
                    let t = k as f64 / steps as f64;
                    (
                        w[0].0 + t * (w[1].0 - w[0].0),
                        w[0].1 + t * (w[1].1 - w[0].1),
                    )
                }));
            }
            samples.extend(run.iter().copied());
            if sparse || run.len() == 1 {
                for &p in run {
                    marker(img, p, color);
                }
            }
        }
        entries.push((series.name.as_str(), color, sparse));
    }
    legend(img, &rect, &entries, &samples);
}

fn marker(img: &mut RgbImage, p: (f64, f64), color: [u8; 3]) {
    img.disc(p, MARKER_RADIUS + 1.0, WHITE);
    img.disc(p, MARKER_RADIUS, color);
}

/// Legend box in the corner of the plot that hides the fewest curve samples.
fn legend(
    img: &mut RgbImage,
    rect: &Rect,
    entries: &[(&str, [u8; 3], bool)],
    samples: &[(f64, f64)],
) {
    if entries.is_empty() {
        return;
    }
    const PAD: i64 = 8;
    const SWATCH: i64 = 26;
    let row_h = CAP_H * LEGEND_SCALE + 8;
    let max_text = (rect.x1 - rect.x0) / 2 - SWATCH - 3 * PAD;
    let names: Vec<String> = entries
        .iter()
        .map(|e| fit(e.0, LEGEND_SCALE, max_text))
        .collect();
    let text_w = names
        .iter()
        .map(|n| text_width(n, LEGEND_SCALE))
        .max()
        .unwrap_or(0);
    let w = PAD + SWATCH + PAD + text_w + PAD;
    let h = 2 * PAD + entries.len() as i64 * row_h - 8;
    let inset = 10;
    let (left, right) = (rect.x0 + inset, rect.x1 - inset - w);
    let (upper, lower) = (rect.y0 + inset, rect.y1 - inset - h);
    // Preference order on ties: top right, top left, bottom right, bottom left.
    let corners = [(right, upper), (left, upper), (right, lower), (left, lower)];
    let hidden = |&(x, y): &(i64, i64)| {
        samples
            .iter()
            .filter(|p| {
                p.0 >= (x - 4) as f64
                    && p.0 <= (x + w + 4) as f64
                    && p.1 >= (y - 4) as f64
                    && p.1 <= (y + h + 4) as f64
            })
            .count()
    };
    let (x, y) = corners
        .iter()
        .copied()
        .min_by_key(hidden)
        .expect("four corners");

    img.fill_rect(x, y, x + w + 1, y + h + 1, WHITE);
    img.stroke_rect(x, y, x + w, y + h, LEGEND_BORDER);
    for (k, ((_, color, sparse), name)) in entries.iter().zip(&names).enumerate() {
        let row_top = y + PAD + k as i64 * row_h;
        let mid = row_top as f64 + (CAP_H * LEGEND_SCALE) as f64 / 2.0;
        let clip = Rect {
            x0: x + 1,
            y0: y + 1,
            x1: x + w - 1,
            y1: y + h - 1,
        };
        let (sx0, sx1) = ((x + PAD) as f64, (x + PAD + SWATCH) as f64);
        img.line((sx0, mid), (sx1, mid), LINE_WIDTH, *color, &clip);
        if *sparse {
            marker(img, ((sx0 + sx1) / 2.0, mid), *color);
        }
        img.text(
            x + PAD + SWATCH + PAD,
            row_top,
            name,
            LEGEND_SCALE,
            INK,
            false,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Font
// ---------------------------------------------------------------------------------------------

/// Glyph width in font pixels.
const GLYPH_W: i64 = 5;
/// Horizontal advance per character in font pixels (glyph plus one blank column).
const ADVANCE: i64 = 6;
/// Height of capitals and digits in font pixels (rows 7 and 8 are descenders).
const CAP_H: i64 = 7;

fn glyph(ch: char) -> &'static [u8; 9] {
    let code = ch as u32;
    let index = if (0x20..0x7f).contains(&code) {
        code - 0x20
    } else {
        u32::from(b'?') - 0x20
    };
    &GLYPHS[index as usize]
}

/// A 5×9 bitmap font for printable ASCII (`' '..='~'`), drawn for this module: one array of nine
/// rows per character, bit 4 the leftmost column; rows 0-6 hold capitals and digits, rows 7-8
/// descenders. Other characters are drawn as `'?'`.
#[rustfmt::skip]
const GLYPHS: [[u8; 9]; 95] = [
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // ' '
    [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100, 0b00000, 0b00000], // '!'
    [0b01010, 0b01010, 0b01010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '"'
    [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010, 0b00000, 0b00000], // '#'
    [0b00100, 0b01111, 0b10100, 0b01110, 0b00101, 0b11110, 0b00100, 0b00000, 0b00000], // '$'
    [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011, 0b00000, 0b00000], // '%'
    [0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101, 0b00000, 0b00000], // '&'
    [0b00100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '\''
    [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010, 0b00000, 0b00000], // '('
    [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000, 0b00000, 0b00000], // ')'
    [0b00000, 0b00100, 0b10101, 0b01110, 0b10101, 0b00100, 0b00000, 0b00000, 0b00000], // '*'
    [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000, 0b00000, 0b00000], // '+'
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000, 0b00000], // ','
    [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '-'
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100, 0b00000, 0b00000], // '.'
    [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000, 0b00000, 0b00000], // '/'
    [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110, 0b00000, 0b00000], // '0'
    [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // '1'
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111, 0b00000, 0b00000], // '2'
    [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110, 0b00000, 0b00000], // '3'
    [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010, 0b00000, 0b00000], // '4'
    [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110, 0b00000, 0b00000], // '5'
    [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // '6'
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00000, 0b00000], // '7'
    [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // '8'
    [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100, 0b00000, 0b00000], // '9'
    [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000, 0b00000, 0b00000], // ':'
    [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b00100, 0b01000, 0b00000, 0b00000], // ';'
    [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010, 0b00000, 0b00000], // '<'
    [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000, 0b00000], // '='
    [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000, 0b00000, 0b00000], // '>'
    [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100, 0b00000, 0b00000], // '?'
    [0b01110, 0b10001, 0b00001, 0b01101, 0b10101, 0b10101, 0b01110, 0b00000, 0b00000], // '@'
    [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'A'
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110, 0b00000, 0b00000], // 'B'
    [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110, 0b00000, 0b00000], // 'C'
    [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100, 0b00000, 0b00000], // 'D'
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111, 0b00000, 0b00000], // 'E'
    [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000, 0b00000, 0b00000], // 'F'
    [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111, 0b00000, 0b00000], // 'G'
    [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'H'
    [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // 'I'
    [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100, 0b00000, 0b00000], // 'J'
    [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001, 0b00000, 0b00000], // 'K'
    [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111, 0b00000, 0b00000], // 'L'
    [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'M'
    [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001, 0b00000, 0b00000], // 'N'
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // 'O'
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000, 0b00000, 0b00000], // 'P'
    [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101, 0b00000, 0b00000], // 'Q'
    [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001, 0b00000, 0b00000], // 'R'
    [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110, 0b00000, 0b00000], // 'S'
    [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00000], // 'T'
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // 'U'
    [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00000, 0b00000], // 'V'
    [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010, 0b00000, 0b00000], // 'W'
    [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001, 0b00000, 0b00000], // 'X'
    [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00000, 0b00000], // 'Y'
    [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111, 0b00000, 0b00000], // 'Z'
    [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110, 0b00000, 0b00000], // '['
    [0b00000, 0b10000, 0b01000, 0b00100, 0b00010, 0b00001, 0b00000, 0b00000, 0b00000], // '\\'
    [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110, 0b00000, 0b00000], // ']'
    [0b00100, 0b01010, 0b10001, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '^'
    [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111, 0b00000], // '_'
    [0b01000, 0b00100, 0b00010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000], // '`'
    [0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111, 0b00000, 0b00000], // 'a'
    [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110, 0b00000, 0b00000], // 'b'
    [0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110, 0b00000, 0b00000], // 'c'
    [0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111, 0b00000, 0b00000], // 'd'
    [0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110, 0b00000, 0b00000], // 'e'
    [0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000, 0b00000, 0b00000], // 'f'
    [0b00000, 0b00000, 0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110], // 'g'
    [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'h'
    [0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // 'i'
    [0b00010, 0b00000, 0b00110, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100], // 'j'
    [0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b00000, 0b00000], // 'k'
    [0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0b00000, 0b00000], // 'l'
    [0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10101, 0b10101, 0b00000, 0b00000], // 'm'
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001, 0b00000, 0b00000], // 'n'
    [0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110, 0b00000, 0b00000], // 'o'
    [0b00000, 0b00000, 0b11110, 0b10001, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000], // 'p'
    [0b00000, 0b00000, 0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b00001], // 'q'
    [0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000, 0b00000, 0b00000], // 'r'
    [0b00000, 0b00000, 0b01111, 0b10000, 0b01110, 0b00001, 0b11110, 0b00000, 0b00000], // 's'
    [0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110, 0b00000, 0b00000], // 't'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101, 0b00000, 0b00000], // 'u'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00000, 0b00000], // 'v'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010, 0b00000, 0b00000], // 'w'
    [0b00000, 0b00000, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b00000, 0b00000], // 'x'
    [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110], // 'y'
    [0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111, 0b00000, 0b00000], // 'z'
    [0b00011, 0b00100, 0b00100, 0b01000, 0b00100, 0b00100, 0b00011, 0b00000, 0b00000], // '{'
    [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00000], // '|'
    [0b11000, 0b00100, 0b00100, 0b00010, 0b00100, 0b00100, 0b11000, 0b00000, 0b00000], // '}'
    [0b00000, 0b00000, 0b01000, 0b10101, 0b00010, 0b00000, 0b00000, 0b00000, 0b00000], // '~'
];

#[cfg(test)]
mod tests {
    use super::*;

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

    fn count_color(rgb: &[u8], color: [u8; 3]) -> usize {
        rgb.chunks_exact(3).filter(|p| *p == color).count()
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
            render_curves("fine-tune sst2 (MiniLM)", &panels).pixels
        );

        let colors = series_colors(&panels);
        assert_eq!(colors, [[PALETTE[0], PALETTE[1]], [PALETTE[2], PALETTE[3]]]);
        for (panel, colors) in panels.iter().zip(&colors) {
            for (series, &color) in panel.series.iter().zip(colors) {
                // Line core, markers and the legend swatch.
                let n = count_color(&rgb, color);
                assert!(
                    n > 200,
                    "series {:?}: only {n} pixels of {color:?}",
                    series.name
                );
            }
        }
        // Series pixels are inside their own panel: the metric colours are below the first panel.
        let first_panel_end = (TITLE_HEIGHT + PANEL_HEIGHT) as usize * WIDTH as usize * 3;
        assert_eq!(count_color(&rgb[..first_panel_end], PALETTE[2]), 0);
        assert_eq!(count_color(&rgb[first_panel_end..], PALETTE[0]), 0);

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
        let img = render_curves("edge cases \u{e9}\u{2014} non-ASCII", &panels);
        assert_eq!(
            (img.width, img.height),
            (WIDTH, TITLE_HEIGHT + 7 * PANEL_HEIGHT)
        );
        assert_eq!(img.pixels.len(), (img.width * img.height * 3) as usize);
        // Empty and all-NaN series take no colour, so "one" is the first colour.
        let colors = series_colors(&panels);
        assert_eq!(colors[1][0], PALETTE[0]);
        assert_eq!(colors[2][0], PALETTE[1]);
        assert!(
            count_color(&img.pixels, PALETTE[0]) > 20,
            "single point drawn as a marker"
        );

        let none = render_curves("", &[]);
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
        assert_eq!(
            series_colors(&panels),
            [[PALETTE[0], PALETTE[1]], [PALETTE[1], PALETTE[2]]]
        );
    }

    #[test]
    fn nice_ticks() {
        let a = axis(0.31, 2.3, 5, true);
        assert_eq!((a.lo, a.hi), (0.0, 2.5));
        assert_eq!(a.labels, ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"]);
        let a = axis(1.0, 600.0, 6, false);
        assert_eq!((a.lo, a.hi), (1.0, 600.0));
        assert_eq!(a.labels, ["100", "200", "300", "400", "500", "600"]);
        let a = axis(0.815, 0.862, 5, true);
        assert_eq!(
            a.labels,
            ["0.81", "0.82", "0.83", "0.84", "0.85", "0.86", "0.87"]
        );
        let a = axis(-0.3, 0.2, 5, true);
        assert_eq!(a.labels, ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2"]);
        let a = axis(0.0, 2.5e-5, 5, true);
        assert_eq!(
            a.labels,
            ["0", "5.0e-6", "1.0e-5", "1.5e-5", "2.0e-5", "2.5e-5"]
        );
        // Constant and single-value ranges are padded.
        let a = axis(2.0, 2.0, 5, true);
        assert!(a.lo < 2.0 && a.hi > 2.0);
        let a = axis(0.0, 0.0, 5, true);
        assert_eq!((a.lo, a.hi), (-1.0, 1.0));
    }

    #[test]
    fn tick_labels_are_round_and_distinct() {
        assert_eq!(
            tick_labels(&[0.0, 2.5, 5.0, 7.5], 2.5),
            ["0.0", "2.5", "5.0", "7.5"]
        );
        assert_eq!(
            tick_labels(&[0.0, 0.25, 0.5], 0.25),
            ["0.00", "0.25", "0.50"]
        );
        assert_eq!(tick_labels(&[-0.0, 1000.0], 1000.0), ["0", "1000"]);
        assert_eq!(tick_labels(&[2e6, 4e6, 6e6], 2e6), ["2e6", "4e6", "6e6"]);
        assert_eq!(
            tick_labels(&[1e-5, 1.5e-5, 2e-5], 5e-6),
            ["1.0e-5", "1.5e-5", "2.0e-5"]
        );
        assert_eq!(nice_step(0.37), 0.5);
        assert_eq!(nice_step(180.0), 200.0);
        assert_eq!(nice_step(21.0), 25.0);
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

    #[test]
    fn font_is_well_formed() {
        for (i, glyph) in GLYPHS.iter().enumerate() {
            assert!(
                glyph.iter().all(|&row| row < 32),
                "glyph {i} is wider than 5 columns"
            );
            let ch = char::from(0x20 + i as u8);
            assert_eq!(ch == ' ', glyph.iter().all(|&r| r == 0), "glyph {ch:?}");
        }
        // Every printable character is distinct from every other.
        for (i, a) in GLYPHS.iter().enumerate() {
            for (j, b) in GLYPHS.iter().enumerate().skip(i + 1) {
                assert_ne!(
                    a,
                    b,
                    "{:?} == {:?}",
                    char::from(0x20 + i as u8),
                    char::from(0x20 + j as u8)
                );
            }
        }
        assert_eq!(glyph('\u{e9}'), glyph('?'));
        assert_eq!(text_width("ab", 2), 22);
        assert_eq!(fit("abcdefgh", 1, 30), "ab...");
    }
}
