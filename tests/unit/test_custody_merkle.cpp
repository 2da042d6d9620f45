// RFC 6962 Merkle hashing of custody lines, C2SP checkpoints in signed notes, and the store's
// kept checkpoints as bwv-verify checks them.
#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "crypto/minisign.hpp"
#include "custody/checkpoint.hpp"
#include "custody/log.hpp"
#include "custody/merkle.hpp"
#include "store/checkpoint.hpp"
#include "store/store.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::TmpDir;
using bwv::test::why;
namespace merkle = bwv::custody::merkle;
using merkle::Hash;

TEST_SUITE_BEGIN("custody::merkle");

namespace {

// The leaves and tree heads of RFC 6962's reference tests (certificate-transparency).
const std::vector<std::string> k_leaves_hex = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> k_roots_hex = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::string unhex(const std::string& hex) {
  const auto b = text::from_hex(hex, hex.size() / 2, "test");
  REQUIRE_MESSAGE(b, why(b));
  return std::string(b->begin(), b->end());
}

std::string hex(const Hash& h) {
  return text::to_hex(h);
}

std::vector<Hash> reference_leaves() {
  std::vector<Hash> out;
  for (const auto& h : k_leaves_hex) out.push_back(merkle::leaf_hash(unhex(h)));
  return out;
}

// Leaf hashes of distinct data, n of them.
std::vector<Hash> leaves_of(std::size_t n) {
  std::vector<Hash> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(merkle::leaf_hash("line " + std::to_string(i)));
  return out;
}

// The length RFC 6962's PATH(m, D[n]) has, counted independently of the implementation: one
// element for each split on the way down from the root to leaf m.
std::size_t expected_path_length(std::size_t m, std::size_t n) {
  std::size_t len = 0;
  std::size_t lo = 0, size = n;
  while (size > 1) {
    std::size_t k = 1;
    while (k * 2 < size) k *= 2;
    if (m - lo < k) {
      size = k;
    } else {
      lo += k;
      size -= k;
    }
    ++len;
  }
  return len;
}

Hash flipped(Hash h, std::size_t byte = 0) {
  h[byte] ^= 0x01;
  return h;
}

Hash sha256_of(std::string_view s) {
  return crypto::sha256(s);
}

constexpr std::string_view k_dash = "\xe2\x80\x94 ";

// A signed note of any body, built here from C2SP's rules rather than by the code under test.
std::string key_hash_of(std::string_view name, const crypto::PublicKey& pk) {
  std::string m(name);
  m += "\n\x01";
  m.append(reinterpret_cast<const char*>(pk.pk.data()), pk.pk.size());
  const Hash h = sha256_of(m);
  return std::string(reinterpret_cast<const char*>(h.data()), 4);
}

std::string signature_line(std::string_view body, std::string_view name, const crypto::SecretKey& key) {
  std::string sig = key_hash_of(name, key.public_key());
  unsigned char s[crypto_sign_BYTES];
  crypto_sign_detached(s, nullptr, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                       key.ed25519_sk());
  sig.append(reinterpret_cast<const char*>(s), sizeof s);
  const std::vector<unsigned char> bytes(sig.begin(), sig.end());
  return std::string(k_dash) + std::string(name) + " " + text::to_base64(bytes) + "\n";
}

std::string note_of(std::string_view body, std::string_view name, const crypto::SecretKey& key) {
  return std::string(body) + "\n" + signature_line(body, name, key);
}

custody::Checkpoint sample_checkpoint() {
  custody::Checkpoint c;
  c.origin = "bwv/0123456789abcdef/custody/dock01";
  c.size = 8;
  const auto r = unhex(k_roots_hex[7]);
  std::memcpy(c.root.data(), r.data(), 32);
  return c;
}

std::string root_b64(const Hash& h) {
  return text::to_base64(h);
}

} // namespace

// --- merkle -------------------------------------------------------------------------------------

TEST_CASE("leaf and node hashes carry RFC 6962's domain-separation prefixes") {
  CHECK(merkle::leaf_hash("abc") == sha256_of(std::string("\0abc", 4)));
  const Hash a = merkle::leaf_hash("a"), b = merkle::leaf_hash("b");
  std::string cat("\x01");
  cat.append(reinterpret_cast<const char*>(a.data()), 32);
  cat.append(reinterpret_cast<const char*>(b.data()), 32);
  CHECK(merkle::node_hash(a, b) == sha256_of(cat));
  CHECK(merkle::node_hash(a, b) != merkle::node_hash(b, a));
  // The empty leaf is SHA-256 of the single byte 0x00.
  CHECK(hex(merkle::leaf_hash("")) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST_CASE("tree heads of the RFC 6962 reference leaves, for 1 to 8 leaves") {
  const auto leaves = reference_leaves();
  for (std::size_t n = 1; n <= 8; ++n) {
    CAPTURE(n);
    CHECK(hex(merkle::root(std::span<const Hash>(leaves).first(n))) == k_roots_hex[n - 1]);
  }
}

TEST_CASE("the empty tree's head is SHA-256 of nothing") {
  CHECK(hex(merkle::root({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("inclusion proofs of the reference tree equal RFC 6962's reference paths") {
  const auto leaves = reference_leaves();
  const std::span<const Hash> all(leaves);
  struct Case {
    std::uint64_t index;
    std::size_t size;
    std::vector<std::string> path;
  };
  const std::vector<Case> cases = {
      {0, 8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5, 8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1, 5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6, 7,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {0, 1, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.index);
    CAPTURE(c.size);
    const auto proof = merkle::inclusion_proof(all.first(c.size), c.index);
    std::vector<std::string> got;
    for (const auto& h : proof) got.push_back(hex(h));
    CHECK(got == c.path);
    CHECK(merkle::verify_inclusion(c.index, c.size, leaves[c.index], proof, merkle::root(all.first(c.size))));
  }
}

TEST_CASE("inclusion proofs for every leaf of every tree of 1 to 40 leaves verify, and nothing else does") {
  const auto all = leaves_of(41);
  std::vector<Hash> roots;
  for (std::size_t n = 0; n <= 41; ++n) roots.push_back(merkle::root(std::span<const Hash>(all).first(n)));

  for (std::size_t n = 1; n <= 40; ++n) {
    const std::span<const Hash> leaves = std::span<const Hash>(all).first(n);
    const Hash& root = roots[n];
    for (std::uint64_t m = 0; m < n; ++m) {
      CAPTURE(n);
      CAPTURE(m);
      const Hash& leaf = leaves[m];
      auto proof = merkle::inclusion_proof(leaves, m);
      REQUIRE(proof.size() == expected_path_length(m, n));
      REQUIRE(merkle::verify_inclusion(m, n, leaf, proof, root));

      // Any other index of the same tree.
      for (std::uint64_t other = 0; other < n + 2; ++other)
        if (other != m) CHECK_FALSE(merkle::verify_inclusion(other, n, leaf, proof, root));
      // Another tree size, with that size's own head: a checkpoint gives size and root together.
      // (RFC 9162's check does not bind the size alone: the same root with a size that gives the
      // proof the same shape passes, which is why the size must come from the signed checkpoint.)
      if (n - 1 > m) CHECK_FALSE(merkle::verify_inclusion(m, n - 1, leaf, proof, roots[n - 1]));
      CHECK_FALSE(merkle::verify_inclusion(m, n + 1, leaf, proof, roots[n + 1]));
      // Another leaf (the neighbour's, and one altered bit).
      CHECK_FALSE(merkle::verify_inclusion(m, n, flipped(leaf), proof, root));
      if (n > 1) CHECK_FALSE(merkle::verify_inclusion(m, n, leaves[(m + 1) % n], proof, root));
      // A wrong root.
      CHECK_FALSE(merkle::verify_inclusion(m, n, leaf, proof, flipped(root, 31)));
      // Each proof element altered in turn.
      for (std::size_t i = 0; i < proof.size(); ++i) {
        auto bad = proof;
        bad[i] = flipped(bad[i], i % 32);
        CHECK_FALSE(merkle::verify_inclusion(m, n, leaf, bad, root));
      }
      // An element added (at the end or the start), or one missing.
      {
        auto longer = proof;
        longer.push_back(root);
        CHECK_FALSE(merkle::verify_inclusion(m, n, leaf, longer, root));
        longer = proof;
        longer.insert(longer.begin(), leaf);
        CHECK_FALSE(merkle::verify_inclusion(m, n, leaf, longer, root));
      }
      if (!proof.empty()) {
        auto shorter = proof;
        shorter.pop_back();
        CHECK_FALSE(merkle::verify_inclusion(m, n, leaf, shorter, root));
        shorter = proof;
        shorter.erase(shorter.begin());
        CHECK_FALSE(merkle::verify_inclusion(m, n, leaf, shorter, root));
      }
      // An index past the end of the tree.
      CHECK_FALSE(merkle::verify_inclusion(n, n, leaf, proof, root));
      CHECK_FALSE(merkle::verify_inclusion(n + 5, n, leaf, proof, root));
    }
  }
}

TEST_CASE("inclusion proof lengths are as RFC 6962 implies") {
  const auto all = leaves_of(33);
  const std::span<const Hash> s(all);
  for (std::uint64_t m = 0; m < 8; ++m) CHECK(merkle::inclusion_proof(s.first(8), m).size() == 3);
  for (std::uint64_t m = 0; m < 32; ++m) CHECK(merkle::inclusion_proof(s.first(32), m).size() == 5);
  CHECK(merkle::inclusion_proof(s.first(1), 0).empty());
  CHECK(merkle::inclusion_proof(s.first(7), 6).size() == 2); // the last leaf of 7: two subtrees left of it
  CHECK(merkle::inclusion_proof(s.first(33), 32).size() == 1); // beside a perfect 32
  CHECK(merkle::inclusion_proof(s.first(33), 0).size() == 6);
  // An index past the end gives no proof, and nothing verifies in an empty tree.
  CHECK(merkle::inclusion_proof(s.first(8), 8).empty());
  CHECK_FALSE(merkle::verify_inclusion(0, 0, all[0], {}, merkle::root({})));
}

// --- checkpoints --------------------------------------------------------------------------------

TEST_CASE("checkpoint body: origin, size and base64 root, each on its own line") {
  const auto c = sample_checkpoint();
  CHECK(c.body() == "bwv/0123456789abcdef/custody/dock01\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  CHECK(custody::note_key_name("0123456789abcdef") == "bwv/0123456789abcdef");
}

TEST_CASE("sign_checkpoint makes a C2SP signed note that open_checkpoint reads back") {
  const auto key = crypto::SecretKey::generate();
  const auto pub = key.public_key();
  const std::string name = "bwv/0123456789abcdef";
  const auto c = sample_checkpoint();
  const std::string note = custody::sign_checkpoint(c, name, key);

  // The exact layout: body, a blank line, one signature line.
  const std::string body = c.body();
  REQUIRE(note.starts_with(body + "\n" + std::string(k_dash) + name + " "));
  REQUIRE(note.ends_with("\n"));
  const std::string b64 = note.substr(body.size() + 1 + k_dash.size() + name.size() + 1,
                                      note.size() - (body.size() + 1 + k_dash.size() + name.size() + 1) - 1);
  CHECK(b64.find_first_of(" \n") == std::string::npos);
  const auto sig = text::from_base64(b64, "signature");
  REQUIRE_MESSAGE(sig, why(sig));
  REQUIRE(sig->size() == 68);
  // Key hash: the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
  CHECK(std::string(sig->begin(), sig->begin() + 4) == key_hash_of(name, pub));
  // The rest is a plain Ed25519 signature of the body's bytes.
  CHECK(crypto_sign_verify_detached(sig->data() + 4, reinterpret_cast<const unsigned char*>(body.data()),
                                    body.size(), pub.pk.data()) == 0);
  // Ed25519 is deterministic: the same checkpoint signs to the same note.
  CHECK(custody::sign_checkpoint(c, name, key) == note);
  // And a note built from the rules alone is the same.
  CHECK(note_of(body, name, key) == note);

  const auto back = custody::open_checkpoint(note, name, pub, "note");
  REQUIRE_MESSAGE(back, why(back));
  CHECK(back->origin == c.origin);
  CHECK(back->size == c.size);
  CHECK(back->root == c.root);
}

TEST_CASE("open_checkpoint refuses a changed body") {
  const auto key = crypto::SecretKey::generate();
  const std::string name = "bwv/0123456789abcdef";
  const auto c = sample_checkpoint();
  const std::string note = custody::sign_checkpoint(c, name, key);
  const std::string sigline = note.substr(c.body().size() + 1);

  auto with_body = [&](const custody::Checkpoint& other) { return other.body() + "\n" + sigline; };
  custody::Checkpoint bigger = c;
  bigger.size = 9;
  custody::Checkpoint other_root = c;
  other_root.root = flipped(c.root, 5);
  custody::Checkpoint other_origin = c;
  other_origin.origin = "bwv/0123456789abcdef/custody/dock02";
  for (const auto& changed : {bigger, other_root, other_origin}) {
    CAPTURE(changed.body());
    const auto r = custody::open_checkpoint(with_body(changed), name, key.public_key(), "note");
    REQUIRE_FALSE(r);
    CHECK(r.error().subject == "note");
    CHECK(contains(r.error().message, "signature verification failed"));
  }
  // A changed signature byte.
  std::string bad = note;
  const std::size_t at = note.size() - 10;
  bad[at] = bad[at] == 'A' ? 'B' : 'A';
  CHECK_FALSE(custody::open_checkpoint(bad, name, key.public_key(), "note"));
}

TEST_CASE("open_checkpoint refuses another key, another name, and a note that is not one") {
  const auto key = crypto::SecretKey::generate();
  const auto other = crypto::SecretKey::generate();
  const std::string name = "bwv/0123456789abcdef";
  const auto c = sample_checkpoint();
  const std::string note = custody::sign_checkpoint(c, name, key);

  SUBCASE("signed by another key under our name") {
    const auto r = custody::open_checkpoint(custody::sign_checkpoint(c, name, other), name, key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not signed by bwv/0123456789abcdef"));
  }
  SUBCASE("checked with another key") {
    CHECK_FALSE(custody::open_checkpoint(note, name, other.public_key(), "n"));
  }
  SUBCASE("signed by our key under another name only") {
    const auto r = custody::open_checkpoint(custody::sign_checkpoint(c, "bwv/fedcba9876543210", key), name,
                                            key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not signed by bwv/0123456789abcdef"));
  }
  SUBCASE("our name, but a key hash for another name") {
    // Signature bytes right, key hash computed for a different name: not ours.
    std::string line = signature_line(c.body(), "bwv/fedcba9876543210", key);
    line.replace(k_dash.size(), std::string_view("bwv/fedcba9876543210").size(), name);
    const auto r = custody::open_checkpoint(c.body() + "\n" + line, name, key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not signed by"));
  }
  SUBCASE("no blank line between body and signature") {
    std::string flat = note;
    flat.erase(c.body().size(), 1);
    const auto r = custody::open_checkpoint(flat, name, key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not a signed note"));
  }
  SUBCASE("no final newline") {
    CHECK_FALSE(custody::open_checkpoint(note.substr(0, note.size() - 1), name, key.public_key(), "n"));
  }
  SUBCASE("no signature at all") {
    const auto r = custody::open_checkpoint(c.body() + "\n", name, key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not signed by"));
  }
  SUBCASE("a signature line without the em dash") {
    std::string l = note;
    l.replace(c.body().size() + 1, k_dash.size(), "- ");
    CHECK_FALSE(custody::open_checkpoint(l, name, key.public_key(), "n"));
  }
  SUBCASE("larger than 64 KiB") {
    const std::string body = c.body() + std::string(70000, 'x') + "\n";
    const auto r = custody::open_checkpoint(note_of(body, name, key), name, key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "64 KiB"));
  }
}

TEST_CASE("open_checkpoint refuses a correctly signed body that is not a checkpoint") {
  const auto key = crypto::SecretKey::generate();
  const std::string name = "bwv/0123456789abcdef";
  const std::string origin = "bwv/0123456789abcdef/custody/dock01\n";
  const std::string root = root_b64(sample_checkpoint().root) + "\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a size with a leading zero", origin + "08\n" + root},
      {"a size of 00", origin + "00\n" + root},
      {"a signed size", origin + "+8\n" + root},
      {"a negative size", origin + "-8\n" + root},
      {"a size with a space", origin + "8 \n" + root},
      {"a size in hex", origin + "0x8\n" + root},
      {"a size of 20 digits", origin + "99999999999999999999\n" + root},
      {"no size", origin},
      {"an empty size", origin + "\n" + root},
      {"an empty origin", "\n8\n" + root},
      {"no root", origin + "8\n"},
      {"a root that is not base64", origin + "8\n" + "not*base64!\n"},
      {"a root in hex", origin + "8\n" + k_roots_hex[7] + "\n"},
      {"a root of 31 bytes", origin + "8\n" + text::to_base64(std::span<const unsigned char>(sample_checkpoint().root).first(31)) + "\n"},
      {"a root of 33 bytes", origin + "8\n" + text::to_base64(std::vector<unsigned char>(33, 7)) + "\n"},
  };
  for (const auto& [what, body] : bad) {
    CAPTURE(what);
    const auto r = custody::open_checkpoint(note_of(body, name, key), name, key.public_key(), "n");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not a checkpoint"));
  }
  // Size 0 is a size, and the largest 19-digit one too.
  const auto zero = custody::open_checkpoint(note_of(origin + "0\n" + root, name, key), name, key.public_key(), "n");
  REQUIRE_MESSAGE(zero, why(zero));
  CHECK(zero->size == 0);
  const auto big =
      custody::open_checkpoint(note_of(origin + "9999999999999999999\n" + root, name, key), name, key.public_key(), "n");
  REQUIRE_MESSAGE(big, why(big));
  CHECK(big->size == 9999999999999999999ull);
}

TEST_CASE("open_checkpoint accepts extension lines after the root, and skips other signers") {
  const auto key = crypto::SecretKey::generate();
  const auto witness = crypto::SecretKey::generate();
  const std::string name = "bwv/0123456789abcdef";
  const auto c = sample_checkpoint();

  const std::string extended = c.body() + "ext one\nanother extension\n";
  auto r = custody::open_checkpoint(note_of(extended, name, key), name, key.public_key(), "n");
  REQUIRE_MESSAGE(r, why(r));
  CHECK(r->origin == c.origin);
  CHECK(r->size == 8);
  CHECK(r->root == c.root);

  // A witness's cosignature first, then ours; and ours first, then the witness's.
  const std::string body = c.body();
  const std::string theirs = signature_line(body, "witness.example/w1", witness);
  const std::string ours = signature_line(body, name, key);
  r = custody::open_checkpoint(body + "\n" + theirs + ours, name, key.public_key(), "n");
  REQUIRE_MESSAGE(r, why(r));
  CHECK(r->size == 8);
  r = custody::open_checkpoint(body + "\n" + ours + theirs, name, key.public_key(), "n");
  REQUIRE_MESSAGE(r, why(r));
  // A foreign signer's line need not even be a valid signature.
  r = custody::open_checkpoint(body + "\n" + std::string(k_dash) + "someone-else AAAA\n" + ours, name,
                               key.public_key(), "n");
  REQUIRE_MESSAGE(r, why(r));
  // Only others' signatures: not ours.
  r = custody::open_checkpoint(body + "\n" + theirs, name, key.public_key(), "n");
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().message, "not signed by"));
}

TEST_CASE("verifier_key is NAME+KEYHASH+base64(0x01 || public key)") {
  const auto key = crypto::SecretKey::generate();
  const auto pub = key.public_key();
  const std::string name = "bwv/0123456789abcdef";
  const std::string vkey = custody::verifier_key(name, pub);
  const std::string kh = key_hash_of(name, pub);
  const std::string want_hash =
      text::to_hex(std::vector<unsigned char>(kh.begin(), kh.end()));
  REQUIRE(want_hash.size() == 8);
  REQUIRE(vkey.starts_with(name + "+" + want_hash + "+"));
  const auto raw = text::from_base64(vkey.substr(name.size() + 10), "key");
  REQUIRE_MESSAGE(raw, why(raw));
  REQUIRE(raw->size() == 33);
  CHECK((*raw)[0] == 0x01);
  CHECK(std::equal(raw->begin() + 1, raw->end(), pub.pk.begin()));
  // The key hash in the verifier key is the one in the note's signature.
  const std::string note = custody::sign_checkpoint(sample_checkpoint(), name, key);
  const auto sp = note.rfind(' ');
  const auto sig = text::from_base64(note.substr(sp + 1, note.size() - sp - 2), "sig");
  REQUIRE_MESSAGE(sig, why(sig));
  CHECK(text::to_hex(std::span<const unsigned char>(*sig).first(4)) == want_hash);
}

// --- the store's checkpoints --------------------------------------------------------------------

namespace {

const custody::Actor k_actor{"alice", "dock01"};

store::Store init_store(const fs::Path& dir) {
  auto s = store::Store::init(dir, "Example Police");
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

void append_entries(const store::Store& s, const std::string& host, int n) {
  std::vector<custody::NewEntry> es;
  for (int i = 0; i < n; ++i) {
    custody::NewEntry e;
    e.action = "key-trust";
    e.details["n"] = i;
    es.push_back(std::move(e));
  }
  const auto r = custody::append(s.custody_log(host), {"alice", host}, es);
  REQUIRE_MESSAGE(r, why(r));
}

std::vector<std::string> lines_of(const std::string& data) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto nl = data.find('\n', pos);
    if (nl == std::string::npos) break; // a torn tail is not a line
    out.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

// The tree head of a log's first n complete lines, computed from its bytes here.
Hash head_of(const fs::Path& log, std::size_t n) {
  const auto lines = lines_of(get_file(log));
  REQUIRE(lines.size() >= n);
  std::vector<Hash> leaves;
  for (std::size_t i = 0; i < n; ++i) leaves.push_back(merkle::leaf_hash(lines[i]));
  return merkle::root(leaves);
}

std::vector<std::pair<std::string, std::string>> problems(const store::Store& s) {
  const auto r = store::check_checkpoints(s);
  REQUIRE_MESSAGE(r, why(r));
  return *r;
}

std::string joined(const std::vector<std::pair<std::string, std::string>>& ps) {
  std::string out;
  for (const auto& [subject, message] : ps) out += subject + ": " + message + "\n";
  return out;
}

std::vector<store::LogCheckpoint> checkpoint(const store::Store& s) {
  auto r = store::write_checkpoints(s);
  REQUIRE_MESSAGE(r, why(r));
  return std::move(*r);
}

} // namespace

TEST_CASE("store checkpoints: written per host log, signed by the store, the root of its lines") {
  TmpDir tmp;
  const auto s = init_store(tmp.path());
  CHECK(problems(s).empty()); // no checkpoints directory yet
  append_entries(s, "dock01", 3);
  const fs::Path log = s.custody_log("dock01");

  const auto cps = checkpoint(s);
  REQUIRE(cps.size() == 1);
  const auto& c = cps[0];
  CHECK(c.host == "dock01");
  CHECK(c.file == tmp / "custody/checkpoints/dock01/3");
  CHECK(c.checkpoint.origin == "bwv/" + s.config().store_id + "/custody/dock01");
  CHECK(store::checkpoint_origin(s, "dock01") == c.checkpoint.origin);
  CHECK(c.checkpoint.size == 3);
  CHECK(c.checkpoint.root == head_of(log, 3));
  CHECK(get_file(c.file) == c.note);

  const auto pub = s.public_key();
  REQUIRE_MESSAGE(pub, why(pub));
  const auto opened = custody::open_checkpoint(c.note, "bwv/" + s.config().store_id, *pub, "note");
  REQUIRE_MESSAGE(opened, why(opened));
  CHECK(opened->root == head_of(log, 3));
  CHECK(problems(s).empty());

  // log_leaves: one leaf per complete line, the line's bytes without its newline.
  const auto leaves = store::log_leaves(log);
  REQUIRE_MESSAGE(leaves, why(leaves));
  const auto lines = lines_of(get_file(log));
  REQUIRE(leaves->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK((*leaves)[i] == merkle::leaf_hash(lines[i]));

  // An inclusion proof of line 2 against the checkpoint's root.
  const auto proof = merkle::inclusion_proof(*leaves, 1);
  CHECK(merkle::verify_inclusion(1, 3, merkle::leaf_hash(lines[1]), proof, opened->root));

  // Nothing new: the same checkpoint, no new file.
  const auto again = checkpoint(s);
  REQUIRE(again.size() == 1);
  CHECK(again[0].note == c.note);
  CHECK(bwv::test::names(tmp / "custody/checkpoints/dock01") == std::vector<std::string>{"3"});

  // Appending keeps the old checkpoint valid, and the next is of the larger size.
  append_entries(s, "dock01", 2);
  CHECK(problems(s).empty());
  const auto later = checkpoint(s);
  REQUIRE(later.size() == 1);
  CHECK(later[0].checkpoint.size == 5);
  CHECK(later[0].checkpoint.root == head_of(log, 5));
  auto files = bwv::test::names(tmp / "custody/checkpoints/dock01");
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"3", "5"});
  CHECK(problems(s).empty());
}

TEST_CASE("store checkpoints: one per host, and an empty log's") {
  TmpDir tmp;
  const auto s = init_store(tmp.path());
  append_entries(s, "dock01", 2);
  append_entries(s, "dock02", 5);
  put_file(s.custody_log("dock03"), "");
  auto cps = checkpoint(s);
  REQUIRE(cps.size() == 3);
  std::sort(cps.begin(), cps.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
  CHECK(cps[0].file == tmp / "custody/checkpoints/dock01/2");
  CHECK(cps[1].file == tmp / "custody/checkpoints/dock02/5");
  CHECK(cps[2].file == tmp / "custody/checkpoints/dock03/0");
  CHECK(cps[2].checkpoint.root == merkle::root({}));
  CHECK(cps[1].checkpoint.origin == "bwv/" + s.config().store_id + "/custody/dock02");
  CHECK(problems(s).empty());
}

TEST_CASE("store checkpoints: the streamed check agrees with the tree head at every size") {
  TmpDir tmp;
  const auto s = init_store(tmp.path());
  for (int i = 0; i < 37; ++i) {
    append_entries(s, "dock01", 1);
    const auto cps = checkpoint(s);
    REQUIRE(cps.size() == 1);
    CHECK(cps[0].checkpoint.size == static_cast<std::uint64_t>(i + 1));
  }
  CHECK(bwv::test::names(tmp / "custody/checkpoints/dock01").size() == 37);
  const auto ps = problems(s);
  CHECK_MESSAGE(ps.empty(), joined(ps));
}

TEST_CASE("store checkpoints: a log changed, cut or torn after a checkpoint shows") {
  TmpDir tmp;
  const auto s = init_store(tmp.path());
  append_entries(s, "dock01", 3);
  checkpoint(s);
  append_entries(s, "dock01", 2);
  checkpoint(s);
  const fs::Path log = s.custody_log("dock01");
  const std::string original = get_file(log);
  const auto lines = lines_of(original);
  REQUIRE(lines.size() == 5);
  const std::string cp3 = (tmp / "custody/checkpoints/dock01/3").string();
  const std::string cp5 = (tmp / "custody/checkpoints/dock01/5").string();

  SUBCASE("a byte of line 2 edited: both checkpoints no longer hash") {
    std::string edited = original;
    const auto at = lines[0].size() + 1 + lines[1].find("\"n\":1");
    REQUIRE(edited.substr(at, 5) == "\"n\":1");
    edited[at + 4] = '7';
    put_file(log, edited);
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 2, joined(ps));
    for (const auto& [subject, message] : ps) {
      CHECK(subject == log.string());
      CHECK(contains(message, "no longer hash"));
    }
    CHECK(contains(ps[0].second, "first 3 lines"));
    CHECK(contains(ps[0].second, cp3));
    CHECK(contains(ps[1].second, "first 5 lines"));
    CHECK(contains(ps[1].second, cp5));
  }
  SUBCASE("line 5 edited: only the later checkpoint") {
    std::string edited = original;
    edited[original.size() - 3] ^= 0x01;
    put_file(log, edited);
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(contains(ps[0].second, "first 5 lines no longer hash"));
  }
  SUBCASE("cut to two lines: both report removed lines") {
    put_file(log, lines[0] + "\n" + lines[1] + "\n");
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 2, joined(ps));
    CHECK(ps[0].first == log.string());
    CHECK(contains(ps[0].second, "has 2 lines, fewer than the 3"));
    CHECK(contains(ps[0].second, cp3));
    CHECK(contains(ps[0].second, "lines were removed"));
    CHECK(contains(ps[1].second, "fewer than the 5"));
  }
  SUBCASE("the last line torn: the earlier checkpoint still holds") {
    put_file(log, original.substr(0, original.size() - 5));
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(contains(ps[0].second, "has 4 lines, fewer than the 5"));
  }
  SUBCASE("the log deleted") {
    std::filesystem::remove(log);
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(ps[0].first == log.string());
    CHECK(contains(ps[0].second, "missing, but checkpoints of it exist"));
  }
}

TEST_CASE("store checkpoints: a note that is not this log's at this size is reported") {
  TmpDir tmp;
  const auto s = init_store(tmp.path());
  append_entries(s, "dock01", 3);
  append_entries(s, "dock02", 3);
  checkpoint(s);
  const fs::Path dir = tmp / "custody/checkpoints";
  const std::string note3 = get_file(dir / "dock01/3");

  SUBCASE("copied to another size's file name") {
    put_file(dir / "dock01/2", note3);
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(ps[0].first == (dir / "dock01/2").string());
    CHECK(contains(ps[0].second, "size 3, not its own log and size"));
  }
  SUBCASE("copied to a name with a leading zero") {
    put_file(dir / "dock01/03", note3);
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(contains(ps[0].second, "not its own log and size"));
  }
  SUBCASE("copied over another host's") {
    put_file(dir / "dock02/3", note3);
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(ps[0].first == (dir / "dock02/3").string());
    CHECK(contains(ps[0].second, "names bwv/" + s.config().store_id + "/custody/dock01"));
  }
  SUBCASE("signed by another key") {
    const auto other = crypto::SecretKey::generate();
    custody::Checkpoint c{store::checkpoint_origin(s, "dock01"), 3, head_of(s.custody_log("dock01"), 3)};
    put_file(dir / "dock01/3", custody::sign_checkpoint(c, custody::note_key_name(s.config().store_id), other));
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(contains(ps[0].second, "not signed by bwv/" + s.config().store_id));
  }
  SUBCASE("a signed checkpoint of a root that is not the log's") {
    const auto key = s.secret_key();
    REQUIRE_MESSAGE(key, why(key));
    custody::Checkpoint c{store::checkpoint_origin(s, "dock01"), 3, flipped(head_of(s.custody_log("dock01"), 3))};
    put_file(dir / "dock01/3", custody::sign_checkpoint(c, custody::note_key_name(s.config().store_id), *key));
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(contains(ps[0].second, "first 3 lines no longer hash"));
  }
  SUBCASE("a file that is not a note") {
    put_file(dir / "dock01/3", "hello\n");
    const auto ps = problems(s);
    REQUIRE_MESSAGE(ps.size() == 1, joined(ps));
    CHECK(contains(ps[0].second, "not a signed note"));
  }
}

TEST_SUITE_END();
