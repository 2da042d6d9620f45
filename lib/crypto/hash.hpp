// Streaming hashes. SHA-256 goes through libcrypto, which uses the CPU's SHA instructions;
// BLAKE2b (minisign's prehash) through libsodium.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace bwv::crypto {

// Call once before anything else in a process (sodium_init and friends); false means the
// library cannot run safely.
bool init();

using Sha256Digest = std::array<unsigned char, 32>;

// A value type: its state can be copied, and saved to bytes and restored, which lets the camera
// journal a clip's hashes as it records and finish them after a power cut without the plaintext.
class Sha256 {
public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Sha256Digest finish(); // resets for reuse
  // The state as bytes, for this build and machine only (a journal, never an interchange format).
  std::string save() const;
  bool restore(std::string_view saved);

private:
  // OpenSSL's SHA256_CTX: the same SHA-NI block code as EVP, but a plain struct.
  alignas(8) unsigned char m_ctx[112];
};

Sha256Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string hex(const Sha256Digest& d);
// The SHA-256 of a whole file, streamed.
Result<Sha256Digest> sha256_file(const fs::Path& path);

// SHA-512, for BagIt's payload and tag manifests.
class Sha512 {
public:
  Sha512();
  void update(const void* data, std::size_t size);
  std::array<unsigned char, 64> finish(); // resets for reuse

private:
  alignas(8) unsigned char m_ctx[216];
};

class Blake2b512 {
public:
  Blake2b512();
  void update(const void* data, std::size_t size);
  std::array<unsigned char, 64> finish();

private:
  alignas(64) unsigned char m_state[384];
};

} // namespace bwv::crypto
