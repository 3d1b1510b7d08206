#include "benchtop/nn/model_init.h"

#include <string>

#include "benchtop/nn/init.h"

namespace benchtop {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void init_torch_default(ParamSet& ps, std::span<const uint64_t> seeds,
                        std::span<const double> scale) {
    for (auto& e : ps.entries()) {
        const std::string& n = e.name;
        if (n.rfind("gru.", 0) == 0) {
            // torch.nn.GRU: every weight and bias uniform(±1/sqrt(hidden)); hidden = cols of W_hh.
            int64_t hidden = ps.value("gru.weight_hh_l0").shape().back();
            init_default(ps, n, seeds, scale, hidden);
        } else if (ends_with(n, ".bias")) {
            std::string w = n.substr(0, n.size() - 5) + ".weight";
            BENCHTOP_CHECK(ps.contains(w), "init_torch_default: bias '", n, "' has no weight '", w, "'");
            Fans f = compute_fans(ps.value(w).member(0).shape());
            init_default(ps, n, seeds, scale, f.fan_in);
        } else {
            init_default(ps, n, seeds, scale);
        }
    }
}

}  // namespace benchtop
