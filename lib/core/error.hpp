// Errors as values: every library call returns Result<T>; lib/cli maps them to exit codes.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace bwv {

// The exit-code table shared by every command (bwv-store(5), every man page).
enum class Errc : int {
  check_failed = 1, // a check failed, or some items were not done
  usage = 2,
  no_store = 3,
  locked = 4, // try later
  permission = 5,
  io = 6,
  internal = 7,
};

struct Error {
  Errc code = Errc::internal;
  std::string subject; // the file or clip the error is about; may be empty
  std::string message;
};

template <class T> using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string subject, std::string message) {
  return std::unexpected(Error{code, std::move(subject), std::move(message)});
}

// Rewrites an error on its way up (GCC 12's std::expected has no transform_error yet).
template <class T, class F> Result<T> map_error(Result<T> r, F&& f) {
  if (!r) return std::unexpected(f(std::move(r.error())));
  return r;
}

// An error from errno: EACCES/EPERM/EROFS are permission errors, the rest I/O.
std::unexpected<Error> fail_errno(std::string subject, const std::string& what, int err);

} // namespace bwv

// Propagate an error or yield the value (GNU statement expression, as in ccache's TRY).
#define BWV_TRY(...)                                                                               \
  ({                                                                                               \
    auto&& bwv_try_r_ = (__VA_ARGS__);                                                             \
    if (!bwv_try_r_) return std::unexpected(std::move(bwv_try_r_.error()));                        \
    std::move(*bwv_try_r_);                                                                        \
  })

// The value, or a fallback when there is an error (for checks that report rather than stop).
#define BWV_TRY_OR(expr, fallback)                                                                 \
  ({                                                                                               \
    auto&& bwv_try_or_r_ = (expr);                                                                 \
    bwv_try_or_r_ ? std::move(*bwv_try_or_r_) : (fallback);                                        \
  })

// The same for Result<void>.
#define BWV_CHECK(...)                                                                             \
  do {                                                                                             \
    auto&& bwv_check_r_ = (__VA_ARGS__);                                                           \
    if (!bwv_check_r_) return std::unexpected(std::move(bwv_check_r_.error()));                    \
  } while (0)
