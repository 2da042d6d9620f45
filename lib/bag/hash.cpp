#include "bag/hash.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"

#include <fcntl.h>
#include <vector>

namespace bwv::bag {

Result<FileHashes> hash_file(const fs::Path& from, const fs::Path* copy_to,
                             const std::function<void(std::uint64_t)>& advanced) {
  fs::Fd in = BWV_TRY(fs::open_regular(from));
  ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  fs::Fd out;
  if (copy_to) {
    out = fs::Fd(::open(copy_to->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!out) return fail_errno(*copy_to, "create", errno);
  }
  crypto::Sha256 s256;
  crypto::Sha512 s512;
  std::vector<unsigned char> buf(1 << 20);
  FileHashes h;
  for (;;) {
    const std::size_t n = BWV_TRY(fs::read_full(in.get(), buf.data(), buf.size(), from));
    s256.update(buf.data(), n);
    s512.update(buf.data(), n);
    if (copy_to && n > 0) BWV_CHECK(fs::write_all(out.get(), buf.data(), n, *copy_to));
    h.size += n;
    if (advanced && n > 0) advanced(n);
    if (n < buf.size()) break;
  }
  h.sha256 = text::to_hex(s256.finish());
  h.sha512 = text::to_hex(s512.finish());
  return h;
}

} // namespace bwv::bag
