#include "crypto/hash.hpp"

#include "core/text.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace bwv::crypto {

bool init() { return sodium_init() >= 0; }

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (!m_ctx || EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("libcrypto: cannot initialise SHA-256");
}

Sha256::~Sha256() { EVP_MD_CTX_free(m_ctx); }
Sha256::Sha256(Sha256&& o) noexcept : m_ctx(std::exchange(o.m_ctx, nullptr)) {}
Sha256& Sha256::operator=(Sha256&& o) noexcept {
  std::swap(m_ctx, o.m_ctx);
  return *this;
}

void Sha256::update(const void* data, std::size_t size) { EVP_DigestUpdate(m_ctx, data, size); }

Sha256Digest Sha256::finish() {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_ctx, d.data(), &len);
  EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr);
  return d;
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
