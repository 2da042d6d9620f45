#include "manifest/manifest.hpp"

#include "core/json.hpp"
#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>

using namespace bwv;
using bwv::test::contains;
using bwv::test::why;

TEST_SUITE_BEGIN("manifest::manifest");

namespace {

constexpr std::size_t MiB = 1 << 20;
constexpr std::time_t k_start = 1795514400; // 2026-11-24T10:00:00Z

std::string sample_video() {
  std::string v(2500000, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>((i * 7919) >> 5);
  return v;
}

manifest::Video hash_video(const std::string& data) {
  manifest::VideoHasher h;
  h.update(reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return h.finish();
}

manifest::Manifest sample() {
  manifest::Manifest m;
  m.device = "CAM0042";
  m.seq = 17;
  m.start = k_start;
  m.end = k_start + 300;
  m.clip_id = text::make_clip_id(m.start, m.device, m.seq);
  m.key_id = "1A2B3C4D5E6F7081";
  m.officer = "PC1234";
  m.prev_manifest_sha256 = crypto::sha256_hex("the previous manifest");
  m.pre_event_seconds = 30;
  m.trigger = "double_press";
  m.firmware = "bwv-camd 0.1.0";
  m.stealth = false;
  m.recovered = true;
  m.video = hash_video(sample_video());
  return m;
}

// The sample manifest's JSON, changed by f, written back, and parsed.
Result<manifest::Manifest> parse_changed(const std::function<void(json::Value&)>& f) {
  json::Value v = *json::parse(manifest::write(sample()), "m");
  f(v);
  return manifest::parse(json::write_pretty(v), "clip/manifest.json");
}

// The refusal's message ("" when it parsed).
std::string refusal(const Result<manifest::Manifest>& r) { return r ? std::string() : r.error().message; }

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("write produces the documented layout") {
  const manifest::Manifest m = sample();
  const std::string text = manifest::write(m);
  CHECK(text.starts_with("{\n  \"bwv_manifest\": 1,\n  \"clip_id\": \"20261124-CAM0042-000017\",\n"
                         "  \"device\": \"CAM0042\",\n  \"key_id\": \"1A2B3C4D5E6F7081\",\n"
                         "  \"officer\": \"PC1234\",\n  \"seq\": 17,\n  \"prev_manifest_sha256\": \""));
  CHECK(contains(text, "\",\n  \"start\": \"2026-11-24T10:00:00Z\",\n  \"end\": \"2026-11-24T10:05:00Z\",\n"
                       "  \"pre_event_seconds\": 30,\n  \"trigger\": \"double_press\",\n"
                       "  \"firmware\": \"bwv-camd 0.1.0\",\n  \"stealth\": false,\n  \"recovered\": true,\n"
                       "  \"video\": {\n    \"file\": \"video.mp4\",\n    \"media_type\": \"video/mp4\",\n"
                       "    \"size\": 2500000,\n    \"sha256\": \""));
  CHECK(contains(text, "\",\n    \"chunk_size\": 1048576,\n    \"chunks\": [\n      \""));
  CHECK(text.ends_with("\"\n    ]\n  }\n}\n"));
  for (unsigned char c : text) CHECK(c < 0x80);
}

TEST_CASE("write then parse round trip") {
  const manifest::Manifest m = sample();
  const std::string text = manifest::write(m);
  const auto back = manifest::parse(text, "manifest.json");
  REQUIRE_MESSAGE(back, why(back));
  CHECK(back->clip_id == m.clip_id);
  CHECK(back->device == m.device);
  CHECK(back->key_id == m.key_id);
  CHECK(back->officer == m.officer);
  CHECK(back->seq == m.seq);
  CHECK(back->prev_manifest_sha256 == m.prev_manifest_sha256);
  CHECK(back->start == m.start);
  CHECK(back->end == m.end);
  CHECK(back->pre_event_seconds == m.pre_event_seconds);
  CHECK(back->trigger == m.trigger);
  CHECK(back->firmware == m.firmware);
  CHECK(back->stealth == m.stealth);
  CHECK(back->recovered == m.recovered);
  CHECK(back->video.file == "video.mp4");
  CHECK(back->video.media_type == "video/mp4");
  CHECK(back->video.size == m.video.size);
  CHECK(back->video.sha256 == m.video.sha256);
  CHECK(back->video.chunk_size == m.video.chunk_size);
  CHECK(back->video.chunks == m.video.chunks);
  CHECK(back->video.chunks.size() == 3);
  CHECK(manifest::write(*back) == text);

  // The first clip of a device: seq 1, prev null; an empty video; non-ASCII officer.
  manifest::Manifest first = sample();
  first.seq = 1;
  first.clip_id = text::make_clip_id(first.start, first.device, 1);
  first.prev_manifest_sha256.reset();
  first.video = hash_video("");
  first.officer = "PC \xc3\x89mile";
  first.end = first.start;
  const std::string first_text = manifest::write(first);
  CHECK(contains(first_text, "\"prev_manifest_sha256\": null"));
  CHECK(contains(first_text, "\"officer\": \"PC \\u00c9mile\""));
  CHECK(contains(first_text, "\"chunks\": []"));
  const auto first_back = manifest::parse(first_text, "m");
  REQUIRE_MESSAGE(first_back, why(first_back));
  CHECK_FALSE(first_back->prev_manifest_sha256);
  CHECK(first_back->officer == "PC \xc3\x89mile");
  CHECK(first_back->video.size == 0);
  CHECK(first_back->video.chunks.empty());
}

TEST_CASE("trusted_comment names the clip and the manifest's hash") {
  const manifest::Manifest m = sample();
  CHECK(manifest::trusted_comment(m, "abc") == "bwv-manifest 20261124-CAM0042-000017 abc");
}

TEST_CASE("parse refuses an unknown version") {
  const auto r = parse_changed([](json::Value& v) { v["bwv_manifest"] = 2; });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::check_failed);
  CHECK(r.error().subject == "clip/manifest.json");
  CHECK(contains(r.error().message, "version 2"));
  CHECK_FALSE(parse_changed([](json::Value& v) { v["bwv_manifest"] = 0; }));
  CHECK_FALSE(parse_changed([](json::Value& v) { v["bwv_manifest"] = "1"; }));
}

TEST_CASE("parse refuses a missing field and names it") {
  const json::Value v = *json::parse(manifest::write(sample()), "m");
  for (const auto& [key, value] : v.items()) {
    CAPTURE(key);
    const std::string k = key;
    const auto r = parse_changed([&](json::Value& m) { m.erase(k); });
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "\"" + k + "\""));
  }
  for (const auto& [key, value] : v["video"].items()) {
    CAPTURE(key);
    const std::string k = key;
    const auto r = parse_changed([&](json::Value& m) { m["video"].erase(k); });
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "\"video." + k + "\""));
  }
  CHECK(refusal(parse_changed([](json::Value& v) { v.erase("officer"); })) == "field \"officer\": missing");
}

TEST_CASE("parse checks seq and the chain link") {
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["seq"] = 0; })), "\"seq\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["seq"] = -1; })), "\"seq\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["seq"] = 1000000000000; })), "\"seq\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["seq"] = "17"; })), "\"seq\""));

  // prev null with seq 2.
  const auto null_prev = parse_changed([](json::Value& v) {
    v["seq"] = 2;
    v["clip_id"] = "20261124-CAM0042-000002";
    v["prev_manifest_sha256"] = nullptr;
  });
  CHECK(contains(refusal(null_prev), "\"prev_manifest_sha256\""));
  // prev given with seq 1.
  const auto prev_on_first = parse_changed([](json::Value& v) {
    v["seq"] = 1;
    v["clip_id"] = "20261124-CAM0042-000001";
  });
  CHECK(contains(refusal(prev_on_first), "\"prev_manifest_sha256\""));
  // And the valid forms of both.
  CHECK(parse_changed([](json::Value& v) {
    v["seq"] = 1;
    v["clip_id"] = "20261124-CAM0042-000001";
    v["prev_manifest_sha256"] = nullptr;
  }));
  CHECK(parse_changed([](json::Value& v) {
    v["seq"] = 2;
    v["clip_id"] = "20261124-CAM0042-000002";
  }));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["prev_manifest_sha256"] = std::string(64, 'A'); })),
                 "\"prev_manifest_sha256\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["prev_manifest_sha256"] = "abc"; })),
                 "\"prev_manifest_sha256\""));
}

TEST_CASE("parse refuses bad times and an end before the start") {
  for (const char* bad : {"2026-11-24T10:00:00", "2026-11-24 10:00:00Z", "2026-11-24T24:00:00Z",
                          "2026-02-30T10:00:00Z", "2026-11-24", "", "1795514400"}) {
    CAPTURE(bad);
    const std::string b = bad;
    CHECK(contains(refusal(parse_changed([&](json::Value& v) { v["start"] = b; })), "\"start\""));
    CHECK(contains(refusal(parse_changed([&](json::Value& v) { v["end"] = b; })), "\"end\""));
  }
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["end"] = 1795514700; })), "\"end\""));
  const auto before = parse_changed([](json::Value& v) { v["end"] = "2026-11-24T09:59:59Z"; });
  CHECK(refusal(before) == "field \"end\": is before start");
  CHECK(parse_changed([](json::Value& v) { v["end"] = "2026-11-24T10:00:00Z"; })); // equal is fine
}

TEST_CASE("parse checks the video's size, chunk count and hashes") {
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["chunks"].erase(2); })),
                 "\"video.chunks\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) {
                   v["video"]["chunks"].push_back(v["video"]["chunks"][0]);
                 })),
                 "\"video.chunks\""));
  // 3 chunks of 1 MiB cover 2 MiB + 1 to 3 MiB.
  CHECK(parse_changed([](json::Value& v) { v["video"]["size"] = 3 * MiB; }));
  CHECK(parse_changed([](json::Value& v) { v["video"]["size"] = 2 * MiB + 1; }));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["size"] = 2 * MiB; })), "\"video.chunks\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["size"] = 3 * MiB + 1; })),
                 "\"video.chunks\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["size"] = -1; })), "\"video.size\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["chunk_size"] = 4095; })),
                 "\"video.chunk_size\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["chunk_size"] = (64 << 20) + 1; })),
                 "\"video.chunk_size\""));

  for (const std::string& bad : {std::string(64, 'A'), std::string(63, 'a'), std::string(64, 'g'),
                                 std::string(65, 'a'), std::string()}) {
    CAPTURE(bad);
    CHECK(contains(refusal(parse_changed([&](json::Value& v) { v["video"]["sha256"] = bad; })),
                   "\"video.sha256\""));
    CHECK(contains(refusal(parse_changed([&](json::Value& v) { v["video"]["chunks"][1] = bad; })),
                   "\"video.chunks\""));
  }
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["chunks"][0] = 5; })), "\"video.chunks\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["file"] = "../video.mp4"; })),
                 "\"video.file\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"]["media_type"] = "Video/MP4"; })),
                 "\"video.media_type\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["video"] = "video.mp4"; })), "\"video\""));
}

TEST_CASE("parse refuses a clip_id that does not match start, device and seq") {
  for (const char* bad : {"20261125-CAM0042-000017", "20261124-CAM0043-000017", "20261124-CAM0042-000018",
                          "20261124-CAM0042-0000017", "20261124-CAM0042-000017-r1"}) {
    CAPTURE(bad);
    const std::string b = bad;
    const auto r = parse_changed([&](json::Value& v) { v["clip_id"] = b; });
    CHECK(contains(refusal(r), "\"clip_id\""));
    CHECK(contains(refusal(r), "20261124-CAM0042-000017"));
  }
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["clip_id"] = "../x"; })), "not a clip id"));
  // start moved to the next day: the id no longer matches.
  CHECK(contains(refusal(parse_changed([](json::Value& v) {
                   v["start"] = "2026-11-25T00:00:00Z";
                   v["end"] = "2026-11-25T00:05:00Z";
                 })),
                 "\"clip_id\""));
}

TEST_CASE("parse checks the other fields") {
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["device"] = "CAM-42"; })), "\"device\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["key_id"] = "1a2b3c4d5e6f7081"; })), "\"key_id\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["key_id"] = "1A2B3C4D5E6F708"; })), "\"key_id\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["officer"] = std::string(129, 'o'); })),
                 "\"officer\""));
  CHECK(parse_changed([](json::Value& v) { v["officer"] = std::string(128, 'o'); }));
  CHECK(parse_changed([](json::Value& v) { v["officer"] = ""; }));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["pre_event_seconds"] = 121; })),
                 "\"pre_event_seconds\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["pre_event_seconds"] = -1; })),
                 "\"pre_event_seconds\""));
  CHECK(parse_changed([](json::Value& v) { v["pre_event_seconds"] = 120; }));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["trigger"] = "Double press"; })), "\"trigger\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["trigger"] = ""; })), "\"trigger\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["trigger"] = std::string(33, 't'); })),
                 "\"trigger\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["firmware"] = std::string(129, 'f'); })),
                 "\"firmware\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["stealth"] = 0; })), "\"stealth\""));
  CHECK(contains(refusal(parse_changed([](json::Value& v) { v["recovered"] = "false"; })), "\"recovered\""));
}

TEST_CASE("parse refuses oversized input") {
  const std::string text = manifest::write(sample());
  // Whitespace padding to exactly 4 MiB is still a manifest...
  const std::string exact = text + std::string(manifest::k_max_bytes - text.size(), ' ');
  CHECK(exact.size() == 4194304);
  CHECK(manifest::parse(exact, "m"));
  // ...one byte more is not.
  const auto r = manifest::parse(exact + " ", "m");
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().message, "larger than 4194304"));
}

TEST_CASE("parse refuses floats anywhere and duplicate keys") {
  const std::string text = manifest::write(sample());
  CHECK_FALSE(manifest::parse(replace_once(text, "\"pre_event_seconds\": 30", "\"pre_event_seconds\": 30.0"), "m"));
  CHECK_FALSE(manifest::parse(replace_once(text, "\"size\": 2500000", "\"size\": 2.5e6"), "m"));
  CHECK_FALSE(manifest::parse(replace_once(text, "\"seq\": 17", "\"seq\": 1.7e1"), "m"));
  CHECK_FALSE(manifest::parse(replace_once(text, "\"stealth\": false", "\"stealth\": false, \"x\": [0.5]"), "m"));
  const auto f = manifest::parse(replace_once(text, "\"bwv_manifest\": 1", "\"bwv_manifest\": 1.0"), "m");
  REQUIRE_FALSE(f);
  CHECK(contains(f.error().message, "floating-point"));

  const auto dup = manifest::parse(replace_once(text, "\"seq\": 17,", "\"seq\": 17,\n  \"seq\": 17,"), "m");
  REQUIRE_FALSE(dup);
  CHECK(contains(dup.error().message, "duplicate key \"seq\""));
  CHECK_FALSE(manifest::parse(replace_once(text, "\"seq\": 17,", "\"seq\": 18,\n  \"seq\": 17,"), "m"));
  CHECK_FALSE(manifest::parse(
      replace_once(text, "\"file\": \"video.mp4\",", "\"file\": \"video.mp4\",\n    \"file\": \"video.mp4\","), "m"));
  CHECK_FALSE(manifest::parse(text + "{}", "m"));
  CHECK_FALSE(manifest::parse("[" + text + "]", "m"));
  CHECK_FALSE(manifest::parse("", "m"));
}

TEST_CASE("parse accepts unknown extra keys") {
  const auto r = parse_changed([](json::Value& v) {
    v["location"] = json::Value::object();
    v["location"]["grid"] = "TQ 30 80";
    v["future_flag"] = true;
    v["video"]["codec"] = "h264";
    v["video"]["extra"] = json::Value::array({1, 2, 3});
  });
  CHECK_MESSAGE(r, why(r));
}

TEST_CASE("VideoHasher over odd-sized pieces equals one shot") {
  const std::string data = test::random_bytes(3 * MiB + 12345);
  const manifest::Video one = hash_video(data);
  CHECK(one.size == data.size());
  CHECK(one.sha256 == crypto::sha256_hex(data));
  CHECK(one.chunk_size == MiB);
  REQUIRE(one.chunks.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) CHECK(one.chunks[i] == crypto::sha256_hex(data.substr(i * MiB, MiB)));

  manifest::VideoHasher h;
  const std::size_t pieces[] = {1, 7, 4096, MiB - 1, MiB + 1, 3, 65537, MiB};
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < data.size(); ++i) {
    const std::size_t n = std::min(pieces[i % std::size(pieces)], data.size() - pos);
    h.update(reinterpret_cast<const unsigned char*>(data.data() + pos), n);
    pos += n;
  }
  const manifest::Video streamed = h.finish();
  CHECK(streamed.size == one.size);
  CHECK(streamed.sha256 == one.sha256);
  CHECK(streamed.chunks == one.chunks);

  // finish() resets the hasher.
  h.update(reinterpret_cast<const unsigned char*>("abc"), 3);
  const manifest::Video abc = h.finish();
  CHECK(abc.size == 3);
  CHECK(abc.chunks == std::vector<std::string>{crypto::sha256_hex("abc")});
  CHECK(abc.sha256 == crypto::sha256_hex("abc"));
}

TEST_CASE("VideoHasher chunk boundaries") {
  const manifest::Video empty = hash_video("");
  CHECK(empty.size == 0);
  CHECK(empty.chunks.empty());
  CHECK(empty.sha256 == crypto::sha256_hex(""));
  CHECK(hash_video(std::string(MiB, 'x')).chunks.size() == 1);
  CHECK(hash_video(std::string(MiB + 1, 'x')).chunks.size() == 2);
  CHECK(hash_video(std::string(2 * MiB, 'x')).chunks.size() == 2);

  manifest::VideoHasher small(4096);
  const std::string data = test::random_bytes(10000);
  small.update(reinterpret_cast<const unsigned char*>(data.data()), data.size());
  const manifest::Video v = small.finish();
  CHECK(v.chunk_size == 4096);
  REQUIRE(v.chunks.size() == 3);
  CHECK(v.chunks[2] == crypto::sha256_hex(data.substr(8192)));
}

TEST_CASE("compare_video names the byte range of a damaged chunk") {
  const std::string data = test::random_bytes(3 * MiB + 1000);
  const manifest::Video expected = hash_video(data);
  CHECK(manifest::compare_video(expected, hash_video(data)).empty());

  std::string damaged = data;
  damaged[MiB + 10] ^= 1;
  const auto problems = manifest::compare_video(expected, hash_video(damaged));
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems[0], "bytes 1048576-2097151"));
  CHECK(contains(problems[0], "chunk 1"));

  std::string two = data;
  two[0] ^= 1;
  two[data.size() - 1] ^= 1;
  const auto both = manifest::compare_video(expected, hash_video(two));
  REQUIRE(both.size() == 2);
  CHECK(contains(both[0], "bytes 0-1048575"));
  CHECK(contains(both[1], "bytes 3145728-3146727")); // the short last chunk ends at size - 1
}

TEST_CASE("compare_video reports a size or whole-file mismatch") {
  const std::string data = test::random_bytes(2 * MiB);
  const manifest::Video expected = hash_video(data);
  const auto shorter = manifest::compare_video(expected, hash_video(data.substr(0, MiB)));
  REQUIRE_FALSE(shorter.empty());
  CHECK(contains(shorter[0], "size is 1048576 bytes, the manifest says 2097152"));

  manifest::Video same_chunks = expected;
  same_chunks.sha256 = crypto::sha256_hex("something else");
  const auto whole = manifest::compare_video(expected, same_chunks);
  REQUIRE(whole.size() == 1);
  CHECK(contains(whole[0], "SHA-256"));
}

TEST_SUITE_END();
