// Secret bytes live in sodium_malloc memory: guarded pages, locked, wiped on release.
#pragma once

#include <cstddef>
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

private:
  unsigned char* m_data;
  std::size_t m_size;
};

} // namespace bwv::crypto
