#include "core/text.hpp"

#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::why;

TEST_SUITE_BEGIN("core::text");

namespace {

std::vector<unsigned char> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

constexpr std::time_t k_t_20261124_100000 = 1795514400; // date -u -d 2026-11-24T10:00:00Z +%s

} // namespace

TEST_CASE("hex round trip in both cases") {
  const std::vector<unsigned char> bytes{0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  CHECK(text::to_hex(bytes) == "00017f80abff");
  CHECK(text::to_hex(bytes, /*upper=*/true) == "00017F80ABFF");
  CHECK(text::to_hex(std::vector<unsigned char>{}).empty());

  for (const char* form : {"00017f80abff", "00017F80ABFF", "00017f80ABff"}) {
    CAPTURE(form);
    const auto back = text::from_hex(form, bytes.size(), "field");
    REQUIRE_MESSAGE(back, why(back));
    CHECK(*back == bytes);
  }
  const auto empty = text::from_hex("", 0, "field");
  REQUIRE(empty);
  CHECK(empty->empty());

  const std::string random = test::random_bytes(100);
  const auto round = text::from_hex(text::to_hex(bytes_of(random)), random.size(), "x");
  REQUIRE(round);
  CHECK(*round == bytes_of(random));
}

TEST_CASE("from_hex refuses a wrong length or non-hex digits and names the field") {
  const auto short_ = text::from_hex("abc", 2, "video.sha256");
  REQUIRE_FALSE(short_);
  CHECK(short_.error().code == Errc::check_failed);
  CHECK(short_.error().subject == "video.sha256");
  CHECK(contains(short_.error().message, "4 hex digits"));

  CHECK_FALSE(text::from_hex("abcdef", 2, "x"));      // too long
  CHECK_FALSE(text::from_hex("zz00", 2, "x"));        // not hex
  CHECK_FALSE(text::from_hex("0x12", 2, "x"));        // prefix
  CHECK_FALSE(text::from_hex(" 012", 2, "x"));        // space
  CHECK_FALSE(text::from_hex("-1ff", 2, "x"));        // sign
  CHECK_FALSE(text::from_hex(std::string("00\0a", 4), 2, "x"));
  const auto bad = text::from_hex("0g", 1, "key");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().subject == "key");
  CHECK(bad.error().message == "not hex");
}

TEST_CASE("is_sha256_hex wants 64 lower-case hex digits") {
  const std::string good(64, 'a');
  CHECK(text::is_sha256_hex(good));
  CHECK(text::is_sha256_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK_FALSE(text::is_sha256_hex(std::string(63, 'a')));
  CHECK_FALSE(text::is_sha256_hex(std::string(65, 'a')));
  CHECK_FALSE(text::is_sha256_hex(std::string(64, 'A')));
  CHECK_FALSE(text::is_sha256_hex(std::string(63, 'a') + "g"));
  CHECK_FALSE(text::is_sha256_hex(""));
}

TEST_CASE("base64 known vectors and round trip") {
  CHECK(text::to_base64(bytes_of("")).empty());
  CHECK(text::to_base64(bytes_of("f")) == "Zg==");
  CHECK(text::to_base64(bytes_of("fo")) == "Zm8=");
  CHECK(text::to_base64(bytes_of("foo")) == "Zm9v");
  CHECK(text::to_base64(bytes_of("foobar")) == "Zm9vYmFy");
  CHECK(text::to_base64(std::vector<unsigned char>{0xfb, 0xff}) == "+/8=");

  for (std::size_t n = 0; n < 70; ++n) {
    CAPTURE(n);
    const std::string data = test::random_bytes(n);
    const std::string b64 = text::to_base64(bytes_of(data));
    CHECK(b64.size() == (n + 2) / 3 * 4);
    const auto back = text::from_base64(b64, "x");
    REQUIRE_MESSAGE(back, why(back));
    CHECK(*back == bytes_of(data));
  }
}

TEST_CASE("from_base64 refuses what is not exactly padded standard base64") {
  for (const char* bad : {"Zg", "Zg=", "Zg===", "Zm9v!", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v-_8",
                          "-_8=", "Zm9vYmFy=", "="}) {
    CAPTURE(bad);
    const auto r = text::from_base64(bad, "field");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(r.error().subject == "field");
  }
  const auto empty = text::from_base64("", "x");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("format_time and parse_time round trip") {
  CHECK(text::format_time(0) == "1970-01-01T00:00:00Z");
  CHECK(text::format_time(k_t_20261124_100000) == "2026-11-24T10:00:00Z");
  const auto t = text::parse_time("2026-11-24T10:00:00Z");
  REQUIRE_MESSAGE(t, why(t));
  CHECK(*t == k_t_20261124_100000);

  for (std::time_t v : {std::time_t(0), std::time_t(951782400) /* 2000-02-29 */,
                        std::time_t(1709164800) /* 2024-02-29 */, k_t_20261124_100000,
                        std::time_t(1795514400 + 86399), std::time_t(4102444799) /* 2099-12-31 */,
                        std::time_t(1234567890)}) {
    CAPTURE(v);
    const std::string s = text::format_time(v);
    CHECK(s.size() == 20);
    const auto back = text::parse_time(s);
    REQUIRE_MESSAGE(back, why(back));
    CHECK(*back == v);
  }
}

TEST_CASE("parse_time accepts real dates only, and leap days only in leap years") {
  CHECK(text::parse_time("2024-02-29T12:00:00Z"));
  CHECK(text::parse_time("2000-02-29T00:00:00Z"));
  CHECK(text::parse_time("2026-12-31T23:59:59Z"));
  CHECK(text::parse_time("1970-01-01T00:00:00Z"));

  for (const char* bad : {
           "2023-02-29T12:00:00Z",  // not a leap year
           "2100-02-29T12:00:00Z",  // century, not a leap year
           "2026-02-30T00:00:00Z",  // Feb 30
           "2026-04-31T00:00:00Z",  // April has 30 days
           "2026-11-24T10:00:00",   // no Z
           "2026-11-24T10:00:00z",  // lower-case z
           "2026-11-24T24:00:00Z",  // hour 24
           "2026-11-24T10:60:00Z",  // minute 60
           "2026-11-24T10:00:60Z",  // leap second
           "2026-13-01T00:00:00Z",  // month 13
           "2026-00-10T00:00:00Z",  // month 0
           "2026-11-00T00:00:00Z",  // day 0
           "2026-11-32T00:00:00Z",  // day 32
           "2026-11-24 10:00:00Z",  // space
           "2026-11-24t10:00:00Z",  // lower-case t
           "2026-11-24T10:00:00+00:00",
           "2026-11-24T10:00:00.5Z",
           "2026-11-24T10:00Z",
           "2026-11-24",
           "+026-11-24T10:00:00Z",
           "2026-1-24T10:00:00Z ",
           "1969-12-31T23:59:59Z",
           " 2026-11-24T10:00:00Z",
           "",
       }) {
    CAPTURE(bad);
    const auto r = text::parse_time(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(contains(r.error().message, "YYYY-MM-DDTHH:MM:SSZ"));
  }
}

TEST_CASE("parse_duration") {
  CHECK(text::parse_duration("31d") == 31 * 86400);
  CHECK(text::parse_duration("12h") == 12 * 3600);
  CHECK(text::parse_duration("90m") == 90 * 60);
  CHECK(text::parse_duration("45s") == 45);
  CHECK(text::parse_duration("0s") == 0);
  CHECK(text::parse_duration("100000000s") == 100000000);
  for (const char* bad : {"", "d", "5", "5x", "-5d", "+5d", "5 d", " 5d", "1.5h", "5D", "5dd",
                          "100000001s", "99999999999999999999d"}) {
    CAPTURE(bad);
    const auto r = text::parse_duration(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("parse_time_or_age takes a time, a date or an age") {
  const std::time_t now = k_t_20261124_100000;
  CHECK(text::parse_time_or_age("31d", now) == now - 31 * 86400);
  CHECK(text::parse_time_or_age("90m", now) == now - 90 * 60);
  CHECK(text::parse_time_or_age("2026-11-24", now) == now - 10 * 3600);
  CHECK(text::parse_time_or_age("2024-02-29", now) == 1709164800);
  CHECK(text::parse_time_or_age("2026-11-24T10:00:00Z", now) == now);
  for (const char* bad : {"yesterday", "2026-02-30", "2023-02-29", "2026-11-24T10:00:00",
                          "2026-11-24T25:00:00Z", "", "-1d", "2026/11/24"}) {
    CAPTURE(bad);
    const auto r = text::parse_time_or_age(bad, now);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("is_device_id") {
  CHECK(text::is_device_id("CAM0042"));
  CHECK(text::is_device_id("a"));
  CHECK(text::is_device_id("_"));
  CHECK(text::is_device_id("cam_42_B"));
  CHECK(text::is_device_id(std::string(32, 'X')));
  CHECK_FALSE(text::is_device_id(std::string(33, 'X')));
  for (const char* bad : {"", "CAM-1", "CAM.1", "CAM/1", "CAM 1", "..", ".", "CAM\n", "caf\xc3\xa9",
                          "CAM\\1"}) {
    CAPTURE(bad);
    CHECK_FALSE(text::is_device_id(bad));
  }
  CHECK_FALSE(text::is_device_id(std::string("CAM\0X", 5)));
}

TEST_CASE("is_clip_id accepts the documented form") {
  for (const char* good : {
           "20261124-CAM0042-000017",
           "20261124-CAM0042-000017-r1",
           "20261124-A-000001",
           "20261124-cam_0042-123456789012",  // 12-digit seq
           "20261124-CAM0042-0000017",        // 7 digits
           "20261124-CAM0042-000017-abcdefghij012345", // 16-char suffix
           "19700101-X-000000",
           "20240229-CAM0042-000017",
       }) {
    CAPTURE(good);
    CHECK(text::is_clip_id(good));
  }
  CHECK(text::is_clip_id("20261124-" + std::string(32, 'D') + "-000017"));
}

TEST_CASE("is_clip_id refuses everything else") {
  for (const char* bad : {
           "",
           "../x",
           "..",
           "20261124-CAM/0042-000017",
           "20261124-CAM0042-000017/../x",
           "20261124-CAM0042-00017",          // 5-digit seq
           "20261124-CAM0042-1234567890123",  // 13-digit seq
           "20261324-CAM0042-000017",         // month 13
           "20260024-CAM0042-000017",         // month 0
           "20261100-CAM0042-000017",         // day 0
           "20261132-CAM0042-000017",         // day 32
           "19691231-CAM0042-000017",         // before 1970
           "2026112-CAM0042-000017",
           "202611240-CAM0042-000017",
           "20261124--000017",                // empty device
           "20261124-CAM.0042-000017",
           "20261124-CAM-0042-000017",
           "20261124-CAM0042-000017-",        // empty suffix
           "20261124-CAM0042-000017-R1",      // upper-case suffix
           "20261124-CAM0042-000017-r_1",
           "20261124-CAM0042-000017-r1-r2",
           "20261124-CAM0042-000017-abcdefghij0123456", // 17-char suffix
           "20261124-CAM0042-00001a",
           "20261124-CAM0042-000017 ",
           " 20261124-CAM0042-000017",
           "20261124_CAM0042_000017",
           "2026-11-24-CAM0042-000017",
           "abcdefgh-CAM0042-000017",
       }) {
    CAPTURE(bad);
    CHECK_FALSE(text::is_clip_id(bad));
  }
  CHECK_FALSE(text::is_clip_id("20261124-" + std::string(33, 'D') + "-000017"));
  CHECK_FALSE(text::is_clip_id("20261124-CAM0042-" + std::string(10000, '1')));
  CHECK_FALSE(text::is_clip_id(std::string(4096, 'A')));
  CHECK_FALSE(text::is_clip_id(std::string("20261124-CAM0042-000017\0", 24)));
  // Not "\0042": that is the escape \004 and a 2, one byte shorter (ASan found the overread).
  CHECK_FALSE(text::is_clip_id(std::string("20261124-CAM") + '\0' + "042-000017"));
}

// bwv-store(5): every id the store accepts matches the regex "with a valid date".
TEST_CASE("is_clip_id refuses impossible dates") {
  CHECK(text::is_clip_id("20240229-CAM0042-000017"));
  CHECK(text::is_clip_id("20261130-CAM0042-000017"));
  CHECK_FALSE(text::is_clip_id("20260231-CAM0042-000017"));
  CHECK_FALSE(text::is_clip_id("21000229-CAM0042-000017"));
  CHECK_FALSE(text::is_clip_id("2026-1-1-CAM0042-000017"));
  CHECK_FALSE(text::is_clip_id("20230229-CAM0042-000017"));
  CHECK_FALSE(text::is_clip_id("20260431-CAM0042-000017"));
}

TEST_CASE("make_clip_id uses the UTC date of start and pads seq to 6 digits") {
  CHECK(text::make_clip_id(k_t_20261124_100000, "CAM0042", 17) == "20261124-CAM0042-000017");
  CHECK(text::make_clip_id(k_t_20261124_100000 + 14 * 3600 - 1, "CAM0042", 1) ==
        "20261124-CAM0042-000001"); // 23:59:59Z
  CHECK(text::make_clip_id(k_t_20261124_100000 + 14 * 3600, "CAM0042", 1) ==
        "20261125-CAM0042-000001"); // midnight UTC
  CHECK(text::make_clip_id(k_t_20261124_100000, "X", 1234567) == "20261124-X-1234567");
  CHECK(text::make_clip_id(k_t_20261124_100000, "X", 999999999999) == "20261124-X-999999999999");
  CHECK(text::is_clip_id(text::make_clip_id(k_t_20261124_100000, "CAM0042", 17)));
  CHECK(text::is_clip_id(text::make_clip_id(0, std::string(32, 'D'), 999999999999)));
}

TEST_CASE("is_host_name") {
  CHECK(text::is_host_name("dock01"));
  CHECK(text::is_host_name("ingest-01.example.org"));
  CHECK(text::is_host_name("a_b"));
  CHECK(text::is_host_name(std::string(64, 'h')));
  CHECK_FALSE(text::is_host_name(std::string(65, 'h')));
  for (const char* bad : {"", ".hidden", ".", "..", "a/b", "../x", "a b", "host\n", "h\xc3\xa9"}) {
    CAPTURE(bad);
    CHECK_FALSE(text::is_host_name(bad));
  }
}

TEST_CASE("printable escapes control bytes and invalid UTF-8") {
  CHECK(text::printable("plain text 123") == "plain text 123");
  CHECK(text::printable("a\nb") == "a\\x0ab");
  CHECK(text::printable("tab\there") == "tab\\x09here");
  CHECK(text::printable("\x1b[31mred") == "\\x1b[31mred");
  CHECK(text::printable("del\x7f") == "del\\x7f");
  CHECK(text::printable("\xff\xfe") == "\\xff\\xfe");
  CHECK(text::printable("bad \xc3\x28 utf8") == "bad \\xc3( utf8");
  CHECK(text::printable(std::string("nul\0x", 5)) == "nul\\x00x");

  // Every byte value comes out as printable ASCII.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string out = text::printable(all, 100000);
  for (unsigned char c : out) {
    CAPTURE(int(c));
    CHECK((c >= 0x20 && c < 0x7f));
  }
}

TEST_CASE("printable bounds the length") {
  const std::string out = text::printable(std::string(1000, 'a'));
  CHECK(out == std::string(120, 'a') + "...");
  const std::string ten = text::printable(std::string(50, 'b'), 10);
  CHECK(ten == std::string(10, 'b') + "...");
  CHECK(text::printable("short", 10) == "short");
  const std::string escaped = text::printable(std::string(1000, '\n'), 20);
  CHECK(escaped.ends_with("..."));
  CHECK(escaped.size() <= 20 + 4 + 3);
}

TEST_SUITE_END();
