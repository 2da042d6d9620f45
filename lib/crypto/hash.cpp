#include "crypto/hash.hpp"

#include "core/text.hpp"

// The low-level SHA-256 API is deprecated in OpenSSL 3 but kept; it is the only one whose state
// is a plain struct that can be saved (see Sha256::save).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace bwv::crypto {

bool init() { return sodium_init() >= 0; }

static_assert(sizeof(SHA256_CTX) <= 112, "Sha256::m_ctx too small for SHA256_CTX");

namespace {
SHA256_CTX* ctx(unsigned char* p) { return reinterpret_cast<SHA256_CTX*>(p); }
} // namespace

Sha256::Sha256() { SHA256_Init(ctx(m_ctx)); }

void Sha256::update(const void* data, std::size_t size) { SHA256_Update(ctx(m_ctx), data, size); }

Sha256Digest Sha256::finish() {
  Sha256Digest d{};
  SHA256_Final(d.data(), ctx(m_ctx));
  SHA256_Init(ctx(m_ctx));
  return d;
}

std::string Sha256::save() const { return {reinterpret_cast<const char*>(m_ctx), sizeof(SHA256_CTX)}; }

bool Sha256::restore(std::string_view saved) {
  if (saved.size() != sizeof(SHA256_CTX)) return false;
  std::memcpy(m_ctx, saved.data(), saved.size());
  return true;
}

Sha256Digest sha256(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string hex(const Sha256Digest& d) { return text::to_hex(d); }
std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

Result<Sha256Digest> sha256_file(const fs::Path& path) {
  fs::Fd fd = BWV_TRY(fs::open_regular(path));
  Sha256 h;
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    const std::size_t n = BWV_TRY(fs::read_full(fd.get(), buf.data(), buf.size(), path));
    h.update(buf.data(), n);
    if (n < buf.size()) break;
  }
  return h.finish();
}

static_assert(sizeof(SHA512_CTX) <= 216, "Sha512::m_ctx too small for SHA512_CTX");

Sha512::Sha512() { SHA512_Init(reinterpret_cast<SHA512_CTX*>(m_ctx)); }

void Sha512::update(const void* data, std::size_t size) {
  SHA512_Update(reinterpret_cast<SHA512_CTX*>(m_ctx), data, size);
}

std::array<unsigned char, 64> Sha512::finish() {
  std::array<unsigned char, 64> d{};
  SHA512_Final(d.data(), reinterpret_cast<SHA512_CTX*>(m_ctx));
  SHA512_Init(reinterpret_cast<SHA512_CTX*>(m_ctx));
  return d;
}

static_assert(sizeof(crypto_generichash_state) <= 384);

Blake2b512::Blake2b512() {
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(m_state), nullptr, 0, 64);
}

void Blake2b512::update(const void* data, std::size_t size) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(m_state),
                            static_cast<const unsigned char*>(data), size);
}

std::array<unsigned char, 64> Blake2b512::finish() {
  std::array<unsigned char, 64> out{};
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(m_state), out.data(), 64);
  return out;
}

} // namespace bwv::crypto
