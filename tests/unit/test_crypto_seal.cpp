#include "crypto/seal.hpp"

#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <string>
#include <unistd.h>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::why;

TEST_SUITE_BEGIN("crypto::seal");

namespace {

constexpr std::size_t MiB = 1 << 20;
constexpr std::size_t k_overhead = crypto::k_seal_length_size + crypto::k_seal_abytes; // per record

const unsigned char* bytes(const std::string& s, std::size_t at = 0) {
  return reinterpret_cast<const unsigned char*>(s.data()) + at;
}

// Seals data as a whole file is sealed: full records of max bytes, the last (possibly short or
// empty) final.
std::string seal(const std::string& data, const crypto::SealPublicKey& key, std::size_t max = crypto::k_seal_chunk) {
  crypto::Sealer sealer(key, max);
  std::string out = sealer.header();
  std::size_t pos = 0;
  for (;;) {
    const std::size_t n = std::min(max, data.size() - pos);
    const bool final = pos + n == data.size();
    sealer.push(bytes(data, pos), n, final, out);
    pos += n;
    if (final) break;
  }
  return out;
}

// Seals each string as one record, as the camera seals fragments; the last is final when final
// is set. The offset where each record ends goes to ends when given.
std::string seal_records(const std::vector<std::string>& records, const crypto::SealPublicKey& key,
                         std::size_t max = crypto::k_seal_chunk, bool final = true,
                         std::vector<std::size_t>* ends = nullptr) {
  crypto::Sealer sealer(key, max);
  std::string out = sealer.header();
  if (ends) ends->push_back(out.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    sealer.push(bytes(records[i]), records[i].size(), final && i + 1 == records.size(), out);
    if (ends) ends->push_back(out.size());
  }
  return out;
}

// The number of records seal() writes for size bytes.
std::size_t records_for(std::size_t size, std::size_t max = MiB) { return size == 0 ? 1 : (size + max - 1) / max; }

struct Opened {
  std::string plain;
  std::vector<std::string> records;
  std::size_t finals = 0;
  bool final_last = false;
  std::uint64_t openssl = 0; // records OpenSSL opened
};

// Opens a sealed file record by record, as a reader does: the length prefix, then the record. An
// error from open, a length over the limit, a record cut short, or any pull. A file that ends at
// a record boundary without a final record opens (the caller must look at finals).
Result<Opened> unseal(const std::string& file, const crypto::SealSecretKey& key) {
  auto u = BWV_TRY(crypto::Unsealer::open(key, file, "sealed"));
  Opened o;
  std::size_t pos = crypto::k_seal_header_size;
  std::vector<unsigned char> plain(u.max_record());
  while (pos < file.size()) {
    if (file.size() - pos < crypto::k_seal_length_size)
      return fail(Errc::check_failed, "sealed", "cut record (in its length)");
    const std::size_t n = BWV_TRY(u.record_length(bytes(file, pos), "sealed"));
    const std::size_t size = crypto::k_seal_length_size + n + crypto::k_seal_abytes;
    if (file.size() - pos < size) return fail(Errc::check_failed, "sealed", "cut record");
    bool final = false;
    BWV_CHECK(u.pull(bytes(file, pos), size, plain.data(), final, "sealed"));
    o.records.emplace_back(reinterpret_cast<const char*>(plain.data()), n);
    o.plain += o.records.back();
    if (final) ++o.finals;
    o.final_last = final;
    pos += size;
  }
  o.openssl = u.openssl_records();
  return o;
}

// Set in the run of this binary that has OpenSSL's ciphers taken away (see the last test here):
// libsodium then opens every record.
bool openssl_off() { return std::getenv("BWV_TEST_OPENSSL_OFF") != nullptr; }

// The refusal's message, or "(opened)".
std::string refusal(const Result<Opened>& r) { return r ? std::string("(opened)") : r.error().message; }

// The 4-byte little-endian length prefix.
std::string le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

} // namespace

TEST_CASE("header layout") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  crypto::Sealer sealer(pub);
  const std::string& h = sealer.header();
  CHECK(crypto::k_seal_header_size == 124);
  REQUIRE(h.size() == 124);
  CHECK(h.substr(0, 8) == "BWVSEAL2");
  CHECK(std::equal(pub.id.begin(), pub.id.end(), bytes(h, 8)));
  CHECK(h.substr(16, 4) == std::string("\x00\x00\x10\x00", 4)); // 1 MiB, little-endian
  CHECK(sealer.max_record() == MiB);
  // A fresh stream key each time.
  CHECK(crypto::Sealer(pub).header().substr(20) != h.substr(20));

  // The maximum record size is the caller's, little-endian.
  crypto::Sealer odd(pub, 0x01020304);
  CHECK(odd.max_record() == 0x01020304u);
  CHECK(odd.header().substr(0, 16) == h.substr(0, 16));
  CHECK(odd.header().substr(16, 4) == "\x04\x03\x02\x01");
  CHECK(crypto::Sealer(pub, crypto::k_seal_max_record).header().substr(16, 4) == std::string("\x00\x00\x00\x04", 4));
}

TEST_CASE("a record is its little-endian length, then the ciphertext and 17 bytes") {
  const auto sk = crypto::SealSecretKey::generate();
  crypto::Sealer sealer(sk.public_key());
  std::string out = "kept";
  const std::string data = test::random_bytes(0x0203);
  sealer.push(bytes(data), data.size(), false, out);
  REQUIRE(out.size() == 4 + 4 + data.size() + crypto::k_seal_abytes);
  CHECK(out.substr(0, 4) == "kept"); // appended
  CHECK(out.substr(4, 4) == std::string("\x03\x02\x00\x00", 4));
  CHECK(out.find(data.substr(0, 64)) == std::string::npos); // not in the clear
  sealer.push(bytes(data), 0, true, out); // an empty final record
  CHECK(out.size() == 8 + data.size() + 2 * crypto::k_seal_abytes + 4);
  CHECK(out.substr(8 + data.size() + crypto::k_seal_abytes, 4) == std::string(4, '\0'));
}

TEST_CASE("seal and unseal record by record") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  for (std::size_t size : {std::size_t(0), std::size_t(1), MiB, MiB + 1, 3 * MiB + MiB / 2}) {
    CAPTURE(size);
    const std::string data = test::random_bytes(size);
    const std::string file = seal(data, pub);
    CHECK(file.size() == crypto::k_seal_header_size + size + records_for(size) * k_overhead);
    const auto opened = unseal(file, sk);
    REQUIRE_MESSAGE(opened, why(opened));
    CHECK((opened->plain == data)); // no dump of the bytes on failure
    CHECK(opened->records.size() == records_for(size));
    CHECK(opened->finals == 1);
    CHECK(opened->final_last);
  }
}

TEST_CASE("records of varied sizes round trip, an empty one included") {
  const auto sk = crypto::SealSecretKey::generate();
  for (std::size_t max : {MiB, std::size_t(5000)}) {
    CAPTURE(max);
    const std::vector<std::string> records = {test::random_bytes(1),   test::random_bytes(5000),
                                              std::string(),           test::random_bytes(max),
                                              test::random_bytes(max), test::random_bytes(3),
                                              std::string()}; // an empty final record
    std::vector<std::size_t> ends;
    const std::string file = seal_records(records, sk.public_key(), max, true, &ends);
    const std::size_t plain_size = std::accumulate(records.begin(), records.end(), std::size_t(0),
                                                   [](std::size_t n, const std::string& r) { return n + r.size(); });
    CHECK(file.size() == crypto::k_seal_header_size + plain_size + records.size() * k_overhead);
    CHECK(ends.back() == file.size());
    const auto opened = unseal(file, sk);
    REQUIRE_MESSAGE(opened, why(opened));
    CHECK((opened->records == records)); // no dump of the bytes on failure
    CHECK(opened->finals == 1);
    CHECK(opened->final_last);

    // The final record need not be empty, and a single record may be the whole file.
    const std::vector<std::string> one = {test::random_bytes(max)};
    const auto single = unseal(seal_records(one, sk.public_key(), max), sk);
    REQUIRE_MESSAGE(single, why(single));
    CHECK((single->records == one));
    CHECK(single->final_last);
  }
}

// Records are opened with OpenSSL's ChaCha20 and Poly1305, or libsodium where OpenSSL has none
// (seal.cpp says why): every length from 0 to 300 and around the chunk size, in one stream, each
// padded differently for Poly1305, as libsodium sealed them.
TEST_CASE("every record length opens, OpenSSL or not") {
  const auto sk = crypto::SealSecretKey::generate();
  std::vector<std::string> records;
  for (std::size_t n = 0; n <= 300; ++n)
    records.push_back(test::random_bytes(n));
  for (std::size_t n : {MiB - 9, MiB - 8, MiB - 1, MiB, std::size_t(65536 + 4), std::size_t(65536 + 8)})
    records.push_back(test::random_bytes(n));
  records.push_back(test::random_bytes(16));
  const auto opened = unseal(seal_records(records, sk.public_key()), sk);
  REQUIRE_MESSAGE(opened, why(opened));
  CHECK((opened->records == records));
  CHECK(opened->finals == 1);
  CHECK(opened->final_last);
  CHECK(opened->openssl == (openssl_off() ? 0 : records.size()));
}

// Sealer writes only plain and final tags; a stream pushed with libsodium directly carries the
// others, and the rekey one changes the key the next records are opened with.
TEST_CASE("push and rekey tags are followed, OpenSSL or not") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  unsigned char stream_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(stream_key);
  std::string file = "BWVSEAL2" + std::string(reinterpret_cast<const char*>(pub.id.data()), 8) + le32(4096);
  file.resize(crypto::k_seal_header_size);
  auto* h = reinterpret_cast<unsigned char*>(file.data());
  crypto_box_seal(h + 20, stream_key, sizeof stream_key, pub.pk.data());
  crypto_secretstream_xchacha20poly1305_state st;
  REQUIRE(crypto_secretstream_xchacha20poly1305_init_push(&st, h + 100, stream_key) == 0);
  const unsigned char push_tag = crypto_secretstream_xchacha20poly1305_TAG_PUSH,
                      rekey = crypto_secretstream_xchacha20poly1305_TAG_REKEY,
                      final = crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  const std::vector<std::pair<std::size_t, unsigned char>> plan = {
      {64, 0},       {64, rekey}, {64, 0},   {33, rekey}, {40, 0},    {4096, push_tag},
      {4095, rekey}, {8, rekey},  {4096, 0}, {0, rekey},  {24, final}};
  std::vector<std::string> records;
  for (const auto& [n, tag] : plan) {
    records.push_back(test::random_bytes(n));
    const std::string prefix = le32(static_cast<std::uint32_t>(n));
    const std::string ad = file.substr(0, 20) + prefix;
    std::string c(n + crypto::k_seal_abytes, '\0');
    crypto_secretstream_xchacha20poly1305_push(&st, reinterpret_cast<unsigned char*>(c.data()), nullptr,
                                               bytes(records.back()), n, bytes(ad), ad.size(), tag);
    file += prefix + c;
  }
  sodium_memzero(stream_key, sizeof stream_key);
  const auto opened = unseal(file, sk);
  REQUIRE_MESSAGE(opened, why(opened));
  CHECK((opened->records == records));
  CHECK(opened->finals == 1);
  CHECK(opened->final_last);
  CHECK(opened->openssl == (openssl_off() ? 0 : records.size()));
}

TEST_CASE("a refused record leaves no plaintext behind and does not move the state, OpenSSL or not") {
  const auto sk = crypto::SealSecretKey::generate();
  for (std::size_t n : {std::size_t(4096), std::size_t(4095)}) {
    const std::string file = seal(test::random_bytes(n), sk.public_key(), 4096);
    const std::string record = file.substr(crypto::k_seal_header_size);
    // The tag byte, the first and last ciphertext bytes, and the first and last of the MAC.
    for (std::size_t at : {std::size_t(4), std::size_t(5), 4 + n, 5 + n, record.size() - 1}) {
      CAPTURE(n);
      CAPTURE(at);
      std::string damaged = record;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x80);
      auto u = crypto::Unsealer::open(sk, file, "s");
      REQUIRE(u);
      std::vector<unsigned char> plain(4096, 0xaa);
      bool final = false;
      const auto r = u->pull(bytes(damaged), damaged.size(), plain.data(), final, "s");
      REQUIRE_FALSE(r);
      CHECK(contains(r.error().message, "authentication failed"));
      // Both check before they decrypt.
      CHECK(std::all_of(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(n),
                        [](unsigned char b) { return b == 0xaa; }));
      // The state did not move: the record as sealed still opens.
      REQUIRE(u->pull(bytes(record), record.size(), plain.data(), final, "s"));
      CHECK(final);
    }
  }
}

TEST_CASE("Unsealer reports the record limit, record lengths and the final record") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(MiB + 5);
  const std::string file = seal(data, sk.public_key());
  auto u = crypto::Unsealer::open(sk, file.substr(0, crypto::k_seal_header_size), "s");
  REQUIRE_MESSAGE(u, why(u));
  CHECK(u->max_record() == MiB);
  std::vector<unsigned char> plain(MiB);
  bool final = true;
  const std::size_t first = crypto::k_seal_header_size;
  const auto n1 = u->record_length(bytes(file, first), "s");
  REQUIRE_MESSAGE(n1, why(n1));
  CHECK(*n1 == MiB);
  const auto p1 = u->pull(bytes(file, first), MiB + k_overhead, plain.data(), final, "s");
  CHECK_MESSAGE(p1, why(p1));
  CHECK_FALSE(final);
  CHECK(std::equal(plain.begin(), plain.end(), bytes(data)));
  const std::size_t second = first + MiB + k_overhead;
  const auto n2 = u->record_length(bytes(file, second), "s");
  REQUIRE_MESSAGE(n2, why(n2));
  CHECK(*n2 == 5u);
  REQUIRE(second + 5 + k_overhead == file.size());
  const auto p2 = u->pull(bytes(file, second), 5 + k_overhead, plain.data(), final, "s");
  CHECK_MESSAGE(p2, why(p2));
  CHECK(final);
  CHECK(std::equal(plain.begin(), plain.begin() + 5, bytes(data, MiB)));

  // The limit is the header's, whatever it is.
  auto small = crypto::Unsealer::open(sk, seal("abc", sk.public_key(), 5000), "s");
  REQUIRE_MESSAGE(small, why(small));
  CHECK(small->max_record() == 5000u);
}

TEST_CASE("record_length refuses a length over the file's limit") {
  const auto sk = crypto::SealSecretKey::generate();
  auto u = crypto::Unsealer::open(sk, seal("abc", sk.public_key(), 5000), "clip.mp4.sealed");
  REQUIRE(u);
  for (std::uint32_t n : {0u, 1u, 4999u, 5000u}) {
    CAPTURE(n);
    const auto r = u->record_length(bytes(le32(n)), "clip.mp4.sealed");
    REQUIRE_MESSAGE(r, why(r));
    CHECK(*r == n);
  }
  for (std::uint32_t n : {5001u, 0x10000u, 0x7fffffffu, 0xffffffffu}) {
    CAPTURE(n);
    const auto r = u->record_length(bytes(le32(n)), "clip.mp4.sealed");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(r.error().subject == "clip.mp4.sealed");
    CHECK(contains(r.error().message, "over the file's 5000-byte limit"));
  }
}

// The format as bwv-camera(5) describes it, read and written with libsodium directly: the stream
// key sealed at 20, the secretstream header at 100, and each record's additional data the first
// 20 bytes of the file and then the record's length prefix.
TEST_CASE("the documented format, read and written with libsodium directly") {
  const auto sk = crypto::SealSecretKey::generate();
  const auto pub = sk.public_key();
  const std::string key_file(sk.to_file().view());
  auto raw = *text::from_base64(key_file.substr(key_file.find('\n') + 1, 56), "k");
  REQUIRE(raw.size() == 42);
  const unsigned char* x25519_sk = raw.data() + 10;

  // Reading what Sealer wrote.
  const std::vector<std::string> records = {test::random_bytes(10), std::string(), test::random_bytes(4000),
                                            test::random_bytes(5)};
  const std::string file = seal_records(records, pub, 5000);
  unsigned char stream_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  REQUIRE(crypto_box_seal_open(stream_key, bytes(file, 20), 80, pub.pk.data(), x25519_sk) == 0);
  crypto_secretstream_xchacha20poly1305_state st;
  REQUIRE(crypto_secretstream_xchacha20poly1305_init_pull(&st, bytes(file, 100), stream_key) == 0);
  std::size_t pos = crypto::k_seal_header_size;
  for (std::size_t i = 0; i < records.size(); ++i) {
    CAPTURE(i);
    const std::string prefix = file.substr(pos, 4);
    CHECK(prefix == le32(static_cast<std::uint32_t>(records[i].size())));
    const std::string ad = file.substr(0, 20) + prefix;
    std::vector<unsigned char> m(records[i].size() + 1);
    unsigned long long mlen = 0;
    unsigned char tag = 0xff;
    REQUIRE(crypto_secretstream_xchacha20poly1305_pull(&st, m.data(), &mlen, &tag, bytes(file, pos + 4),
                                                       records[i].size() + crypto::k_seal_abytes, bytes(ad),
                                                       ad.size()) == 0);
    CHECK(mlen == records[i].size());
    CHECK((std::string(reinterpret_cast<const char*>(m.data()), mlen) == records[i]));
    CHECK(tag == (i + 1 == records.size() ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0));
    pos += 4 + records[i].size() + crypto::k_seal_abytes;
  }
  CHECK(pos == file.size());

  // Writing a file by hand that Unsealer reads, then records it must refuse: one whose additional
  // data leaves out the length (as BWVSEAL1 did), and one with no additional data at all.
  crypto_secretstream_xchacha20poly1305_keygen(stream_key);
  std::string hand = "BWVSEAL2" + std::string(reinterpret_cast<const char*>(pub.id.data()), 8) + le32(3000);
  hand.resize(crypto::k_seal_header_size);
  auto* h = reinterpret_cast<unsigned char*>(hand.data());
  crypto_box_seal(h + 20, stream_key, sizeof stream_key, pub.pk.data());
  REQUIRE(crypto_secretstream_xchacha20poly1305_init_push(&st, h + 100, stream_key) == 0);
  enum class Ad { documented, without_length, none };
  auto push = [&](std::string& out, const std::string& plain, bool final, Ad kind) {
    const std::string prefix = le32(static_cast<std::uint32_t>(plain.size()));
    const std::string ad = kind == Ad::documented ? hand.substr(0, 20) + prefix
                           : kind == Ad::without_length ? hand.substr(0, 20)
                                                        : std::string();
    std::string c(plain.size() + crypto::k_seal_abytes, '\0');
    crypto_secretstream_xchacha20poly1305_push(&st, reinterpret_cast<unsigned char*>(c.data()), nullptr,
                                               bytes(plain), plain.size(), ad.empty() ? nullptr : bytes(ad),
                                               ad.size(), final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    out += prefix + c;
  };
  const std::string a = test::random_bytes(3000), b = test::random_bytes(7);
  std::string good = hand;
  auto saved = st;
  push(good, a, false, Ad::documented);
  push(good, b, true, Ad::documented);
  const auto opened = unseal(good, sk);
  REQUIRE_MESSAGE(opened, why(opened));
  CHECK((opened->records == std::vector<std::string>{a, b}));
  CHECK(opened->final_last);

  for (Ad kind : {Ad::without_length, Ad::none}) {
    CAPTURE(static_cast<int>(kind));
    st = saved;
    std::string bad = hand;
    push(bad, a, true, kind);
    CHECK(contains(refusal(unseal(bad, sk)), "authentication failed"));
  }
  sodium_memzero(stream_key, sizeof stream_key);
  sodium_memzero(raw.data(), raw.size());
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
  const std::string text(forger.to_file().view());
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

TEST_CASE("a flipped byte anywhere in the records is refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(2 * MiB + 100);
  const std::string file = seal(data, sk.public_key());
  const std::size_t h = crypto::k_seal_header_size, rec = MiB + k_overhead;
  // In the ciphertext and tags: authentication fails.
  for (std::size_t at : {h + 4, h + 500000, h + 4 + MiB, h + rec - 1, h + rec + 4 + 7, h + 2 * rec + 4,
                         file.size() - 1}) {
    CAPTURE(at);
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    const auto r = unseal(damaged, sk);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(contains(r.error().message, "authentication failed"));
  }
  // In a length prefix, any bit: refused one way or another (over the limit, cut, or forged).
  for (std::size_t prefix : {h, h + rec, h + 2 * rec})
    for (std::size_t at = prefix; at < prefix + 4; ++at)
      for (int bit = 0; bit < 8; ++bit) {
        CAPTURE(at);
        CAPTURE(bit);
        std::string damaged = file;
        damaged[at] = static_cast<char>(damaged[at] ^ (1 << bit));
        CHECK_FALSE(unseal(damaged, sk));
      }
}

TEST_CASE("a record whose length prefix was altered fails authentication") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::vector<std::string> records = {test::random_bytes(3000), test::random_bytes(3000)};
  const std::string file = seal_records(records, sk.public_key(), 5000);
  const std::size_t h = crypto::k_seal_header_size;
  const std::string first = file.substr(h, 3000 + k_overhead);
  std::vector<unsigned char> plain(5000);

  auto pull_first = [&](const std::string& record) {
    auto u = crypto::Unsealer::open(sk, file, "s");
    REQUIRE(u);
    bool final = false;
    return u->pull(bytes(record), record.size(), plain.data(), final, "s");
  };
  REQUIRE(pull_first(first));

  // Made shorter, and the record cut to match: as if it had been cut and the prefix mended.
  for (std::uint32_t n : {0u, 1u, 2000u, 2999u}) {
    CAPTURE(n);
    const std::string shorter = le32(n) + first.substr(4, n + crypto::k_seal_abytes);
    const auto r = pull_first(shorter);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "authentication failed"));
    // ...also with the tag's bytes kept at the end.
    const std::string tail = le32(n) + first.substr(4, n) + first.substr(first.size() - crypto::k_seal_abytes);
    CHECK_FALSE(pull_first(tail));
  }
  // Made longer, with the bytes that follow (the next record's) taken in.
  for (std::uint32_t n : {3001u, 4000u, 5000u}) {
    CAPTURE(n);
    const std::string longer = le32(n) + file.substr(h + 4, n + crypto::k_seal_abytes);
    const auto r = pull_first(longer);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "authentication failed"));
  }
  // A prefix that disagrees with the bytes given.
  const auto mismatch = pull_first(le32(2999) + first.substr(4));
  REQUIRE_FALSE(mismatch);
  CHECK(contains(mismatch.error().message, "authentication failed"));

  // In a file: the altered record is refused, also when the file is cut to match.
  std::string altered = file;
  altered.replace(h, 4, le32(2000));
  CHECK_FALSE(unseal(altered, sk));
  const std::string cut_to_match = le32(2000) + first.substr(4, 2000 + crypto::k_seal_abytes);
  const auto r = unseal(file.substr(0, h) + cut_to_match, sk);
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().message, "authentication failed"));
}

TEST_CASE("damage in the header is refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string file = seal(test::random_bytes(1000), sk.public_key());

  std::string magic = file;
  magic[0] = 'X';
  CHECK(contains(refusal(unseal(magic, sk)), "bad magic"));
  std::string v1 = file;
  v1[7] = '1'; // the old fixed-chunk format
  CHECK(contains(refusal(unseal(v1, sk)), "bad magic"));
  const auto short_header = crypto::Unsealer::open(sk, file.substr(0, crypto::k_seal_header_size - 1), "s");
  REQUIRE_FALSE(short_header);
  CHECK(short_header.error().code == Errc::check_failed);
  CHECK_FALSE(crypto::Unsealer::open(sk, "", "s"));

  std::string sealed_key = file;
  sealed_key[20 + 40] ^= 0x10;
  CHECK(contains(refusal(unseal(sealed_key, sk)), "cannot open the sealed key"));

  std::string stream_header = file;
  stream_header[110] ^= 0x10;
  CHECK(contains(refusal(unseal(stream_header, sk)), "authentication failed"));
}

TEST_CASE("altered record-size bytes in the header are refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string data = test::random_bytes(MiB + 1000);
  const std::string file = seal(data, sk.public_key());

  // Zero or over 64 MiB: refused when opening.
  std::string zero = file;
  zero[16] = zero[17] = zero[18] = zero[19] = 0;
  CHECK(contains(refusal(unseal(zero, sk)), "invalid record size"));
  std::string huge = file;
  huge[19] = 0x10; // 256 MiB + 1 MiB
  CHECK(contains(refusal(unseal(huge, sk)), "invalid record size"));
  std::string just_over = file;
  just_over.replace(16, 4, le32(64 * MiB + 1));
  CHECK(contains(refusal(unseal(just_over, sk)), "invalid record size"));
  std::string at_limit = file;
  at_limit.replace(16, 4, le32(64 * MiB));
  const auto limit = crypto::Unsealer::open(sk, at_limit, "s");
  REQUIRE_MESSAGE(limit, why(limit)); // opens: 64 MiB is allowed...
  CHECK(limit->max_record() == 64 * MiB);
  CHECK(contains(refusal(unseal(at_limit, sk)), "authentication failed")); // ...but it is not this file's

  // A plausible size: the records no longer authenticate (the size is additional data).
  std::string bigger = file;
  bigger[18] = 0x20; // 2 MiB
  CHECK(contains(refusal(unseal(bigger, sk)), "authentication failed"));
  std::string half = file;
  half[18] = 0x08; // 512 KiB: the first record is now over the limit
  CHECK_FALSE(unseal(half, sk));
  // Even when the first record is pulled regardless.
  auto u = crypto::Unsealer::open(sk, half, "s");
  REQUIRE(u);
  CHECK_FALSE(u->record_length(bytes(half, crypto::k_seal_header_size), "s"));
  std::vector<unsigned char> plain(MiB);
  bool final = false;
  CHECK_FALSE(u->pull(bytes(half, crypto::k_seal_header_size), MiB + k_overhead, plain.data(), final, "s"));
}

TEST_CASE("a file cut at a record boundary has no final record; cut inside one it fails") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::vector<std::string> records = {test::random_bytes(1), test::random_bytes(5000), std::string(),
                                            test::random_bytes(300), std::string()};
  std::vector<std::size_t> ends;
  const std::string file = seal_records(records, sk.public_key(), 5000, true, &ends);
  REQUIRE(ends.size() == records.size() + 1);

  std::size_t boundary = 0;
  for (std::size_t len = crypto::k_seal_header_size; len <= file.size(); ++len) {
    CAPTURE(len);
    const auto opened = unseal(file.substr(0, len), sk);
    if (len == ends[boundary]) {
      // Every record present authenticates, but none is final until the last: a reader must
      // refuse the file unless its manifest says it was recovered.
      REQUIRE_MESSAGE(opened, why(opened));
      CHECK((opened->records == std::vector<std::string>(records.begin(), records.begin() + boundary)));
      CHECK(opened->finals == (len == file.size() ? 1u : 0u));
      CHECK(opened->final_last == (len == file.size()));
      ++boundary;
    } else {
      CHECK(contains(refusal(opened), "cut record"));
    }
  }
  CHECK(boundary == ends.size());

  // Whole files too: two of three records.
  const std::string data = test::random_bytes(2 * MiB + MiB / 2);
  const std::string whole = seal(data, sk.public_key());
  const auto two = unseal(whole.substr(0, crypto::k_seal_header_size + 2 * (MiB + k_overhead)), sk);
  REQUIRE_MESSAGE(two, why(two));
  CHECK(two->records.size() == 2);
  CHECK(two->finals == 0);
  CHECK((two->plain == data.substr(0, 2 * MiB)));
  CHECK_FALSE(unseal(whole.substr(0, whole.size() - 1), sk));
}

TEST_CASE("pull refuses a record cut short, whatever its prefix says") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string file = seal("abcdefgh", sk.public_key());
  const std::string record = file.substr(crypto::k_seal_header_size);
  REQUIRE(record.size() == 8 + k_overhead);
  unsigned char plain[16];
  for (std::size_t size = 0; size < record.size(); ++size) {
    CAPTURE(size);
    auto u = crypto::Unsealer::open(sk, file, "s");
    REQUIRE(u);
    bool final = false;
    const auto r = u->pull(bytes(record), size, plain, final, "s");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "authentication failed"));
  }
  // One byte too many is refused as well.
  auto u = crypto::Unsealer::open(sk, file, "s");
  REQUIRE(u);
  const std::string longer = record + "x";
  bool final = false;
  CHECK_FALSE(u->pull(bytes(longer), longer.size(), plain, final, "s"));
}

TEST_CASE("reordered, repeated or dropped records are refused") {
  const auto sk = crypto::SealSecretKey::generate();
  const std::string file = seal(test::random_bytes(3 * MiB), sk.public_key());
  const std::size_t c = MiB + k_overhead, h = crypto::k_seal_header_size;
  REQUIRE(file.size() == h + 3 * c); // three full records, the third final
  const std::string swapped = file.substr(0, h) + file.substr(h + c, c) + file.substr(h, c) + file.substr(h + 2 * c);
  CHECK(contains(refusal(unseal(swapped, sk)), "authentication failed"));
  const std::string repeated = file.substr(0, h) + file.substr(h, c) + file.substr(h, c) + file.substr(h + 2 * c);
  CHECK(contains(refusal(unseal(repeated, sk)), "authentication failed"));
  const std::string dropped_middle = file.substr(0, h) + file.substr(h, c) + file.substr(h + 2 * c);
  CHECK(contains(refusal(unseal(dropped_middle, sk)), "authentication failed"));

  // Records of different sizes: each still parses where it is moved to, and still fails.
  const std::vector<std::string> records = {test::random_bytes(10), test::random_bytes(4000), std::string(),
                                            test::random_bytes(77)};
  std::vector<std::size_t> e;
  const std::string varied = seal_records(records, sk.public_key(), 5000, true, &e);
  auto rec = [&](std::size_t i) { return varied.substr(e[i], e[i + 1] - e[i]); };
  const std::string head = varied.substr(0, h);
  CHECK_FALSE(unseal(head + rec(1) + rec(0) + rec(2) + rec(3), sk));
  CHECK_FALSE(unseal(head + rec(0) + rec(2) + rec(1) + rec(3), sk));
  CHECK_FALSE(unseal(head + rec(0) + rec(0) + rec(1) + rec(2) + rec(3), sk));
  CHECK_FALSE(unseal(head + rec(0) + rec(1) + rec(1) + rec(2) + rec(3), sk));
  CHECK_FALSE(unseal(head + rec(0) + rec(1) + rec(3), sk));         // the empty record dropped
  CHECK_FALSE(unseal(head + rec(0) + rec(1) + rec(2) + rec(3) + rec(3), sk)); // the final one twice
  CHECK_FALSE(unseal(head + rec(0) + rec(1) + rec(2) + rec(2) + rec(3), sk)); // an empty one twice
  const auto original = unseal(head + rec(0) + rec(1) + rec(2) + rec(3), sk);
  REQUIRE_MESSAGE(original, why(original));
  CHECK((original->records == records));

  // A record from another file sealed to the same key, at the same place.
  std::vector<std::size_t> e2;
  const std::string other = seal_records(records, sk.public_key(), 5000, true, &e2);
  CHECK_FALSE(unseal(head + other.substr(e2[0], e2[1] - e2[0]) + rec(1) + rec(2) + rec(3), sk));
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

  const std::string sk_file(sk.to_file().view());
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

// A host whose OpenSSL configuration offers no ChaCha20 (a FIPS-only provider, say) must still
// open every clip: this binary's own tests above, run again with only OpenSSL's base provider.
TEST_CASE("without OpenSSL's ciphers, libsodium opens every record") {
  if (openssl_off()) return; // already the run without them
  test::TmpDir tmp;
  test::put_file(tmp / "openssl.cnf", "openssl_conf = init\n[init]\nproviders = providers\n[providers]\n"
                                      "base = base\n[base]\nactivate = 1\n");
  // This binary: as ctest runs it (under an emulator when cross-built), else /proc/self/exe.
  const char* self = std::getenv("BWV_UNIT_SELF");
  const std::string me = self ? self : "/proc/" + std::to_string(::getpid()) + "/exe";
  const std::string cmd = "OPENSSL_CONF='" + (tmp / "openssl.cnf").string() + "' BWV_TEST_OPENSSL_OFF=1 " + me +
                          " --test-suite='crypto::seal' --test-case-exclude='without OpenSSL*' "
                          "--no-version --minimal >'" +
                          (tmp / "out").string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  CHECK_MESSAGE(status == 0, test::get_file(tmp / "out"));
}

TEST_SUITE_END();
