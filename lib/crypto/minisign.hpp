// Ed25519 keys and signatures in minisign's exact file formats, so that stock `minisign -V`
// checks what bwv signs and bwv checks what minisign signs.
#pragma once

#include "core/error.hpp"
#include "crypto/secret.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace bwv::crypto {

using KeyId = std::array<unsigned char, 8>;
// As minisign prints it: the 8 bytes read as a little-endian integer, 16 upper-case hex digits.
std::string key_id_string(const KeyId& id);

struct PublicKey {
  KeyId id{};
  std::array<unsigned char, 32> pk{};

  // A public key file, or just its base64 line (as minisign -P takes it).
  static Result<PublicKey> parse(std::string_view text, const std::string& subject);
  std::string base64() const;
  std::string to_file(std::string_view comment) const;
  bool operator==(const PublicKey&) const = default;
};

class SecretKey {
public:
  static SecretKey generate();
  // Encrypted keys need a passphrase; unencrypted ones must not be given one. The text is a
  // key file's (read with read_secret_file); nothing secret is copied out of guarded memory.
  static Result<SecretKey> parse(std::string_view text, const std::string& subject,
                                 const std::optional<std::string_view>& passphrase);
  // With a passphrase, scrypt-encrypted as minisign does; without, unencrypted (store it 0600).
  // The file's text, in guarded memory: it holds the key when unencrypted.
  Result<SecretBytes> to_file(const std::optional<std::string_view>& passphrase) const;
  PublicKey public_key() const;
  const KeyId& id() const { return m_id; }
  const unsigned char* ed25519_sk() const { return m_sk.data(); }

private:
  SecretKey() : m_sk(64) {}
  KeyId m_id{};
  SecretBytes m_sk;
};

struct Signature {
  bool prehashed = true; // "ED" (BLAKE2b-512 prehash) or legacy "Ed"
  KeyId key_id{};
  std::array<unsigned char, 64> sig{};
  std::string untrusted_comment;
  std::string trusted_comment;
  std::array<unsigned char, 64> global_sig{};

  static Result<Signature> parse(std::string_view text, const std::string& subject);
  std::string to_file() const;
};

// An "ED" signature of message with a trusted comment.
Signature sign(const SecretKey& key, std::string_view message, std::string trusted_comment,
               std::string untrusted_comment = "signature from bwv secret key");
// The same for a message already hashed with BLAKE2b-512 (files streamed in chunks).
Signature sign_prehashed(const SecretKey& key, const std::array<unsigned char, 64>& digest,
                         std::string trusted_comment, std::string untrusted_comment);

// Checks key id, the signature and the trusted comment's global signature.
Result<void> verify(const PublicKey& key, std::string_view message, const Signature& sig,
                    const std::string& subject);

} // namespace bwv::crypto
