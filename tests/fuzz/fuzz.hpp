// What the libFuzzer targets share: invariant checks that stop the run with the input kept, the
// input as text, and a private scratch directory for the parsers that read files.
#pragma once

#include "crypto/hash.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace bwv::fuzz {

// An invariant is broken: say which, and abort so that libFuzzer saves the input as a crash.
[[noreturn]] inline void broken(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

// BWV_FUZZ_VERBOSE=1 (with the target given files to run) says what each parser made of them:
// for checking that a seed reaches the paths it was made for.
inline bool verbose() {
  static const bool v = [] {
    const char* e = std::getenv("BWV_FUZZ_VERBOSE");
    return e && *e && std::string_view(e) != "0";
  }();
  return v;
}

template <class R> void say(const char* what, const R& r) {
  if (!verbose()) return;
  if (r)
    std::fprintf(stderr, "%s: accepted\n", what);
  else
    std::fprintf(stderr, "%s: refused: %s: %s\n", what, r.error().subject.c_str(), r.error().message.c_str());
}

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Failures of the machine (a full disk), not of the input: stop at once, loudly.
[[noreturn]] inline void setup_failed(const std::string& what) {
  std::fprintf(stderr, "fuzz setup failed: %s\n", what.c_str());
  std::exit(2);
}

// A directory of this process's own under $TMPDIR (else /tmp), made on first use and removed at
// a normal exit; after a crash it stays for a look (tests/fuzz/run.sh points TMPDIR at a
// directory of its own, which it removes however the target ends).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/bwv-fuzz.XXXXXX";
    if (!::mkdtemp(pattern.data())) setup_failed("mkdtemp " + pattern);
    static const std::string made = pattern;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(made, ec);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// A file with exactly these bytes, created or truncated.
inline void put_file(const std::filesystem::path& path, std::string_view data) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) setup_failed("create " + path.string());
  if ((!data.empty() && std::fwrite(data.data(), 1, data.size(), f) != data.size()) || std::fclose(f) != 0)
    setup_failed("write " + path.string());
}

// An empty directory at path (whatever was there removed).
inline void fresh_dir(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  std::filesystem::create_directories(path, ec);
  if (ec) setup_failed("mkdir " + path.string() + ": " + ec.message());
}

// A name usable as one directory entry: not empty, not . or .., no '/' or NUL, within NAME_MAX.
inline bool entry_name(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.size() <= 255 && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

} // namespace bwv::fuzz

// libFuzzer calls this once before any input: the library's process setup (libsodium), as every
// command does first. Defined here because each target is one source file.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!bwv::crypto::init()) bwv::fuzz::setup_failed("crypto::init");
  return 0;
}

#define BWV_FUZZ_ASSERT(cond)                                                                                          \
  do {                                                                                                                 \
    if (!(cond)) ::bwv::fuzz::broken(#cond, __FILE__, __LINE__);                                                       \
  } while (0)
