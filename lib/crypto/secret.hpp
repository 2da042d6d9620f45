// Secret bytes live in sodium_malloc memory: guarded pages, locked, wiped on release. Secret keys,
// the text of secret key files and everything derived from them (scrypt streams, stream keys,
// secretstream states) are held only here, never in std::string or std::vector, whose buffers are
// freed unwiped and copied when they grow.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

namespace bwv::crypto {

class SecretBytes {
public:
  explicit SecretBytes(std::size_t size);
  SecretBytes(SecretBytes&& o) noexcept
      : m_data(std::exchange(o.m_data, nullptr)), m_size(std::exchange(o.m_size, 0)) {}
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    std::swap(m_data, o.m_data);
    std::swap(m_size, o.m_size);
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();
  unsigned char* data() { return m_data; }
  const unsigned char* data() const { return m_data; }
  std::size_t size() const { return m_size; }
  // The bytes as text (a key file's), without copying them.
  std::string_view view() const { return {reinterpret_cast<const char*>(m_data), m_size}; }
  // Forgets the tail past n (n <= size()); the whole allocation is still wiped on release.
  void shrink(std::size_t n) { m_size = n < m_size ? n : m_size; }

private:
  unsigned char* m_data;
  std::size_t m_size;
};

// A secret key file's whole text, read straight into guarded memory. Refused (Errc::permission,
// naming the file and the fix) when its mode grants group or others any permission, and refused
// when it is a symbolic link or larger than max_bytes.
Result<SecretBytes> read_secret_file(const fs::Path& path, std::size_t max_bytes = 65536);

// The base64 (standard, padded) of secret bytes, into guarded memory.
SecretBytes secret_base64(const unsigned char* data, std::size_t size);

} // namespace bwv::crypto
