#include "benchtop/tensor/arena.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace benchtop {

namespace {
constexpr size_t kAlign = 64;
void free_bytes(std::byte* p) { std::free(p); }
}  // namespace

Arena::Arena(size_t initial_bytes) { add_chunk(initial_bytes); }

void Arena::add_chunk(size_t min_bytes) {
    size_t size = std::max<size_t>((min_bytes + kAlign - 1) / kAlign * kAlign, kAlign);
    void* p = std::aligned_alloc(kAlign, size);
    if (!p) throw std::bad_alloc();
    chunks_.push_back({{static_cast<std::byte*>(p), free_bytes}, size});
    offset_ = 0;
}

void* Arena::alloc(size_t bytes) {
    size_t need = (bytes + kAlign - 1) / kAlign * kAlign;
    if (need == 0) need = kAlign;
    if (offset_ + need > chunks_.back().size) add_chunk(std::max(need, chunks_.back().size * 2));
    void* p = chunks_.back().mem.get() + offset_;
    offset_ += need;
    used_ += need;
    high_water_ = std::max(high_water_, used_);
    return p;
}

void Arena::reset() {
    if (chunks_.size() > 1) {
        chunks_.clear();
        add_chunk(high_water_);
    }
    offset_ = 0;
    used_ = 0;
}

size_t Arena::capacity() const {
    size_t c = 0;
    for (const auto& ch : chunks_) c += ch.size;
    return c;
}

}  // namespace benchtop
