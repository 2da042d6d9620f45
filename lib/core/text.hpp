// Small text formats: hex, base64, RFC 3339 UTC times, and the identifiers bwv accepts.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bwv::text {

std::string to_hex(std::span<const unsigned char> bytes, bool upper = false);
// Exactly 2*size hex digits (either case) or an error naming what.
Result<std::vector<unsigned char>> from_hex(std::string_view hex, std::size_t size,
                                            std::string_view what);
bool is_sha256_hex(std::string_view s); // 64 lower-case hex digits

std::string to_base64(std::span<const unsigned char> bytes);
Result<std::vector<unsigned char>> from_base64(std::string_view b64, std::string_view what);

// "YYYY-MM-DDTHH:MM:SSZ"
std::string format_time(std::time_t t);
Result<std::time_t> parse_time(std::string_view s);
// RFC 3339 time, a date (YYYY-MM-DD, midnight UTC), or an age back from now ("31d", "12h", "90m").
Result<std::time_t> parse_time_or_age(std::string_view s, std::time_t now);
// "31d", "12h", "90m", "45s" as seconds.
Result<std::int64_t> parse_duration(std::string_view s);

bool is_device_id(std::string_view s); // [A-Za-z0-9_]{1,32}
bool is_clip_id(std::string_view s);   // YYYYMMDD-device-seq[-suffix]
// The clip id a device's seq-th clip recorded on start gets.
std::string make_clip_id(std::time_t start, std::string_view device, std::uint64_t seq);
bool is_host_name(std::string_view s); // [A-Za-z0-9._-]{1,64}, not starting with '.'
// Only base64's characters (A-Z a-z 0-9 + / =). libsodium 1.0.18 reads every byte >= 0x80 as '/'
// where char is signed (x86-64), so text that is not base64 would otherwise decode as a key.
bool is_base64_alphabet(std::string_view s);

// One line of text for an error message: control characters escaped, length bounded.
std::string printable(std::string_view s, std::size_t max = 120);

} // namespace bwv::text
