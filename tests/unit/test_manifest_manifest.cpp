#include "manifest/manifest.hpp"

#include "core/json.hpp"
#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>

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

// A redacted derivative of the sample: its id with -r1, signed by a store key, naming the original.
manifest::Manifest derivative_sample() {
  const manifest::Manifest original = sample();
  manifest::Manifest m = original;
  m.clip_id = manifest::derivative_id(original.clip_id, 1);
  m.key_id = "F0E1D2C3B4A59687";
  m.video = hash_video("the redacted video");
  m.derived_from = manifest::Derivation{
      .clip_id = original.clip_id,
      .manifest_sha256 = crypto::sha256_hex(manifest::write(original)),
      .video_sha256 = original.video.sha256,
      .method = "redaction",
      .spec_sha256 = crypto::sha256_hex("the spec"),
      .reason = "FOI release: bystanders' faces, caf\xc3\xa9 sign",
      .created = k_start + 86400,
      .by = "alice@dock01",
      .encoder = "libx264 core 164 crf=18 preset=medium",
      .render = "smart",
      .requested = "smart",
      .gops = 10,
      .reencoded_gops = 3,
  };
  return m;
}

// The JSON of base (the sample manifest unless given), changed by f, written back, and parsed.
Result<manifest::Manifest> parse_changed(const std::function<void(json::Value&)>& f,
                                         const manifest::Manifest& base = sample()) {
  json::Value v = *json::parse(manifest::write(base), "m");
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

TEST_CASE("a derivative's manifest: write then parse round trip") {
  const manifest::Manifest m = derivative_sample();
  const std::string text = manifest::write(m);
  CHECK(contains(text, "\n  \"derived_from\": {\n    \"clip_id\": \"20261124-CAM0042-000017\",\n"));
  CHECK(contains(text, "\"created\": \"2026-11-25T10:00:00Z\""));
  CHECK(contains(text, "\"reason\": \"FOI release: bystanders' faces, caf\\u00e9 sign\""));
  for (unsigned char c : text) CHECK(c < 0x80);

  const auto back = manifest::parse(text, "manifest.json");
  REQUIRE_MESSAGE(back, why(back));
  REQUIRE(back->derived_from);
  CHECK(*back->derived_from == *m.derived_from);
  CHECK(back->clip_id == "20261124-CAM0042-000017-r1");
  CHECK(back->key_id == m.key_id);
  CHECK(back->video.sha256 == m.video.sha256);
  CHECK(manifest::write(*back) == text);

  // All thirteen fields are written, as given.
  const json::Value v = *json::parse(text, "m");
  const json::Value& d = v["derived_from"];
  CHECK(d.size() == 13);
  CHECK(d["manifest_sha256"] == m.derived_from->manifest_sha256);
  CHECK(d["video_sha256"] == m.derived_from->video_sha256);
  CHECK(d["spec_sha256"] == m.derived_from->spec_sha256);
  CHECK(d["method"] == "redaction");
  CHECK(d["by"] == "alice@dock01");
  CHECK(d["render"] == "smart");
  CHECK(d["gops"] == 10);
  CHECK(d["reencoded_gops"] == 3);

  // Other valid forms: a full render with every GOP re-encoded and the longest reason; no GOPs and no reason.
  manifest::Manifest full = derivative_sample();
  full.clip_id = manifest::derivative_id(full.derived_from->clip_id, 12);
  full.derived_from->render = "full";
  full.derived_from->reencoded_gops = full.derived_from->gops;
  full.derived_from->reason = std::string(4096, 'r');
  const auto full_back = manifest::parse(manifest::write(full), "m");
  REQUIRE_MESSAGE(full_back, why(full_back));
  CHECK(full_back->derived_from == full.derived_from);
  CHECK(full_back->clip_id == "20261124-CAM0042-000017-r12");

  manifest::Manifest empty = derivative_sample();
  empty.derived_from->gops = 0;
  empty.derived_from->reencoded_gops = 0;
  empty.derived_from->reason = "";
  const auto empty_back = manifest::parse(manifest::write(empty), "m");
  REQUIRE_MESSAGE(empty_back, why(empty_back));
  CHECK(empty_back->derived_from == empty.derived_from);
}

TEST_CASE("a manifest that is not a derivative writes no derived_from") {
  const std::string text = manifest::write(sample());
  CHECK_FALSE(contains(text, "derived_from"));
  const auto back = manifest::parse(text, "m");
  REQUIRE_MESSAGE(back, why(back));
  CHECK_FALSE(back->derived_from);
}

TEST_CASE("parse refuses a derivation missing a field and names it") {
  const json::Value v = *json::parse(manifest::write(derivative_sample()), "m");
  for (const auto& [key, value] : v["derived_from"].items()) {
    CAPTURE(key);
    const std::string k = key;
    const auto r = parse_changed([&](json::Value& m) { m["derived_from"].erase(k); }, derivative_sample());
    if (k == "requested") {
      // Optional: without it, what was asked is taken to be what was done.
      REQUIRE_MESSAGE(r, why(r));
      CHECK(r->derived_from->requested == r->derived_from->render);
      continue;
    }
    CHECK(refusal(r) == "field \"derived_from." + k + "\": missing");
  }
  for (const json::Value& bad : {json::Value(nullptr), json::Value("redaction"), json::Value::array()}) {
    CAPTURE(bad.dump());
    const auto r = parse_changed([&](json::Value& m) { m["derived_from"] = bad; }, derivative_sample());
    CHECK(refusal(r) == "field \"derived_from\": not an object");
  }
}

TEST_CASE("parse refuses a derivation's bad hashes, method, render and counts") {
  const auto refused = [](const std::function<void(json::Value&)>& f) {
    return refusal(parse_changed([&](json::Value& v) { f(v["derived_from"]); }, derivative_sample()));
  };
  for (const char* key : {"manifest_sha256", "video_sha256", "spec_sha256"}) {
    CAPTURE(key);
    for (const std::string& bad : {std::string(64, 'A'), std::string(63, 'a'), std::string(64, 'g'),
                                   std::string(65, 'a'), std::string()}) {
      CAPTURE(bad);
      CHECK(refused([&](json::Value& d) { d[key] = bad; }) ==
            "field \"derived_from." + std::string(key) + "\": not a SHA-256 (64 lower-case hex digits)");
    }
    CHECK(contains(refused([&](json::Value& d) { d[key] = 5; }), "\"derived_from." + std::string(key) + "\""));
  }

  for (const char* bad : {"Redaction", "blur", "", "redaction "}) {
    CAPTURE(bad);
    const std::string b = bad;
    CHECK(contains(refused([&](json::Value& d) { d["method"] = b; }), "field \"derived_from.method\": unknown method"));
  }
  for (const char* bad : {"Smart", "FULL", "", "partial", "smart "}) {
    CAPTURE(bad);
    const std::string b = bad;
    CHECK(refused([&](json::Value& d) { d["render"] = b; }) ==
          "field \"derived_from.render\": must be \"smart\" or \"full\"");
  }

  CHECK(refused([](json::Value& d) { d["reencoded_gops"] = 11; }) ==
        "field \"derived_from.reencoded_gops\": more than gops");
  CHECK(refused([](json::Value& d) {
          d["gops"] = 0;
          d["reencoded_gops"] = 1;
        }) == "field \"derived_from.reencoded_gops\": more than gops");
  CHECK(refused([](json::Value& d) { d["reencoded_gops"] = 10; }).empty()); // all of them is fine
  CHECK(contains(refused([](json::Value& d) { d["gops"] = -1; }), "\"derived_from.gops\""));
  CHECK(contains(refused([](json::Value& d) { d["reencoded_gops"] = -1; }), "\"derived_from.reencoded_gops\""));
  CHECK(contains(refused([](json::Value& d) { d["gops"] = "10"; }), "\"derived_from.gops\""));

  CHECK(refused([](json::Value& d) { d["reason"] = std::string(4097, 'r'); }) ==
        "field \"derived_from.reason\": longer than 4096 bytes");
  CHECK(refused([](json::Value& d) { d["reason"] = std::string(4096, 'r'); }).empty());
  CHECK(contains(refused([](json::Value& d) { d["by"] = std::string(257, 'b'); }), "\"derived_from.by\""));
  CHECK(contains(refused([](json::Value& d) { d["encoder"] = std::string(1025, 'e'); }), "\"derived_from.encoder\""));

  for (const char* bad : {"2026-11-25T10:00:00", "2026-11-25", "2026-02-30T10:00:00Z", "", "1795600800"}) {
    CAPTURE(bad);
    const std::string b = bad;
    CHECK(refused([&](json::Value& d) { d["created"] = b; }) ==
          "field \"derived_from.created\": not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
  }
  CHECK(contains(refused([](json::Value& d) { d["created"] = 1795600800; }), "\"derived_from.created\""));
}

TEST_CASE("parse refuses a derivative whose ids do not fit together") {
  const manifest::Manifest base = derivative_sample();
  const auto refused = [&](const std::function<void(json::Value&)>& f) { return refusal(parse_changed(f, base)); };

  // derived_from.clip_id must name an original, not another derivative or something else.
  for (const char* bad : {"20261124-CAM0042-000017-r1", "20261124-CAM0042-000017-r2", "../x", ""}) {
    CAPTURE(bad);
    const std::string b = bad;
    CHECK(refused([&](json::Value& v) { v["derived_from"]["clip_id"] = b; }) ==
          "field \"derived_from.clip_id\": not the id of an original clip");
  }
  // An original's id with another suffix is refused too (by the check against the derivative's id).
  CHECK(contains(refused([](json::Value& v) { v["derived_from"]["clip_id"] = "20261124-CAM0042-000017-x"; }),
                 "\"clip_id\""));
  // A derivative of a derivative has no valid id at all.
  CHECK(contains(refused([](json::Value& v) {
                   v["clip_id"] = "20261124-CAM0042-000017-r1-r1";
                   v["derived_from"]["clip_id"] = "20261124-CAM0042-000017-r1";
                 }),
                 "\"clip_id\""));

  // The derivative's own id must be derived_from.clip_id followed by -rN.
  for (const char* bad : {"20261124-CAM0042-000017", "20261124-CAM0042-000018-r1", "20261124-CAM0042-000017-r0",
                          "20261124-CAM0042-000017-r01", "20261124-CAM0042-000017-x1", "20261124-CAM0042-000017-r",
                          "20261124-CAM0042-000017-r1234567", "20261124-CAM0042-000017-rr1"}) {
    CAPTURE(bad);
    const std::string b = bad;
    const std::string why_refused = refused([&](json::Value& v) { v["clip_id"] = b; });
    CHECK(contains(why_refused, "field \"clip_id\""));
    CHECK_FALSE(contains(why_refused, "derived_from.clip_id"));
  }
  CHECK(refused([](json::Value& v) { v["clip_id"] = "20261124-CAM0042-000017"; }) ==
        "field \"clip_id\": a derivative's id must be its original's id followed by -rN");
  CHECK(refused([](json::Value& v) { v["clip_id"] = "20261124-CAM0042-000017-r999999"; }).empty());

  // A derivative's id without derived_from is refused.
  const std::string bare = refused([](json::Value& v) { v.erase("derived_from"); });
  CHECK(contains(bare, "field \"clip_id\""));
  CHECK(contains(bare, "20261124-CAM0042-000017"));

  // derived_from.clip_id must match the recording fields, copied from the original.
  const std::string other = refused([](json::Value& v) {
    v["clip_id"] = "20261124-CAM0042-000018-r1";
    v["derived_from"]["clip_id"] = "20261124-CAM0042-000018";
  });
  CHECK(other == "field \"derived_from.clip_id\": does not match the start date, device and seq "
                 "(expected 20261124-CAM0042-000017)");
  CHECK(contains(refused([](json::Value& v) {
                   v["clip_id"] = "20261124-CAM0043-000017-r1";
                   v["derived_from"]["clip_id"] = "20261124-CAM0043-000017";
                 }),
                 "\"derived_from.clip_id\""));
  CHECK(contains(refused([](json::Value& v) {
                   v["start"] = "2026-11-25T00:00:00Z";
                   v["end"] = "2026-11-25T00:05:00Z";
                 }),
                 "\"derived_from.clip_id\""));
  CHECK(contains(refused([](json::Value& v) {
                   v["seq"] = 18;
                 }),
                 "\"derived_from.clip_id\""));
}

TEST_CASE("split_derivative_id and derivative_id") {
  using Split = std::optional<std::pair<std::string, unsigned>>;
  CHECK(manifest::split_derivative_id("20261124-CAM1-000001-r1") == Split({"20261124-CAM1-000001", 1}));
  CHECK(manifest::split_derivative_id("20261124-CAM1-000001-r12") == Split({"20261124-CAM1-000001", 12}));
  CHECK(manifest::split_derivative_id("20261124-CAM1-000001-r999999") == Split({"20261124-CAM1-000001", 999999}));
  CHECK(manifest::split_derivative_id("20261124-CAM0042-000000000017-r3") ==
        Split({"20261124-CAM0042-000000000017", 3}));
  // A device whose name has an r in it.
  CHECK(manifest::split_derivative_id("20261124-r1-000001-r2") == Split({"20261124-r1-000001", 2}));

  for (const char* bad : {"20261124-CAM1-000001-r0", "20261124-CAM1-000001-r01", "20261124-CAM1-000001-r",
                          "20261124-CAM1-000001-rx", "20261124-CAM1-000001-r1x", "20261124-CAM1-000001-r-1",
                          "20261124-CAM1-000001-r1234567", "20261124-CAM1-000001", "20261124-CAM1-000001-r1-r2",
                          "20261124-CAM1-000001-a-r1", "20261124-CAM1-000001-R1", "20261124-CAM1-00001-r1",
                          "20261324-CAM1-000001-r1", "-r1", "r1", "", "garbage", "../x-r1",
                          "20261124-CAM/1-000001-r1"}) {
    CAPTURE(bad);
    CHECK_FALSE(manifest::split_derivative_id(bad));
  }

  for (unsigned n : {1u, 2u, 9u, 10u, 12u, 999999u}) {
    CAPTURE(n);
    const std::string id = manifest::derivative_id("20261124-CAM1-000001", n);
    CHECK(id == "20261124-CAM1-000001-r" + std::to_string(n));
    CHECK(text::is_clip_id(id));
    CHECK(manifest::split_derivative_id(id) == Split({"20261124-CAM1-000001", n}));
  }
}

TEST_SUITE_END();
