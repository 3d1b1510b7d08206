// The MNIST-1D training split the end-to-end benchmarks train on: read from the frozen files
// (x_train.f32, y_train.u8) in `dir`, or, when they are not readable, random data of the same
// shape so that a benchmark still runs.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/tensor/tensor.h"

namespace benchtop::e2e {

struct Data {
    Tensor x;  // [N, 40] float32
    Tensor y;  // [N] int32
};

inline Data load_or_fake(const std::string& dir) {
    const int64_t n = 4000, d = 40;
    Data data{Tensor::empty({n, d}), Tensor::empty({n}, DType::I32)};
    std::ifstream fx(dir + "/x_train.f32", std::ios::binary),
        fy(dir + "/y_train.u8", std::ios::binary);
    if (fx && fy) {
        fx.read(static_cast<char*>(data.x.raw()), static_cast<std::streamsize>(data.x.nbytes()));
        std::vector<unsigned char> y(static_cast<size_t>(n));
        fy.read(reinterpret_cast<char*>(y.data()), n);
        if (fx && fy) {
            for (int64_t i = 0; i < n; ++i) data.y.data<int32_t>()[i] = y[static_cast<size_t>(i)];
            return data;
        }
    }
    std::fprintf(stderr, "note: %s not readable, using random data of the same shape\n",
                 dir.c_str());
    Rng rng(stream_key(0, 0, Purpose::Data));
    for (int64_t i = 0; i < n * d; ++i) data.x.data<float>()[i] = static_cast<float>(rng.normal());
    for (int64_t i = 0; i < n; ++i) data.y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
    return data;
}

}  // namespace benchtop::e2e
