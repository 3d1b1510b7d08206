// SHA-256 (FIPS 180-4), small and dependency-free: the store records the digest of every artifact
// file so that a figure or checkpoint can later be matched to the run that wrote it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace benchtop {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // The digest of everything passed to update(); the object must not be updated afterwards.
    std::array<uint8_t, 32> finish();
    // finish() as 64 lowercase hex digits.
    std::string finish_hex();

private:
    void block(const uint8_t* p);
    std::array<uint32_t, 8> h_;
    std::array<uint8_t, 64> buf_{};
    size_t buf_len_ = 0;
    uint64_t total_bytes_ = 0;
};

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Lowercase hex SHA-256 of the file's bytes; throws Error naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace benchtop
