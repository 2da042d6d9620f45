#include "crypto/seal.hpp"

#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::why;

TEST_SUITE_BEGIN("crypto::seal");

namespace {

constexpr std::size_t MiB = 1 << 20;

// Seals data as the camera does: full chunks, the last one (possibly short or empty) final.
std::string seal(const std::string& data, const crypto::SealPublicKey& key) {
  crypto::Sealer sealer(key);
  std::string out = sealer.header();
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min(crypto::k_seal_chunk, data.size() - pos);
    const bool final = pos + n == data.size();
    sealer.push(reinterpret_cast<const unsigned char*>(data.data() + pos), n, final, out);
    pos += n;
    if (final) break;
  } while (true);
  return out;
}

// The number of chunks seal() writes for size bytes.
std::size_t chunks_for(std::size_t size) { return size == 0 ? 1 : (size + MiB - 1) / MiB; }

struct Opened {
  std::string plain;
  std::size_t chunks = 0;
  std::size_t finals = 0;
  bool final_last = false;
};

// Opens a sealed file chunk by chunk; an error from open or any pull.
Result<Opened> unseal(const std::string& file, const crypto::SealSecretKey& key) {
  auto u = BWV_TRY(crypto::Unsealer::open(key, file, "sealed"));
  Opened o;
  std::size_t pos = crypto::k_seal_header_size;
  std::vector<unsigned char> plain(u.chunk_size());
  while (pos < file.size()) {
    const std::size_t n = std::min(u.chunk_size() + crypto::k_seal_abytes, file.size() - pos);
    bool final = false;
    const std::size_t got = BWV_TRY(u.pull(reinterpret_cast<const unsigned char*>(file.data() + pos), n,
                                           plain.data(), final, "sealed"));
    o.plain.append(reinterpret_cast<const char*>(plain.data()), got);
    ++o.chunks;
    if (final) ++o.finals;
    o.final_last = final;
    pos += n;
  }
  return o;
}

// The refusal's message, or "(opened)".
std::string refusal(const Result<Opened>& r) { return r ? std::string("(opened)") : r.error().message; }

} // namespace

TEST_CASE("header layout") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  crypto::Sealer sealer(pub);
  const std::string& h = sealer.header();
  CHECK(crypto::k_seal_header_size == 124);
  REQUIRE(h.size() == 124);
  CHECK(h.substr(0, 8) == "BWVSEAL1");
  CHECK(std::equal(pub.id.begin(), pub.id.end(), reinterpret_cast<const unsigned char*>(h.data()) + 8));
  CHECK(h.substr(16, 4) == std::string("\x00\x00\x10\x00", 4)); // 1 MiB, little-endian
  // A fresh stream key each time.
  CHECK(crypto::Sealer(pub).header().substr(20) != h.substr(20));
}

TEST_CASE("seal and unseal chunk by chunk") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  for (std::size_t size : {std::size_t(0), std::size_t(1), MiB, MiB + 1, 3 * MiB + MiB / 2}) {
    CAPTURE(size);
    const std::string data = test::random_bytes(size);
    const std::string file = seal(data, pub);
    CHECK(file.size() == crypto::k_seal_header_size + size + chunks_for(size) * crypto::k_seal_abytes);
    const auto opened = unseal(file, sk);
    REQUIRE_MESSAGE(opened, why(opened));
    CHECK((opened->plain == data)); // no dump of the bytes on failure
    CHECK(opened->chunks == chunks_for(size));
    CHECK(opened->finals == 1);
    CHECK(opened->final_last);
  }
}

TEST_CASE("Unsealer reports the chunk size and plaintext sizes") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(MiB + 5);
  const std::string file = seal(data, sk.public_key());
  auto u = crypto::Unsealer::open(sk, file.substr(0, crypto::k_seal_header_size), "s");
  REQUIRE_MESSAGE(u, why(u));
  CHECK(u->chunk_size() == MiB);
  std::vector<unsigned char> plain(MiB);
  bool final = true;
  const auto* c = reinterpret_cast<const unsigned char*>(file.data()) + crypto::k_seal_header_size;
  CHECK(u->pull(c, MiB + crypto::k_seal_abytes, plain.data(), final, "s") == MiB);
  CHECK_FALSE(final);
  CHECK(u->pull(c + MiB + crypto::k_seal_abytes, 5 + crypto::k_seal_abytes, plain.data(), final, "s") == 5u);
  CHECK(final);
}

TEST_CASE("a file sealed to another key is refused, naming both key ids") {
  const auto mine = crypto::SealSecretKey::generate();
  const auto other = crypto::SealSecretKey::generate();
  const std::string file = seal("video", other.public_key());
  const auto r = crypto::Unsealer::open(mine, file, "clip.mp4.sealed");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::check_failed);
  CHECK(r.error().subject == "clip.mp4.sealed");
  CHECK(contains(r.error().message, crypto::key_id_string(other.public_key().id)));
  CHECK(contains(r.error().message, crypto::key_id_string(mine.public_key().id)));
}

TEST_CASE("another key that claims the right key id cannot open the stream key") {
  const auto mine = crypto::SealSecretKey::generate();
  const auto forger = crypto::SealSecretKey::generate();
  // The forger's key under my key id.
  const std::string text = forger.to_file();
  const std::string b64 = text.substr(text.find('\n') + 1, 56);
  auto raw = *text::from_base64(b64, "k");
  const auto my_id = mine.public_key().id;
  std::copy(my_id.begin(), my_id.end(), raw.begin() + 2);
  const auto relabelled = crypto::SealSecretKey::parse("untrusted comment: x\n" + text::to_base64(raw) + "\n", "k");
  REQUIRE_MESSAGE(relabelled, why(relabelled));
  const std::string file = seal("video", mine.public_key());
  const auto r = crypto::Unsealer::open(*relabelled, file, "s");
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().message, "cannot open the sealed key"));
}

TEST_CASE("a flipped byte anywhere in the chunks is refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(2 * MiB + 100);
  const std::string file = seal(data, sk.public_key());
  for (std::size_t at : {crypto::k_seal_header_size, crypto::k_seal_header_size + 500000,
                         crypto::k_seal_header_size + MiB + crypto::k_seal_abytes + 7, file.size() - 1}) {
    CAPTURE(at);
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    const auto r = unseal(damaged, sk);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(contains(r.error().message, "authentication failed"));
  }
}

TEST_CASE("damage in the header is refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string file = seal(test::random_bytes(1000), sk.public_key());

  std::string magic = file;
  magic[0] = 'X';
  CHECK(contains(refusal(unseal(magic, sk)), "bad magic"));
  CHECK_FALSE(crypto::Unsealer::open(sk, file.substr(0, crypto::k_seal_header_size - 1), "s"));

  std::string sealed_key = file;
  sealed_key[20 + 40] ^= 0x10;
  CHECK(contains(refusal(unseal(sealed_key, sk)), "cannot open the sealed key"));

  std::string stream_header = file;
  stream_header[110] ^= 0x10;
  CHECK_FALSE(unseal(stream_header, sk));
}

TEST_CASE("altered chunk-size bytes are refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(MiB + 1000);
  const std::string file = seal(data, sk.public_key());

  // Zero or over 64 MiB: refused when opening.
  std::string zero = file;
  zero[16] = zero[17] = zero[18] = zero[19] = 0;
  CHECK(contains(refusal(unseal(zero, sk)), "chunk size"));
  std::string huge = file;
  huge[19] = 0x10; // 256 MiB + 1 MiB
  CHECK(contains(refusal(unseal(huge, sk)), "chunk size"));

  // A plausible size: the chunks no longer authenticate (the size is additional data).
  std::string half = file;
  half[18] = 0x08; // 512 KiB
  const auto r = unseal(half, sk);
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().message, "authentication failed"));

  // Even when read at the real 1 MiB boundaries.
  auto u = crypto::Unsealer::open(sk, half, "s");
  REQUIRE(u);
  std::vector<unsigned char> plain(MiB);
  bool final = false;
  CHECK_FALSE(u->pull(reinterpret_cast<const unsigned char*>(half.data()) + crypto::k_seal_header_size,
                      MiB + crypto::k_seal_abytes, plain.data(), final, "s"));
}

TEST_CASE("a file without its final chunk has no chunk marked final") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(2 * MiB + MiB / 2);
  const std::string file = seal(data, sk.public_key());
  const std::string truncated = file.substr(0, crypto::k_seal_header_size + 2 * (MiB + crypto::k_seal_abytes));
  const auto opened = unseal(truncated, sk);
  REQUIRE_MESSAGE(opened, why(opened)); // every chunk present authenticates...
  CHECK(opened->chunks == 2);
  CHECK(opened->finals == 0); // ...but none is final: the reader must refuse the file
  CHECK_FALSE(opened->final_last);

  // A torn last chunk fails outright.
  CHECK_FALSE(unseal(file.substr(0, file.size() - 1), sk));
}

TEST_CASE("reordered or repeated chunks are refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string file = seal(test::random_bytes(3 * MiB), sk.public_key());
  const std::size_t c = MiB + crypto::k_seal_abytes, h = crypto::k_seal_header_size;
  const std::string swapped = file.substr(0, h) + file.substr(h + c, c) + file.substr(h, c) + file.substr(h + 2 * c);
  CHECK_FALSE(unseal(swapped, sk));
  const std::string repeated = file.substr(0, h) + file.substr(h, c) + file.substr(h, c) + file.substr(h + 2 * c);
  CHECK_FALSE(unseal(repeated, sk));
  const std::string dropped_middle = file.substr(0, h) + file.substr(h, c) + file.substr(h + 2 * c);
  CHECK_FALSE(unseal(dropped_middle, sk));
}

TEST_CASE("pull refuses input shorter than the tag") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string file = seal("abc", sk.public_key());
  auto u = crypto::Unsealer::open(sk, file, "s");
  REQUIRE(u);
  unsigned char plain[16];
  bool final = false;
  CHECK_FALSE(u->pull(reinterpret_cast<const unsigned char*>(file.data()) + crypto::k_seal_header_size,
                      crypto::k_seal_abytes - 1, plain, final, "s"));
}

TEST_CASE("seal key files round trip") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  const std::string id = crypto::key_id_string(pub.id);

  const std::string pub_file = pub.to_file();
  CHECK(pub_file.starts_with("untrusted comment: bwv store sealing public key " + id + "\n"));
  CHECK(pub_file.ends_with("\n"));
  const auto pub_back = crypto::SealPublicKey::parse(pub_file, "seal.pub");
  REQUIRE_MESSAGE(pub_back, why(pub_back));
  CHECK(pub_back->id == pub.id);
  CHECK(pub_back->pk == pub.pk);

  const std::string sk_file = sk.to_file();
  CHECK(sk_file.starts_with("untrusted comment: bwv store sealing secret key " + id + " (keep it mode 0600)\n"));
  const auto sk_back = crypto::SealSecretKey::parse(sk_file, "seal.key");
  REQUIRE_MESSAGE(sk_back, why(sk_back));
  CHECK(sk_back->public_key().id == pub.id);
  CHECK(sk_back->public_key().pk == pub.pk);

  // What one key seals, the parsed key opens.
  const std::string data = test::random_bytes(1234);
  const auto opened = unseal(seal(data, *pub_back), *sk_back);
  REQUIRE_MESSAGE(opened, why(opened));
  CHECK((opened->plain == data)); // no dump of the bytes on failure

  // CRLF endings are tolerated.
  std::string crlf = pub_file;
  crlf.insert(crlf.size() - 1, "\r");
  CHECK(crypto::SealPublicKey::parse(crlf, "seal.pub"));
}

TEST_CASE("seal key parsing refuses other files") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string pub_file = sk.public_key().to_file();
  const std::string b64 = pub_file.substr(pub_file.find('\n') + 1, 56);
  auto raw = *text::from_base64(b64, "k");
  raw[0] = 'E';
  raw[1] = 'd'; // a minisign public key
  for (const std::string& bad : {std::string(""), b64 + "\n", std::string("untrusted comment: x"),
                                 "untrusted comment: x\n" + text::to_base64(raw) + "\n",
                                 "untrusted comment: x\n" + b64.substr(4) + "\n",
                                 std::string("untrusted comment: x\nnot base64\n")}) {
    CAPTURE(bad);
    CHECK_FALSE(crypto::SealPublicKey::parse(bad, "k"));
    CHECK_FALSE(crypto::SealSecretKey::parse(bad, "k"));
  }
}

TEST_SUITE_END();
