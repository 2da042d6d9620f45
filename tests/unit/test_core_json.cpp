#include "core/json.hpp"

#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace bwv;
using bwv::test::contains;
using bwv::test::why;

TEST_SUITE_BEGIN("core::json");

namespace {

// The parse error's message, or "" when it parsed.
std::string refusal(std::string_view text) {
  const auto r = json::parse(text, "test.json");
  if (r) return "";
  return r.error().message;
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"k\":";
  s += "1";
  for (int i = 0; i < depth; ++i) s += "}";
  return s;
}

} // namespace

TEST_CASE("parse accepts the restricted form") {
  const auto r = json::parse(R"({"s":"x","i":-42,"t":true,"f":false,"n":null,"a":[1,"b",[]],"o":{}})",
                             "test.json");
  REQUIRE_MESSAGE(r, why(r));
  const json::Value& v = *r;
  CHECK(v["s"] == "x");
  CHECK(v["i"] == -42);
  CHECK(v["t"] == true);
  CHECK(v["f"] == false);
  CHECK(v["n"].is_null());
  CHECK(v["a"].size() == 3);
  CHECK(v["o"].is_object());

  for (const char* top : {"true", "false", "null", "0", "-0", "\"s\"", "[]", "{}", " {} \n"}) {
    CAPTURE(top);
    const auto t = json::parse(top, "test.json");
    CHECK_MESSAGE(t, why(t));
  }
  CHECK(json::parse("true", "x")->get<bool>() == true);
  CHECK(json::parse("null", "x")->is_null());
}

TEST_CASE("parse refuses duplicate keys, also nested") {
  CHECK(contains(refusal(R"({"a":1,"a":2})"), "duplicate key \"a\""));
  CHECK(contains(refusal(R"({"a":1,"b":{"x":1,"y":2,"x":3}})"), "duplicate key \"x\""));
  CHECK(contains(refusal(R"([{"k":[{"z":1,"z":1}]}])"), "duplicate key \"z\""));
  CHECK(contains(refusal(R"({"a":null,"a":null})"), "duplicate key"));
  // The same key in different objects is fine.
  const auto ok = json::parse(R"({"a":{"a":1},"b":{"a":2},"c":[{"a":1},{"a":1}]})", "x");
  CHECK_MESSAGE(ok, why(ok));
}

TEST_CASE("parse refuses floating-point numbers") {
  for (const char* text : {"1.0", "1e3", "1E3", "-0.5", "0.0", "1e-3", "1E+2", R"({"x":1.5})",
                           R"({"x":[1,2,3.0]})", R"({"a":{"b":2e0}})"}) {
    CAPTURE(text);
    CHECK(contains(refusal(text), "floating-point"));
  }
}

TEST_CASE("parse keeps integers within 2^53-1") {
  const auto max = json::parse("9007199254740991", "x");
  REQUIRE(max);
  CHECK(max->get<std::int64_t>() == json::k_max_int);
  const auto min = json::parse("-9007199254740991", "x");
  REQUIRE(min);
  CHECK(min->get<std::int64_t>() == -json::k_max_int);
  for (const char* text : {"9007199254740992", "-9007199254740992", "9223372036854775807",
                           "-9223372036854775808", "18446744073709551615", R"({"x":[9007199254740992]})"}) {
    CAPTURE(text);
    CHECK(contains(refusal(text), "out of range"));
  }
  // Beyond 64 bits nlohmann reads a float: refused either way.
  CHECK_FALSE(json::parse("18446744073709551616", "x"));
  CHECK_FALSE(json::parse("-99999999999999999999999", "x"));
}

TEST_CASE("parse refuses invalid UTF-8") {
  for (const char* text : {"\"\xff\"", "\"a\xc3\x28\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
                           "{\"\xfe\":1}", "\"\xe2\x82\"", "\"\\ud800\""}) {
    CAPTURE(text);
    CHECK_FALSE(json::parse(text, "x"));
  }
  const auto ok = json::parse("\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00\"", "x");
  REQUIRE_MESSAGE(ok, why(ok));
  CHECK(ok->get<std::string>() == "caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80");
}

TEST_CASE("parse refuses trailing garbage and a second value") {
  for (const char* text : {"{} x", "{}}", "1 2", "{}{}", "[] []", "{\"a\":1},", "nul", "{", "",
                           "   ", "{\"a\":1,}", "[1,]", "'a'", "{a:1}", "// c\n{}", "{} /* c */",
                           "\"a\" \"b\""}) {
    CAPTURE(text);
    const auto r = json::parse(text, "test.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(r.error().subject == "test.json");
    CHECK_FALSE(r.error().message.empty());
  }
  CHECK(contains(refusal("{} x"), "invalid JSON at byte"));
}

TEST_CASE("parse refuses nesting deeper than 32") {
  CHECK(json::parse(nested_arrays(32), "x"));
  CHECK(json::parse(nested_objects(32), "x"));
  CHECK(contains(refusal(nested_arrays(33)), "nested too deeply"));
  CHECK(contains(refusal(nested_objects(33)), "nested too deeply"));
  CHECK_FALSE(json::parse(nested_arrays(100000), "x"));
}

TEST_CASE("write_pretty: two-space indent, ASCII only, final newline") {
  json::Value v = json::Value::object();
  v["b"] = 1;
  v["a"] = json::Value::array({1, 2});
  v["s"] = "x";
  CHECK(json::write_pretty(v) == "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ],\n  \"s\": \"x\"\n}\n");

  json::Value u = json::Value::object();
  u["name"] = "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80";
  const std::string out = json::write_pretty(u);
  CHECK(contains(out, "\\u00e9"));
  CHECK(contains(out, "\\u2615"));
  CHECK(contains(out, "\\ud83d\\ude00"));
  for (unsigned char c : out) CHECK(c < 0x80);
  CHECK(out.back() == '\n');
  const auto back = json::parse(out, "x");
  REQUIRE(back);
  CHECK(*back == u);
}

TEST_CASE("write_line: one line, no newline") {
  json::Value v = json::Value::object();
  v["seq"] = 1;
  v["clip"] = nullptr;
  v["details"] = json::Value::object();
  v["details"]["k"] = "\n\xc3\xa9";
  CHECK(json::write_line(v) == R"({"seq":1,"clip":null,"details":{"k":"\n\u00e9"}})");
}

TEST_CASE("key order is insertion order, on writing and after parsing") {
  json::Value v = json::Value::object();
  v["zeta"] = 1;
  v["alpha"] = 2;
  v["mid"] = 3;
  CHECK(json::write_line(v) == R"({"zeta":1,"alpha":2,"mid":3})");

  const std::string text = R"({"z":1,"a":{"y":true,"b":null},"m":[3,2,1]})";
  const auto parsed = json::parse(text, "x");
  REQUIRE(parsed);
  CHECK(json::write_line(*parsed) == text);
}

TEST_CASE("Reader: typed access naming the file and field") {
  const auto doc = json::parse(
      R"({"s":"text","n":7,"b":true,"nul":null,"o":{"x":1},"a":[1],"big":9007199254740991})", "f.json");
  REQUIRE(doc);
  json::Reader r(*doc, "f.json");
  CHECK(r.str("s") == "text");
  CHECK(r.integer("n", 0, 10) == 7);
  CHECK(r.integer("big", 0, json::k_max_int) == json::k_max_int);
  CHECK(r.boolean("b") == true);
  const auto null_value = r.str_or_null("nul");
  REQUIRE(null_value);
  CHECK_FALSE(null_value->has_value());
  const auto string_value = r.str_or_null("s");
  REQUIRE(string_value);
  CHECK(string_value->value_or("") == "text");
  REQUIRE(r.object("o"));
  CHECK((*r.object("o"))->at("x") == 1);
  REQUIRE(r.array("a"));
  CHECK((*r.array("a"))->size() == 1);
  CHECK(r.has("s"));
  CHECK_FALSE(r.has("missing"));

  auto expect_bad = [&](auto result, const std::string& text) {
    REQUIRE_FALSE(result);
    CHECK(result.error().code == Errc::check_failed);
    CHECK(result.error().subject == "f.json");
    CHECK(result.error().message == text);
  };
  expect_bad(r.str("missing"), "field \"missing\": missing");
  expect_bad(r.str("n"), "field \"n\": not a string");
  expect_bad(r.str("nul"), "field \"nul\": not a string");
  expect_bad(r.str_or_null("n"), "field \"n\": not a string or null");
  expect_bad(r.integer("s", 0, 10), "field \"s\": not an integer");
  expect_bad(r.integer("n", 8, 10), "field \"n\": 7 is out of range [8, 10]");
  expect_bad(r.integer("b", 0, 10), "field \"b\": not an integer");
  expect_bad(r.boolean("n"), "field \"n\": not true or false");
  expect_bad(r.object("a"), "field \"a\": not an object");
  expect_bad(r.array("o"), "field \"o\": not an array");

  json::Reader nested(*(*r.object("o")), "f.json", "video.");
  expect_bad(nested.integer("size", 0, 1), "field \"video.size\": missing");
  expect_bad(nested.integer("x", 2, 3), "field \"video.x\": 1 is out of range [2, 3]");
  CHECK(nested.bad("x", "custom").error().message == "field \"video.x\": custom");

  const json::Value arr = json::Value::array();
  json::Reader not_object(arr, "arr.json");
  const auto e = not_object.str("s");
  REQUIRE_FALSE(e);
  CHECK(e.error().message == "not a JSON object");
}

TEST_SUITE_END();
