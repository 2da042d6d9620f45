#include "core/json.hpp"
#include "redact/spec.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::why;

TEST_SUITE_BEGIN("redact::spec");

namespace {

// Every kind of entry, with some parameters left to their defaults.
const char* const k_sample = R"({
  "bwv_redaction": 1,
  "clip_id": "20261124-CAM0042-000001",
  "boxes": [
    {"label": "face-1", "reason": "third party, not involved",
     "keyframes": [{"t_ms": 1000, "x": 100, "y": 50, "w": 80, "h": 80},
                   {"t_ms": 3000, "x": 300, "y": 60, "w": 80, "h": 90}]},
    {"label": "plate", "reason": "vehicle registration", "method": "pixelate", "block": 32,
     "keyframes": [{"t_ms": 500, "x": 0, "y": 0, "w": 10, "h": 10}]},
    {"label": "screen", "reason": "personal data", "method": "blur",
     "keyframes": [{"t_ms": 0, "x": 5, "y": 6, "w": 7, "h": 8}]}
  ],
  "frames": [
    {"from_ms": 0, "to_ms": 2000, "label": "address", "reason": "home address on a screen",
     "method": "fill", "color": "#12aBcD"},
    {"from_ms": 4000, "to_ms": 4500, "label": "blurred", "reason": "r", "method": "blur", "radius": 40}
  ],
  "audio": [
    {"from_ms": 5000, "to_ms": 6500, "label": "name", "reason": "a witness's name"},
    {"from_ms": 7000, "to_ms": 7500, "label": "phone", "reason": "a phone number", "method": "bleep"}
  ]
})";

const std::string k_subject = "spec.json";

json::Value sample_json() {
  return *json::parse(k_sample, "sample");
}

redact::Spec parse_ok(const std::string& text) {
  auto r = redact::parse(text, k_subject);
  REQUIRE_MESSAGE(r, why(r));
  return std::move(*r);
}

// The sample changed by f, written back, and parsed.
Result<redact::Spec> parse_changed(const std::function<void(json::Value&)>& f) {
  json::Value v = sample_json();
  f(v);
  return redact::parse(json::write_pretty(v), k_subject);
}

json::Value keyframe(std::int64_t t, int x, int y, int w, int h) {
  return json::Value{{"t_ms", t}, {"x", x}, {"y", y}, {"w", w}, {"h", h}};
}

redact::Box box_of(std::vector<redact::Keyframe> keyframes) {
  redact::Box b;
  b.label = "b";
  b.reason = "r";
  b.keyframes = std::move(keyframes);
  return b;
}

redact::FrameRange range_of(std::int64_t from, std::int64_t to, std::string label = "f") {
  redact::FrameRange r;
  r.from_ms = from;
  r.to_ms = to;
  r.label = std::move(label);
  r.reason = "r";
  return r;
}

using Rect = redact::Rect;
using Spans = std::vector<std::pair<std::int64_t, std::int64_t>>;

} // namespace

TEST_CASE("a full spec parses, with the defaults applied") {
  const redact::Spec s = parse_ok(k_sample);
  CHECK(s.clip_id == "20261124-CAM0042-000001");
  REQUIRE(s.boxes.size() == 3);
  const redact::Box& face = s.boxes[0];
  CHECK(face.label == "face-1");
  CHECK(face.reason == "third party, not involved");
  CHECK(face.look.method == redact::Method::fill);
  CHECK(face.look.color == redact::Color{0, 0, 0});
  CHECK(face.look.block == 16);
  CHECK(face.look.radius == 12);
  REQUIRE(face.keyframes.size() == 2);
  CHECK(face.keyframes[0].t_ms == 1000);
  CHECK(face.keyframes[0].rect == Rect{100, 50, 80, 80});
  CHECK(face.keyframes[1].t_ms == 3000);
  CHECK(face.keyframes[1].rect == Rect{300, 60, 80, 90});
  CHECK(s.boxes[1].look.method == redact::Method::pixelate);
  CHECK(s.boxes[1].look.block == 32);
  CHECK(s.boxes[2].look.method == redact::Method::blur);
  CHECK(s.boxes[2].look.radius == 12);
  CHECK(s.boxes[2].keyframes[0].rect == Rect{5, 6, 7, 8});

  REQUIRE(s.frames.size() == 2);
  CHECK(s.frames[0].from_ms == 0);
  CHECK(s.frames[0].to_ms == 2000);
  CHECK(s.frames[0].label == "address");
  CHECK(s.frames[0].look.method == redact::Method::fill);
  CHECK(s.frames[0].look.color == redact::Color{0x12, 0xab, 0xcd});
  CHECK(s.frames[1].look.method == redact::Method::blur);
  CHECK(s.frames[1].look.radius == 40);

  REQUIRE(s.audio.size() == 2);
  CHECK(s.audio[0].from_ms == 5000);
  CHECK(s.audio[0].to_ms == 6500);
  CHECK(s.audio[0].reason == "a witness's name");
  CHECK(s.audio[0].method == redact::AudioMethod::mute);
  CHECK(s.audio[1].method == redact::AudioMethod::bleep);

  CHECK(redact::name(redact::Method::pixelate) == "pixelate");
  CHECK(redact::name(redact::AudioMethod::bleep) == "bleep");
}

TEST_CASE("the smallest spec: only the version, everything else empty") {
  const redact::Spec s = parse_ok(R"({"bwv_redaction": 1})");
  CHECK_FALSE(s.clip_id);
  CHECK(s.boxes.empty());
  CHECK(s.frames.empty());
  CHECK(s.audio.empty());
}

TEST_CASE("the edges of the accepted values") {
  CHECK(parse_changed([](json::Value& v) { v["boxes"][0]["label"] = std::string(200, 'a'); }));
  CHECK(parse_changed(
      [](json::Value& v) { v["boxes"][0]["reason"] = "Zeuge \xc3\x89mile, \xe2\x82\xac"; }));
  CHECK(parse_changed([](json::Value& v) { v["boxes"][1]["block"] = 8; }));
  CHECK(parse_changed([](json::Value& v) { v["boxes"][1]["block"] = 256; }));
  CHECK(parse_changed([](json::Value& v) { v["boxes"][2]["radius"] = 4; }));
  CHECK(parse_changed([](json::Value& v) { v["boxes"][2]["radius"] = 128; }));
  CHECK(parse_changed(
      [](json::Value& v) { v["boxes"][0]["keyframes"][0] = keyframe(0, 0, 0, 1, 1); }));
  CHECK(parse_changed([](json::Value& v) { v["frames"][0]["from_ms"] = 1999; }));
  CHECK(parse_changed([](json::Value& v) { v["boxes"][0]["method"] = "fill"; }));
  CHECK(parse_changed([](json::Value& v) { v.erase("clip_id"); }));
}

TEST_CASE("each rule is refused with its field named") {
  struct Case {
    const char* what;
    std::function<void(json::Value&)> change;
    std::string message;
  };
  const auto box0 = [](json::Value& v) -> json::Value& { return v["boxes"][0]; };
  const std::vector<Case> cases = {
      {"version 2", [](json::Value& v) { v["bwv_redaction"] = 2; },
       "unknown redaction spec format version 2 (this bwv reads 1)"},
      {"no version", [](json::Value& v) { v.erase("bwv_redaction"); },
       "field \"bwv_redaction\": missing"},
      {"version as a string", [](json::Value& v) { v["bwv_redaction"] = "1"; },
       "field \"bwv_redaction\": not an integer"},
      {"unknown top-level field", [](json::Value& v) { v["box"] = json::Value::array(); },
       "field \"box\": unknown field"},
      {"bad clip id", [](json::Value& v) { v["clip_id"] = "CAM0042-1"; },
       "field \"clip_id\": not a clip id"},
      {"null clip id", [](json::Value& v) { v["clip_id"] = nullptr; },
       "field \"clip_id\": not a string"},
      {"boxes not an array", [](json::Value& v) { v["boxes"] = json::Value::object(); },
       "field \"boxes\": not an array"},
      {"box not an object", [](json::Value& v) { v["boxes"][1] = 3; },
       "field \"boxes[1]\": not an object"},
      {"unknown box field", [&](json::Value& v) { box0(v)["colour"] = "#000000"; },
       "field \"boxes[0].colour\": unknown field"},
      {"no label", [&](json::Value& v) { box0(v).erase("label"); },
       "field \"boxes[0].label\": missing"},
      {"empty label", [&](json::Value& v) { box0(v)["label"] = ""; },
       "field \"boxes[0].label\": empty"},
      {"long label", [&](json::Value& v) { box0(v)["label"] = std::string(201, 'a'); },
       "field \"boxes[0].label\": longer than 200 bytes"},
      {"label with a newline", [&](json::Value& v) { box0(v)["label"] = "face\n1"; },
       "field \"boxes[0].label\": holds a control character"},
      {"label not a string", [&](json::Value& v) { box0(v)["label"] = 1; },
       "field \"boxes[0].label\": not a string"},
      {"no reason", [&](json::Value& v) { box0(v).erase("reason"); },
       "field \"boxes[0].reason\": missing"},
      {"empty reason", [&](json::Value& v) { box0(v)["reason"] = ""; },
       "field \"boxes[0].reason\": empty"},
      {"reason with DEL", [&](json::Value& v) { box0(v)["reason"] = "a\x7f"; },
       "field \"boxes[0].reason\": holds a control character"},
      {"reason with a C1 control", [&](json::Value& v) { box0(v)["reason"] = "a\xc2\x9bK"; },
       "field \"boxes[0].reason\": holds a control character"},
      {"unknown method", [&](json::Value& v) { box0(v)["method"] = "mosaic"; },
       "field \"boxes[0].method\": \"mosaic\" is not fill, pixelate or blur"},
      {"audio method on a box", [&](json::Value& v) { box0(v)["method"] = "mute"; },
       "field \"boxes[0].method\": \"mute\" is not fill, pixelate or blur"},
      {"block on fill", [&](json::Value& v) { box0(v)["block"] = 16; },
       "field \"boxes[0].block\": only for method pixelate (this one is fill)"},
      {"radius on fill", [&](json::Value& v) { box0(v)["radius"] = 12; },
       "field \"boxes[0].radius\": only for method blur (this one is fill)"},
      {"color on pixelate", [](json::Value& v) { v["boxes"][1]["color"] = "#000000"; },
       "field \"boxes[1].color\": only for method fill (this one is pixelate)"},
      {"radius on pixelate", [](json::Value& v) { v["boxes"][1]["radius"] = 12; },
       "field \"boxes[1].radius\": only for method blur (this one is pixelate)"},
      {"block on blur", [](json::Value& v) { v["boxes"][2]["block"] = 16; },
       "field \"boxes[2].block\": only for method pixelate (this one is blur)"},
      {"short color", [&](json::Value& v) { box0(v)["color"] = "#12345"; },
       "field \"boxes[0].color\": not a colour of the form #RRGGBB"},
      {"color without #", [&](json::Value& v) { box0(v)["color"] = "1234567"; },
       "field \"boxes[0].color\": not a colour of the form #RRGGBB"},
      {"color not hex", [&](json::Value& v) { box0(v)["color"] = "#GG0000"; },
       "field \"boxes[0].color\": not a colour of the form #RRGGBB"},
      {"color by name", [&](json::Value& v) { box0(v)["color"] = "black"; },
       "field \"boxes[0].color\": not a colour of the form #RRGGBB"},
      {"block below 8", [](json::Value& v) { v["boxes"][1]["block"] = 7; },
       "field \"boxes[1].block\": 7 is out of range [8, 256]"},
      {"block above 256", [](json::Value& v) { v["boxes"][1]["block"] = 257; },
       "field \"boxes[1].block\": 257 is out of range [8, 256]"},
      {"radius below 4", [](json::Value& v) { v["boxes"][2]["radius"] = 3; },
       "field \"boxes[2].radius\": 3 is out of range [4, 128]"},
      {"radius above 128", [](json::Value& v) { v["boxes"][2]["radius"] = 129; },
       "field \"boxes[2].radius\": 129 is out of range [4, 128]"},
      {"no keyframes", [&](json::Value& v) { box0(v).erase("keyframes"); },
       "field \"boxes[0].keyframes\": missing"},
      {"empty keyframes", [&](json::Value& v) { box0(v)["keyframes"] = json::Value::array(); },
       "field \"boxes[0].keyframes\": needs at least one keyframe"},
      {"keyframe not an object", [&](json::Value& v) { box0(v)["keyframes"][1] = 5; },
       "field \"boxes[0].keyframes[1]\": not an object"},
      {"repeated t_ms",
       [](json::Value& v) { v["boxes"][2]["keyframes"][1] = keyframe(0, 0, 0, 1, 1); },
       "field \"boxes[2].keyframes[1].t_ms\": must be greater than the keyframe before (0)"},
      {"decreasing t_ms", [&](json::Value& v) { box0(v)["keyframes"][1]["t_ms"] = 999; },
       "field \"boxes[0].keyframes[1].t_ms\": must be greater than the keyframe before (1000)"},
      {"negative t_ms", [&](json::Value& v) { box0(v)["keyframes"][0]["t_ms"] = -1; },
       "field \"boxes[0].keyframes[0].t_ms\": -1 is out of range [0, 1000000000000]"},
      {"t_ms a float", [&](json::Value& v) { box0(v)["keyframes"][0]["t_ms"] = 1000.5; },
       "floating-point numbers are not allowed"},
      {"no x", [&](json::Value& v) { box0(v)["keyframes"][1].erase("x"); },
       "field \"boxes[0].keyframes[1].x\": missing"},
      {"negative x", [&](json::Value& v) { box0(v)["keyframes"][0]["x"] = -1; },
       "field \"boxes[0].keyframes[0].x\": -1 is out of range [0, 65535]"},
      {"negative y", [&](json::Value& v) { box0(v)["keyframes"][0]["y"] = -5; },
       "field \"boxes[0].keyframes[0].y\": -5 is out of range [0, 65535]"},
      {"zero w", [&](json::Value& v) { box0(v)["keyframes"][1]["w"] = 0; },
       "field \"boxes[0].keyframes[1].w\": 0 is out of range [1, 65536]"},
      {"zero h", [&](json::Value& v) { box0(v)["keyframes"][0]["h"] = 0; },
       "field \"boxes[0].keyframes[0].h\": 0 is out of range [1, 65536]"},
      {"unknown keyframe field", [&](json::Value& v) { box0(v)["keyframes"][0]["t"] = 1; },
       "field \"boxes[0].keyframes[0].t\": unknown field"},
      {"frame range empty", [](json::Value& v) { v["frames"][0]["to_ms"] = 0; },
       "field \"frames[0].to_ms\": must be greater than from_ms (0)"},
      {"frame range backwards", [](json::Value& v) { v["frames"][1]["to_ms"] = 3000; },
       "field \"frames[1].to_ms\": must be greater than from_ms (4000)"},
      {"negative from_ms", [](json::Value& v) { v["frames"][0]["from_ms"] = -1; },
       "field \"frames[0].from_ms\": -1 is out of range [0, 1000000000000]"},
      {"no to_ms", [](json::Value& v) { v["frames"][0].erase("to_ms"); },
       "field \"frames[0].to_ms\": missing"},
      {"frame range without a label", [](json::Value& v) { v["frames"][1].erase("label"); },
       "field \"frames[1].label\": missing"},
      {"frame range with an audio method",
       [](json::Value& v) { v["frames"][0]["method"] = "bleep"; },
       "field \"frames[0].method\": \"bleep\" is not fill, pixelate or blur"},
      {"block on a filled frame range", [](json::Value& v) { v["frames"][0]["block"] = 16; },
       "field \"frames[0].block\": only for method pixelate (this one is fill)"},
      {"color on a blurred frame range",
       [](json::Value& v) { v["frames"][1]["color"] = "#ffffff"; },
       "field \"frames[1].color\": only for method fill (this one is blur)"},
      {"keyframes on a frame range",
       [](json::Value& v) { v["frames"][0]["keyframes"] = json::Value::array(); },
       "field \"frames[0].keyframes\": unknown field"},
      {"frame range not an object", [](json::Value& v) { v["frames"][0] = "0-2000"; },
       "field \"frames[0]\": not an object"},
      {"audio with a video method", [](json::Value& v) { v["audio"][0]["method"] = "fill"; },
       "field \"audio[0].method\": \"fill\" is not mute or bleep"},
      {"audio with a color", [](json::Value& v) { v["audio"][0]["color"] = "#000000"; },
       "field \"audio[0].color\": unknown field"},
      {"audio range empty", [](json::Value& v) { v["audio"][1]["to_ms"] = 7000; },
       "field \"audio[1].to_ms\": must be greater than from_ms (7000)"},
      {"audio without a reason", [](json::Value& v) { v["audio"][1].erase("reason"); },
       "field \"audio[1].reason\": missing"},
      {"label of a box used again by a frame range",
       [](json::Value& v) { v["frames"][0]["label"] = "face-1"; },
       "field \"frames[0].label\": \"face-1\" is also the label of boxes[0]"},
      {"label used twice among boxes", [](json::Value& v) { v["boxes"][2]["label"] = "plate"; },
       "field \"boxes[2].label\": \"plate\" is also the label of boxes[1]"},
      {"label used twice in audio", [](json::Value& v) { v["audio"][1]["label"] = "name"; },
       "field \"audio[1].label\": \"name\" is also the label of audio[0]"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const auto r = parse_changed(c.change);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(r.error().subject == k_subject);
    CHECK(r.error().message == c.message);
  }
}

TEST_CASE("parse refuses what is not a spec at all") {
  CHECK(why(redact::parse("[]", k_subject)) == "spec.json: redaction spec is not a JSON object");
  CHECK(contains(why(redact::parse("{\"bwv_redaction\": 1", k_subject)), "invalid JSON"));
  CHECK(contains(why(redact::parse(R"({"bwv_redaction": 1, "bwv_redaction": 1})", k_subject)),
                 "duplicate key"));
  CHECK(contains(why(redact::parse(std::string(redact::k_max_bytes + 1, ' '), k_subject)),
                 "larger than"));
}

TEST_CASE("at most 10000 boxes and ranges and 100000 keyframes in all") {
  const auto ranges = [](std::size_t n, const char* prefix) {
    json::Value a = json::Value::array();
    for (std::size_t i = 0; i < n; ++i)
      a.push_back(json::Value{
          {"from_ms", 0}, {"to_ms", 1}, {"label", prefix + std::to_string(i)}, {"reason", "r"}});
    return a;
  };
  json::Value v = {{"bwv_redaction", 1}};
  v["frames"] = ranges(4000, "f");
  v["audio"] = ranges(6000, "a");
  CHECK(redact::parse(json::write_line(v), k_subject));
  v["audio"] = ranges(6001, "a");
  CHECK(why(redact::parse(json::write_line(v), k_subject)) ==
        "spec.json: field \"audio\": more than 10000 boxes and ranges in all");

  const auto box = [](std::size_t keyframes, const char* label) {
    json::Value kfs = json::Value::array();
    for (std::size_t i = 0; i < keyframes; ++i)
      kfs.push_back(keyframe(static_cast<std::int64_t>(i), 0, 0, 1, 1));
    return json::Value{{"label", label}, {"reason", "r"}, {"keyframes", std::move(kfs)}};
  };
  json::Value w = {{"bwv_redaction", 1}};
  w["boxes"] = json::Value::array({box(60000, "a"), box(40000, "b")});
  CHECK(redact::parse(json::write_line(w), k_subject));
  w["boxes"][1] = box(40001, "b");
  CHECK(why(redact::parse(json::write_line(w), k_subject)) ==
        "spec.json: field \"boxes[1].keyframes\": more than 100000 keyframes in all");
}

TEST_CASE("box_at interpolates between keyframes and rounds halves up") {
  const redact::Box b = box_of({{1000, {100, 50, 80, 80}}, {3000, {300, 60, 80, 90}}});
  CHECK(redact::box_at(b, 1000) == Rect{100, 50, 80, 80});
  CHECK(redact::box_at(b, 3000) == Rect{300, 60, 80, 90});
  CHECK(redact::box_at(b, 2000) == Rect{200, 55, 80, 85});
  // y and h move 10 over 2000 ms: 0.25, 0.5 and 0.75 of a pixel at 50, 100 and 150 ms.
  CHECK(redact::box_at(b, 1050) == Rect{105, 50, 80, 80});
  CHECK(redact::box_at(b, 1100) == Rect{110, 51, 80, 81});
  CHECK(redact::box_at(b, 1150) == Rect{115, 51, 80, 81});
  CHECK(redact::box_at(b, 2999) == Rect{300, 60, 80, 90}); // 299.9 and 59.995
  CHECK_FALSE(redact::box_at(b, 999));
  CHECK_FALSE(redact::box_at(b, 3001));
  CHECK_FALSE(redact::box_at(b, 0));
  CHECK_FALSE(redact::box_at(b, -1));

  // A half rounds up whichever way the box moves.
  const redact::Box down = box_of({{0, {1, 1, 2, 2}}, {2, {0, 0, 1, 1}}});
  CHECK(redact::box_at(down, 1) == Rect{1, 1, 2, 2});
  const redact::Box up = box_of({{0, {0, 0, 1, 1}}, {2, {1, 1, 2, 2}}});
  CHECK(redact::box_at(up, 1) == Rect{1, 1, 2, 2});

  // Three keyframes: each instant uses the two around it.
  const redact::Box three =
      box_of({{0, {0, 0, 10, 10}}, {100, {100, 0, 10, 10}}, {300, {100, 200, 30, 10}}});
  CHECK(redact::box_at(three, 50) == Rect{50, 0, 10, 10});
  CHECK(redact::box_at(three, 100) == Rect{100, 0, 10, 10});
  CHECK(redact::box_at(three, 200) == Rect{100, 100, 20, 10});
  CHECK(redact::box_at(three, 300) == Rect{100, 200, 30, 10});

  // The largest times and sizes parse() accepts do not overflow.
  const redact::Box far =
      box_of({{0, {0, 0, 1, 1}}, {redact::k_max_ms, {65535, 65535, 65536, 65536}}});
  CHECK(redact::box_at(far, redact::k_max_ms / 2) == Rect{32768, 32768, 32769, 32769});
}

TEST_CASE("a box with one keyframe is there at that instant, and on the one frame showing then") {
  const redact::Box b = box_of({{1000, {10, 20, 30, 40}}});
  CHECK(redact::box_at(b, 1000) == Rect{10, 20, 30, 40});
  CHECK_FALSE(redact::box_at(b, 999));
  CHECK_FALSE(redact::box_at(b, 1001));

  // Frames of 33 or 34 ms: only the one shown during 1000 gets the box.
  CHECK_FALSE(redact::box_for_frame(b, 967, 1000));
  CHECK(redact::box_for_frame(b, 1000, 1033) == Rect{10, 20, 30, 40});
  CHECK_FALSE(redact::box_for_frame(b, 1033, 1067));
  const redact::Box mid = box_of({{1010, {10, 20, 30, 40}}});
  CHECK_FALSE(redact::box_for_frame(mid, 967, 1000));
  CHECK(redact::box_for_frame(mid, 1000, 1033) == Rect{10, 20, 30, 40});
  CHECK_FALSE(redact::box_for_frame(mid, 1033, 1067));
}

TEST_CASE("box_for_frame: a frame shown while the box starts gets it as it starts") {
  const redact::Box b = box_of({{1010, {100, 0, 10, 10}}, {2010, {200, 0, 10, 10}}});
  CHECK_FALSE(redact::box_for_frame(b, 967, 1000));
  CHECK(redact::box_for_frame(b, 1000, 1033) == Rect{100, 0, 10, 10});
  CHECK(redact::box_for_frame(b, 1510, 1543) == Rect{150, 0, 10, 10});
  CHECK(redact::box_for_frame(b, 2000, 2033) == Rect{199, 0, 10, 10});
  CHECK(redact::box_for_frame(b, 2010, 2043) == Rect{200, 0, 10, 10});
  CHECK_FALSE(redact::box_for_frame(b, 2011, 2044));
  // An empty interval is the instant.
  CHECK(redact::box_for_frame(b, 1010, 1010) == Rect{100, 0, 10, 10});
  CHECK_FALSE(redact::box_for_frame(b, 1000, 1000));
}

TEST_CASE("frame_redacted and range_for_frame: ranges are half-open") {
  redact::Spec s;
  s.frames = {range_of(1000, 2000, "a"), range_of(1500, 3000, "b")};
  const redact::FrameRange* which = nullptr;
  CHECK_FALSE(redact::frame_redacted(s, 999, &which));
  CHECK(which == nullptr);
  CHECK(redact::frame_redacted(s, 1000, &which));
  CHECK(which == &s.frames[0]);
  CHECK(redact::frame_redacted(s, 1999, &which));
  CHECK(which == &s.frames[0]);
  CHECK(redact::frame_redacted(s, 2000, &which));
  CHECK(which == &s.frames[1]);
  CHECK(redact::frame_redacted(s, 2999));
  CHECK_FALSE(redact::frame_redacted(s, 3000, &which));
  CHECK(which == nullptr);

  CHECK(redact::range_for_frame(s, 967, 1000) == nullptr);
  CHECK(redact::range_for_frame(s, 990, 1023) == &s.frames[0]);
  CHECK(redact::range_for_frame(s, 2990, 3023) == &s.frames[1]);
  CHECK(redact::range_for_frame(s, 3000, 3033) == nullptr);
  CHECK(redact::range_for_frame(redact::Spec{}, 0, 1) == nullptr);
}

TEST_CASE("touched_spans merges overlapping and adjacent spans, and leaves out the sound") {
  redact::Spec s;
  s.boxes = {box_of({{1000, {0, 0, 1, 1}}, {3000, {0, 0, 1, 1}}}), box_of({{500, {0, 0, 1, 1}}})};
  s.frames = {range_of(3001, 4000), // adjacent to the first box's last instant
              range_of(5500, 5800), range_of(5000, 6000),
              range_of(200, 300),   range_of(0, 200), // adjacent to [200, 300)
              range_of(7000, 7100)};
  redact::AudioRange sound;
  sound.from_ms = 8000;
  sound.to_ms = 9000;
  s.audio = {sound};
  CHECK(redact::touched_spans(s) ==
        Spans{{0, 300}, {500, 501}, {1000, 4000}, {5000, 6000}, {7000, 7100}});

  // Not adjacent: a gap of one millisecond stays.
  redact::Spec gap;
  gap.frames = {range_of(0, 100), range_of(101, 200)};
  CHECK(redact::touched_spans(gap) == Spans{{0, 100}, {101, 200}});
  CHECK(redact::touched_spans(redact::Spec{}).empty());
}

TEST_CASE("check_against: within the duration, and not entirely outside the frame") {
  const redact::Spec s = parse_ok(k_sample);
  const auto check = [&](int w, int h, std::int64_t d) {
    return why(redact::check_against(s, w, h, d, "clip"));
  };
  CHECK(check(1920, 1080, 10000) == "ok");
  CHECK(check(1920, 1080, 7500) == "ok"); // audio[1] ends with the video
  CHECK(check(1920, 1080, 7499) ==
        "clip: field \"audio[1].to_ms\": 7500 is after the end of the video (7499 ms)");
  CHECK(check(1920, 1080, 7000) ==
        "clip: field \"audio[1].from_ms\": 7000 is not before the end of the video (7000 ms)");
  CHECK(check(1920, 1080, 4400) ==
        "clip: field \"frames[1].to_ms\": 4500 is after the end of the video (4400 ms)");
  CHECK(check(1920, 1080, 3000) == "clip: field \"boxes[0].keyframes[1].t_ms\": 3000 is not before "
                                   "the end of the video (3000 ms)");
  CHECK(
      check(1920, 1080, 0) ==
      "clip: field \"boxes[0].keyframes[0].t_ms\": 1000 is not before the end of the video (0 ms)");

  // Partly outside is clipped later; entirely outside is refused.
  redact::Spec one;
  one.boxes = {box_of({{0, {100, 50, 80, 80}}, {1000, {300, 60, 80, 90}}})};
  const auto check_one = [&](int w, int h) {
    return why(redact::check_against(one, w, h, 2000, "clip"));
  };
  CHECK(check_one(301, 61) == "ok");
  CHECK(check_one(300, 1080) == "clip: field \"boxes[0].keyframes[1].x\": 300 puts the box outside "
                                "the frame (300 pixels wide)");
  CHECK(check_one(1920, 60) == "clip: field \"boxes[0].keyframes[1].y\": 60 puts the box outside "
                               "the frame (60 pixels high)");
  CHECK(check_one(100, 1080) == "clip: field \"boxes[0].keyframes[0].x\": 100 puts the box outside "
                                "the frame (100 pixels wide)");
  const auto r = redact::check_against(one, 100, 100, 2000, "clip");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::check_failed);
  CHECK(r.error().subject == "clip");
}

TEST_CASE("clipped keeps the part of a rect inside the frame") {
  CHECK(redact::clipped({10, 20, 30, 40}, 1920, 1080) == Rect{10, 20, 30, 40});
  CHECK(redact::clipped({300, 60, 80, 90}, 320, 100) == Rect{300, 60, 20, 40});
  CHECK(redact::clipped({0, 0, 65536, 65536}, 1920, 1080) == Rect{0, 0, 1920, 1080});
  CHECK(redact::clipped({319, 99, 5, 5}, 320, 100) == Rect{319, 99, 1, 1});
  CHECK_FALSE(redact::clipped({320, 0, 5, 5}, 320, 100));
  CHECK_FALSE(redact::clipped({0, 100, 5, 5}, 320, 100));
}
