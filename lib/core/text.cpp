#include "core/text.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace bwv::text {

std::string to_hex(std::span<const unsigned char> bytes, bool upper) {
  static const char* const k_lower = "0123456789abcdef";
  static const char* const k_upper = "0123456789ABCDEF";
  const char* digits = upper ? k_upper : k_lower;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::vector<unsigned char>> from_hex(std::string_view hex, std::size_t size,
                                            std::string_view what) {
  if (hex.size() != size * 2)
    return fail(Errc::check_failed, std::string(what),
                "expected " + std::to_string(size * 2) + " hex digits");
  std::vector<unsigned char> out(size);
  for (std::size_t i = 0; i < size; ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail(Errc::check_failed, std::string(what), "not hex");
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string to_base64(std::span<const unsigned char> bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1); // the terminating NUL
  return out;
}

bool is_base64_alphabet(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
  });
}

Result<std::vector<unsigned char>> from_base64(std::string_view b64, std::string_view what) {
  if (!is_base64_alphabet(b64)) return fail(Errc::check_failed, std::string(what), "invalid base64");
  std::vector<unsigned char> out(b64.size() / 4 * 3 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != b64.data() + b64.size())
    return fail(Errc::check_failed, std::string(what), "invalid base64");
  out.resize(len);
  return out;
}

std::string format_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

static bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

static bool parse_date(std::string_view s, int& y, int& mo, int& d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d)) return false;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1) return false;
  static const int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= k_days[mo - 1] + (mo == 2 && leap ? 1 : 0);
}

static std::time_t utc(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return timegm(&tm);
}

Result<std::time_t> parse_time(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() != 20 || !parse_date(s, y, mo, d) || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z' || !digits(s, 11, 2, h) || !digits(s, 14, 2, mi) ||
      !digits(s, 17, 2, sec) || h > 23 || mi > 59 || sec > 59)
    return fail(Errc::check_failed, printable(s), "not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
  return utc(y, mo, d, h, mi, sec);
}

Result<std::int64_t> parse_duration(std::string_view s) {
  std::int64_t n = 0;
  if (s.size() < 2) return fail(Errc::usage, printable(s), "not a duration such as 31d, 12h, 90m");
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (ec != std::errc() || end != s.data() + s.size() - 1 || n < 0 || n > 100000000)
    return fail(Errc::usage, printable(s), "not a duration such as 31d, 12h, 90m");
  switch (s.back()) {
  case 'd': return n * 86400;
  case 'h': return n * 3600;
  case 'm': return n * 60;
  case 's': return n;
  default: return fail(Errc::usage, printable(s), "not a duration such as 31d, 12h, 90m");
  }
}

Result<std::time_t> parse_time_or_age(std::string_view s, std::time_t now) {
  int y, mo, d;
  if (s.size() == 10 && parse_date(s, y, mo, d)) return utc(y, mo, d, 0, 0, 0);
  if (s.size() == 20) return map_error(parse_time(s), [](Error e) {
    e.code = Errc::usage;
    return e;
  });
  const std::int64_t age = BWV_TRY(map_error(parse_duration(s), [&](Error e) {
    e.message = "not a time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ) or an age (31d, 12h)";
    return e;
  }));
  return now - age;
}

static bool id_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool is_device_id(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!id_char(c)) return false;
  return true;
}

bool is_clip_id(std::string_view s) {
  // YYYYMMDD-<device>-<seq 6..12 digits>[-<suffix [a-z0-9]{1,16}>]
  if (s.size() < 17 || s[8] != '-') return false;
  const std::string date = std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
                           std::string(s.substr(6, 2));
  int y, mo, d;
  if (date.find_first_not_of("0123456789-") != std::string::npos || !parse_date(date, y, mo, d))
    return false;
  std::string_view rest = s.substr(9);
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos || !is_device_id(rest.substr(0, dash))) return false;
  rest = rest.substr(dash + 1);
  std::string_view seq = rest.substr(0, rest.find('-'));
  if (seq.size() < 6 || seq.size() > 12) return false;
  for (char c : seq)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (seq.size() == rest.size()) return true;
  std::string_view suffix = rest.substr(seq.size() + 1);
  if (suffix.empty() || suffix.size() > 16) return false;
  for (char c : suffix)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

std::string make_clip_id(std::time_t start, std::string_view device, std::uint64_t seq) {
  std::tm tm{};
  gmtime_r(&start, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d-%.*s-%06llu", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, static_cast<int>(device.size()), device.data(),
                static_cast<unsigned long long>(seq));
  return buf;
}

bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return false;
  return true;
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f || c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

} // namespace bwv::text
