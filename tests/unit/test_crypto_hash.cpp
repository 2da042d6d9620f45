#include "crypto/hash.hpp"

#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <sodium.h>

#include <string>

using namespace bwv;
using bwv::test::put_file;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("crypto::hash");

namespace {

const std::string k_sha_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string k_sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string blake_hex(const std::array<unsigned char, 64>& d) { return text::to_hex(d); }

} // namespace

TEST_CASE("SHA-256 known vectors") {
  CHECK(crypto::sha256_hex("") == k_sha_empty);
  CHECK(crypto::sha256_hex("abc") == k_sha_abc);
  CHECK(crypto::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(crypto::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(crypto::hex(crypto::sha256("abc")) == k_sha_abc);
}

TEST_CASE("SHA-256 streamed in pieces equals one shot, and finish resets") {
  const std::string data = test::random_bytes(3 * 1048576 + 12345);
  const std::string whole = crypto::sha256_hex(data);
  crypto::Sha256 h;
  std::size_t pos = 0, piece = 1;
  while (pos < data.size()) {
    const std::size_t n = std::min(piece, data.size() - pos);
    h.update(data.data() + pos, n);
    pos += n;
    piece = piece * 3 + 1;
  }
  CHECK(crypto::hex(h.finish()) == whole);
  // Reusable after finish.
  h.update("a");
  h.update("bc");
  CHECK(crypto::hex(h.finish()) == k_sha_abc);
  CHECK(crypto::hex(h.finish()) == k_sha_empty);
  h.update(nullptr, 0);
  CHECK(crypto::hex(h.finish()) == k_sha_empty);
}

TEST_CASE("Sha256 moves") {
  crypto::Sha256 a;
  a.update("ab");
  crypto::Sha256 b(std::move(a));
  b.update("c");
  CHECK(crypto::hex(b.finish()) == k_sha_abc);
  crypto::Sha256 c;
  c = std::move(b);
  c.update("abc");
  CHECK(crypto::hex(c.finish()) == k_sha_abc);
}

TEST_CASE("sha256_file equals sha256_hex of the content") {
  TmpDir tmp;
  for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(1048575), std::size_t(1048576),
                           std::size_t(1048577), std::size_t(2 * 1048576 + 99)}) {
    CAPTURE(size);
    const std::string data = test::random_bytes(size);
    const fs::Path p = tmp / ("f" + std::to_string(size));
    put_file(p, data);
    const auto d = crypto::sha256_file(p);
    REQUIRE_MESSAGE(d, why(d));
    CHECK(crypto::hex(*d) == crypto::sha256_hex(data));
  }
  put_file(tmp / "abc", "abc");
  CHECK(crypto::hex(*crypto::sha256_file(tmp / "abc")) == k_sha_abc);
}

TEST_CASE("sha256_file refuses a symlink and a missing file") {
  TmpDir tmp;
  put_file(tmp / "abc", "abc");
  std::filesystem::create_symlink(tmp / "abc", tmp / "link");
  CHECK_FALSE(crypto::sha256_file(tmp / "link"));
  CHECK_FALSE(crypto::sha256_file(tmp / "absent"));
  CHECK_FALSE(crypto::sha256_file(tmp.path()));
}

TEST_CASE("BLAKE2b-512 known vectors and streaming") {
  crypto::Blake2b512 empty;
  CHECK(blake_hex(empty.finish()) ==
        "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
        "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
  crypto::Blake2b512 abc;
  abc.update("abc", 3);
  CHECK(blake_hex(abc.finish()) ==
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");

  const std::string data = test::random_bytes(1000003);
  std::array<unsigned char, 64> expected{};
  crypto_generichash(expected.data(), 64, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  crypto::Blake2b512 pieces;
  for (std::size_t pos = 0, n = 1; pos < data.size(); pos += n, n = n * 2 + 1)
    pieces.update(data.data() + pos, std::min(n, data.size() - pos));
  CHECK(pieces.finish() == expected);
}

TEST_SUITE_END();
