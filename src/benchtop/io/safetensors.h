// Reading and writing the safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then
// the raw little-endian data (offsets relative to the data section). F32 and F64 only.
// Every error is a benchtop::Error naming the file (and the tensor and shapes where relevant);
// reading never touches bytes beyond the file. Writing goes to a temp file renamed into place.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "benchtop/nn/params.h"

namespace benchtop {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct SafetensorsFile {
    NamedTensors tensors;  // in data-offset order
    std::map<std::string, std::string> metadata;
    // The tensor named `name`; throws naming the file and the tensor if absent.
    const Tensor& get(const std::string& name) const;
    std::string path;
};

SafetensorsFile read_safetensors(const std::string& path);
void write_safetensors(const std::string& path,
                       const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Writes member `member`'s parameters with their per-member (PyTorch) shapes, or with
// member = -1 the stacked [K, ...] tensors.
void save_params(const std::string& path,
                 const ParamSet& params,
                 int64_t member,
                 const std::map<std::string, std::string>& metadata = {});
// Loads every parameter of `params` from the file into member `member` (file shapes are
// per-member), or with member = -1 into all members (file shapes are the stacked shapes).
// Float64 and float32 files convert to the ParamSet dtype.
void load_params(const std::string& path, ParamSet& params, int64_t member);

}  // namespace benchtop
