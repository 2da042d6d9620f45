// Helpers shared by the unit tests: a temporary directory per test, removed when it goes out of
// scope, and small file and error utilities.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"

#include <doctest/doctest.h>

#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <optional>
#include <vector>

namespace bwv::test {

// mkdtemp under /tmp; the whole tree is removed by the destructor.
class TmpDir {
public:
  TmpDir() {
    std::string tmpl = "/tmp/bwv-unit-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
  }
  ~TmpDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TmpDir(const TmpDir&) = delete;
  TmpDir& operator=(const TmpDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return m_path / rel; }
  std::string str() const { return m_path.string(); }

private:
  std::filesystem::path m_path;
};

// Writes (or overwrites) a file with exactly these bytes; append adds to its end.
inline void put_file(const std::filesystem::path& path, std::string_view data, bool append = false) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline std::string get_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), n);
  return s;
}

// An error's subject and message for a failed check's output ("ok" for a value).
template <class T> std::string why(const Result<T>& r) {
  if (r) return "ok";
  return r.error().subject + ": " + r.error().message;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The names in a directory, failing the test when it cannot be read.
inline std::vector<std::string> names(const fs::Path& dir) {
  const auto r = fs::list_dir(dir);
  REQUIRE_MESSAGE(r, why(r));
  return *r;
}

// Restores an environment variable when the test ends.
class EnvGuard {
public:
  explicit EnvGuard(const char* name) : m_name(name) {
    if (const char* v = std::getenv(name)) m_old = v;
  }
  ~EnvGuard() {
    if (m_old)
      ::setenv(m_name, m_old->c_str(), 1);
    else
      ::unsetenv(m_name);
  }

private:
  const char* m_name;
  std::optional<std::string> m_old;
};

} // namespace bwv::test
