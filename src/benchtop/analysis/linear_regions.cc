#include "benchtop/analysis/linear_regions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "benchtop/core/error.h"
#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

// A pre-activation within kTieTolerance of the magnitude of the terms that make it up
// (|b_i| + sum_j |w_ij| |input_j|, bounded over the segment or the rectangle) is treated as
// zero: that is rounding noise in float64, not a side of the unit's hyperplane.
constexpr double kTieTolerance = 1e-11;

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv_step(uint64_t h, uint8_t byte) {
    return (h ^ byte) * kFnvPrime;
}

size_t sz(int64_t n) {
    return static_cast<size_t>(n);
}

DenseLayer dense_from(const ParamSet& ps,
                      const std::string& weight,
                      const std::string& bias,
                      int64_t member) {
    BENCHTOP_CHECK(ps.contains(weight) && ps.contains(bias),
                   "relu_net_from_params: parameter set has no '", weight, "' or '", bias, "'");
    BENCHTOP_CHECK(member >= 0 && member < ps.n_members(), "relu_net_from_params: member ", member,
                   " out of range for a stack of ", ps.n_members());
    Tensor w = ps.value(weight).member(member);
    Tensor b = ps.value(bias).member(member);
    BENCHTOP_CHECK(w.rank() == 2 && b.rank() == 1 && b.size(0) == w.size(0),
                   "relu_net_from_params: '", weight, "' has shape ", w.shape().str(), " and '",
                   bias, "' has shape ", b.shape().str(), "; expected [out, in] and [out]");
    DenseLayer layer;
    layer.out = w.size(0);
    layer.in = w.size(1);
    layer.weight = w.to_vector();
    layer.bias = b.to_vector();
    return layer;
}

void check_input(const ReluNet& net, const char* op, const char* what, std::span<const double> x) {
    const int64_t in = net.layers.front().in;
    BENCHTOP_CHECK(static_cast<int64_t>(x.size()) == in, op, ": ", what, " has ", x.size(),
                   " entries but the network's first layer takes ", in, " inputs");
}

void check_finite(const char* op, const char* what, std::span<const double> x) {
    for (size_t j = 0; j < x.size(); ++j)
        BENCHTOP_CHECK(std::isfinite(x[j]), op, ": ", what, "[", j, "] is not finite (", x[j], ")");
}

// Hidden layers: every layer but the last.
size_t n_hidden_layers(const ReluNet& net) {
    return net.layers.size() - 1;
}

}  // namespace

// ---------------------------------------------------------------- networks

void check_relu_net(const ReluNet& net) {
    BENCHTOP_CHECK(!net.layers.empty(), "ReluNet: no layers");
    for (size_t l = 0; l < net.layers.size(); ++l) {
        const DenseLayer& d = net.layers[l];
        BENCHTOP_CHECK(d.in > 0 && d.out > 0, "ReluNet: layer ", l, " has in=", d.in,
                       " out=", d.out);
        BENCHTOP_CHECK(static_cast<int64_t>(d.weight.size()) == d.in * d.out, "ReluNet: layer ", l,
                       " weight has ", d.weight.size(), " entries, expected [", d.out, ", ", d.in,
                       "]");
        BENCHTOP_CHECK(static_cast<int64_t>(d.bias.size()) == d.out, "ReluNet: layer ", l,
                       " bias has ", d.bias.size(), " entries, expected ", d.out);
        if (l > 0)
            BENCHTOP_CHECK(net.layers[l - 1].out == d.in, "ReluNet: layer ", l - 1, " outputs ",
                           net.layers[l - 1].out, " values but layer ", l, " takes ", d.in);
    }
}

int64_t relu_net_input_dim(const ReluNet& net) {
    check_relu_net(net);
    return net.layers.front().in;
}

int64_t relu_net_hidden_units(const ReluNet& net) {
    check_relu_net(net);
    int64_t n = 0;
    for (size_t l = 0; l < n_hidden_layers(net); ++l) n += net.layers[l].out;
    return n;
}

ReluNet relu_net_from_params(const ParamSet& ps, const DeepMlpSpec& spec, int64_t member) {
    ReluNet net;
    for (int64_t l = 0; l < deep_mlp_n_layers(spec); ++l)
        net.layers.push_back(
            dense_from(ps, deep_mlp_weight_name(l), deep_mlp_bias_name(l), member));
    check_relu_net(net);
    BENCHTOP_CHECK(net.layers.front().in == spec.in && net.layers.back().out == spec.out,
                   "relu_net_from_params: parameters do not match the DeepMlpSpec (in ", spec.in,
                   ", out ", spec.out, ")");
    return net;
}

ReluNet relu_net_from_params(const ParamSet& ps, const MlpSpec& spec, int64_t member) {
    BENCHTOP_CHECK(!spec.residual,
                   "relu_net_from_params: the residual MLP is not a chain of "
                   "ReLU layers; use MlpSpec{.residual = false}");
    ReluNet net;
    for (const char* n : {"linear1", "linear2", "linear3"})
        net.layers.push_back(
            dense_from(ps, std::string(n) + ".weight", std::string(n) + ".bias", member));
    check_relu_net(net);
    return net;
}

std::vector<double> relu_net_forward(const ReluNet& net, std::span<const double> x) {
    check_relu_net(net);
    check_input(net, "relu_net_forward", "x", x);
    std::vector<double> h(x.begin(), x.end()), next;
    for (size_t l = 0; l < net.layers.size(); ++l) {
        const DenseLayer& d = net.layers[l];
        next.assign(sz(d.out), 0.0);
        for (int64_t i = 0; i < d.out; ++i) {
            double z = d.bias[sz(i)];
            for (int64_t j = 0; j < d.in; ++j) z += d.weight[sz(i * d.in + j)] * h[sz(j)];
            next[sz(i)] = (l + 1 < net.layers.size()) ? std::max(z, 0.0) : z;
        }
        h.swap(next);
    }
    return h;
}

std::vector<uint8_t> activation_pattern(const ReluNet& net, std::span<const double> x) {
    check_relu_net(net);
    check_input(net, "activation_pattern", "x", x);
    std::vector<uint8_t> pattern;
    std::vector<double> h(x.begin(), x.end()), next;
    for (size_t l = 0; l < n_hidden_layers(net); ++l) {
        const DenseLayer& d = net.layers[l];
        next.assign(sz(d.out), 0.0);
        for (int64_t i = 0; i < d.out; ++i) {
            double z = d.bias[sz(i)];
            for (int64_t j = 0; j < d.in; ++j) z += d.weight[sz(i * d.in + j)] * h[sz(j)];
            pattern.push_back(z > 0 ? 1 : 0);
            next[sz(i)] = std::max(z, 0.0);
        }
        h.swap(next);
    }
    return pattern;
}

uint64_t pattern_hash(std::span<const uint8_t> pattern) {
    uint64_t h = kFnvOffset;
    for (uint8_t b : pattern) h = fnv_step(h, b);
    return h;
}

// ---------------------------------------------------------------- 1-D

SegmentRegions regions_on_segment(const ReluNet& net,
                                  std::span<const double> a,
                                  std::span<const double> b) {
    check_relu_net(net);
    check_input(net, "regions_on_segment", "a", a);
    check_input(net, "regions_on_segment", "b", b);
    check_finite("regions_on_segment", "a", a);
    check_finite("regions_on_segment", "b", b);
    SegmentRegions out;
    const size_t n_in = a.size();
    double len2 = 0;
    for (size_t j = 0; j < n_in; ++j) len2 += (b[j] - a[j]) * (b[j] - a[j]);
    out.length = std::sqrt(len2);

    // Under the pattern chosen at t, each layer's input is c + d t (c, d vectors); unit i's
    // pre-activation is p_i + q_i t with p = W c + bias, q = W d.
    std::vector<double> c, d, c_next, d_next;
    double t = 0;
    for (;;) {
        c.assign(a.begin(), a.end());
        d.resize(n_in);
        for (size_t j = 0; j < n_in; ++j) d[j] = b[j] - a[j];
        double t_next = std::numeric_limits<double>::infinity();
        uint64_t h = kFnvOffset;
        for (size_t l = 0; l < n_hidden_layers(net); ++l) {
            const DenseLayer& L = net.layers[l];
            c_next.assign(sz(L.out), 0.0);
            d_next.assign(sz(L.out), 0.0);
            for (int64_t i = 0; i < L.out; ++i) {
                const double* w = L.weight.data() + i * L.in;
                double p = L.bias[sz(i)], q = 0, mag = std::abs(p);
                for (int64_t j = 0; j < L.in; ++j) {
                    p += w[j] * c[sz(j)];
                    q += w[j] * d[sz(j)];
                    mag += std::abs(w[j]) * (std::abs(c[sz(j)]) + std::abs(d[sz(j)]));
                }
                const double tol = kTieTolerance * mag;
                const double z = p + q * t;
                const bool flat = std::abs(q) <= tol;  // (nearly) constant along the segment
                bool on;
                if (std::abs(z) > tol)
                    on = z > 0;
                else
                    on = !flat && q > 0;  // zero at t: the state just to the right
                // The next t where this unit changes state under the current map.
                if (!flat && (on ? q < 0 : q > 0)) t_next = std::min(t_next, -p / q);
                h = fnv_step(h, on ? 1 : 0);
                if (on) {
                    c_next[sz(i)] = p;
                    d_next[sz(i)] = q;
                }
            }
            c.swap(c_next);
            d.swap(d_next);
        }
        if (out.pattern_hashes.empty() || out.pattern_hashes.back() != h) {
            if (!out.pattern_hashes.empty()) out.breakpoints.push_back(t);
            out.pattern_hashes.push_back(h);
        }
        if (!(t_next < 1.0)) break;
        // Every candidate is ahead of t by |z| / |q| > tol / |q| >= kTieTolerance (mag >= |q|).
        BENCHTOP_CHECK(t_next > t, "regions_on_segment: no progress at t = ", t);
        t = t_next;
    }
    out.count = static_cast<int64_t>(out.pattern_hashes.size());
    return out;
}

double region_density(const SegmentRegions& regions) {
    BENCHTOP_CHECK(regions.length > 0, "region_density: the segment has zero length");
    return static_cast<double>(regions.count) / regions.length;
}

double regions_per_unit_length(const ReluNet& net,
                               std::span<const double> a,
                               std::span<const double> b) {
    return region_density(regions_on_segment(net, a, b));
}

// ---------------------------------------------------------------- 2-D

namespace {

using Pt = std::array<double, 2>;

// Cells are sent through the next layer's GEMM this many at a time, depth first, so memory
// stays bounded however many regions the plane has.
constexpr size_t kCellChunk = 256;

double polygon_area(const std::vector<Pt>& v) {
    double s = 0;
    for (size_t k = 0; k < v.size(); ++k) {
        const Pt& p = v[k];
        const Pt& q = v[(k + 1) % v.size()];
        s += p[0] * q[1] - q[0] * p[1];
    }
    return 0.5 * s;
}

// A convex polygon on which the current layer's input is one affine map of (u, v). The map
// itself lives in a separate buffer, three rows per cell (u coefficient, v coefficient,
// constant), each as long as the layer's input.
struct Cell {
    std::vector<Pt> vertices;
    uint64_t hash = kFnvOffset;  // FNV-1a of the pattern of the layers already applied
};

// A part of a cell while one layer's units split it.
struct Piece {
    std::vector<Pt> vertices;
    std::vector<uint8_t> on;  // states of the layer's units decided so far
    uint64_t hash;
};

// Splits convex polygon `poly` by a line into the parts where its value is >= 0 (pos) and
// <= 0 (neg). z: the value at each vertex; s: its sign, 0 within tolerance.
void clip(const std::vector<Pt>& poly,
          const std::vector<double>& z,
          const std::vector<int>& s,
          std::vector<Pt>& pos,
          std::vector<Pt>& neg) {
    pos.clear();
    neg.clear();
    const size_t n = poly.size();
    for (size_t k = 0; k < n; ++k) {
        const size_t k2 = (k + 1) % n;
        if (s[k] >= 0) pos.push_back(poly[k]);
        if (s[k] <= 0) neg.push_back(poly[k]);
        if (s[k] * s[k2] < 0) {
            const double f = z[k] / (z[k] - z[k2]);
            const Pt x{poly[k][0] + f * (poly[k2][0] - poly[k][0]),
                       poly[k][1] + f * (poly[k2][1] - poly[k][1])};
            pos.push_back(x);
            neg.push_back(x);
        }
    }
}

class PlaneSplitter {
public:
    PlaneSplitter(
        const ReluNet& net, double umax, double vmax, double min_area, std::vector<Polygon>& out)
        : net_(net), umax_(umax), vmax_(vmax), min_area_(min_area), out_(out) {
        for (size_t l = 0; l < n_hidden_layers(net); ++l) {
            const DenseLayer& L = net.layers[l];
            std::vector<double> norms(sz(L.out));
            for (int64_t i = 0; i < L.out; ++i) {
                double s = 0;
                for (int64_t j = 0; j < L.in; ++j)
                    s += L.weight[sz(i * L.in + j)] * L.weight[sz(i * L.in + j)];
                norms[sz(i)] = std::sqrt(s);
            }
            row_norms_.push_back(std::move(norms));
        }
        levels_.resize(n_hidden_layers(net));
    }

    // Splits `cells` (with their input maps) by hidden layer l and, depth first, by every
    // later one; the final pieces go to out_. Calls for layer l never nest, so each layer
    // keeps its buffers in levels_[l].
    void run(size_t l, std::vector<Cell>& cells, const std::vector<double>& maps) {
        const DenseLayer& L = net_.layers[l];
        const size_t in = sz(L.in), width = sz(L.out);
        const bool last = l + 1 == n_hidden_layers(net_);
        Level& lv = levels_[l];
        for (size_t c0 = 0; c0 < cells.size(); c0 += kCellChunk) {
            const size_t m = std::min(kCellChunk, cells.size() - c0);
            // coef[(3c + r) * width + i] = sum_j maps[(3c + r) * in + j] W[i, j] (+ bias for
            // r = 2): unit i's pre-activation on cell c is coef(u) u + coef(v) v + coef(1).
            lv.coef.resize(3 * m * width);
            gemm(false, true, static_cast<int64_t>(3 * m), L.out, L.in, 1.0,
                 maps.data() + 3 * c0 * in, L.in, L.weight.data(), L.in, 0.0, lv.coef.data(),
                 L.out);
            for (size_t c = 0; c < m; ++c) {
                double* k = lv.coef.data() + 3 * c * width;
                for (size_t i = 0; i < width; ++i) k[2 * width + i] += L.bias[i];
                // Bound on the terms' magnitude, for the tie tolerance (Cauchy-Schwarz).
                const double* mp = maps.data() + 3 * (c0 + c) * in;
                double s2 = 0;
                for (size_t j = 0; j < in; ++j) {
                    const double s = std::abs(mp[j]) * umax_ + std::abs(mp[in + j]) * vmax_ +
                                     std::abs(mp[2 * in + j]);
                    s2 += s * s;
                }
                split_cell(l, cells[c0 + c], k, std::sqrt(s2), lv.pieces);
                for (Piece& pc : lv.pieces) {
                    if (last) {
                        Polygon poly;
                        poly.area = polygon_area(pc.vertices);
                        poly.vertices = std::move(pc.vertices);
                        poly.pattern_hash = pc.hash;
                        out_.push_back(std::move(poly));
                        continue;
                    }
                    // Apply the ReLU: the next layer's input map on this piece.
                    lv.children.push_back({std::move(pc.vertices), pc.hash});
                    for (size_t r = 0; r < 3; ++r)
                        for (size_t i = 0; i < width; ++i)
                            lv.child_maps.push_back(pc.on[i] ? k[r * width + i] : 0.0);
                    if (lv.children.size() == kCellChunk) flush(l);
                }
            }
        }
        if (!last) flush(l);
    }

private:
    // Layer l's children so far (cells for layer l + 1) go through the later layers.
    void flush(size_t l) {
        Level& lv = levels_[l];
        run(l + 1, lv.children, lv.child_maps);
        lv.children.clear();
        lv.child_maps.clear();
    }

    // Splits one cell by the zero lines of layer l's units (coefficients k, three rows of
    // `width`) into `pieces`.
    void split_cell(
        size_t l, Cell& cell, const double* k, double map_scale, std::vector<Piece>& pieces) {
        const DenseLayer& L = net_.layers[l];
        const size_t width = sz(L.out);
        cell_vertices_ = cell.vertices;
        pieces.clear();
        pieces.push_back({std::move(cell.vertices), {}, cell.hash});
        pieces[0].on.reserve(width);
        for (size_t i = 0; i < width; ++i) {
            const double a = k[i], b = k[width + i], c = k[2 * width + i];
            const double tol = kTieTolerance * (std::abs(L.bias[i]) + row_norms_[l][i] * map_scale);
            // Whole cell on one side: the same state for every piece.
            bool any_pos = false, any_neg = false;
            for (const Pt& p : cell_vertices_) {
                const double z = a * p[0] + b * p[1] + c;
                any_pos = any_pos || z > tol;
                any_neg = any_neg || z < -tol;
            }
            if (!(any_pos && any_neg)) {  // zero throughout counts as off
                const uint8_t on = any_pos ? 1 : 0;
                for (Piece& pc : pieces) {
                    pc.on.push_back(on);
                    pc.hash = fnv_step(pc.hash, on);
                }
                continue;
            }
            split_.clear();
            for (Piece& pc : pieces) {
                const size_t n = pc.vertices.size();
                z_.resize(n);
                s_.resize(n);
                any_pos = any_neg = false;
                for (size_t v = 0; v < n; ++v) {
                    z_[v] = a * pc.vertices[v][0] + b * pc.vertices[v][1] + c;
                    s_[v] = z_[v] > tol ? 1 : (z_[v] < -tol ? -1 : 0);
                    any_pos = any_pos || s_[v] > 0;
                    any_neg = any_neg || s_[v] < 0;
                }
                if (!(any_pos && any_neg)) {
                    const uint8_t on = any_pos ? 1 : 0;
                    pc.on.push_back(on);
                    pc.hash = fnv_step(pc.hash, on);
                    split_.push_back(std::move(pc));
                    continue;
                }
                clip(pc.vertices, z_, s_, pos_, neg_);
                for (uint8_t on : {uint8_t{1}, uint8_t{0}}) {
                    std::vector<Pt>& part = on ? pos_ : neg_;
                    if (part.size() < 3 || polygon_area(part) < min_area_) continue;
                    Piece np{part, pc.on, fnv_step(pc.hash, on)};
                    np.on.push_back(on);
                    split_.push_back(std::move(np));
                }
            }
            pieces.swap(split_);
        }
    }

    const ReluNet& net_;
    double umax_, vmax_, min_area_;
    std::vector<Polygon>& out_;
    std::vector<std::vector<double>> row_norms_;  // per hidden layer, |W_i|_2
    struct Level {
        std::vector<double> coef;
        std::vector<Piece> pieces;
        std::vector<Cell> children;
        std::vector<double> child_maps;
    };
    std::vector<Level> levels_;  // per hidden layer
    std::vector<Piece> split_;
    std::vector<double> z_;
    std::vector<int> s_;
    std::vector<Pt> cell_vertices_, pos_, neg_;
};

}  // namespace

PlaneRegions regions_on_plane(const ReluNet& net,
                              std::span<const double> origin,
                              std::span<const double> e1,
                              std::span<const double> e2,
                              double u0,
                              double u1,
                              double v0,
                              double v1) {
    check_relu_net(net);
    check_input(net, "regions_on_plane", "origin", origin);
    check_input(net, "regions_on_plane", "e1", e1);
    check_input(net, "regions_on_plane", "e2", e2);
    check_finite("regions_on_plane", "origin", origin);
    check_finite("regions_on_plane", "e1", e1);
    check_finite("regions_on_plane", "e2", e2);
    BENCHTOP_CHECK(std::isfinite(u0) && std::isfinite(u1) && std::isfinite(v0) &&
                       std::isfinite(v1) && u0 < u1 && v0 < v1,
                   "regions_on_plane: empty or non-finite rectangle [", u0, ", ", u1, "] x [", v0,
                   ", ", v1, "]");
    PlaneRegions out;
    out.u0 = u0;
    out.u1 = u1;
    out.v0 = v0;
    out.v1 = v1;
    std::vector<Cell> cells(1);
    cells[0].vertices = {{u0, v0}, {u1, v0}, {u1, v1}, {u0, v1}};
    if (n_hidden_layers(net) == 0) {  // an affine map: one region, the empty pattern
        out.polygons.push_back({cells[0].vertices, kFnvOffset, (u1 - u0) * (v1 - v0)});
    } else {
        std::vector<double> maps(e1.begin(), e1.end());
        maps.insert(maps.end(), e2.begin(), e2.end());
        maps.insert(maps.end(), origin.begin(), origin.end());
        const double min_area = kSliverRelativeArea * (u1 - u0) * (v1 - v0);
        PlaneSplitter splitter(net, std::max(std::abs(u0), std::abs(u1)),
                               std::max(std::abs(v0), std::abs(v1)), min_area, out.polygons);
        splitter.run(0, cells, maps);
    }
    out.count = static_cast<int64_t>(out.polygons.size());
    return out;
}

std::vector<int64_t> rasterize_regions(const PlaneRegions& regions, int64_t nx, int64_t ny) {
    BENCHTOP_CHECK(nx > 0 && ny > 0, "rasterize_regions: grid must be positive, got ", nx, " x ",
                   ny);
    std::vector<int64_t> img(sz(nx * ny), -1);
    const double du = (regions.u1 - regions.u0) / static_cast<double>(nx);
    const double dv = (regions.v1 - regions.v0) / static_cast<double>(ny);
    for (size_t r = 0; r < regions.polygons.size(); ++r) {
        const std::vector<Pt>& v = regions.polygons[r].vertices;
        double lo_u = v[0][0], hi_u = v[0][0], lo_v = v[0][1], hi_v = v[0][1];
        for (const Pt& p : v) {
            lo_u = std::min(lo_u, p[0]);
            hi_u = std::max(hi_u, p[0]);
            lo_v = std::min(lo_v, p[1]);
            hi_v = std::max(hi_v, p[1]);
        }
        // Pixel centre ix sits at u0 + (ix + 0.5) du.
        const auto first = [](double lo, double origin, double step) {
            return static_cast<int64_t>(std::ceil((lo - origin) / step - 0.5));
        };
        const auto last = [](double hi, double origin, double step) {
            return static_cast<int64_t>(std::floor((hi - origin) / step - 0.5));
        };
        const int64_t ix0 = std::max<int64_t>(0, first(lo_u, regions.u0, du));
        const int64_t ix1 = std::min<int64_t>(nx - 1, last(hi_u, regions.u0, du));
        const int64_t iy0 = std::max<int64_t>(0, first(lo_v, regions.v0, dv));
        const int64_t iy1 = std::min<int64_t>(ny - 1, last(hi_v, regions.v0, dv));
        const double scale = std::max(hi_u - lo_u, hi_v - lo_v);
        for (int64_t iy = iy0; iy <= iy1; ++iy) {
            const double pv = regions.v0 + (static_cast<double>(iy) + 0.5) * dv;
            for (int64_t ix = ix0; ix <= ix1; ++ix) {
                int64_t& cell = img[sz(iy * nx + ix)];
                if (cell >= 0) continue;
                const double pu = regions.u0 + (static_cast<double>(ix) + 0.5) * du;
                bool inside = true;
                for (size_t k = 0; k < v.size() && inside; ++k) {
                    const Pt& a = v[k];
                    const Pt& b = v[(k + 1) % v.size()];
                    const double cross = (b[0] - a[0]) * (pv - a[1]) - (b[1] - a[1]) * (pu - a[0]);
                    inside = cross >= -1e-12 * scale * scale;
                }
                if (inside) cell = static_cast<int64_t>(r);
            }
        }
    }
    return img;
}

PlaneThroughPoints regions_through_points(const ReluNet& net,
                                          std::span<const double> p0,
                                          std::span<const double> p1,
                                          std::span<const double> p2,
                                          double margin) {
    check_relu_net(net);
    check_input(net, "regions_through_points", "p0", p0);
    check_input(net, "regions_through_points", "p1", p1);
    check_input(net, "regions_through_points", "p2", p2);
    BENCHTOP_CHECK(margin >= 0 && std::isfinite(margin),
                   "regions_through_points: margin must be >= 0, got ", margin);
    const size_t n = p0.size();
    PlaneThroughPoints out;
    out.origin.assign(p0.begin(), p0.end());
    out.e1.resize(n);
    out.e2.resize(n);
    double n1 = 0;
    for (size_t j = 0; j < n; ++j) {
        out.e1[j] = p1[j] - p0[j];
        n1 += out.e1[j] * out.e1[j];
    }
    n1 = std::sqrt(n1);
    BENCHTOP_CHECK(n1 > 0, "regions_through_points: p0 and p1 coincide");
    for (double& x : out.e1) x /= n1;
    double proj = 0, n2_raw = 0;
    for (size_t j = 0; j < n; ++j) {
        proj += (p2[j] - p0[j]) * out.e1[j];
        n2_raw += (p2[j] - p0[j]) * (p2[j] - p0[j]);
    }
    double n2 = 0;
    for (size_t j = 0; j < n; ++j) {
        out.e2[j] = p2[j] - p0[j] - proj * out.e1[j];
        n2 += out.e2[j] * out.e2[j];
    }
    n2 = std::sqrt(n2);
    BENCHTOP_CHECK(n2 > 1e-9 * std::sqrt(n2_raw) && n2 > 0,
                   "regions_through_points: the three points are (nearly) collinear");
    for (double& x : out.e2) x /= n2;
    out.points_uv = {{{0.0, 0.0}, {n1, 0.0}, {proj, n2}}};
    double u0 = 0, u1 = 0, v0 = 0, v1 = 0;
    for (const auto& p : out.points_uv) {
        u0 = std::min(u0, p[0]);
        u1 = std::max(u1, p[0]);
        v0 = std::min(v0, p[1]);
        v1 = std::max(v1, p[1]);
    }
    const double pad = margin * std::max(u1 - u0, v1 - v0);
    out.regions =
        regions_on_plane(net, out.origin, out.e1, out.e2, u0 - pad, u1 + pad, v0 - pad, v1 + pad);
    return out;
}

}  // namespace benchtop
