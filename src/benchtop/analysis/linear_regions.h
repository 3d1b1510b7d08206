// Exact counting of the activation regions of a ReLU network along a line segment and over
// a rectangle of a 2-D plane through input space.
//
// Why: a ReLU network is piecewise affine; the number of pieces it cuts its input into is a
// common measure of its expressivity. Worst-case bounds grow exponentially with depth
// (Telgarsky 2016: composing the tent map gives a sawtooth with 2^depth pieces), yet Hanin &
// Rolnick (2019, "Complexity of linear regions in deep networks"; "Deep ReLU networks have
// surprisingly few activation patterns") show that at and after ordinary initialisation the
// density of regions along a line, or over a plane, scales with the number of neurons, not
// exponentially with depth. Measuring that needs exact counts: sampling misses small
// regions. This file computes them without sampling.
//
// An activation region is a maximal connected set of inputs on which every hidden unit keeps
// its on/off state (its activation pattern). Within one, every pre-activation is an affine
// function of the input. Restricted to a line x(t) = a + t (b - a), the pre-activations are
// affine in t and the breakpoints are found one by one, in order (regions_on_segment).
// Restricted to a plane x(u, v) = origin + u e1 + v e2, each region is a convex polygon:
// the rectangle is split layer by layer along each unit's zero line, with each polygon
// carrying the affine map (u, v) -> layer input valid on it (regions_on_plane). For a
// shallow network this reproduces the count of a line arrangement, 1 + D + D(D-1)/2 for D
// lines in general position (Zaslavsky 1975).
//
// Pattern conventions: unit i is on where its pre-activation z_i > 0. On a segment, a unit
// with z_i = 0 takes the state it has just to the right (larger t). A unit that is zero
// along the whole segment or polygon counts as off (its output is 0 either way). The output
// layer has no ReLU and creates no regions.
//
//   ReluNet net = relu_net_from_params(ps, spec, /*member=*/0);
//   SegmentRegions s = regions_on_segment(net, x0, x1);     // s.count, s.breakpoints
//   PlaneThroughPoints p = regions_through_points(net, x0, x1, x2, /*margin=*/0.25);
//   std::vector<int64_t> img = rasterize_regions(p.regions, 256, 256);
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "benchtop/nn/deep_mlp.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/nn/params.h"

namespace benchtop {

// One fully connected layer in float64, PyTorch's layout.
struct DenseLayer {
    int64_t in = 0;
    int64_t out = 0;
    std::vector<double> weight;  // [out, in], row-major
    std::vector<double> bias;    // [out]
};

// ReLU after every layer except the last.
struct ReluNet {
    std::vector<DenseLayer> layers;
};

// Throws benchtop::Error unless the layers chain (layer l's out = layer l+1's in) and every
// weight and bias has the size its layer declares.
void check_relu_net(const ReluNet& net);
int64_t relu_net_input_dim(const ReluNet& net);
// Units with a ReLU: the outputs of every layer but the last.
int64_t relu_net_hidden_units(const ReluNet& net);

// Member `member` of a stack built by add_deep_mlp_params / add_mlp_params (float32 or
// float64), converted to float64. The MlpSpec overload needs residual = false.
ReluNet relu_net_from_params(const ParamSet& ps, const DeepMlpSpec& spec, int64_t member);
ReluNet relu_net_from_params(const ParamSet& ps, const MlpSpec& spec, int64_t member);

// The network's output at x (float64).
std::vector<double> relu_net_forward(const ReluNet& net, std::span<const double> x);
// On/off state (1/0) of every hidden unit at x, layer by layer; on means z > 0.
std::vector<uint8_t> activation_pattern(const ReluNet& net, std::span<const double> x);
// 64-bit FNV-1a over the pattern's bytes, in order. Region hashes below use this function.
uint64_t pattern_hash(std::span<const uint8_t> pattern);

// ---------------------------------------------------------------- 1-D: a line segment

struct SegmentRegions {
    std::vector<double> breakpoints;       // t in (0, 1) where the pattern changes, ascending
    std::vector<uint64_t> pattern_hashes;  // one per region, in order of t
    int64_t count = 0;                     // regions = breakpoints.size() + 1
    double length = 0;                     // |b - a|
};

// Activation regions met by x(t) = a + t (b - a), t in [0, 1].
SegmentRegions regions_on_segment(const ReluNet& net,
                                  std::span<const double> a,
                                  std::span<const double> b);
// Regions per unit (Euclidean) length of input space: count / length. Throws when the
// segment has zero length.
double region_density(const SegmentRegions& regions);
double regions_per_unit_length(const ReluNet& net,
                               std::span<const double> a,
                               std::span<const double> b);

// ---------------------------------------------------------------- 2-D: a plane

struct Polygon {
    std::vector<std::array<double, 2>> vertices;  // (u, v), counter-clockwise, convex
    uint64_t pattern_hash = 0;                    // pattern_hash of the region's pattern
    double area = 0;
};

struct PlaneRegions {
    int64_t count = 0;              // = polygons.size()
    std::vector<Polygon> polygons;  // one per activation region met by the rectangle
    double u0 = 0, u1 = 0, v0 = 0, v1 = 0;
};

// Regions below this fraction of the rectangle's area are dropped as numerical slivers.
inline constexpr double kSliverRelativeArea = 1e-12;

// Activation regions met by x(u, v) = origin + u e1 + v e2 over [u0, u1] x [v0, v1].
// e1 and e2 need not be orthonormal, only the same size as the input.
PlaneRegions regions_on_plane(const ReluNet& net,
                              std::span<const double> origin,
                              std::span<const double> e1,
                              std::span<const double> e2,
                              double u0,
                              double u1,
                              double v0,
                              double v1);

// Region index (into polygons) of every pixel centre of an nx-by-ny grid over the
// rectangle, row-major with rows going from v0 to v1 and columns from u0 to u1; -1 where no
// polygon holds the centre (a dropped sliver).
std::vector<int64_t> rasterize_regions(const PlaneRegions& regions, int64_t nx, int64_t ny);

struct PlaneThroughPoints {
    PlaneRegions regions;
    std::vector<double> origin, e1, e2;                // origin = p0; e1, e2 orthonormal
    std::array<std::array<double, 2>, 3> points_uv{};  // (u, v) of p0, p1, p2
};

// The plane through p0, p1, p2 (e1, e2 from Gram-Schmidt of p1 - p0 and p2 - p0) over the
// bounding rectangle of the three points, widened on every side by `margin` times the larger
// of its width and height. Throws when the points are (nearly) collinear.
PlaneThroughPoints regions_through_points(const ReluNet& net,
                                          std::span<const double> p0,
                                          std::span<const double> p1,
                                          std::span<const double> p2,
                                          double margin = 0.25);

}  // namespace benchtop
