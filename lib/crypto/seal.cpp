#include "crypto/seal.hpp"

#include "core/text.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstring>

namespace bwv::crypto {

namespace {

constexpr std::string_view k_magic = "BWVSEAL2";
constexpr std::size_t k_ad_size = 20; // magic, key id, record size: bound into every record

void put_le32(unsigned char* p, std::size_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

std::size_t get_le32(const unsigned char* p) {
  return std::size_t(p[0]) | std::size_t(p[1]) << 8 | std::size_t(p[2]) << 16 | std::size_t(p[3]) << 24;
}
constexpr std::string_view k_comment_prefix = "untrusted comment: ";

Result<std::vector<unsigned char>> seal_key_payload(std::string_view text, const std::string& subject,
                                                    std::size_t size) {
  const auto nl = text.find('\n');
  if (!text.starts_with(k_comment_prefix) || nl == std::string_view::npos)
    return fail(Errc::check_failed, subject, "not a bwv sealing key file");
  std::string_view b64 = text.substr(nl + 1);
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.remove_suffix(1);
  auto raw = BWV_TRY(text::from_base64(b64, subject));
  if (raw.size() != size || raw[0] != 'X' || raw[1] != '1')
    return fail(Errc::check_failed, subject, "not a bwv sealing key (expected algorithm X1)");
  return raw;
}

} // namespace

Result<SealPublicKey> SealPublicKey::parse(std::string_view text, const std::string& subject) {
  const auto raw = BWV_TRY(seal_key_payload(text, subject, 42));
  SealPublicKey key;
  std::memcpy(key.id.data(), raw.data() + 2, 8);
  std::memcpy(key.pk.data(), raw.data() + 10, 32);
  return key;
}

std::string SealPublicKey::to_file() const {
  std::array<unsigned char, 42> raw{'X', '1'};
  std::memcpy(raw.data() + 2, id.data(), 8);
  std::memcpy(raw.data() + 10, pk.data(), 32);
  return std::string(k_comment_prefix) + "bwv store sealing public key " + key_id_string(id) +
         "\n" + text::to_base64(raw) + "\n";
}

SealSecretKey SealSecretKey::generate() {
  SealSecretKey key;
  std::array<unsigned char, 32> pk{};
  crypto_box_keypair(pk.data(), key.m_sk.data());
  randombytes_buf(key.m_id.data(), key.m_id.size());
  return key;
}

Result<SealSecretKey> SealSecretKey::parse(std::string_view text, const std::string& subject) {
  const auto nl = text.find('\n');
  if (!text.starts_with(k_comment_prefix) || nl == std::string_view::npos)
    return fail(Errc::check_failed, subject, "not a bwv sealing key file");
  std::string_view b64 = text.substr(nl + 1);
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.remove_suffix(1);
  // Decoded straight into guarded memory: the payload is the secret key.
  SecretBytes raw(42 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (!text::is_base64_alphabet(b64) ||
      sodium_base642bin(raw.data(), raw.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size())
    return fail(Errc::check_failed, subject, "not valid base64");
  if (len != 42 || raw.data()[0] != 'X' || raw.data()[1] != '1')
    return fail(Errc::check_failed, subject, "not a bwv sealing key (expected algorithm X1)");
  SealSecretKey key;
  std::memcpy(key.m_id.data(), raw.data() + 2, 8);
  std::memcpy(key.m_sk.data(), raw.data() + 10, 32);
  return key;
}

SecretBytes SealSecretKey::to_file() const {
  SecretBytes raw(42);
  raw.data()[0] = 'X';
  raw.data()[1] = '1';
  std::memcpy(raw.data() + 2, m_id.data(), 8);
  std::memcpy(raw.data() + 10, m_sk.data(), 32);
  const SecretBytes b64 = secret_base64(raw.data(), raw.size());
  const std::string comment =
      std::string(k_comment_prefix) + "bwv store sealing secret key " + key_id_string(m_id) + " (keep it mode 0600)\n";
  SecretBytes out(comment.size() + b64.size() + 1);
  std::memcpy(out.data(), comment.data(), comment.size());
  std::memcpy(out.data() + comment.size(), b64.data(), b64.size());
  out.data()[out.size() - 1] = '\n';
  return out;
}

SealPublicKey SealSecretKey::public_key() const {
  SealPublicKey pub;
  pub.id = m_id;
  crypto_scalarmult_base(pub.pk.data(), m_sk.data());
  return pub;
}

Sealer::Sealer(const SealPublicKey& key, std::size_t max_record) : m_max(max_record) {
  SecretBytes stream_key(crypto_secretstream_xchacha20poly1305_KEYBYTES);
  crypto_secretstream_xchacha20poly1305_keygen(stream_key.data());
  m_header.resize(k_seal_header_size);
  auto* p = reinterpret_cast<unsigned char*>(m_header.data());
  std::memcpy(p, k_magic.data(), 8);
  std::memcpy(p + 8, key.id.data(), 8);
  put_le32(p + 16, m_max);
  crypto_box_seal(p + 20, stream_key.data(), stream_key.size(), key.pk.data());
  crypto_secretstream_xchacha20poly1305_init_push(state(), p + 20 + crypto_box_SEALBYTES + 32,
                                                  stream_key.data());
}

void Sealer::push(const unsigned char* plain, std::size_t size, bool final, std::string& out) {
  const std::size_t at = out.size();
  out.resize(at + k_seal_length_size + size + k_seal_abytes);
  auto* rec = reinterpret_cast<unsigned char*>(out.data() + at);
  put_le32(rec, size);
  // The length is authenticated with the header fields, so a record cannot be cut or stretched.
  unsigned char ad[k_ad_size + k_seal_length_size];
  std::memcpy(ad, m_header.data(), k_ad_size);
  std::memcpy(ad + k_ad_size, rec, k_seal_length_size);
  crypto_secretstream_xchacha20poly1305_push(state(), rec + k_seal_length_size, nullptr, plain, size,
                                             ad, sizeof ad,
                                             final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
}

Result<Unsealer> Unsealer::open(const SealSecretKey& key, std::string_view header,
                                const std::string& subject) {
  if (header.size() < k_seal_header_size || header.substr(0, 8) != k_magic)
    return fail(Errc::check_failed, subject, "not a bwv sealed file (bad magic)");
  const auto* p = reinterpret_cast<const unsigned char*>(header.data());
  if (std::memcmp(p + 8, key.m_id.data(), 8) != 0) {
    KeyId id;
    std::memcpy(id.data(), p + 8, 8);
    return fail(Errc::check_failed, subject,
                "sealed to key " + key_id_string(id) + ", not to this store's key " +
                    key_id_string(key.m_id));
  }
  Unsealer u;
  u.m_max = get_le32(p + 16);
  if (u.m_max == 0 || u.m_max > k_seal_max_record)
    return fail(Errc::check_failed, subject, "sealed file has an invalid record size");
  u.m_ad.assign(header.substr(0, k_ad_size));
  const auto pub = key.public_key();
  SecretBytes stream_key(32);
  if (crypto_box_seal_open(stream_key.data(), p + 20, crypto_box_SEALBYTES + 32, pub.pk.data(),
                           key.m_sk.data()) != 0)
    return fail(Errc::check_failed, subject, "cannot open the sealed key (damaged or forged)");
  if (crypto_secretstream_xchacha20poly1305_init_pull(u.state(),
                                                      p + 20 + crypto_box_SEALBYTES + 32,
                                                      stream_key.data()) != 0)
    return fail(Errc::check_failed, subject, "invalid secretstream header");
  return u;
}

Result<std::size_t> Unsealer::record_length(const unsigned char* prefix, const std::string& subject) const {
  const std::size_t n = get_le32(prefix);
  if (n > m_max)
    return fail(Errc::check_failed, subject,
                "sealed record of " + std::to_string(n) + " bytes is over the file's " +
                    std::to_string(m_max) + "-byte limit (damaged or forged)");
  return n;
}

void Unsealer::CipherCtxFree::operator()(evp_cipher_ctx_st* ctx) const { EVP_CIPHER_CTX_free(ctx); }

namespace {

// OpenSSL's ChaCha20 and Poly1305, fetched once; none when its configuration offers them not (a
// FIPS-only host), and then libsodium opens every record.
struct OpenSsl {
  EVP_CIPHER* chacha20 = nullptr;
  EVP_MAC* poly1305 = nullptr;
};

const OpenSsl& openssl() {
  static const OpenSsl fetched = [] {
    OpenSsl o{EVP_CIPHER_fetch(nullptr, "ChaCha20", nullptr), EVP_MAC_fetch(nullptr, "POLY1305", nullptr)};
    if (!o.chacha20 || !o.poly1305) {
      EVP_CIPHER_free(o.chacha20);
      EVP_MAC_free(o.poly1305);
      ERR_clear_error();
      return OpenSsl{};
    }
    return o;
  }();
  return fetched;
}

void put_le64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<unsigned char>(v >> (8 * i));
}

} // namespace

// crypto_secretstream_xchacha20poly1305_pull, step for step, on OpenSSL's ChaCha20 and Poly1305,
// which open a record two to three times as fast as libsodium here (decryption was the largest
// cost of bwv-pull). With the state's key and 12-byte nonce: keystream block 0 keys Poly1305;
// block 1 carries the tag (pushed as a block of zeros, so all but its first byte is keystream);
// blocks 2 on, the message. The MAC covers the additional data, zero-padded to 16, the tag block,
// the ciphertext padded by n mod 16 zeros (libsodium's padding, not RFC 8439's), and both lengths.
// It is checked before anything is decrypted, and the state then moves as libsodium moves it
// (counter and inner nonce are libsodium's private names). not_here: OpenSSL failed for a reason
// of its own, the state has not moved, and libsodium takes the record. The key schedule is
// cleansed after each record (EVP_CIPHER_CTX_reset), and the one-time Poly1305 key with its
// context.
Unsealer::Opened Unsealer::pull_openssl(const unsigned char* ad, std::size_t ad_size, const unsigned char* c,
                                        std::size_t n, unsigned char* plain, unsigned char& tag) {
  constexpr std::size_t counter_bytes = 4, inonce_bytes = 8;
  const OpenSsl& o = openssl();
  if (!o.chacha20) return Opened::not_here;
  if (!m_ctx) m_ctx.reset(EVP_CIPHER_CTX_new());
  if (!m_ctx) return Opened::not_here;
  auto* st = state();
  unsigned char iv[16] = {}; // OpenSSL's: the block counter (here 0), little-endian, then the nonce
  std::memcpy(iv + 4, st->nonce, sizeof st->nonce);
  unsigned char blocks[128] = {};
  unsigned char computed[16];
  static constexpr unsigned char zeros[16] = {};
  unsigned char lengths[16];
  put_le64(lengths, ad_size);
  put_le64(lengths + 8, 64 + n);
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(m_ctx.get(), o.chacha20, st->k, iv, nullptr) == 1 &&
            EVP_EncryptUpdate(m_ctx.get(), blocks, &len, blocks, sizeof blocks) == 1 && len == sizeof blocks;
  if (ok) {
    tag = static_cast<unsigned char>(c[0] ^ blocks[64]);
    blocks[64] = c[0]; // the tag block as sent
    EVP_MAC_CTX* mac = EVP_MAC_CTX_new(o.poly1305);
    std::size_t mac_len = 0;
    ok = mac && EVP_MAC_init(mac, blocks, 32, nullptr) == 1 && EVP_MAC_update(mac, ad, ad_size) == 1 &&
         EVP_MAC_update(mac, zeros, (16 - ad_size % 16) % 16) == 1 && EVP_MAC_update(mac, blocks + 64, 64) == 1 &&
         EVP_MAC_update(mac, c + 1, n) == 1 && EVP_MAC_update(mac, zeros, n % 16) == 1 &&
         EVP_MAC_update(mac, lengths, sizeof lengths) == 1 &&
         EVP_MAC_final(mac, computed, &mac_len, sizeof computed) == 1 && mac_len == sizeof computed;
    EVP_MAC_CTX_free(mac);
  }
  sodium_memzero(blocks, sizeof blocks);
  const unsigned char* sent = c + 1 + n;
  Opened result = !ok ? Opened::not_here : CRYPTO_memcmp(computed, sent, 16) != 0 ? Opened::forged : Opened::yes;
  // Only an authentic record is decrypted: ChaCha20 from block 2, where the keystream above ended.
  if (result == Opened::yes && n > 0 &&
      !(EVP_EncryptUpdate(m_ctx.get(), plain, &len, c + 1, static_cast<int>(n)) == 1 &&
        static_cast<std::size_t>(len) == n)) {
    sodium_memzero(plain, n);
    result = Opened::not_here;
  }
  EVP_CIPHER_CTX_reset(m_ctx.get());
  if (result == Opened::not_here) ERR_clear_error();
  if (result != Opened::yes) return result;
  for (std::size_t i = 0; i < inonce_bytes; ++i)
    st->nonce[counter_bytes + i] ^= sent[i];
  sodium_increment(st->nonce, counter_bytes);
  if ((tag & crypto_secretstream_xchacha20poly1305_TAG_REKEY) != 0 || sodium_is_zero(st->nonce, counter_bytes))
    crypto_secretstream_xchacha20poly1305_rekey(st);
  ++m_openssl_records;
  return Opened::yes;
}

Result<void> Unsealer::pull(const unsigned char* record, std::size_t size, unsigned char* plain,
                            bool& final, const std::string& subject) {
  unsigned long long plain_len = 0;
  unsigned char tag = 0;
  unsigned char ad[k_ad_size + k_seal_length_size];
  std::memcpy(ad, m_ad.data(), k_ad_size);
  if (size >= k_seal_length_size) std::memcpy(ad + k_ad_size, record, k_seal_length_size);
  const auto forged = [&] {
    return fail(Errc::check_failed, subject, "sealed data is damaged or forged (authentication failed)");
  };
  // The length is checked here too: plain has room for max_record() bytes, no more.
  if (size < k_seal_length_size + k_seal_abytes || get_le32(record) != size - k_seal_length_size - k_seal_abytes ||
      get_le32(record) > m_max)
    return forged();
  const std::size_t n = size - k_seal_length_size - k_seal_abytes;
  switch (pull_openssl(ad, sizeof ad, record + k_seal_length_size, n, plain, tag)) {
  case Opened::yes: break;
  case Opened::forged: return forged();
  case Opened::not_here:
    if (crypto_secretstream_xchacha20poly1305_pull(state(), plain, &plain_len, &tag, record + k_seal_length_size,
                                                   size - k_seal_length_size, ad, sizeof ad) != 0)
      return forged();
  }
  final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return {};
}

} // namespace bwv::crypto
