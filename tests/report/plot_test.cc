// Tests of render_figure: a figure using every feature (log x, band, vline, grouped bars with
// categorical tics, NaN gaps, awkward labels, an id raster) renders to a well-formed SVG and a
// PNG; empty panels still draw; invalid figures throw naming the culprit; a missing gnuplot and a
// failing gnuplot give clear errors. Rendering tests skip when gnuplot is absent (CI has it).
#include "benchtop/report/plot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "benchtop/core/error.h"

namespace benchtop {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

#define SKIP_WITHOUT_GNUPLOT()                                                     \
    do {                                                                           \
        if (!gnuplot_available())                                                  \
            GTEST_SKIP() << "gnuplot not installed (apt-get install gnuplot-nox)"; \
    } while (0)

// A fresh folder per test under the system temp folder, removed afterwards (kept on failure, or
// when BENCHTOP_KEEP_PLOTS is set, to look at the figures).
class PlotTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("benchtop_plot_" + std::to_string(getpid()) + "_" + info->name());
        fs::remove_all(dir_);
    }
    void TearDown() override {
        if (!HasFailure() && !std::getenv("BENCHTOP_KEEP_PLOTS")) fs::remove_all(dir_);
    }
    fs::path dir_;
};

std::string slurp(const std::string& path) {
    std::ifstream is(path, std::ios::binary);
    std::ostringstream os;
    os << is.rdbuf();
    return os.str();
}

void expect_svg_and_png(const RenderedFigure& r) {
    ASSERT_TRUE(fs::exists(r.svg)) << r.svg;
    ASSERT_TRUE(fs::exists(r.png)) << r.png;
    EXPECT_TRUE(fs::exists(r.script));
    EXPECT_TRUE(fs::exists(r.data));
    const std::string svg = slurp(r.svg);
    EXPECT_TRUE(svg.rfind("<?xml", 0) == 0 || svg.find("<svg") != std::string::npos);
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    const std::string png = slurp(r.png);
    ASSERT_GE(png.size(), 8u);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

Figure full_figure() {
    Figure f;
    f.title = "sweep_1: \"all\" features";
    f.columns = 2;
    f.panel_width = 420;
    f.panel_height = 320;

    Panel curves;
    curves.title = "loss_vs_lr";
    curves.xlabel = "learning_rate \"eta\"";
    curves.ylabel = "test_loss {mean} ^ @ & 100%";
    curves.logx = true;
    Series mean;
    mean.label = "mlp_2 \"wide\"";
    for (int i = 0; i < 12; ++i) {
        const double x = std::pow(10.0, -4 + 0.35 * i);
        mean.x.push_back(x);
        mean.y.push_back(i == 5 ? kNaN : 1.0 + 0.1 * (i - 6) * (i - 6));
        mean.y_lo.push_back(mean.y.back() - 0.2);
        mean.y_hi.push_back(mean.y.back() + 0.2);
    }
    curves.series.push_back(mean);
    Series other;
    other.label = "cnn";
    other.style = Series::Style::Line;
    other.dashed = true;
    other.x = {1e-4, 1e-3, 1e-2, 1e-1};
    other.y = {2.0, 1.5, kNaN, 1.1};
    curves.series.push_back(other);
    curves.series.push_back(Series{.label = "empty_series"});
    curves.vlines.push_back({1e-2, "best_lr"});
    f.panels.push_back(curves);

    Panel bars;
    bars.title = "accuracy by model";
    bars.ylabel = "accuracy";
    bars.xtics = {"mlp_a", "cnn_b", "gru_c"};
    bars.key_position = "top left";
    for (int k = 0; k < 2; ++k) {
        Series s;
        s.label = k == 0 ? "train" : "test";
        s.style = Series::Style::Bars;
        s.x = {0, 1, 2};
        s.y = {0.9 - 0.1 * k, 0.8 - 0.1 * k, 0.7 - 0.05 * k};
        s.dashed = k == 1;
        bars.series.push_back(s);
    }
    f.panels.push_back(bars);

    Panel regions;
    regions.title = "linear_regions";
    regions.xlabel = "input_x0";
    regions.ylabel = "input_x1";
    regions.key_position = "off";
    Image im;
    im.nx = 40;
    im.ny = 30;
    im.x0 = -1;
    im.x1 = 1;
    im.y0 = -2;
    im.y1 = 2;
    for (int64_t j = 0; j < im.ny; ++j)
        for (int64_t i = 0; i < im.nx; ++i)
            im.ids.push_back((i / 7) * 5 + (j / 6) + (i > j ? 100 : 0));
    regions.image = im;
    Series pts;
    pts.style = Series::Style::Points;
    pts.x = {-0.5, 0.0, 0.5};
    pts.y = {-1.0, 0.5, 1.5};
    regions.series.push_back(pts);
    f.panels.push_back(regions);
    return f;
}

TEST_F(PlotTest, RendersEveryFeatureToSvgAndPng) {
    SKIP_WITHOUT_GNUPLOT();
    const std::string stem = (dir_ / "nested" / "deeper" / "fig").string();
    const RenderedFigure r = render_figure(full_figure(), stem);
    EXPECT_EQ(r.svg, stem + ".svg");
    EXPECT_EQ(r.png, stem + ".png");
    EXPECT_EQ(r.script, stem + ".gp");
    EXPECT_EQ(r.data, stem + ".dat");
    expect_svg_and_png(r);
    const std::string svg = slurp(r.svg);
    // Labels print literally: underscores, quotes and enhanced-text characters survive.
    for (const char* text :
         {"learning_rate \"eta\"", "test_loss {mean} ^ @ &amp; 100%", "loss_vs_lr",
          "mlp_2 \"wide\"", "best_lr", "mlp_a", "cnn_b", "gru_c", "input_x0", "input_x1",
          "accuracy by model", "sweep_1: \"all\" features"}) {
        EXPECT_NE(svg.find(text), std::string::npos) << "SVG lacks " << text;
    }
    EXPECT_EQ(svg.find("empty_series"), std::string::npos);  // empty series are skipped

    // The NaN leaves a gap: a blank line inside the block of the series, not the text "nan".
    const std::string dat = slurp(r.data);
    EXPECT_EQ(dat.find("nan"), std::string::npos);
    EXPECT_NE(dat.find("\n\n# panel 0 'loss_vs_lr' series 1"), std::string::npos);
    const size_t block = dat.find("series 0 'mlp_2 \"wide\"': x y");
    ASSERT_NE(block, std::string::npos);
    const size_t block_end = dat.find("\n\n\n", block);
    const std::string series0 = dat.substr(block, block_end - block);
    EXPECT_NE(series0.find("\n\n"), std::string::npos) << series0;
}

TEST_F(PlotTest, QuotesAndBackslashesDoNotBreakTheScript) {
    SKIP_WITHOUT_GNUPLOT();
    Figure f;
    Panel p;
    p.title = "it's \"quoted\" \\n back\\slash\nsecond line";  // a real newline too
    p.xlabel = "x'label";
    p.ylabel = "y\"label";
    Series s;
    s.label = "a'b\"c\\d_e";
    s.x = {1, 2, 3};
    s.y = {3, 1, 2};
    p.series.push_back(s);
    f.panels.push_back(p);
    const RenderedFigure r = render_figure(f, (dir_ / "quotes").string());
    expect_svg_and_png(r);
    const std::string svg = slurp(r.svg);
    for (const char* text : {"x'label", "y\"label", "a'b\"c\\d_e", "back\\slash second line"}) {
        EXPECT_NE(svg.find(text), std::string::npos) << "SVG lacks " << text;
    }
}

TEST_F(PlotTest, PanelsWithoutDataStillDrawAxes) {
    SKIP_WITHOUT_GNUPLOT();
    Figure f;
    Panel nothing;
    nothing.xlabel = "nothing_here";
    f.panels.push_back(nothing);
    Panel all_nan;
    all_nan.xlabel = "all_nan";
    all_nan.logy = true;
    all_nan.series.push_back(Series{.label = "nan", .x = {1, 2}, .y = {kNaN, -1.0}});
    f.panels.push_back(all_nan);
    Panel empty_series;
    empty_series.xlabel = "empty_series";
    empty_series.xtics = {"a", "b"};
    empty_series.series.push_back(Series{.label = "none", .style = Series::Style::Bars});
    f.panels.push_back(empty_series);
    f.columns = 1;
    const RenderedFigure r = render_figure(f, (dir_ / "empty").string());
    expect_svg_and_png(r);
    const std::string svg = slurp(r.svg);
    for (const char* text : {"nothing_here", "all_nan", "empty_series"})
        EXPECT_NE(svg.find(text), std::string::npos) << "SVG lacks " << text;
}

TEST_F(PlotTest, ScriptGivesAutomaticColoursTheFreePaletteSlots) {
    Panel p;
    p.series.push_back(Series{.label = "auto_a", .x = {1, 2}, .y = {1, 2}});
    p.series.push_back(Series{.label = "fixed", .x = {1, 2}, .y = {2, 1}, .color = 0});
    p.series.push_back(Series{.label = "auto_b", .x = {1, 2}, .y = {0, 1}});
    const RenderedFigure r = write_figure_script(Figure{.panels = {p}}, (dir_ / "c").string());
    const std::string gp = slurp(r.script);
    auto colour_of = [&](const std::string& label) {
        const size_t at = gp.find("title '" + label + "'");
        const size_t lc = gp.rfind("lc rgb '", at);
        return at == std::string::npos || lc == std::string::npos ? "" : gp.substr(lc + 8, 7);
    };
    EXPECT_EQ(colour_of("fixed"), "#0072B2") << gp;
    EXPECT_EQ(colour_of("auto_a"), "#D55E00") << gp;
    EXPECT_EQ(colour_of("auto_b"), "#009E73") << gp;
    EXPECT_FALSE(fs::exists(r.svg));  // script only
}

std::string error_of(const Figure& f, const std::string& stem) {
    try {
        render_figure(f, stem);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST_F(PlotTest, InvalidFiguresThrowNamingTheCulprit) {
    Figure f;
    Panel p;
    p.title = "curves";
    p.series.push_back(Series{.label = "good", .x = {1, 2}, .y = {1, 2}});
    p.series.push_back(Series{.label = "lopsided", .x = {1, 2, 3}, .y = {1, 2}});
    f.panels.push_back(p);
    std::string msg = error_of(f, (dir_ / "bad").string());
    EXPECT_NE(msg.find("lopsided"), std::string::npos) << msg;
    EXPECT_NE(msg.find("curves"), std::string::npos) << msg;

    f.panels[0].series.pop_back();
    f.panels[0].series[0].y_lo = {0};
    f.panels[0].series[0].y_hi = {3};
    msg = error_of(f, (dir_ / "bad").string());
    EXPECT_NE(msg.find("band"), std::string::npos) << msg;
    EXPECT_NE(msg.find("good"), std::string::npos) << msg;

    Figure g;
    Panel q;
    q.title = "regions";
    q.image = Image{.nx = 3, .ny = 2, .ids = {1, 2, 3, 4, 5}};
    g.panels.push_back(Panel{});
    g.panels.push_back(q);
    msg = error_of(g, (dir_ / "bad").string());
    EXPECT_NE(msg.find("panel 1 'regions'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("5 ids"), std::string::npos) << msg;

    Figure h;
    Panel r;
    r.logx = true;
    r.xrange = std::make_pair(0.0, 1.0);
    h.panels.push_back(r);
    EXPECT_THROW(render_figure(h, (dir_ / "bad").string()), Error);
    EXPECT_THROW(render_figure(Figure{}, (dir_ / "bad").string()), Error);
    EXPECT_FALSE(fs::exists(dir_ / "bad.gp"));  // nothing is written for an invalid figure
}

TEST_F(PlotTest, MissingGnuplotIsReported) {
    const char* old = std::getenv("BENCHTOP_GNUPLOT");
    const std::string saved = old ? old : "";
    setenv("BENCHTOP_GNUPLOT", "/nonexistent/benchtop/gnuplot", 1);
    Figure f;
    f.panels.push_back(Panel{});
    const bool available = gnuplot_available();
    const std::string msg = error_of(f, (dir_ / "x").string());
    if (old) {
        setenv("BENCHTOP_GNUPLOT", saved.c_str(), 1);
    } else {
        unsetenv("BENCHTOP_GNUPLOT");
    }
    EXPECT_FALSE(available);
    EXPECT_NE(msg.find("gnuplot not found: install gnuplot-nox"), std::string::npos) << msg;
}

TEST_F(PlotTest, GnuplotErrorsAreQuoted) {
    SKIP_WITHOUT_GNUPLOT();
    Figure f;
    Panel p;
    p.key_position = "somewhere unheard";  // passes our check, rejected by gnuplot
    p.series.push_back(Series{.label = "s", .x = {1, 2}, .y = {1, 2}});
    f.panels.push_back(p);
    const std::string msg = error_of(f, (dir_ / "broken").string());
    EXPECT_NE(msg.find("gnuplot failed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("broken.gp"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line"), std::string::npos) << msg;  // gnuplot's own "file" line N: message
    EXPECT_FALSE(fs::exists(dir_ / "broken.svg"));          // no half-drawn figure is left behind
    EXPECT_FALSE(fs::exists(dir_ / "broken.png"));
    EXPECT_TRUE(fs::exists(dir_ / "broken.gp"));  // but the script is, to debug it

    Panel bad_key;
    bad_key.key_position = "top'; system 'true";
    EXPECT_THROW(render_figure(Figure{.panels = {bad_key}}, (dir_ / "k").string()), Error);
}

}  // namespace
}  // namespace benchtop
