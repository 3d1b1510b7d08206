// Tests of SHA-256 against the FIPS 180-4 example vectors, of incremental hashing across block
// boundaries, and of hashing files.
#include "benchtop/store/sha256.h"

#include <gtest/gtest.h>

#include "benchtop/core/error.h"
#include "store/temp_dir.h"

namespace benchtop {
namespace {

TEST(Sha256, StandardVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    std::string data;
    for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7 + 3);
    const std::string expected = sha256_hex(data);
    for (size_t chunk : {1, 3, 55, 56, 63, 64, 65, 127, 999}) {
        Sha256 h;
        for (size_t at = 0; at < data.size(); at += chunk)
            h.update(std::string_view(data).substr(at, chunk));
        EXPECT_EQ(h.finish_hex(), expected) << "chunk " << chunk;
    }
    // Lengths around the padding boundary (55/56/64 bytes) against one-shot hashing of copies.
    EXPECT_EQ(sha256_hex(std::string(55, 'x')).size(), 64u);
    EXPECT_NE(sha256_hex(std::string(55, 'x')), sha256_hex(std::string(56, 'x')));
}

TEST(Sha256, File) {
    test::TempDir dir;
    const std::string path = dir.file("abc.txt");
    test::write_bytes(path, "abc");
    EXPECT_EQ(sha256_file(path),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    test::write_bytes(path, std::string(200000, 'a'));
    EXPECT_EQ(sha256_file(path), sha256_hex(std::string(200000, 'a')));
    EXPECT_THROW(sha256_file(dir.file("missing.txt")), Error);
    try {
        sha256_file(dir.file("missing.txt"));
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace benchtop
