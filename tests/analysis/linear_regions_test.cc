// Tests of exact activation-region counting, checked against theory and against an
// independent forward pass written in this file, never against the counting code itself:
//  - a shallow net on a 1-D input has one breakpoint per unit, at -b_i / w_i;
//  - a shallow net on a 2-D input is an arrangement of D lines: 1 + D + D(D-1)/2 regions
//    (Zaslavsky 1975);
//  - Telgarsky's (2016) sawtooth: depth d tent maps give 2^d affine pieces on [0, 1], with
//    breakpoints at k / 2^d;
//  - dense sampling of random deep nets never finds more patterns than the exact count, and
//    every sampled point's pattern is the one of the region said to hold it;
//  - region counts along a line grow with width at PyTorch's default init (Hanin & Rolnick
//    2019).
#include "benchtop/analysis/linear_regions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"

namespace benchtop {
namespace {

using Vec = std::vector<double>;

size_t sz(int64_t n) {
    return static_cast<size_t>(n);
}

DenseLayer dense(int64_t in, int64_t out, Vec w, Vec b) {
    return DenseLayer{.in = in, .out = out, .weight = std::move(w), .bias = std::move(b)};
}

// Gaussian weights with std gain / sqrt(fan_in) and Gaussian biases with std bias_std.
ReluNet random_net(int64_t in,
                   const std::vector<int64_t>& hidden,
                   int64_t out,
                   uint64_t seed,
                   double gain = 1.5,
                   double bias_std = 0.5) {
    Rng rng(stream_key(seed, 0, Purpose::Other));
    ReluNet net;
    int64_t prev = in;
    std::vector<int64_t> widths = hidden;
    widths.push_back(out);
    for (int64_t w : widths) {
        DenseLayer d = dense(prev, w, Vec(sz(w * prev)), Vec(sz(w)));
        for (double& x : d.weight) x = gain * rng.normal() / std::sqrt(static_cast<double>(prev));
        for (double& x : d.bias) x = bias_std * rng.normal();
        net.layers.push_back(std::move(d));
        prev = w;
    }
    return net;
}

Vec random_point(int64_t n, Rng& rng, double scale = 1.0) {
    Vec x(sz(n));
    for (double& v : x) v = scale * rng.normal();
    return x;
}

// The test's own forward pass: the hidden units' on/off states (z > 0) and the output.
struct Eval {
    std::vector<uint8_t> pattern;
    Vec output;
};

Eval evaluate(const ReluNet& net, const Vec& x) {
    Eval e;
    Vec h = x;
    for (size_t l = 0; l < net.layers.size(); ++l) {
        const DenseLayer& d = net.layers[l];
        const bool last = l + 1 == net.layers.size();
        Vec z(sz(d.out));
        for (int64_t i = 0; i < d.out; ++i) {
            double s = d.bias[sz(i)];
            for (int64_t j = 0; j < d.in; ++j) s += d.weight[sz(i * d.in + j)] * h[sz(j)];
            if (!last) {
                e.pattern.push_back(s > 0);
                s = std::max(s, 0.0);
            }
            z[sz(i)] = s;
        }
        h = std::move(z);
    }
    e.output = std::move(h);
    return e;
}

Vec lerp(const Vec& a, const Vec& b, double t) {
    Vec x(a.size());
    for (size_t j = 0; j < a.size(); ++j) x[j] = a[j] + t * (b[j] - a[j]);
    return x;
}

Vec plane_point(const PlaneThroughPoints& p, double u, double v) {
    Vec x(p.origin.size());
    for (size_t j = 0; j < x.size(); ++j) x[j] = p.origin[j] + u * p.e1[j] + v * p.e2[j];
    return x;
}

bool inside(const Polygon& poly, double u, double v) {
    const auto& vs = poly.vertices;
    for (size_t k = 0; k < vs.size(); ++k) {
        const auto& a = vs[k];
        const auto& b = vs[(k + 1) % vs.size()];
        if ((b[0] - a[0]) * (v - a[1]) - (b[1] - a[1]) * (u - a[0]) < 0) return false;
    }
    return true;
}

double area_sum(const PlaneRegions& r) {
    double s = 0;
    for (const Polygon& p : r.polygons) s += p.area;
    return s;
}

bool hashes_unique(const PlaneRegions& r) {
    std::set<uint64_t> h;
    for (const Polygon& p : r.polygons) h.insert(p.pattern_hash);
    return h.size() == r.polygons.size();
}

// ---------------------------------------------------------------- shallow nets

TEST(LinearRegions, ShallowNetOnALineHasOneBreakpointPerUnit) {
    for (int64_t D : {1, 3, 8, 25}) {
        for (uint64_t seed = 0; seed < 10; ++seed) {
            ReluNet net = random_net(1, {D}, 2, 100 * static_cast<uint64_t>(D) + seed);
            Vec roots;  // where unit i switches: w_i x + b_i = 0
            for (int64_t i = 0; i < D; ++i)
                roots.push_back(-net.layers[0].bias[sz(i)] / net.layers[0].weight[sz(i)]);
            std::sort(roots.begin(), roots.end());
            const double lo = roots.front() - 1, hi = roots.back() + 1;

            SegmentRegions all = regions_on_segment(net, Vec{lo}, Vec{hi});
            EXPECT_EQ(all.count, D + 1);
            ASSERT_EQ(all.breakpoints.size(), sz(D));
            EXPECT_EQ(all.pattern_hashes.size(), sz(D + 1));
            EXPECT_NEAR(all.length, hi - lo, 1e-12);
            for (int64_t i = 0; i < D; ++i)
                EXPECT_NEAR(lo + all.breakpoints[sz(i)] * (hi - lo), roots[sz(i)], 1e-9);

            // Backwards, the same breakpoints mirrored.
            SegmentRegions back = regions_on_segment(net, Vec{hi}, Vec{lo});
            ASSERT_EQ(back.count, D + 1);
            for (int64_t i = 0; i < D; ++i)
                EXPECT_NEAR(hi - back.breakpoints[sz(i)] * (hi - lo), roots[sz(D - 1 - i)], 1e-9);

            // A random sub-segment: 1 + the roots strictly inside it, never more than D + 1.
            Rng rng(stream_key(seed, 1, Purpose::Other));
            for (int rep = 0; rep < 5; ++rep) {
                double a = rng.uniform(lo, hi), b = rng.uniform(lo, hi);
                const auto inside_count = std::count_if(roots.begin(), roots.end(), [&](double r) {
                    return r > std::min(a, b) && r < std::max(a, b);
                });
                SegmentRegions s = regions_on_segment(net, Vec{a}, Vec{b});
                EXPECT_EQ(s.count, 1 + inside_count);
                EXPECT_LE(s.count, D + 1);
            }
        }
    }
}

TEST(LinearRegions, ShallowNetOnThePlaneIsALineArrangement) {
    for (int64_t D : {1, 2, 5, 12, 30}) {
        for (uint64_t seed = 0; seed < 3; ++seed) {
            // Random lines whose normal directions are stratified over [0, pi), so that no two
            // are nearly parallel and every intersection stays within a moderate box (regions
            // below kSliverRelativeArea of the box would be dropped).
            ReluNet net = random_net(2, {D}, 3, 7000 + 10 * static_cast<uint64_t>(D) + seed);
            Rng rng(stream_key(seed, static_cast<uint64_t>(D), Purpose::Other));
            for (int64_t i = 0; i < D; ++i) {
                const double theta = std::numbers::pi *
                                     (static_cast<double>(i) + rng.uniform(0.1, 0.9)) /
                                     static_cast<double>(D);
                const double scale = rng.uniform(0.5, 2.0);
                net.layers[0].weight[sz(2 * i)] = scale * std::cos(theta);
                net.layers[0].weight[sz(2 * i + 1)] = scale * std::sin(theta);
                net.layers[0].bias[sz(i)] = scale * rng.normal();
            }
            const Vec& w = net.layers[0].weight;
            const Vec& b = net.layers[0].bias;
            // Every pairwise intersection of the lines w_i . x + b_i = 0, and one point on
            // each line, must lie well inside the box.
            double u0 = 0, u1 = 0, v0 = 0, v1 = 0;
            auto cover = [&](double x, double y) {
                u0 = std::min(u0, x);
                u1 = std::max(u1, x);
                v0 = std::min(v0, y);
                v1 = std::max(v1, y);
            };
            for (int64_t i = 0; i < D; ++i) {
                const double a1 = w[sz(2 * i)], b1 = w[sz(2 * i + 1)], c1 = b[sz(i)];
                const double n2 = a1 * a1 + b1 * b1;
                cover(-c1 * a1 / n2, -c1 * b1 / n2);  // the line's point nearest the origin
                for (int64_t k = i + 1; k < D; ++k) {
                    const double a2 = w[sz(2 * k)], b2 = w[sz(2 * k + 1)], c2 = b[sz(k)];
                    const double det = a1 * b2 - a2 * b1;
                    ASSERT_GT(std::abs(det), 1e-9);  // general position
                    cover((b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det);
                }
            }
            const double pad = 0.5 * std::max(u1 - u0, v1 - v0) + 1.0;
            u0 -= pad;
            u1 += pad;
            v0 -= pad;
            v1 += pad;
            PlaneRegions r = regions_on_plane(net, Vec{0, 0}, Vec{1, 0}, Vec{0, 1}, u0, u1, v0, v1);
            EXPECT_EQ(r.count, 1 + D + D * (D - 1) / 2) << "D = " << D << " seed " << seed;
            EXPECT_EQ(r.polygons.size(), sz(r.count));
            EXPECT_NEAR(area_sum(r), (u1 - u0) * (v1 - v0), 1e-9 * (u1 - u0) * (v1 - v0));
            EXPECT_TRUE(hashes_unique(r));
        }
    }
}

TEST(LinearRegions, PlaneWithNoLineInsideIsOneRegion) {
    // relu(x + 10) and relu(-y + 10): neither switches inside [-1, 1]^2.
    ReluNet net{{dense(2, 2, {1, 0, 0, -1}, {10, 10}), dense(2, 1, {1, 1}, {0})}};
    PlaneRegions r = regions_on_plane(net, Vec{0, 0}, Vec{1, 0}, Vec{0, 1}, -1, 1, -1, 1);
    ASSERT_EQ(r.count, 1);
    EXPECT_NEAR(r.polygons[0].area, 4.0, 1e-12);
    EXPECT_EQ(r.polygons[0].pattern_hash, pattern_hash(std::vector<uint8_t>{1, 1}));
}

// ---------------------------------------------------------------- Telgarsky's sawtooth

// depth tent maps t(x) = 2 relu(x) - 4 relu(x - 1/2) composed: every hidden layer has the two
// units relu(y) and relu(y - 1/2) of the previous tent's output y, folded into its weights.
ReluNet sawtooth(int depth) {
    ReluNet net;
    net.layers.push_back(dense(1, 2, {1, 1}, {0, -0.5}));
    for (int l = 1; l < depth; ++l) net.layers.push_back(dense(2, 2, {2, -4, 2, -4}, {0, -0.5}));
    net.layers.push_back(dense(2, 1, {2, -4}, {0}));
    return net;
}

TEST(LinearRegions, SawtoothHasTwoToTheDepthPieces) {
    for (int depth = 1; depth <= 8; ++depth) {
        ReluNet net = sawtooth(depth);
        const int64_t pieces = int64_t{1} << depth;
        const double h = 1.0 / static_cast<double>(pieces);
        auto f = [&](double x) { return evaluate(net, Vec{x}).output[0]; };
        // It is the sawtooth: 0 at even multiples of 1/2^d, 1 at odd ones.
        for (int64_t k = 0; k <= pieces; ++k)
            ASSERT_NEAR(f(static_cast<double>(k) * h), k % 2 ? 1.0 : 0.0, 1e-12)
                << "depth " << depth;

        SegmentRegions s = regions_on_segment(net, Vec{0.0}, Vec{1.0});
        ASSERT_EQ(s.count, pieces) << "depth " << depth;
        ASSERT_EQ(s.breakpoints.size(), sz(pieces - 1));
        for (int64_t k = 1; k < pieces; ++k)
            EXPECT_NEAR(s.breakpoints[sz(k - 1)], static_cast<double>(k) * h, 1e-12);
        // Each activation region is one affine piece of the function: affine inside (three
        // points on a line), with a change of slope at every breakpoint.
        Vec edges{0.0};
        edges.insert(edges.end(), s.breakpoints.begin(), s.breakpoints.end());
        edges.push_back(1.0);
        double prev_slope = 0;
        for (size_t r = 0; r + 1 < edges.size(); ++r) {
            const double a = edges[r], b = edges[r + 1];
            const double x0 = a + 0.1 * (b - a), x1 = a + 0.5 * (b - a), x2 = a + 0.9 * (b - a);
            const double slope = (f(x2) - f(x0)) / (x2 - x0);
            EXPECT_NEAR(f(x1), f(x0) + slope * (x1 - x0), 1e-9);
            EXPECT_NEAR(std::abs(slope), static_cast<double>(pieces), 1e-6);
            if (r > 0) {
                EXPECT_LT(slope * prev_slope, 0) << "no kink at " << a;
            }
            prev_slope = slope;
        }
    }
}

// ---------------------------------------------------------------- agreement with sampling

TEST(LinearRegions, SegmentAgreesWithDenseSampling) {
    const int64_t n_samples = 200000;
    for (uint64_t seed = 0; seed < 3; ++seed) {
        ReluNet net = random_net(6, {12, 12, 12}, 3, 300 + seed);
        Rng rng(stream_key(seed, 2, Purpose::Other));
        const Vec a = random_point(6, rng, 2.0), b = random_point(6, rng, 2.0);
        SegmentRegions s = regions_on_segment(net, a, b);
        ASSERT_EQ(s.count, static_cast<int64_t>(s.breakpoints.size()) + 1);
        ASSERT_TRUE(std::is_sorted(s.breakpoints.begin(), s.breakpoints.end()));
        ASSERT_GT(s.count, 5);  // the test says something only if the line crosses boundaries
        const std::set<uint64_t> exact(s.pattern_hashes.begin(), s.pattern_hashes.end());

        std::set<uint64_t> sampled;
        int64_t changes = 0;
        uint64_t prev = 0;
        for (int64_t k = 0; k < n_samples; ++k) {
            const double t = (static_cast<double>(k) + 0.5) / static_cast<double>(n_samples);
            const uint64_t h = pattern_hash(evaluate(net, lerp(a, b, t)).pattern);
            sampled.insert(h);
            if (k > 0 && h != prev) ++changes;
            prev = h;
            // The region the exact count puts t in carries this pattern.
            const auto r = std::upper_bound(s.breakpoints.begin(), s.breakpoints.end(), t) -
                           s.breakpoints.begin();
            const double d_left = r > 0 ? t - s.breakpoints[sz(r - 1)] : 1.0;
            const double d_right = sz(r) < s.breakpoints.size() ? s.breakpoints[sz(r)] - t : 1.0;
            if (std::min(d_left, d_right) > 1e-9) {
                ASSERT_EQ(h, s.pattern_hashes[sz(r)]) << "t = " << t;
            }
        }
        EXPECT_LE(static_cast<int64_t>(sampled.size()), s.count);
        EXPECT_LE(changes, static_cast<int64_t>(s.breakpoints.size()));
        for (uint64_t h : sampled) EXPECT_TRUE(exact.count(h));
        // Regions wider than two sample spacings cannot be missed.
        int64_t wide = 0;
        Vec edges{0.0};
        edges.insert(edges.end(), s.breakpoints.begin(), s.breakpoints.end());
        edges.push_back(1.0);
        for (size_t r = 0; r + 1 < edges.size(); ++r)
            wide += edges[r + 1] - edges[r] > 2.0 / n_samples;
        EXPECT_GE(static_cast<int64_t>(sampled.size()), wide);
        // Some unit switches at every breakpoint.
        for (double t : s.breakpoints)
            EXPECT_NE(evaluate(net, lerp(a, b, t - 1e-9)).pattern,
                      evaluate(net, lerp(a, b, t + 1e-9)).pattern)
                << "t = " << t;
    }
}

TEST(LinearRegions, PlaneAgreesWithSampledPatterns) {
    for (uint64_t seed = 0; seed < 2; ++seed) {
        ReluNet net = random_net(5, {10, 10, 10}, 2, 500 + seed);
        Rng rng(stream_key(seed, 3, Purpose::Other));
        const Vec p0 = random_point(5, rng), p1 = random_point(5, rng), p2 = random_point(5, rng);
        PlaneThroughPoints p = regions_through_points(net, p0, p1, p2, 0.3);
        const PlaneRegions& r = p.regions;
        ASSERT_GT(r.count, 20);
        EXPECT_EQ(r.polygons.size(), sz(r.count));
        EXPECT_TRUE(hashes_unique(r));
        const double rect = (r.u1 - r.u0) * (r.v1 - r.v0);
        EXPECT_NEAR(area_sum(r), rect, 1e-9 * rect);
        // The plane holds the three points at their (u, v).
        const Vec* pts[3] = {&p0, &p1, &p2};
        for (int k = 0; k < 3; ++k) {
            Vec x = plane_point(p, p.points_uv[sz(k)][0], p.points_uv[sz(k)][1]);
            for (size_t j = 0; j < x.size(); ++j) EXPECT_NEAR(x[j], (*pts[k])[j], 1e-12);
        }
        // Random points: exactly one polygon holds each (away from edges), with its pattern.
        for (int k = 0; k < 3000; ++k) {
            const double u = rng.uniform(r.u0, r.u1), v = rng.uniform(r.v0, r.v1);
            const uint64_t h = pattern_hash(evaluate(net, plane_point(p, u, v)).pattern);
            int holders = 0;
            for (const Polygon& poly : r.polygons) {
                if (!inside(poly, u, v)) continue;
                ++holders;
                EXPECT_EQ(poly.pattern_hash, h) << "(u, v) = (" << u << ", " << v << ")";
            }
            EXPECT_EQ(holders, 1) << "(u, v) = (" << u << ", " << v << ")";
        }
        // The raster: every pixel centre's pattern is its region's.
        const int64_t nx = 48, ny = 32;
        std::vector<int64_t> img = rasterize_regions(r, nx, ny);
        ASSERT_EQ(img.size(), sz(nx * ny));
        std::set<int64_t> seen;
        for (int64_t iy = 0; iy < ny; ++iy) {
            for (int64_t ix = 0; ix < nx; ++ix) {
                const double u = r.u0 + (static_cast<double>(ix) + 0.5) * (r.u1 - r.u0) /
                                            static_cast<double>(nx);
                const double v = r.v0 + (static_cast<double>(iy) + 0.5) * (r.v1 - r.v0) /
                                            static_cast<double>(ny);
                const int64_t idx = img[sz(iy * nx + ix)];
                ASSERT_GE(idx, 0);
                ASSERT_LT(idx, r.count);
                seen.insert(idx);
                EXPECT_EQ(r.polygons[sz(idx)].pattern_hash,
                          pattern_hash(evaluate(net, plane_point(p, u, v)).pattern));
            }
        }
        EXPECT_GT(seen.size(), 10u);
    }
}

TEST(LinearRegions, SegmentInsidePlaneCrossesAsManyRegions) {
    // The segment p0 -> p1 lies in the plane; the polygons it crosses are its regions.
    ReluNet net = random_net(4, {8, 8}, 2, 900);
    Rng rng(stream_key(9, 0, Purpose::Other));
    const Vec p0 = random_point(4, rng), p1 = random_point(4, rng), p2 = random_point(4, rng);
    PlaneThroughPoints p = regions_through_points(net, p0, p1, p2, 0.2);
    SegmentRegions s = regions_on_segment(net, p0, p1);
    std::set<uint64_t> crossed;
    for (int k = 0; k < 20000; ++k) {
        const double t = (k + 0.5) / 20000.0;
        const double u = t * p.points_uv[1][0], v = t * p.points_uv[1][1];
        for (const Polygon& poly : p.regions.polygons)
            if (inside(poly, u, v)) crossed.insert(poly.pattern_hash);
    }
    EXPECT_EQ(crossed, std::set<uint64_t>(s.pattern_hashes.begin(), s.pattern_hashes.end()));
}

// ---------------------------------------------------------------- degenerate cases

TEST(LinearRegions, UnitIdenticallyZeroAlongTheSegment) {
    // Unit 0 is x0 (zero on the whole segment x0 = 0); unit 1 is zero everywhere; unit 2
    // switches at x1 = 0.25.
    ReluNet net{{dense(2, 3, {1, 0, 0, 0, 0, 1}, {0, 0, -0.25}), dense(3, 1, {1, 1, 1}, {0})}};
    SegmentRegions s = regions_on_segment(net, Vec{0, -1}, Vec{0, 1});
    ASSERT_EQ(s.count, 2);
    EXPECT_NEAR(s.breakpoints[0], 0.625, 1e-15);
    EXPECT_EQ(s.pattern_hashes[0], pattern_hash(std::vector<uint8_t>{0, 0, 0}));
    EXPECT_EQ(s.pattern_hashes[1], pattern_hash(std::vector<uint8_t>{0, 0, 1}));
    // A dead second layer: a unit fed only by a unit that is never on.
    ReluNet dead{{dense(1, 2, {1, -1}, {0, -5}), dense(2, 1, {0, 1}, {0}), dense(1, 1, {1}, {0})}};
    SegmentRegions d = regions_on_segment(dead, Vec{-1}, Vec{1});
    EXPECT_EQ(d.count, 2);  // only relu(x) switches, at x = 0
    EXPECT_NEAR(d.breakpoints[0], 0.5, 1e-15);
    // No hidden layer: an affine map, one region with the empty pattern.
    ReluNet affine{{dense(2, 1, {1, -1}, {0.5})}};
    EXPECT_EQ(relu_net_hidden_units(affine), 0);
    EXPECT_EQ(regions_on_segment(affine, Vec{-3, 1}, Vec{4, 2}).count, 1);
    PlaneRegions one = regions_on_plane(affine, Vec{0, 0}, Vec{1, 0}, Vec{0, 1}, -1, 1, -2, 2);
    ASSERT_EQ(one.count, 1);
    EXPECT_EQ(one.polygons[0].pattern_hash, pattern_hash(std::vector<uint8_t>{}));
    EXPECT_DOUBLE_EQ(one.polygons[0].area, 8.0);
    // Zero length: one region, and no density.
    SegmentRegions z = regions_on_segment(net, Vec{0.3, 0.3}, Vec{0.3, 0.3});
    EXPECT_EQ(z.count, 1);
    EXPECT_THROW(region_density(z), Error);
    // A switch exactly at t = 0 takes the state to the right and is no breakpoint.
    SegmentRegions at0 = regions_on_segment(net, Vec{0, 0.25}, Vec{0, 1});
    EXPECT_EQ(at0.count, 1);
    EXPECT_EQ(at0.pattern_hashes[0], pattern_hash(std::vector<uint8_t>{0, 0, 1}));
}

// ---------------------------------------------------------------- engine parameters

TEST(LinearRegions, NetFromParamsMatchesTheEngine) {
    DeepMlpSpec spec{.in = 6, .hidden = {7, 5, 4}, .out = 3};
    ParamSet ps(3);
    add_deep_mlp_params(ps, spec);
    std::vector<uint64_t> seeds{4, 5, 6};
    init_torch_default(ps, seeds);
    Tensor x = Tensor::empty({1, 2, 6});
    for (int64_t i = 0; i < x.numel(); ++i) x.set(i, std::sin(1.7 * static_cast<double>(i)));
    Graph g;
    Tensor y = deep_mlp_forward(ps, spec, g.input(x)).value();
    for (int64_t k = 0; k < 3; ++k) {
        ReluNet net = relu_net_from_params(ps, spec, k);
        ASSERT_EQ(net.layers.size(), 4u);
        EXPECT_EQ(relu_net_hidden_units(net), 16);
        EXPECT_EQ(relu_net_input_dim(net), 6);
        for (int64_t b = 0; b < 2; ++b) {
            Vec xb(6);
            for (int64_t j = 0; j < 6; ++j) xb[sz(j)] = x.at(b * 6 + j);
            Vec out = relu_net_forward(net, xb);
            for (int64_t o = 0; o < 3; ++o)
                EXPECT_NEAR(out[sz(o)], y.at((k * 2 + b) * 3 + o), 1e-5);
            EXPECT_EQ(activation_pattern(net, xb), evaluate(net, xb).pattern);
        }
    }
    EXPECT_THROW(relu_net_from_params(ps, spec, 3), Error);

    MlpSpec plain{.in = 5, .hidden = 6, .out = 2, .residual = false};
    ParamSet mp(2);
    add_mlp_params(mp, plain);
    init_torch_default(mp, std::vector<uint64_t>{1, 2});
    ReluNet net = relu_net_from_params(mp, plain, 1);
    ASSERT_EQ(net.layers.size(), 3u);
    EXPECT_EQ(net.layers[1].in, 6);
    EXPECT_EQ(net.layers[2].out, 2);
    EXPECT_DOUBLE_EQ(net.layers[1].weight[3], mp.value("linear2.weight").member(1).at(3));
    MlpSpec residual = plain;
    residual.residual = true;
    EXPECT_THROW(relu_net_from_params(mp, residual, 0), Error);
}

// Hanin & Rolnick: at initialisation the number of regions a line meets grows with the
// number of neurons. Averaged over seeds, wider means more.
TEST(LinearRegions, CountsGrowWithWidthAtInit) {
    const std::vector<int64_t> widths{8, 32, 128};
    std::vector<double> mean(widths.size(), 0.0), density(widths.size(), 0.0);
    const int n_seeds = 4;
    for (size_t w = 0; w < widths.size(); ++w) {
        DeepMlpSpec spec{.in = 10, .hidden = {widths[w], widths[w]}, .out = 10};
        ParamSet ps(n_seeds);
        add_deep_mlp_params(ps, spec);
        std::vector<uint64_t> seeds;
        for (int s = 0; s < n_seeds; ++s) seeds.push_back(1000 + static_cast<uint64_t>(s));
        init_torch_default(ps, seeds);
        for (int s = 0; s < n_seeds; ++s) {
            ReluNet net = relu_net_from_params(ps, spec, s);
            Rng rng(stream_key(77, static_cast<uint64_t>(s), Purpose::Other));
            const Vec a = random_point(10, rng), b = random_point(10, rng);
            SegmentRegions r = regions_on_segment(net, a, b);
            mean[w] += static_cast<double>(r.count) / n_seeds;
            density[w] += regions_per_unit_length(net, a, b) / n_seeds;
            EXPECT_NEAR(region_density(r), static_cast<double>(r.count) / r.length, 1e-12);
        }
    }
    for (size_t w = 1; w < widths.size(); ++w) {
        EXPECT_GT(mean[w], mean[w - 1]) << "width " << widths[w];
        EXPECT_GT(density[w], density[w - 1]) << "width " << widths[w];
    }
}

TEST(LinearRegions, InitNetworkPlaneCoversTheRectangle) {
    // The 40-64-64-10 shape of the MNIST-1D experiments, through three random inputs.
    DeepMlpSpec spec{.in = 40, .hidden = {64, 64}, .out = 10};
    ParamSet ps(1);
    add_deep_mlp_params(ps, spec);
    init_torch_default(ps, std::vector<uint64_t>{3});
    ReluNet net = relu_net_from_params(ps, spec, 0);
    Rng rng(stream_key(5, 0, Purpose::Other));
    const Vec p0 = random_point(40, rng), p1 = random_point(40, rng), p2 = random_point(40, rng);
    PlaneThroughPoints p = regions_through_points(net, p0, p1, p2, 0.25);
    const PlaneRegions& r = p.regions;
    EXPECT_GT(r.count, 50);
    EXPECT_TRUE(hashes_unique(r));
    const double rect = (r.u1 - r.u0) * (r.v1 - r.v0);
    EXPECT_NEAR(area_sum(r), rect, 1e-9 * rect);
    for (const Polygon& poly : r.polygons) EXPECT_GT(poly.area, kSliverRelativeArea * rect);
}

// ---------------------------------------------------------------- errors

TEST(LinearRegions, BadInputNamesTheSizes) {
    ReluNet net = random_net(40, {8}, 2, 1);
    try {
        regions_on_segment(net, Vec(3, 0.0), Vec(40, 1.0));
        FAIL() << "expected benchtop::Error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("3 entries"), std::string::npos) << msg;
        EXPECT_NE(msg.find("40 inputs"), std::string::npos) << msg;
    }
    EXPECT_THROW(regions_on_segment(net, Vec(40, 0.0), Vec(41, 1.0)), Error);
    EXPECT_THROW(regions_on_plane(net, Vec(40), Vec(40), Vec(39), 0, 1, 0, 1), Error);
    EXPECT_THROW(regions_on_plane(net, Vec(40), Vec(40), Vec(40), 1, 0, 0, 1), Error);
    EXPECT_THROW(regions_through_points(net, Vec(40, 0.0), Vec(40, 1.0), Vec(40, 2.0)),
                 Error);  // collinear
    EXPECT_THROW(rasterize_regions(PlaneRegions{}, 0, 4), Error);
    Vec with_nan(40, 0.0);
    with_nan[7] = std::nan("");
    EXPECT_THROW(regions_on_segment(net, with_nan, Vec(40, 1.0)), Error);
    ReluNet broken = net;
    broken.layers[1].in = 9;
    EXPECT_THROW(regions_on_segment(broken, Vec(40, 0.0), Vec(40, 1.0)), Error);
    broken = net;
    broken.layers[0].bias.pop_back();
    EXPECT_THROW(check_relu_net(broken), Error);
    EXPECT_THROW(check_relu_net(ReluNet{}), Error);
}

}  // namespace
}  // namespace benchtop
