// Sealing: a clip encrypted with libsodium's secretstream under a fresh key, and that key sealed
// (crypto_box_seal) to the store's X25519 public key. Only the store can open it.
#pragma once

#include "core/error.hpp"
#include "crypto/minisign.hpp"
#include "crypto/secret.hpp"

#include <sodium.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

struct evp_cipher_ctx_st; // OpenSSL's EVP_CIPHER_CTX, kept out of this header

namespace bwv::crypto {

// A sealed file is a header and then records, each a 4-byte length and one secretstream message.
// Records let the camera seal every fMP4 fragment as it completes (nothing buffered in plaintext
// across fragments, nothing lost to a power cut but the fragment being written).
inline constexpr std::size_t k_seal_chunk = 1 << 20;        // record size for whole files
inline constexpr std::size_t k_seal_max_record = 64u << 20; // the largest record any reader takes
inline constexpr std::size_t k_seal_header_size = 8 + 8 + 4 + crypto_box_SEALBYTES + 32 +
                                                  crypto_secretstream_xchacha20poly1305_HEADERBYTES;
inline constexpr std::size_t k_seal_abytes = crypto_secretstream_xchacha20poly1305_ABYTES;
inline constexpr std::size_t k_seal_length_size = 4; // before each record: its plaintext length

struct SealPublicKey {
  KeyId id{};
  std::array<unsigned char, 32> pk{};
  static Result<SealPublicKey> parse(std::string_view text, const std::string& subject);
  std::string to_file() const;
};

class SealSecretKey {
public:
  static SealSecretKey generate();
  // The text of a key file (read with read_secret_file): decoded straight into guarded memory.
  static Result<SealSecretKey> parse(std::string_view text, const std::string& subject);
  // The file's text, in guarded memory: it holds the key.
  SecretBytes to_file() const;
  SealPublicKey public_key() const;

private:
  friend class Unsealer;
  SealSecretKey() : m_sk(32) {}
  KeyId m_id{};
  SecretBytes m_sk;
};

// Writes a sealed stream: header() once, then push() each record of at most max_record plaintext
// bytes, with final set on the last (which may be empty).
class Sealer {
public:
  explicit Sealer(const SealPublicKey& key, std::size_t max_record = k_seal_chunk);
  const std::string& header() const { return m_header; }
  std::size_t max_record() const { return m_max; }
  // Appends one record (length and ciphertext) to out.
  void push(const unsigned char* plain, std::size_t size, bool final, std::string& out);

private:
  crypto_secretstream_xchacha20poly1305_state* state() {
    return reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(m_state.data());
  }
  std::string m_header;
  std::size_t m_max;
  // The state holds the stream key, which opens the whole clip: guarded memory, never copied.
  SecretBytes m_state{sizeof(crypto_secretstream_xchacha20poly1305_state)};
};

class Unsealer {
public:
  // header: the first k_seal_header_size bytes of the sealed file.
  static Result<Unsealer> open(const SealSecretKey& key, std::string_view header,
                               const std::string& subject);
  // The largest record's plaintext, from the header: a buffer this big takes any record.
  std::size_t max_record() const { return m_max; }
  // The plaintext length a record's 4-byte prefix announces, refused when over max_record().
  Result<std::size_t> record_length(const unsigned char* prefix, const std::string& subject) const;
  // Decrypts one record: its prefix and then length + k_seal_abytes bytes of ciphertext. Sets
  // final when it was the stream's last record.
  Result<void> pull(const unsigned char* record, std::size_t size, unsigned char* plain, bool& final,
                    const std::string& subject);
  // How many records OpenSSL opened (the rest, libsodium): for tests.
  std::uint64_t openssl_records() const { return m_openssl_records; }

private:
  Unsealer() = default;
  crypto_secretstream_xchacha20poly1305_state* state() {
    return reinterpret_cast<crypto_secretstream_xchacha20poly1305_state*>(m_state.data());
  }
  enum class Opened { yes, forged, not_here };
  Opened pull_openssl(const unsigned char* ad, std::size_t ad_size, const unsigned char* c, std::size_t n,
                      unsigned char* plain, unsigned char& tag);
  struct CipherCtxFree {
    void operator()(evp_cipher_ctx_st* ctx) const;
  };
  std::string m_ad;
  std::size_t m_max = 0;
  std::uint64_t m_openssl_records = 0;
  // OpenSSL's ChaCha20, made once and keyed for each record, reset after it (see pull_openssl).
  std::unique_ptr<evp_cipher_ctx_st, CipherCtxFree> m_ctx;
  // The state holds the unsealed stream key: guarded memory, moved by pointer. OpenSSL's context
  // holds a copy only while it opens a record.
  SecretBytes m_state{sizeof(crypto_secretstream_xchacha20poly1305_state)};
};

} // namespace bwv::crypto
