// The MNIST-1D reference CNN ("ConvBase"), for a stack of K members:
// conv1 1->C k5 s2 p1 (40->19), ReLU; conv2 C->C k3 s2 p1 (19->10), ReLU;
// conv3 C->C k3 s2 p1 (10->5), ReLU; flatten C*5; linear -> out. PyTorch names and layouts.
#pragma once

#include "benchtop/nn/params.h"

namespace benchtop {

struct CnnSpec {
    int64_t length = 40;
    int64_t channels = 25;
    int64_t out = 10;
};

int64_t cnn_flat_features(const CnnSpec& spec);
void add_cnn_params(ParamSet& ps, const CnnSpec& spec);
// x [K or 1, B, length] -> logits [K, B, out].
Var cnn_forward(ParamSet& ps, const CnnSpec& spec, Var x);

}  // namespace benchtop
