#include "crypto/secret.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <new>
#include <sys/stat.h>

namespace bwv::crypto {

SecretBytes::SecretBytes(std::size_t size) : m_data(static_cast<unsigned char*>(sodium_malloc(size))), m_size(size) {
  if (!m_data) throw std::bad_alloc();
}

SecretBytes::~SecretBytes() {
  if (m_data) sodium_free(m_data);
}

Result<SecretBytes> read_secret_file(const fs::Path& path, std::size_t max_bytes) {
  fs::Fd fd = BWV_TRY(fs::open_regular(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(path, "stat", errno);
  // Checked on the open file, so the mode is that of what is read. The bits alone decide: root
  // reads any file, and a key readable by others is exposed whoever runs bwv.
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(Errc::permission, path,
                std::string("secret key file grants access to group or others (mode ") + mode + "); chmod 600 it");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    return fail(Errc::check_failed, path, "too large for a secret key file (" + std::to_string(st.st_size) + " bytes)");
  const auto size = static_cast<std::size_t>(st.st_size);
  SecretBytes text(size ? size : 1); // sodium_malloc(0) is not guaranteed to succeed
  const std::size_t got = BWV_TRY(fs::read_full(fd.get(), text.data(), size, path));
  text.shrink(got);
  return text;
}

SecretBytes secret_base64(const unsigned char* data, std::size_t size) {
  SecretBytes out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL));
  sodium_bin2base64(reinterpret_cast<char*>(out.data()), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.shrink(out.size() - 1); // the terminating NUL
  return out;
}

} // namespace bwv::crypto
