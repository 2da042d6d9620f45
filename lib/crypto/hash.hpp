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

struct evp_md_ctx_st;

namespace bwv::crypto {

// Call once before anything else in a process (sodium_init and friends); false means the
// library cannot run safely.
bool init();

using Sha256Digest = std::array<unsigned char, 32>;

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Sha256Digest finish(); // resets for reuse

private:
  evp_md_ctx_st* m_ctx;
};

Sha256Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string hex(const Sha256Digest& d);
// The SHA-256 of a whole file, streamed.
Result<Sha256Digest> sha256_file(const fs::Path& path);

class Blake2b512 {
public:
  Blake2b512();
  void update(const void* data, std::size_t size);
  std::array<unsigned char, 64> finish();

private:
  alignas(64) unsigned char m_state[384];
};

} // namespace bwv::crypto
