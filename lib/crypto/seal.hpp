// Sealing: a clip encrypted with libsodium's secretstream under a fresh key, and that key sealed
// (crypto_box_seal) to the store's X25519 public key. Only the store can open it.
#pragma once

#include "core/error.hpp"
#include "crypto/minisign.hpp"
#include "crypto/secret.hpp"

#include <sodium.h>

#include <array>
#include <string>
#include <string_view>

namespace bwv::crypto {

inline constexpr std::size_t k_seal_chunk = 1 << 20; // plaintext bytes per chunk
inline constexpr std::size_t k_seal_header_size = 8 + 8 + 4 + crypto_box_SEALBYTES + 32 +
                                                  crypto_secretstream_xchacha20poly1305_HEADERBYTES;
inline constexpr std::size_t k_seal_abytes = crypto_secretstream_xchacha20poly1305_ABYTES;

struct SealPublicKey {
  KeyId id{};
  std::array<unsigned char, 32> pk{};
  static Result<SealPublicKey> parse(std::string_view text, const std::string& subject);
  std::string to_file() const;
};

class SealSecretKey {
public:
  static SealSecretKey generate();
  static Result<SealSecretKey> parse(std::string_view text, const std::string& subject);
  std::string to_file() const;
  SealPublicKey public_key() const;

private:
  friend class Unsealer;
  SealSecretKey() : m_sk(32) {}
  KeyId m_id{};
  SecretBytes m_sk;
};

// Writes a sealed stream: header() once, then push() each chunk of k_seal_chunk plaintext bytes
// (the last may be shorter or empty) with final set on the last.
class Sealer {
public:
  explicit Sealer(const SealPublicKey& key);
  const std::string& header() const { return m_header; }
  // Appends the ciphertext of one chunk to out.
  void push(const unsigned char* plain, std::size_t size, bool final, std::string& out);

private:
  std::string m_header;
  crypto_secretstream_xchacha20poly1305_state m_state{};
};

class Unsealer {
public:
  // header: the first k_seal_header_size bytes of the sealed file.
  static Result<Unsealer> open(const SealSecretKey& key, std::string_view header,
                               const std::string& subject);
  std::size_t chunk_size() const { return m_chunk; }
  // Decrypts one chunk (chunk_size() + k_seal_abytes bytes, the last may be shorter); returns the
  // plaintext size and sets final when the stream's last chunk was read.
  Result<std::size_t> pull(const unsigned char* cipher, std::size_t size, unsigned char* plain,
                           bool& final, const std::string& subject);

private:
  Unsealer() = default;
  std::string m_ad;
  std::size_t m_chunk = 0;
  crypto_secretstream_xchacha20poly1305_state m_state{};
};

} // namespace bwv::crypto
