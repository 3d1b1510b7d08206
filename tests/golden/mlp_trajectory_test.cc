// A training trajectory started from a PyTorch-exported initialization follows PyTorch.
// tests/golden/make_trajectory.py (torch 1.13, float32) wrote the MNIST-1D reference MLP's
// initial state_dict (cases/mlp_trajectory_init.safetensors, torch.manual_seed(42) default
// init) and the test loss after each of 100 Adam steps (lr 1e-2, batch 100 in fixed order)
// (cases/mlp_trajectory.json). Here the same init is read with load_params and trained by the
// engine's ops (mlp_forward, cross_entropy, Adam) on the same float32-rounded data; every
// step's test loss and batch loss must lie within 1e-4 (absolute) of PyTorch's. The K = 3
// variant loads the init into each member of a stack and checks each member the same way.
//
// Data: $BENCHTOP_SHARED_DATA/mnist1d (the frozen float64 files), or when that is missing the
// generator's make_mnist1d(Mnist1dArgs{}), which reproduces the frozen values to 1e-12.
//
// Measured (OpenBLAS build; frozen and generated data alike): max |test loss - torch| 1.67e-6
// for K = 1 and for every member of K = 3, max |batch loss - torch| 7.15e-7 (tolerance 1e-4).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "benchtop/data/mnist1d.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/data/mnist1d_files.h"
#include "benchtop/io/safetensors.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/train/metrics.h"
#include "support/golden.h"

namespace benchtop {
namespace {

namespace fs = std::filesystem;
using golden::json;

constexpr double kLossTol = 1e-4;  // absolute, on the mean cross-entropy

std::string init_path() { return golden::cases_dir() + "/mlp_trajectory_init.safetensors"; }

// The float32 dataset: frozen files when present, else the generator (same values to 1e-12).
const Mnist1dData& data_f32() {
    static const Mnist1dData d = [] {
        const char* env = std::getenv("BENCHTOP_SHARED_DATA");
        fs::path base = env ? fs::path(env) : fs::path(BENCHTOP_SOURCE_DIR) / ".." / "shared" / "data";
        fs::path dir = base / "mnist1d";
        bool frozen = fs::exists(dir / "x_train.f64");
        if (!frozen) std::printf("[ golden   ] %s missing: generating MNIST-1D\n", dir.c_str());
        return to_float32(frozen ? load_mnist1d(dir) : make_mnist1d(Mnist1dArgs{}));
    }();
    return d;
}

struct Deviation {
    double test = 0, batch = 0;
};

// Trains K members, each loaded from the PyTorch init, and compares every member's losses
// with the reference after every step.
Deviation run_trajectory(int64_t k) {
    const json doc = golden::load("mlp_trajectory.json");
    const int steps = doc.at("steps").get<int>();
    const int64_t batch = doc.at("batch").get<int64_t>();
    const std::vector<double> ref_test = doc.at("test_loss").get<std::vector<double>>();
    const std::vector<double> ref_batch = doc.at("batch_loss").get<std::vector<double>>();
    EXPECT_EQ(ref_test.size(), static_cast<size_t>(steps));
    EXPECT_EQ(ref_batch.size(), static_cast<size_t>(steps));

    const Mnist1dData& data = data_f32();
    const int64_t n = data.x_train.size(0);
    const Tensor x_test = data.x_test.reshape({1, data.x_test.size(0), data.x_test.size(1)});

    MlpSpec spec;
    ParamSet ps(k);
    add_mlp_params(ps, spec);
    for (int64_t m = 0; m < k; ++m) load_params(init_path(), ps, m);
    Adam opt(ps, AdamOptions{.lr = doc.at("lr").get<double>()});

    Deviation dev;
    Graph g;
    for (int s = 0; s < steps && !::testing::Test::HasFatalFailure(); ++s) {
        const int64_t start = (batch * s) % n;
        Var loss = cross_entropy(mlp_forward(ps, spec, g.input(batch_rows(data.x_train, start, batch))),
                                 batch_rows(data.y_train, start, batch, false));
        const Tensor batch_loss = loss.value().clone();
        ps.zero_grad();
        g.backward(loss);
        opt.step();
        g.reset();
        Tensor test_loss;
        {
            NoGradScope ng(g);
            test_loss = cross_entropy(mlp_forward(ps, spec, g.input(x_test)), data.y_test).value().clone();
            g.reset();
        }
        const size_t si = static_cast<size_t>(s);
        for (int64_t m = 0; m < k; ++m) {
            const double dt = std::abs(test_loss.at(m) - ref_test[si]);
            const double db = std::abs(batch_loss.at(m) - ref_batch[si]);
            EXPECT_LE(dt, kLossTol) << "member " << m << ", test loss after step " << s << ": "
                                    << test_loss.at(m) << " vs torch " << ref_test[si];
            EXPECT_LE(db, kLossTol) << "member " << m << ", batch loss of step " << s << ": "
                                    << batch_loss.at(m) << " vs torch " << ref_batch[si];
            dev.test = std::max(dev.test, std::isnan(dt) ? INFINITY : dt);
            dev.batch = std::max(dev.batch, std::isnan(db) ? INFINITY : db);
        }
    }
    {
        NoGradScope ng(g);
        const std::vector<double> acc = accuracy(mlp_forward(ps, spec, g.input(x_test)).value(), data.y_test);
        g.reset();
        // One example is 1e-3 of accuracy; allow a single near-tie to flip.
        for (int64_t m = 0; m < k; ++m)
            EXPECT_NEAR(acc[static_cast<size_t>(m)], doc.at("final_test_acc").get<double>(), 1.5e-3)
                << "member " << m;
    }
    std::printf("[ golden   ] mlp_trajectory K=%ld: max |test loss - torch| %.3g, "
                "max |batch loss - torch| %.3g over %d steps\n",
                static_cast<long>(k), dev.test, dev.batch, steps);
    return dev;
}

TEST(MlpTrajectory, InitLoadsWithPyTorchNamesAndLayouts) {
    const SafetensorsFile f = read_safetensors(init_path());
    ParamSet ps(1);
    add_mlp_params(ps, MlpSpec{});
    ASSERT_EQ(f.tensors.size(), ps.entries().size());
    load_params(init_path(), ps, 0);
    for (const auto& e : ps.entries()) {
        const Tensor& t = f.get(e.name);
        EXPECT_EQ(t.dtype(), DType::F32) << e.name;
        ASSERT_EQ(t.numel(), e.value.numel()) << e.name;
        double max_abs = 0;
        for (int64_t i = 0; i < t.numel(); ++i) {
            EXPECT_EQ(e.value.at(i), t.at(i)) << e.name << " element " << i;
            max_abs = std::max(max_abs, std::abs(t.at(i)));
        }
        // torch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); fan_in = 40 or 100.
        const double bound = 1 / std::sqrt(e.name.starts_with("linear1") ? 40.0 : 100.0);
        EXPECT_LE(max_abs, bound) << e.name;
        EXPECT_GT(max_abs, 0.9 * bound) << e.name;
    }
    EXPECT_EQ(f.get("linear1.weight").shape(), Shape({100, 40}));
    EXPECT_EQ(f.get("linear2.weight").shape(), Shape({100, 100}));
    EXPECT_EQ(f.get("linear3.weight").shape(), Shape({10, 100}));
    EXPECT_EQ(f.get("linear3.bias").shape(), Shape({10}));
}

TEST(MlpTrajectory, SingleMemberFollowsPyTorch) { run_trajectory(1); }

TEST(MlpTrajectory, StackedMembersEachFollowPyTorch) { run_trajectory(3); }

// The same through the experiment a user runs: `benchtop run mnist1d-baselines model=mlp
// init_from=... steps=99 eval_every=1` (generated data, fixed batch order, Adam 1e-2).
TEST(MlpTrajectory, Mnist1dBaselinesExperimentFollowsPyTorch) {
    const json doc = golden::load("mlp_trajectory.json");
    const std::vector<double> ref_test = doc.at("test_loss").get<std::vector<double>>();
    const Experiment& exp = find_experiment("mnist1d-baselines");
    Json cfg;
    for (const ParamSpec& p : exp.schema().params())
        cfg[p.name] = p.default_value.is_array() ? p.default_value[0] : p.default_value;
    cfg["model"] = "mlp";
    cfg["shuffle_features"] = false;
    cfg["steps"] = static_cast<int64_t>(ref_test.size()) - 1;
    cfg["eval_every"] = 1;
    cfg["init_from"] = init_path();
    RunContext ctx;
    std::vector<RunOutcome> out = exp.run_pack({cfg}, ctx);
    ASSERT_EQ(out.size(), 1u);
    size_t seen = 0;
    for (const Metric& m : out[0].metrics) {
        if (m.key != "test_loss") continue;
        ASSERT_LT(static_cast<size_t>(m.step), ref_test.size());
        EXPECT_NEAR(m.value, ref_test[static_cast<size_t>(m.step)], kLossTol) << "after step " << m.step;
        ++seen;
    }
    EXPECT_EQ(seen, ref_test.size());
}

}  // namespace
}  // namespace benchtop
