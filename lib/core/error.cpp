#include "core/error.hpp"

#include <cerrno>
#include <cstring>

namespace bwv {

std::unexpected<Error> fail_errno(std::string subject, const std::string& what, int err) {
  const Errc code = (err == EACCES || err == EPERM || err == EROFS) ? Errc::permission : Errc::io;
  std::string message = what.empty() ? std::string(std::strerror(err))
                                     : what + ": " + std::strerror(err);
  return fail(code, std::move(subject), std::move(message));
}

} // namespace bwv
