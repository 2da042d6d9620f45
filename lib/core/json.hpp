// bwv's restricted JSON: what manifests, receipts, custody lines and configs are written in.
// Strict on reading (no duplicate keys, no floats, integers within 2^53, valid UTF-8, bounded
// depth) and exact on writing (keys in insertion order, ASCII only), so a signed file's bytes are
// the file and never need re-canonicalising.
#pragma once

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bwv::json {

using Value = nlohmann::ordered_json;

inline constexpr std::int64_t k_max_int = (std::int64_t{1} << 53) - 1;

Result<Value> parse(std::string_view text, const std::string& subject);

// Two-space indent and a final newline (manifests), or one line without newline (log lines).
std::string write_pretty(const Value& v);
std::string write_line(const Value& v);

// Typed field access that names the file and field in its error.
class Reader {
public:
  Reader(const Value& obj, std::string subject, std::string prefix = {})
      : m_obj(obj), m_subject(std::move(subject)), m_prefix(std::move(prefix)) {}
  Result<std::string> str(const char* key) const;
  Result<std::optional<std::string>> str_or_null(const char* key) const;
  Result<std::int64_t> integer(const char* key, std::int64_t min, std::int64_t max) const;
  Result<bool> boolean(const char* key) const;
  Result<const Value*> object(const char* key) const;
  Result<const Value*> array(const char* key) const;
  bool has(const char* key) const { return m_obj.contains(key); }
  std::unexpected<Error> bad(const char* key, const std::string& what) const;
  const std::string& subject() const { return m_subject; }

private:
  Result<const Value*> field(const char* key) const;
  const Value& m_obj;
  std::string m_subject;
  std::string m_prefix;
};

} // namespace bwv::json
