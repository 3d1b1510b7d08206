// The kernel paths (generic, AVX2, AVX-512) give the same bits: a short training of every model
// under each path this CPU executes ends in bit-identical parameters and curves, and the
// experiments store bit-identical summaries. Fingerprints of the final parameters, committed
// below, extend the comparison to other machines: they are change detectors (written by this
// code on the machine named with them), not evidence that the numbers are right — the golden
// and gradient tests are that.
#include <gtest/gtest.h>

#include "benchtop/attacks/attacks.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/kernels/dispatch.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/train/classifier.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

struct Toy {
    Tensor x_train, y_train, x_test, y_test;
};

Toy toy_data() {
    Rng rng(stream_key(19, 0, Purpose::Data));
    auto make = [&](int64_t n, Tensor& x, Tensor& y) {
        x = Tensor::empty({n, 40}, DType::F32);
        y = Tensor::empty({n}, DType::I32);
        for (int64_t i = 0; i < n; ++i) {
            const int32_t label = static_cast<int32_t>(rng.below(10));
            y.data<int32_t>()[i] = label;
            for (int64_t j = 0; j < 40; ++j)
                x.data<float>()[i * 40 + j] =
                    static_cast<float>(rng.normal() + (j % 10 == label ? 1.0 : 0.0));
        }
    };
    Toy t;
    make(64, t.x_train, t.y_train);
    make(32, t.x_test, t.y_test);
    return t;
}

struct Trained {
    std::vector<uint8_t> params;  // every parameter's bytes, in ParamSet order
    std::vector<MemberCurve> curves;
};

// Two members (different seeds and learning rates) of `kind`, 16 steps of Adam or SGD with
// momentum, on the active path.
Trained train(ModelKind kind, OptimizerKind opt) {
    ClassifierSpec spec;
    spec.kind = kind;
    spec.width = kind == ModelKind::Gru ? 5 : kind == ModelKind::Cnn ? 6 : 20;
    spec.depth = 3;
    const Toy d = toy_data();
    ParamSet ps(2);
    add_classifier_params(ps, spec);
    const std::vector<uint64_t> seeds{4, 9};
    init_torch_default(ps, seeds);
    TrainOptions o;
    o.steps = 16;
    o.batch = 16;
    o.eval_every = 8;
    o.lr = std::vector<double>{1e-2, 3e-2};
    o.optimizer = opt;
    o.momentum = 0.9;
    o.seeds = seeds;
    o.shuffle_each_epoch = opt == OptimizerKind::Sgd;
    Trained t;
    t.curves = train_classifier(ps, spec, {&d.x_train, &d.y_train, &d.x_test, &d.y_test}, o);
    for (const auto& e : ps.entries()) {
        const auto* p = static_cast<const uint8_t*>(e.value.raw());
        t.params.insert(t.params.end(), p, p + e.value.nbytes());
    }
    return t;
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
    return h;
}

std::string hex(uint64_t v) {
    char buf[19];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

struct ModelCase {
    const char* name;
    ModelKind kind;
    OptimizerKind opt;
    // FNV-1a of the final parameters, written on an Intel Xeon (Sapphire/Emerald Rapids class,
    // AVX-512) with each path in turn, all equal.
    uint64_t fingerprint;
};

const ModelCase kModels[] = {
    {"logistic", ModelKind::Logistic, OptimizerKind::Adam, 0x127dee53d2bf43f9ull},
    {"mlp", ModelKind::Mlp, OptimizerKind::Adam, 0x799ca37f0fad0f1dull},
    {"cnn", ModelKind::Cnn, OptimizerKind::Adam, 0x3d1cefdd24b4bd92ull},
    {"gru", ModelKind::Gru, OptimizerKind::Adam, 0x846be308ae4bc771ull},
    {"deep_mlp_sgd", ModelKind::DeepMlp, OptimizerKind::Sgd, 0x9f92897cba466597ull},
    {"cnn_sgd", ModelKind::Cnn, OptimizerKind::Sgd, 0x04e3da00644e0eb6ull},
};

std::vector<Isa> executable_paths() {
    std::vector<Isa> out;
    for (Isa isa : kAllIsas) {
        if (isa_supported(isa))
            out.push_back(isa);
        else
            std::printf("[ SKIPPED  ] kernel path %s: %s\n", isa_name(isa),
                        isa_unsupported_reason(isa).c_str());
    }
    return out;
}

TEST(KernelPaths, TrainingGivesTheSameBitsOnEveryPath) {
    for (const ModelCase& m : kModels) {
        Trained ref;
        {
            const kernels::ScopedIsa path(Isa::Generic);
            ref = train(m.kind, m.opt);
        }
        ASSERT_FALSE(ref.params.empty());
        EXPECT_NE(ref.curves[0].train_loss.front(), ref.curves[0].train_loss.back()) << m.name;
        for (Isa isa : executable_paths()) {
            if (isa == Isa::Generic) continue;
            const kernels::ScopedIsa path(isa);
            const Trained got = train(m.kind, m.opt);
            ASSERT_EQ(got.params.size(), ref.params.size());
            EXPECT_EQ(std::memcmp(got.params.data(), ref.params.data(), ref.params.size()), 0)
                << m.name << ": parameters on " << isa_name(isa) << " differ from generic";
            for (size_t k = 0; k < ref.curves.size(); ++k) {
                EXPECT_EQ(got.curves[k].train_loss, ref.curves[k].train_loss) << m.name;
                EXPECT_EQ(got.curves[k].test_loss, ref.curves[k].test_loss) << m.name;
                EXPECT_EQ(got.curves[k].test_acc, ref.curves[k].test_acc) << m.name;
            }
        }
    }
}

// Input gradients (what the attacks use): of the loss and of every logit, for each model.
TEST(KernelPaths, InputGradientsAreTheSameOnEveryPath) {
    for (ModelKind kind : {ModelKind::Logistic, ModelKind::Mlp, ModelKind::Cnn}) {
        ClassifierSpec spec{.kind = kind, .in = 40, .out = 10, .width = kind == ModelKind::Cnn ? 5 : 16};
        ParamSet ps(2);
        add_classifier_params(ps, spec);
        init_torch_default(ps, std::vector<uint64_t>{1, 2});
        ClassifierTarget target(ps, spec);
        Tensor x = Tensor::empty({2, 7, 40}, DType::F32);
        Rng rng(5);
        for (int64_t i = 0; i < x.numel(); ++i) x.set(i, rng.normal());
        const Tensor y = Tensor::from<int32_t>({7}, {0, 1, 2, 3, 4, 5, 6});
        std::vector<double> ref_loss, ref_logit;
        {
            const kernels::ScopedIsa path(Isa::Generic);
            ref_loss = target.loss_gradient(x, y).to_vector();
            ref_logit = target.logit_gradients(x).to_vector();
        }
        for (Isa isa : executable_paths()) {
            const kernels::ScopedIsa path(isa);
            EXPECT_EQ(target.loss_gradient(x, y).to_vector(), ref_loss) << int(kind) << " " << isa_name(isa);
            EXPECT_EQ(target.logit_gradients(x).to_vector(), ref_logit) << int(kind) << " " << isa_name(isa);
        }
    }
}

TEST(KernelPaths, FingerprintsOfShortTrainingsMatchTheCommittedOnes) {
    // On the fastest path this CPU has; a mismatch means this machine (or a change to the
    // code) gives other bits than the machine that wrote the fingerprints.
    for (const ModelCase& m : kModels) {
        const uint64_t got = fnv1a(train(m.kind, m.opt).params);
        EXPECT_EQ(hex(got), hex(m.fingerprint))
            << m.name << " on " << isa_name(kernels::active_isa()) << " (" << cpu_info().model
            << "): if the change is intended, commit the new fingerprint";
    }
}

// The stored summaries of each experiment (small configurations) under every path.
std::vector<std::map<std::string, double>> summaries(const std::string& exp,
                                                     const std::vector<std::string>& overrides) {
    test::ExperimentRun run(exp, overrides);
    EXPECT_EQ(run.complete, static_cast<int64_t>(run.grid_size)) << exp;
    std::vector<std::map<std::string, double>> out;
    for (const RunRow& r : run.store().runs(exp)) {
        std::map<std::string, double> s = r.summaries;
        s.erase("wall_s");
        out.push_back(s);
    }
    return out;
}

void expect_bit_equal(const std::vector<std::map<std::string, double>>& a,
                      const std::vector<std::map<std::string, double>>& b,
                      const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].size(), b[i].size()) << what;
        for (const auto& [key, value] : a[i]) {
            const double other = b[i].at(key);
            EXPECT_EQ(std::memcmp(&value, &other, sizeof value), 0)
                << what << " run " << i << " " << key << ": " << value << " vs " << other;
        }
    }
}

TEST(KernelPathsExperiments, StoredSummariesAreTheSameOnEveryPath) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> configs = {
        {"mnist1d-baselines", {"steps=20", "eval_every=10", "seed=0"}},
        {"double-descent",
         {"model=mlp,cnn", "width=4,8", "epochs=2", "eval_every=1", "num_samples=300",
          "train_examples=200", "seed=0"}},
        {"linear-regions", {"width=8", "depth=2", "steps=40", "lines=3", "resolution=24"}},
        {"memorization",
         {"num_samples=300", "train_examples=200", "width=16", "hidden_layers=2", "epochs=2", "seed=0"}},
        {"memorization",
         {"protocol=depth", "data=permuted", "hidden_layers=1,2", "param_budget=600", "gd_epochs=5",
          "num_samples=300", "train_examples=200", "seed=0"}},
        {"init-scale", {"depth=5", "width=8", "inputs=10", "sigma2_scale=0.5,1", "seed=0"}},
        {"trainability",
         {"depth=2", "width=8", "steps=20", "train_examples=200", "init_scale=0.1,1", "norm=none,batch",
          "residual=true"}},
        {"implicit-regularization",
         {"width=8", "num_samples=300", "train_examples=200", "lr=0.5", "batch=20,200", "distance=5",
          "min_epochs=2", "power_iterations=3"}},
        {"lottery-ticket",
         {"hidden=16", "steps=20", "eval_every=10", "rounds=2", "num_samples=300", "train_examples=200", "seed=0",
          "prune_scope=layer,global", "rewind_step=0,5"}},
        {"grokking", {"p=7", "d_model=16", "n_heads=2", "d_mlp=32", "steps=20", "layer_norm=false,true"}},
        {"grokking",
         {"protocol=omnigrok", "mlp_width=16", "mlp_steps=20", "mlp_eval_every=10", "mlp_batch=50",
          "num_samples=300", "train_examples=200"}},
        {"adversarial",
         {"model=mlp,cnn", "adv_train=false,true", "steps=20", "num_samples=300", "train_examples=200",
          "attack_examples=20", "pgd_steps=3", "bisections=3", "boundary_examples=10", "boundary_steps=20",
          "seed=0"}},
        {"analysis-by-synthesis",
         {"model=gmm,mlp,abs", "train_size=100", "steps=20", "vae_steps=20", "samples=5", "search_steps=3",
          "noise_examples=20", "num_samples=300", "train_examples=200", "seed=0"}},
        {"alphazero",
         {"games=40", "games_per_round=20", "train_steps=5", "hidden=16", "checkpoint_every=0", "eval_games=4",
          "opponent_games=2", "budget_games=2", "seed=0,1"}},
        {"invariance",
         {"method=erm,irm,vrex", "hidden=8", "steps=12", "eval_every=6", "anneal_steps=6", "num_samples=300",
          "train_examples=200", "seed=0"}},
        {"in-context",
         {"model=lsa,gpt", "layers=2", "d=3", "n=4", "width=8", "heads=2", "steps=10", "batch=16", "eval_every=5",
          "eval_prompts=20", "seed=0,1"}},
        {"contrastive",
         {"method=simclr,simsiam,byol", "channels=4", "proj_hidden=8", "proj_dim=4", "pred_hidden=4", "epochs=2",
          "batch=50", "num_samples=300", "train_examples=200", "probe_draws=1", "labels_per_class=2", "supervised_steps=3",
          "eval_every=1", "seed=0,1"}},
        {"arithmetic",
         {"format=plain,scratchpad", "digits=2", "layers=1", "d_model=8", "heads=2", "d_mlp=16", "train_examples=50",
          "steps=5", "batch=16", "eval_every=5", "test_examples=20", "length_examples=10", "seed=0,1"}},
    };
    for (const auto& [exp, overrides] : configs) {
        std::vector<std::map<std::string, double>> ref;
        {
            const kernels::ScopedIsa path(Isa::Generic);
            ref = summaries(exp, overrides);
        }
        ASSERT_FALSE(ref.empty()) << exp;
        for (Isa isa : executable_paths()) {
            if (isa == Isa::Generic) continue;
            const kernels::ScopedIsa path(isa);
            expect_bit_equal(summaries(exp, overrides), ref, exp + " on " + isa_name(isa));
        }
    }
}

}  // namespace
}  // namespace benchtop
