// render_figure: Figure -> <stem>.dat (all data as gnuplot index blocks) + <stem>.gp (one script
// that draws the figure twice, to SVG and to PNG) -> `gnuplot <stem>.gp` run in the output folder.
#include "benchtop/report/plot.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string_view>

#include "benchtop/core/error.h"

namespace benchtop {
namespace {

namespace fs = std::filesystem;

// Okabe-Ito, reordered so that the first colours are the most distinct on white.
constexpr std::array<const char*, 8> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#F0E442"};
// Light colours (Paul Tol's "light" scheme) for id rasters, so that overlaid points stay visible.
constexpr std::array<uint32_t, 9> kIdPalette = {0x77AADD, 0xEE8866, 0xEEDD88, 0xFFAABB, 0x99DDFF,
                                                0x44BB99, 0xBBCC33, 0xAAAA00, 0xDDDDDD};
constexpr double kBarGroupWidth = 0.8;  // fraction of the x spacing covered by a group of bars
constexpr size_t kMaxQuotedOutput = 2000;

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// s with control characters (newlines) replaced by spaces, for comments of the script and data.
std::string one_line(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return s;
}

// A gnuplot single-quoted string: no backslash escapes inside, '' stands for one quote. Control
// characters (which would end the command) become spaces. Used with `noenhanced` so that
// _ ^ { } @ & print literally.
std::string quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "''";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += ' ';
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

std::string panel_name(const Panel& p, size_t pi) {
    return detail::concat("panel ", pi, p.title.empty() ? "" : " '", p.title,
                          p.title.empty() ? "" : "'");
}

std::string series_name(const Panel& p, size_t pi, const Series& s, size_t si) {
    return detail::concat(panel_name(p, pi), " series ", si, s.label.empty() ? "" : " '", s.label,
                          s.label.empty() ? "" : "'");
}

void check_range(const std::optional<std::pair<double, double>>& r,
                 bool log,
                 const std::string& what) {
    if (!r) return;
    BENCHTOP_CHECK(std::isfinite(r->first) && std::isfinite(r->second) && r->first < r->second,
                   what, ": range [", r->first, ", ", r->second, "] must be finite and increasing");
    BENCHTOP_CHECK(!log || r->first > 0, what, ": log-scale range [", r->first, ", ", r->second,
                   "] must be positive");
}

void validate(const Figure& f) {
    BENCHTOP_CHECK(!f.panels.empty(), "figure '", f.title, "' has no panels");
    BENCHTOP_CHECK(f.columns >= 0, "figure '", f.title, "': columns must be >= 0, got ", f.columns);
    BENCHTOP_CHECK(f.panel_width >= 50 && f.panel_height >= 50, "figure '", f.title,
                   "': panel size ", f.panel_width, "x", f.panel_height,
                   " is too small (min 50x50)");
    for (size_t pi = 0; pi < f.panels.size(); ++pi) {
        const Panel& p = f.panels[pi];
        const std::string pn = panel_name(p, pi);
        check_range(p.xrange, p.logx, pn + " xrange");
        check_range(p.yrange, p.logy, pn + " yrange");
        for (char c : p.key_position) {
            BENCHTOP_CHECK(std::isalnum(static_cast<unsigned char>(c)) ||
                               std::string_view(" .,+-").find(c) != std::string_view::npos,
                           pn, ": key_position '", p.key_position,
                           "' may hold only gnuplot key words");
        }
        for (size_t si = 0; si < p.series.size(); ++si) {
            const Series& s = p.series[si];
            const std::string sn = series_name(p, pi, s, si);
            BENCHTOP_CHECK(s.x.size() == s.y.size(), sn, ": x has ", s.x.size(),
                           " values but y has ", s.y.size());
            BENCHTOP_CHECK(
                s.y_lo.size() == s.y_hi.size() && (s.y_lo.empty() || s.y_lo.size() == s.x.size()),
                sn, ": band y_lo/y_hi (", s.y_lo.size(), "/", s.y_hi.size(),
                " values) must both be empty or match x (", s.x.size(), " values)");
            BENCHTOP_CHECK(s.color >= -1, sn, ": color must be -1 (auto) or a palette index, got ",
                           s.color);
        }
        for (const VLine& v : p.vlines) {
            BENCHTOP_CHECK(std::isfinite(v.x) && (!p.logx || v.x > 0), pn, ": vline '", v.label,
                           "' at x=", v.x, " cannot be drawn", p.logx ? " on a log axis" : "");
        }
        if (p.image) {
            const Image& im = *p.image;
            BENCHTOP_CHECK(im.nx >= 2 && im.ny >= 2, pn,
                           ": image must be at least 2x2, got nx=", im.nx, " ny=", im.ny);
            const size_t cells = im.rgb.empty() ? im.ids.size() : im.rgb.size();
            BENCHTOP_CHECK(static_cast<int64_t>(cells) == im.nx * im.ny, pn, ": image has ", cells,
                           im.rgb.empty() ? " ids" : " colours", " but nx*ny = ", im.nx, "*", im.ny, " = ",
                           im.nx * im.ny);
            BENCHTOP_CHECK(std::isfinite(im.x0) && std::isfinite(im.x1) && im.x0 < im.x1 &&
                               std::isfinite(im.y0) && std::isfinite(im.y1) && im.y0 < im.y1,
                           pn, ": image extent [", im.x0, ", ", im.x1, "]x[", im.y0, ", ", im.y1,
                           "] must be finite and increasing");
        }
    }
}

// The data file: numbered blocks separated by two blank lines (gnuplot's `index`); inside a block
// a single blank line breaks a line plot, which is how NaN gaps are written.
class DataWriter {
public:
    int begin_block(const std::string& comment) {
        if (blocks_ > 0) os_ << "\n\n";
        os_ << "# " << one_line(comment) << '\n';
        gap_pending_ = false;
        return blocks_++;
    }
    void row(std::initializer_list<double> values) {
        if (gap_pending_) os_ << '\n';
        gap_pending_ = false;
        bool first = true;
        for (double v : values) {
            if (!first) os_ << ' ';
            os_ << num(v);
            first = false;
        }
        os_ << '\n';
    }
    // A break before the next row (never two blank lines in a row, never at a block's end).
    void gap() { gap_pending_ = true; }
    std::string str() const { return os_.str(); }

private:
    std::ostringstream os_;
    int blocks_ = 0;
    bool gap_pending_ = false;
};

bool plottable(double x, double y, const Panel& p) {
    return std::isfinite(x) && std::isfinite(y) && (!p.logx || x > 0) && (!p.logy || y > 0);
}

size_t count_plottable(const Series& s, const Panel& p) {
    size_t n = 0;
    for (size_t i = 0; i < s.x.size(); ++i) n += plottable(s.x[i], s.y[i], p);
    return n;
}

size_t count_band(const Series& s, const Panel& p) {
    size_t n = 0;
    for (size_t i = 0; i < s.y_lo.size(); ++i)
        n += plottable(s.x[i], s.y_lo[i], p) && plottable(s.x[i], s.y_hi[i], p);
    return n;
}

std::string range_text(double lo, double hi) {
    char buf[80];  // (not string operator+: g++ 12 -O3 warns -Wrestrict on it)
    std::snprintf(buf, sizeof buf, "[%.17g:%.17g]", lo, hi);
    return buf;
}

// Minimum positive spacing between the distinct x of the panel's bars (1 if there is none).
double bar_spacing(const Panel& p) {
    std::vector<double> xs;
    for (const Series& s : p.series)
        if (s.style == Series::Style::Bars)
            for (size_t i = 0; i < s.x.size(); ++i)
                if (plottable(s.x[i], s.y[i], p)) xs.push_back(s.x[i]);
    std::sort(xs.begin(), xs.end());
    double best = 0;
    for (size_t i = 1; i < xs.size(); ++i) {
        const double d = xs[i] - xs[i - 1];
        if (d > 0 && (best == 0 || d < best)) best = d;
    }
    return best > 0 ? best : 1.0;
}

// Script lines of one panel; appends its data blocks to `data`.
std::string panel_script(const Panel& p, size_t pi, DataWriter& data) {
    std::ostringstream g;
    g << "# ---- " << one_line(panel_name(p, pi)) << "\n";
    g << "set title " << quote(p.title) << " noenhanced\n";
    g << "set xlabel " << quote(p.xlabel) << " noenhanced\n";
    g << "set ylabel " << quote(p.ylabel) << " noenhanced\n";
    g << "unset logscale\n";
    if (p.logx) g << "set logscale x\n";
    if (p.logy) g << "set logscale y\n";
    g << "unset arrow\nunset label\n";
    if (p.key_position == "off") {
        g << "unset key\n";
    } else {
        g << "set key " << p.key_position << " noenhanced samplen 2.5 spacing 1.1\n";
    }

    // Which series have something to draw.
    std::vector<size_t> drawn;
    size_t n_bars = 0;
    bool any_negative_y = false, any_positive_y = false;
    for (size_t si = 0; si < p.series.size(); ++si) {
        const Series& s = p.series[si];
        if (count_plottable(s, p) == 0) continue;
        drawn.push_back(si);
        if (s.style == Series::Style::Bars) ++n_bars;
        for (size_t i = 0; i < s.y.size(); ++i) {
            if (!plottable(s.x[i], s.y[i], p)) continue;
            any_negative_y |= s.y[i] < 0;
            any_positive_y |= s.y[i] > 0;
        }
    }
    const bool has_data = !drawn.empty() || p.image.has_value();

    // Ranges.
    std::string xr = "[*:*]", yr = "[*:*]";
    if (p.xrange) {
        xr = range_text(p.xrange->first, p.xrange->second);
    } else if (p.image) {
        xr = range_text(p.image->x0, p.image->x1);
    } else if (!p.xtics.empty()) {
        xr = range_text(-0.6, static_cast<double>(p.xtics.size()) - 0.4);
    } else if (!has_data) {
        xr = p.logx ? "[1:10]" : "[0:1]";
    }
    if (p.yrange) {
        yr = range_text(p.yrange->first, p.yrange->second);
    } else if (p.image) {
        yr = range_text(p.image->y0, p.image->y1);
    } else if (!has_data) {
        yr = p.logy ? "[1:10]" : "[0:1]";
    } else if (n_bars > 0 && !p.logy) {
        yr = any_negative_y ? (any_positive_y ? "[*:*]" : "[*:0]") : "[0:*]";  // bars start at 0
    }
    g << "set xrange " << xr << "\nset yrange " << yr << "\n";
    // Room above autoscaled bars for the key.
    g << (n_bars > 0 && !p.yrange ? "set offsets 0, 0, graph 0.12, 0\n"
                                  : "set offsets 0, 0, 0, 0\n");
    if (p.xtics.empty()) {
        g << "set xtics autofreq\n";
    } else {
        g << "set xtics (";
        for (size_t i = 0; i < p.xtics.size(); ++i)
            g << (i ? ", " : "") << quote(p.xtics[i]) << " " << i;
        g << ") noenhanced\n";
    }
    g << "set ytics autofreq\n";
    const bool any_y2 = std::any_of(p.series.begin(), p.series.end(), [](const Series& s) { return s.y2; });
    if (any_y2) {
        g << "set ytics nomirror\nset y2tics autofreq\nset y2range [*:*]\nset y2label " << quote(p.y2label)
          << " noenhanced\n";
        if (p.logy2) g << "set logscale y2\n";
    } else {
        g << "unset y2tics\nunset y2label\nset ytics mirror\n";
    }

    for (const VLine& v : p.vlines) {
        g << "set arrow from first " << num(v.x) << ", graph 0 to first " << num(v.x)
          << ", graph 1 nohead front lw 1.5 dt 3 lc rgb '#555555'\n";
        if (!v.label.empty())
            g << "set label " << quote(v.label) << " at first " << num(v.x)
              << ", graph 0.96 left offset character 0.4, 0 front noenhanced textcolor rgb "
                 "'#333333'\n";
    }

    if (!has_data) {
        g << "plot 1/0 notitle\n";
        return g.str();
    }

    std::vector<std::string> bands, items;
    if (p.image) {
        const Image& im = *p.image;
        const int block = data.begin_block(
            detail::concat(panel_name(p, pi), " image ", im.nx, "x", im.ny, ": x y r g b"));
        const double dx = (im.x1 - im.x0) / static_cast<double>(im.nx);
        const double dy = (im.y1 - im.y0) / static_cast<double>(im.ny);
        const auto n_colors = static_cast<int64_t>(kIdPalette.size());
        for (int64_t j = 0; j < im.ny; ++j) {
            if (j > 0) data.gap();
            for (int64_t i = 0; i < im.nx; ++i) {
                const auto cell = static_cast<size_t>(j * im.nx + i);
                uint32_t c = 0;
                if (!im.rgb.empty()) {
                    c = im.rgb[cell];
                } else {
                    const int64_t id = im.ids[cell];
                    c = kIdPalette[static_cast<size_t>(((id % n_colors) + n_colors) % n_colors)];
                }
                data.row({im.x0 + (static_cast<double>(i) + 0.5) * dx,
                          im.y0 + (static_cast<double>(j) + 0.5) * dy, static_cast<double>(c >> 16),
                          static_cast<double>((c >> 8) & 0xff), static_cast<double>(c & 0xff)});
            }
        }
        items.push_back(
            detail::concat("data index ", block, " using 1:2:3:4:5 with rgbimage notitle"));
    }

    const double group = kBarGroupWidth * bar_spacing(p);
    const double bar_w = n_bars > 0 ? group / static_cast<double>(n_bars) : 0;
    size_t bar_i = 0;
    // Automatic colours go round the palette in order, skipping those the panel asks for by index.
    std::vector<bool> taken(kPalette.size(), false);
    for (const Series& s : p.series)
        if (s.color >= 0) taken[static_cast<size_t>(s.color) % kPalette.size()] = true;
    const bool all_taken = std::all_of(taken.begin(), taken.end(), [](bool t) { return t; });
    size_t auto_color = 0;
    auto next_auto = [&] {
        while (!all_taken && taken[auto_color % kPalette.size()]) ++auto_color;
        return auto_color++;
    };
    for (size_t si = 0; si < p.series.size(); ++si) {
        const Series& s = p.series[si];
        const size_t ci = s.color >= 0 ? static_cast<size_t>(s.color) : next_auto();
        if (std::find(drawn.begin(), drawn.end(), si) == drawn.end()) continue;
        const std::string color = detail::concat("lc rgb '", kPalette[ci % kPalette.size()], "'");
        const std::string name = series_name(p, pi, s, si);
        const std::string title =
            s.label.empty() ? "notitle" : detail::concat("title ", quote(s.label), " noenhanced");

        if (!s.y_lo.empty() && count_band(s, p) > 0) {
            const int block = data.begin_block(name + " band: x y_lo y_hi");
            for (size_t i = 0; i < s.x.size(); ++i) {
                if (plottable(s.x[i], s.y_lo[i], p) && plottable(s.x[i], s.y_hi[i], p)) {
                    data.row({s.x[i], s.y_lo[i], s.y_hi[i]});
                } else {
                    data.gap();
                }
            }
            bands.push_back(
                detail::concat("data index ", block,
                               " using 1:2:3 with filledcurves fs transparent solid 0.2 noborder ",
                               color, " notitle"));
        }

        if (s.style == Series::Style::Bars) {
            const double offset =
                (static_cast<double>(bar_i++) - 0.5 * static_cast<double>(n_bars - 1)) * bar_w;
            const int block = data.begin_block(name + " bars: x y width");
            for (size_t i = 0; i < s.x.size(); ++i)
                if (plottable(s.x[i], s.y[i], p)) data.row({s.x[i] + offset, s.y[i], bar_w});
            // `lc` before `fs`: after `border` it would colour only the outline.
            items.push_back(detail::concat(
                "data index ", block, " using 1:2:3 with boxes ", color,
                s.dashed ? " fs pattern 4 border" : " fs solid 0.85 noborder", " ", title));
            continue;
        }
        const int block = data.begin_block(name + ": x y");
        for (size_t i = 0; i < s.x.size(); ++i) {
            if (plottable(s.x[i], s.y[i], p)) {
                data.row({s.x[i], s.y[i]});
            } else {
                data.gap();
            }
        }
        const char* dt = s.dashed ? " dt 2" : "";
        std::string style;
        switch (s.style) {
            case Series::Style::Line:
                style = detail::concat("with lines lw 2", dt);
                break;
            case Series::Style::LinePoints:
                style = detail::concat("with linespoints lw 2 pt 7 ps 0.6", dt);
                break;
            case Series::Style::Points:
                style = "with points pt 7 ps 0.8";
                break;
            case Series::Style::Bars:
                break;
        }
        items.push_back(detail::concat("data index ", block, " using 1:2 ", s.y2 ? "axes x1y2 " : "", style, " ",
                                       color, " ", title));
    }

    // Bands first so that they lie under every line.
    std::vector<std::string> all = bands;
    all.insert(all.end(), items.begin(), items.end());
    g << "plot ";
    for (size_t i = 0; i < all.size(); ++i) g << (i ? ", \\\n     " : "") << all[i];
    g << "\n";
    return g.str();
}

struct Scripts {
    std::string script, data;
};

Scripts build(const Figure& f, const std::string& base) {
    validate(f);
    const int n = static_cast<int>(f.panels.size());
    const int cols = f.columns == 0 ? n : std::min(f.columns, n);
    const int rows = (n + cols - 1) / cols;
    const int title_h = f.title.empty() ? 0 : 30;
    const int width = cols * f.panel_width, height = rows * f.panel_height + title_h;

    DataWriter data;
    std::ostringstream body;
    for (size_t pi = 0; pi < f.panels.size(); ++pi) body << panel_script(f.panels[pi], pi, data);

    std::ostringstream g;
    g << "# benchtop figure" << (f.title.empty() ? "" : ": ") << one_line(f.title)
      << "\n# Redraw by hand: cd into this folder, then `gnuplot " << base << ".gp`.\n"
      << "# Writes " << base << ".svg and " << base << ".png from the data blocks of " << base
      << ".dat.\n"
      << "data = " << quote(base + ".dat") << "\n"
      << "do for [benchtop_out = 1:2] {\n"
      << "reset\n"
      << "if (benchtop_out == 1) {\n"
      << "    set terminal svg size " << width << "," << height
      << " enhanced font 'Helvetica,12' background rgb 'white'\n"
      << "    set output " << quote(base + ".svg") << "\n"
      << "} else {\n"
      << "    set terminal pngcairo size " << width << "," << height
      << " enhanced font 'Helvetica,11' background rgb 'white'\n"
      << "    set output " << quote(base + ".png") << "\n"
      << "}\n"
      << "set grid back lc rgb '#e0e0e0' lw 1\n"
      << "set border lc rgb '#404040'\n"
      << "set tics nomirror\n"
      << "set multiplot layout " << rows << "," << cols;
    if (!f.title.empty()) g << " title " << quote(f.title) << " noenhanced";
    g << "\n" << body.str() << "unset multiplot\nunset output\n}\n";
    return {g.str(), data.str()};
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream os(path, std::ios::binary | std::ios::trunc);
    BENCHTOP_CHECK(os.good(), "cannot write ", path);
    os << text;
    os.close();
    BENCHTOP_CHECK(!os.fail(), "cannot write ", path);
}

bool executable(const std::string& path) {
    return !path.empty() && access(path.c_str(), X_OK) == 0;
}

std::string find_gnuplot() {
    std::string name = "gnuplot";
    if (const char* env = std::getenv("BENCHTOP_GNUPLOT"); env && *env) name = env;
    if (name.find('/') != std::string::npos) return executable(name) ? name : "";
    const char* path = std::getenv("PATH");
    std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const size_t colon = dirs.find(':');
        const std::string_view dir = dirs.substr(0, colon);
        const std::string candidate =
            (fs::path(dir.empty() ? std::string_view(".") : dir) / name).string();
        if (executable(candidate) && !fs::is_directory(candidate)) return candidate;
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return "";
}

// Runs `exe script` in `cwd` (empty: here) with stdin from /dev/null; returns the exit status
// (or 128 + signal) and everything it wrote to stdout and stderr.
std::pair<int, std::string> run_gnuplot(const std::string& exe,
                                        const std::string& script,
                                        const std::string& cwd) {
    int fds[2];
    BENCHTOP_CHECK(pipe2(fds, O_CLOEXEC) == 0, "cannot create a pipe to run gnuplot");
    std::vector<std::string> args = {exe, script};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        fail("cannot start gnuplot: fork failed");
    }
    if (pid == 0) {
        // Child: only async-signal-safe calls from here on.
        const int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
            constexpr char kMsg[] = "cannot enter the output folder\n";
            (void)!write(2, kMsg, sizeof kMsg - 1);
            _exit(126);
        }
        execv(exe.c_str(), argv.data());
        constexpr char kMsg[] = "exec of gnuplot failed\n";
        (void)!write(2, kMsg, sizeof kMsg - 1);
        _exit(127);
    }
    close(fds[1]);
    std::string output;
    char buf[4096];
    while (true) {
        const ssize_t r = read(fds[0], buf, sizeof buf);
        if (r > 0) {
            output.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || errno != EINTR) {
            break;
        }
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status)
                                       : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return {code, output};
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    s.erase(0, b);
    if (s.size() > kMaxQuotedOutput)
        s = detail::concat("...", s.substr(s.size() - kMaxQuotedOutput));
    return s;
}

}  // namespace

uint32_t heat_color(double t) {
    // Viridis at t = 0, 0.25, 0.5, 0.75, 1.
    static const uint32_t anchors[] = {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725};
    if (!(t > 0)) t = 0;  // NaN too
    if (t > 1) t = 1;
    const double u = t * 4;
    const auto i = std::min<size_t>(3, static_cast<size_t>(u));
    const double f = u - static_cast<double>(i);
    uint32_t out = 0;
    for (int shift : {16, 8, 0}) {
        const double a = (anchors[i] >> shift) & 0xff, b = (anchors[i + 1] >> shift) & 0xff;
        out |= static_cast<uint32_t>(std::lround(a + f * (b - a))) << shift;
    }
    return out;
}

bool gnuplot_available() {
    return !find_gnuplot().empty();
}

RenderedFigure write_figure_script(const Figure& figure, const std::string& out_stem) {
    BENCHTOP_CHECK(!out_stem.empty(), "render_figure: empty output stem");
    const fs::path stem(out_stem);
    const std::string base = stem.filename().string();
    BENCHTOP_CHECK(!base.empty() && base != "." && base != "..", "render_figure: output stem '",
                   out_stem, "' names a folder, not a file stem");
    const Scripts s = build(figure, base);
    if (stem.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(stem.parent_path(), ec);
        BENCHTOP_CHECK(!ec, "cannot create folder ", stem.parent_path().string(), ": ",
                       ec.message());
    }
    RenderedFigure out{out_stem + ".svg", out_stem + ".png", out_stem + ".gp", out_stem + ".dat"};
    write_file(out.data, s.data);
    write_file(out.script, s.script);
    return out;
}

RenderedFigure render_figure(const Figure& figure, const std::string& out_stem) {
    validate(figure);  // a bad figure is reported as such, with or without gnuplot
    const std::string exe = find_gnuplot();
    if (exe.empty()) fail("gnuplot not found: install gnuplot-nox (scripts/setup does)");
    RenderedFigure out = write_figure_script(figure, out_stem);
    std::error_code ec;
    fs::remove(out.svg, ec);  // so that a failed run never leaves an older figure behind
    fs::remove(out.png, ec);
    const fs::path stem(out_stem);
    const std::string cwd = stem.has_parent_path() ? stem.parent_path().string() : "";
    const auto [code, output] = run_gnuplot(exe, stem.filename().string() + ".gp", cwd);
    if (code != 0) {
        fs::remove(out.svg, ec);  // half-drawn outputs would pass for a figure
        fs::remove(out.png, ec);
        fail("gnuplot failed (exit ", code, ") on ", out.script, ": ",
             trim(output).empty() ? "(no message)" : trim(output));
    }
    BENCHTOP_CHECK(fs::exists(out.svg) && fs::exists(out.png), "gnuplot ran on ", out.script,
                   " but did not write ", out.svg, " and ", out.png, ": ", trim(output));
    return out;
}

}  // namespace benchtop
