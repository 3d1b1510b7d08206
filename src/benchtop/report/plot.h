// Figures for reports, drawn by gnuplot: a Figure is a small description (panels of line, point,
// bar and band series, vertical markers, an optional raster of integer ids) that render_figure
// turns into a gnuplot script plus one data file, then runs `gnuplot` on them as a subprocess.
// Why gnuplot: it is one apt package (gnuplot-nox), writes both SVG (for reports) and PNG (for
// quick looks), and the kept <stem>.gp/<stem>.dat let anyone redraw or restyle a figure by hand
// (`cd dir && gnuplot stem.gp`) without benchtop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace benchtop {

// One curve (or set of bars) of a panel. NaN/inf values (and non-positive ones on a log axis)
// leave a gap instead of breaking the plot.
struct Series {
    std::string label;  // key entry; empty = not in the key
    std::vector<double> x, y;
    std::vector<double> y_lo,
        y_hi;  // optional shaded band (same length as x), drawn under the lines
    enum class Style { Line, LinePoints, Points, Bars } style = Style::LinePoints;
    int color = -1;  // index into a fixed colour-blind-safe palette (Okabe-Ito); -1 = next free one
    bool dashed = false;
    bool y2 = false;  // drawn against the panel's second (right-hand) y axis
};

// A vertical marker line at x with a text label near the top of the panel.
struct VLine {
    double x = 0;
    std::string label;
};

// A raster over [x0,x1]x[y0,y1] whose values are integer ids (e.g. linear-region ids), each id
// coloured by a cyclic palette. ids is row-major: ny rows of nx, row 0 at y0 (the bottom), so
// ids[j * nx + i] is the cell centred at (x0 + (i + 0.5) * (x1 - x0) / nx, y0 + (j + 0.5) * ...).
struct Image {
    int64_t nx = 0, ny = 0;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    std::vector<int64_t> ids;
    // Optional: colours 0xRRGGBB per cell (same layout), used instead of ids (a heat map).
    std::vector<uint32_t> rgb;
};
// A colour for t in [0, 1] on a perceptually ordered dark-to-light scale (viridis' anchors,
// linearly interpolated), for heat maps.
uint32_t heat_color(double t);

struct Panel {
    std::string title, xlabel, ylabel;
    bool logx = false, logy = false;
    std::string y2label;  // the right-hand axis of series with y2 (autoscaled)
    bool logy2 = false;
    std::optional<std::pair<double, double>> xrange, yrange;
    // Categorical x axis (mostly for Bars): tic i is at x = i. Several Bars series in one panel are
    // drawn as groups side by side around each x.
    std::vector<std::string> xtics;
    std::vector<Series> series;
    std::vector<VLine> vlines;
    std::optional<Image> image;  // if set, the panel is an image plot; series overlay it
    std::string key_position = "top right";  // gnuplot key placement words, or "off"
};

struct Figure {
    std::string title;
    std::vector<Panel> panels;
    int columns = 0;  // panels per row; 0 = all in one row
    int panel_width = 560, panel_height = 420;
};

// Paths of what render_figure wrote: out_stem + ".svg", ".png", ".gp", ".dat".
struct RenderedFigure {
    std::string svg, png, script, data;
};

// Validates the figure (throws Error naming the panel/series at fault), creates the parent
// directories of out_stem, writes <stem>.gp and <stem>.dat and runs gnuplot to produce <stem>.svg
// and <stem>.png. Throws Error quoting gnuplot's message if it fails, or if gnuplot is not found.
// The gnuplot binary is looked up on PATH; the environment variable BENCHTOP_GNUPLOT overrides it.
RenderedFigure render_figure(const Figure& figure, const std::string& out_stem);

// Writes only the script and data file (no gnuplot needed); returns their paths in script/data.
RenderedFigure write_figure_script(const Figure& figure, const std::string& out_stem);

// True when a gnuplot executable can be found (see render_figure).
bool gnuplot_available();

}  // namespace benchtop
