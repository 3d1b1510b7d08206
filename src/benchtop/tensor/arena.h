// Arena: bump allocator for the tensors of one training step.
// alloc() hands out 64-byte aligned blocks; reset() frees everything at once. When a step
// needed more than one chunk, reset() replaces the chunks by one chunk of the high-water
// size, so after the first step no step calls malloc.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace benchtop {

class Arena {
public:
    explicit Arena(size_t initial_bytes = size_t{1} << 20);
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    void* alloc(size_t bytes);
    void reset();
    size_t capacity() const;
    size_t high_water() const { return high_water_; }

private:
    struct Chunk {
        std::unique_ptr<std::byte[], void (*)(std::byte*)> mem;
        size_t size;
    };
    void add_chunk(size_t min_bytes);

    std::vector<Chunk> chunks_;
    size_t offset_ = 0;  // into chunks_.back()
    size_t used_ = 0;    // total bytes handed out since reset
    size_t high_water_ = 0;
};

}  // namespace benchtop
