#include "benchtop/experiments/mnist1d_data.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "benchtop/data/mnist1d_files.h"
#include "benchtop/experiments/schema.h"

namespace benchtop {

std::shared_ptr<const Mnist1dData> mnist1d_dataset(const Mnist1dSource& src) {
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<const Mnist1dData>> cache;
    const Mnist1dArgs& a = src.args;
    Json key = {src.data_dir, src.shuffle_features, a.num_samples, a.train_split, a.template_len, a.padding_lo,
                a.padding_hi, a.scale_coeff, a.max_translation, a.corr_noise_scale, a.iid_noise_scale,
                a.shear_scale, a.shuffle_seq, a.final_seq_length, a.seed};
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key.dump());
    if (it != cache.end()) return it->second;
    Mnist1dData d = to_float32(src.data_dir.empty() ? make_mnist1d(a) : load_mnist1d(src.data_dir));
    if (src.shuffle_features) {
        std::vector<int64_t> perm = feature_permutation(d.x_train.size(1), 42);
        d.x_train = shuffle_features(d.x_train, perm);
        d.x_test = shuffle_features(d.x_test, perm);
    }
    auto p = std::make_shared<const Mnist1dData>(std::move(d));
    cache.emplace(key.dump(), p);
    return p;
}

std::shared_ptr<const Mnist1dData> mnist1d_split(const Json& c) {
    Mnist1dSource src;
    src.args.num_samples = c["num_samples"].get<int64_t>();
    const int64_t n_all = src.args.num_samples / 10 * 10;
    src.args.train_split = static_cast<double>(c["train_examples"].get<int64_t>()) / static_cast<double>(n_all);
    src.args.seed = c["data_seed"].get<uint32_t>();
    return mnist1d_dataset(src);
}

void check_mnist1d_split(const std::string& experiment, const Json& c) {
    if (c["train_examples"].get<int64_t>() >= c["num_samples"].get<int64_t>() / 10 * 10)
        throw UsageError(experiment + ": train_examples (" + format_value(c["train_examples"]) +
                         ") must be below num_samples (" + format_value(c["num_samples"]) + ")");
}

Tensor per_member_label_noise(const Tensor& y, std::span<const double> fractions,
                              std::span<const uint64_t> seeds) {
    BENCHTOP_CHECK(fractions.size() == seeds.size(), "per_member_label_noise: ", fractions.size(),
                   " fractions for ", seeds.size(), " seeds");
    const auto K = static_cast<int64_t>(seeds.size());
    const int64_t N = y.size(0);
    Tensor labels = Tensor::empty({K, N}, DType::I32);
    for (int64_t k = 0; k < K; ++k) {
        Tensor noisy = apply_label_noise(y, fractions[size_t(k)], seeds[size_t(k)]);
        std::copy_n(noisy.data<int32_t>(), N, labels.data<int32_t>() + k * N);
    }
    return labels;
}

std::string expand_weights_path(std::string path, const Json& c) {
    auto sub = [&](const std::string& key, const std::string& val) {
        for (size_t p; (p = path.find("{" + key + "}")) != std::string::npos;) path.replace(p, key.size() + 2, val);
    };
    if (c.contains("model")) sub("model", c["model"].get<std::string>());
    if (c.contains("seed")) sub("seed", std::to_string(c["seed"].get<int64_t>()));
    if (c.contains("shuffle_features")) sub("shuffle_features", c["shuffle_features"].get<bool>() ? "shuffled" : "original");
    return path;
}

}  // namespace benchtop
