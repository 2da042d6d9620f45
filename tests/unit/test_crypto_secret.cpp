#include "crypto/minisign.hpp"
#include "crypto/seal.hpp"
#include "crypto/secret.hpp"

#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

using namespace bwv;
using bwv::test::contains;
using bwv::test::put_file;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("crypto::secret");

TEST_CASE("SecretBytes: a view without copies, shrunk, moved by pointer") {
  crypto::SecretBytes b(8);
  std::memcpy(b.data(), "abcdefgh", 8);
  CHECK(b.view() == "abcdefgh");
  b.shrink(3);
  CHECK(b.view() == "abc");
  b.shrink(10); // never grows
  CHECK(b.size() == 3);
  const unsigned char* p = b.data();
  crypto::SecretBytes moved(std::move(b));
  CHECK(moved.data() == p);
  CHECK(b.data() == nullptr);
  CHECK(b.size() == 0);
}

TEST_CASE("secret_base64 is standard padded base64") {
  const unsigned char bytes[] = {'f', 'o', 'o', 'b'};
  CHECK(crypto::secret_base64(bytes, 4).view() == "Zm9vYg==");
  CHECK(crypto::secret_base64(bytes, 3).view() == "Zm9v");
}

// The bits alone decide, so these hold when the tests run as root (who could read any file).
TEST_CASE("read_secret_file refuses a key file that grants group or others any access") {
  TmpDir tmp;
  const auto key_file = tmp / "store.key";
  const crypto::SecretKey sk = crypto::SecretKey::generate();
  put_file(key_file, sk.to_file(std::nullopt)->view());
  for (const unsigned mode : {0644u, 0640u, 0604u, 0620u, 0602u, 0610u, 0601u, 0660u, 0666u, 0777u, 0440u}) {
    CAPTURE(mode);
    REQUIRE(::chmod(key_file.c_str(), mode) == 0);
    const auto r = crypto::read_secret_file(key_file);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::permission);
    CHECK(r.error().subject == key_file.string());
    CHECK(contains(r.error().message, "chmod 600"));
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    CHECK(contains(r.error().message, octal));
  }
  for (const unsigned mode : {0600u, 0400u, 0200u}) {
    CAPTURE(mode);
    REQUIRE(::chmod(key_file.c_str(), mode) == 0);
    const auto r = crypto::read_secret_file(key_file);
    REQUIRE_MESSAGE(r, why(r));
    const auto back = crypto::SecretKey::parse(r->view(), key_file.string(), std::nullopt);
    REQUIRE_MESSAGE(back, why(back));
    CHECK(back->public_key() == sk.public_key());
  }
}

TEST_CASE("read_secret_file refuses links, other files and oversized files") {
  TmpDir tmp;
  put_file(tmp / "real.key", "secret\n");
  REQUIRE(::chmod((tmp / "real.key").c_str(), 0600) == 0);
  std::filesystem::create_symlink(tmp / "real.key", tmp / "link.key");
  const auto link = crypto::read_secret_file(tmp / "link.key");
  REQUIRE_FALSE(link);
  CHECK(contains(link.error().message, "symbolic link"));
  std::filesystem::create_directory(tmp / "dir.key");
  CHECK_FALSE(crypto::read_secret_file(tmp / "dir.key"));
  CHECK(crypto::read_secret_file(tmp / "real.key", 7));
  const auto big = crypto::read_secret_file(tmp / "real.key", 6);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Errc::check_failed);
  put_file(tmp / "empty.key", "");
  REQUIRE(::chmod((tmp / "empty.key").c_str(), 0600) == 0);
  const auto empty = crypto::read_secret_file(tmp / "empty.key");
  REQUIRE_MESSAGE(empty, why(empty));
  CHECK(empty->view().empty());
}

TEST_CASE("key files are written from guarded memory and read back from it") {
  const crypto::SealSecretKey seal = crypto::SealSecretKey::generate();
  const crypto::SecretBytes file = seal.to_file();
  CHECK(file.view().starts_with("untrusted comment: bwv store sealing secret key "));
  CHECK(file.view().ends_with("\n"));
  const auto back = crypto::SealSecretKey::parse(file.view(), "seal.key");
  REQUIRE_MESSAGE(back, why(back));
  CHECK(back->public_key().pk == seal.public_key().pk);
  CHECK(back->public_key().id == seal.public_key().id);
  // Bad base64 and the wrong algorithm are refused without a copy of the payload.
  CHECK_FALSE(crypto::SealSecretKey::parse("untrusted comment: x\nnot base64!\n", "k"));
  const std::string pub_file = seal.public_key().to_file();
  CHECK_FALSE(crypto::SecretKey::parse(pub_file, "k", std::nullopt));
}

TEST_SUITE_END();
