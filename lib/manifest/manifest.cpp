#include "manifest/manifest.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace bwv::manifest {

std::string write(const Manifest& m) {
  json::Value v = json::Value::object();
  v["bwv_manifest"] = k_version;
  v["clip_id"] = m.clip_id;
  v["device"] = m.device;
  v["key_id"] = m.key_id;
  v["officer"] = m.officer;
  v["seq"] = m.seq;
  v["prev_manifest_sha256"] =
      m.prev_manifest_sha256 ? json::Value(*m.prev_manifest_sha256) : json::Value(nullptr);
  v["start"] = text::format_time(m.start);
  v["end"] = text::format_time(m.end);
  v["pre_event_seconds"] = m.pre_event_seconds;
  v["trigger"] = m.trigger;
  v["firmware"] = m.firmware;
  v["stealth"] = m.stealth;
  v["recovered"] = m.recovered;
  if (m.clock_known) v["clock_set"] = m.clock_set ? json::Value(text::format_time(*m.clock_set)) : json::Value(nullptr);
  json::Value video = json::Value::object();
  video["file"] = m.video.file;
  video["media_type"] = m.video.media_type;
  video["size"] = m.video.size;
  video["sha256"] = m.video.sha256;
  video["chunk_size"] = m.video.chunk_size;
  video["chunks"] = m.video.chunks;
  if (!m.video.fragments.empty()) {
    json::Value frags = json::Value::array();
    for (const auto& f : m.video.fragments) {
      json::Value o = json::Value::object();
      o["offset"] = f.offset;
      o["size"] = f.size;
      o["sha256"] = f.sha256;
      frags.push_back(std::move(o));
    }
    video["fragments"] = std::move(frags);
  }
  v["video"] = std::move(video);
  if (m.derived_from) {
    const Derivation& d = *m.derived_from;
    json::Value o = json::Value::object();
    o["clip_id"] = d.clip_id;
    o["manifest_sha256"] = d.manifest_sha256;
    o["video_sha256"] = d.video_sha256;
    o["method"] = d.method;
    o["spec_sha256"] = d.spec_sha256;
    o["reason"] = d.reason;
    o["created"] = text::format_time(d.created);
    o["by"] = d.by;
    o["encoder"] = d.encoder;
    o["render"] = d.render;
    o["requested"] = d.requested.empty() ? d.render : d.requested;
    o["gops"] = d.gops;
    o["reencoded_gops"] = d.reencoded_gops;
    v["derived_from"] = std::move(o);
  }
  return json::write_pretty(v);
}

namespace {

bool is_word(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
          c == '/' || c == '+'))
      return false;
  return true;
}

bool is_key_id(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

Result<std::string> sha_field(const json::Reader& r, const char* key) {
  std::string s = BWV_TRY(r.str(key));
  if (!text::is_sha256_hex(s)) return r.bad(key, "not a SHA-256 (64 lower-case hex digits)");
  return s;
}

Result<std::time_t> time_field(const json::Reader& r, const char* key) {
  const std::string s = BWV_TRY(r.str(key));
  auto t = text::parse_time(s);
  if (!t) return r.bad(key, "not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
  return *t;
}

Result<Video> parse_video(const json::Value& obj, const std::string& subject) {
  json::Reader r(obj, subject, "video.");
  Video v;
  v.file = BWV_TRY(r.str("file"));
  if (v.file != "video.mp4") return r.bad("file", "must be \"video.mp4\"");
  v.media_type = BWV_TRY(r.str("media_type"));
  if (!is_word(v.media_type, 64)) return r.bad("media_type", "not a media type");
  v.size = static_cast<std::uint64_t>(BWV_TRY(r.integer("size", 0, json::k_max_int)));
  v.sha256 = BWV_TRY(sha_field(r, "sha256"));
  v.chunk_size = static_cast<std::uint64_t>(BWV_TRY(r.integer("chunk_size", 4096, 64 << 20)));
  const json::Value* chunks = BWV_TRY(r.array("chunks"));
  const std::uint64_t expected = (v.size + v.chunk_size - 1) / v.chunk_size;
  if (chunks->size() != expected)
    return r.bad("chunks", "has " + std::to_string(chunks->size()) + " hashes, the size needs " +
                               std::to_string(expected));
  for (const auto& c : *chunks) {
    if (!c.is_string() || !text::is_sha256_hex(c.get_ref<const std::string&>()))
      return r.bad("chunks", "holds something that is not a SHA-256");
    v.chunks.push_back(c.get<std::string>());
  }
  if (r.has("fragments")) {
    const json::Value* frags = BWV_TRY(r.array("fragments"));
    if (frags->size() > v.chunks.size() * 1024 + 1024) return r.bad("fragments", "too many fragments");
    std::uint64_t at = 0;
    for (std::size_t i = 0; i < frags->size(); ++i) {
      const json::Value& o = (*frags)[i];
      if (!o.is_object()) return r.bad("fragments", "holds something that is not an object");
      json::Reader fr(o, subject, "video.fragments[" + std::to_string(i) + "].");
      Fragment f;
      f.offset = static_cast<std::uint64_t>(BWV_TRY(fr.integer("offset", 0, json::k_max_int)));
      f.size = static_cast<std::uint64_t>(BWV_TRY(fr.integer("size", 1, json::k_max_int)));
      f.sha256 = BWV_TRY(sha_field(fr, "sha256"));
      if (f.offset != at) return fr.bad("offset", "fragments must tile the video in order");
      at += f.size;
      v.fragments.push_back(std::move(f));
    }
    if (at != v.size) return r.bad("fragments", "do not cover the video's " + std::to_string(v.size) + " bytes");
  }
  return v;
}

Result<Derivation> parse_derivation(const json::Value& obj, const std::string& subject) {
  json::Reader r(obj, subject, "derived_from.");
  Derivation d;
  d.clip_id = BWV_TRY(r.str("clip_id"));
  if (!text::is_clip_id(d.clip_id) || split_derivative_id(d.clip_id))
    return r.bad("clip_id", "not the id of an original clip");
  d.manifest_sha256 = BWV_TRY(sha_field(r, "manifest_sha256"));
  d.video_sha256 = BWV_TRY(sha_field(r, "video_sha256"));
  d.method = BWV_TRY(r.str("method"));
  if (d.method != "redaction") return r.bad("method", "unknown method (this bwv knows \"redaction\")");
  d.spec_sha256 = BWV_TRY(sha_field(r, "spec_sha256"));
  d.reason = BWV_TRY(r.str("reason"));
  if (d.reason.size() > 4096) return r.bad("reason", "longer than 4096 bytes");
  d.created = BWV_TRY(time_field(r, "created"));
  d.by = BWV_TRY(r.str("by"));
  if (d.by.size() > 256) return r.bad("by", "longer than 256 bytes");
  d.encoder = BWV_TRY(r.str("encoder"));
  if (d.encoder.size() > 1024) return r.bad("encoder", "longer than 1024 bytes");
  d.render = BWV_TRY(r.str("render"));
  if (d.render != "smart" && d.render != "full") return r.bad("render", "must be \"smart\" or \"full\"");
  d.requested = r.has("requested") ? BWV_TRY(r.str("requested")) : d.render;
  if (d.requested != "smart" && d.requested != "full") return r.bad("requested", "must be \"smart\" or \"full\"");
  d.gops = static_cast<std::uint64_t>(BWV_TRY(r.integer("gops", 0, json::k_max_int)));
  d.reencoded_gops = static_cast<std::uint64_t>(BWV_TRY(r.integer("reencoded_gops", 0, json::k_max_int)));
  if (d.reencoded_gops > d.gops) return r.bad("reencoded_gops", "more than gops");
  return d;
}

} // namespace

std::string derivative_id(std::string_view original, unsigned n) {
  return std::string(original) + "-r" + std::to_string(n);
}

std::optional<std::pair<std::string, unsigned>> split_derivative_id(std::string_view id) {
  const auto at = id.rfind("-r");
  if (at == std::string_view::npos || at + 2 >= id.size() || id.size() - at - 2 > 6 || id[at + 2] == '0')
    return std::nullopt;
  unsigned n = 0;
  for (char c : id.substr(at + 2)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  const std::string original(id.substr(0, at));
  // The original's own id has no suffix: its last part is the seq.
  if (!text::is_clip_id(original) || std::count(original.begin(), original.end(), '-') != 2) return std::nullopt;
  return std::pair{original, n};
}

Result<Manifest> parse(std::string_view bytes, const std::string& subject) {
  if (bytes.size() > k_max_bytes)
    return fail(Errc::check_failed, subject, "manifest larger than " + std::to_string(k_max_bytes) + " bytes");
  const json::Value v = BWV_TRY(json::parse(bytes, subject));
  if (!v.is_object()) return fail(Errc::check_failed, subject, "manifest is not a JSON object");
  json::Reader r(v, subject);
  const std::int64_t version = BWV_TRY(r.integer("bwv_manifest", 0, json::k_max_int));
  if (version != k_version)
    return fail(Errc::check_failed, subject,
                "unknown manifest format version " + std::to_string(version) + " (this bwv reads " +
                    std::to_string(k_version) + ")");
  Manifest m;
  m.clip_id = BWV_TRY(r.str("clip_id"));
  if (!text::is_clip_id(m.clip_id)) return r.bad("clip_id", "not a clip id");
  m.device = BWV_TRY(r.str("device"));
  if (!text::is_device_id(m.device)) return r.bad("device", "not a device id ([A-Za-z0-9_]{1,32})");
  m.key_id = BWV_TRY(r.str("key_id"));
  if (!is_key_id(m.key_id)) return r.bad("key_id", "not a key id (16 upper-case hex digits)");
  m.officer = BWV_TRY(r.str("officer"));
  if (m.officer.size() > 128) return r.bad("officer", "longer than 128 bytes");
  m.seq = static_cast<std::uint64_t>(BWV_TRY(r.integer("seq", 1, 999999999999)));
  m.prev_manifest_sha256 = BWV_TRY(r.str_or_null("prev_manifest_sha256"));
  if (m.prev_manifest_sha256 && !text::is_sha256_hex(*m.prev_manifest_sha256))
    return r.bad("prev_manifest_sha256", "not a SHA-256 (64 lower-case hex digits)");
  if ((m.seq == 1) != !m.prev_manifest_sha256)
    return r.bad("prev_manifest_sha256", "must be null exactly when seq is 1");
  m.start = BWV_TRY(time_field(r, "start"));
  m.end = BWV_TRY(time_field(r, "end"));
  if (m.end < m.start) return r.bad("end", "is before start");
  m.pre_event_seconds = static_cast<int>(BWV_TRY(r.integer("pre_event_seconds", 0, 120)));
  m.trigger = BWV_TRY(r.str("trigger"));
  if (!is_word(m.trigger, 32)) return r.bad("trigger", "not a trigger name");
  m.firmware = BWV_TRY(r.str("firmware"));
  if (m.firmware.size() > 128) return r.bad("firmware", "longer than 128 bytes");
  m.stealth = BWV_TRY(r.boolean("stealth"));
  m.recovered = BWV_TRY(r.boolean("recovered"));
  if (r.has("clock_set")) {
    m.clock_known = true;
    if (const auto t = BWV_TRY(r.str_or_null("clock_set"))) {
      const auto parsed = text::parse_time(*t);
      if (!parsed) return r.bad("clock_set", "not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ");
      m.clock_set = *parsed;
    }
  }
  m.video = BWV_TRY(parse_video(*BWV_TRY(r.object("video")), subject));
  if (r.has("derived_from")) {
    m.derived_from = BWV_TRY(parse_derivation(*BWV_TRY(r.object("derived_from")), subject));
    const auto split = split_derivative_id(m.clip_id);
    if (!split || split->first != m.derived_from->clip_id)
      return r.bad("clip_id", "a derivative's id must be its original's id followed by -rN");
    if (m.derived_from->clip_id != text::make_clip_id(m.start, m.device, m.seq))
      return r.bad("derived_from.clip_id", "does not match the start date, device and seq (expected " +
                                               text::make_clip_id(m.start, m.device, m.seq) + ")");
    return m;
  }
  if (m.clip_id != text::make_clip_id(m.start, m.device, m.seq))
    return r.bad("clip_id", "does not match the start date, device and seq (expected " +
                                text::make_clip_id(m.start, m.device, m.seq) + ")");
  return m;
}

std::string trusted_comment(const Manifest& m, std::string_view manifest_sha256) {
  return "bwv-manifest " + m.clip_id + " " + std::string(manifest_sha256);
}

void VideoHasher::update(const unsigned char* data, std::size_t size) {
  m_whole.update(data, size);
  m_size += size;
  while (size > 0) {
    const std::size_t n = std::min<std::uint64_t>(size, m_chunk_size - m_in_chunk);
    m_chunk.update(data, n);
    m_in_chunk += n;
    data += n;
    size -= n;
    if (m_in_chunk == m_chunk_size) {
      m_chunks.push_back(crypto::hex(m_chunk.finish()));
      m_in_chunk = 0;
    }
  }
}

Video VideoHasher::finish() {
  if (m_in_chunk > 0) m_chunks.push_back(crypto::hex(m_chunk.finish()));
  Video v;
  v.size = m_size;
  v.sha256 = crypto::hex(m_whole.finish());
  v.chunk_size = m_chunk_size;
  v.chunks = std::move(m_chunks);
  m_size = m_in_chunk = 0;
  m_chunks.clear();
  return v;
}

std::string VideoHasher::save() const {
  const auto hex = [](const std::string& b) {
    return text::to_hex({reinterpret_cast<const unsigned char*>(b.data()), b.size()});
  };
  return std::to_string(m_size) + " " + std::to_string(m_in_chunk) + " " + hex(m_whole.save()) + " " +
         hex(m_chunk.save());
}

std::optional<VideoHasher> VideoHasher::restore(std::string_view saved, std::vector<std::string> chunks,
                                                std::uint64_t chunk_size) {
  char whole_hex[257] = {}, chunk_hex[257] = {};
  unsigned long long size = 0, in_chunk = 0;
  const std::string line(saved);
  if (chunk_size == 0 ||
      std::sscanf(line.c_str(), "%llu %llu %256s %256s", &size, &in_chunk, whole_hex, chunk_hex) != 4)
    return std::nullopt;
  const auto whole = text::from_hex(whole_hex, std::strlen(whole_hex) / 2, "hash state");
  const auto chunk = text::from_hex(chunk_hex, std::strlen(chunk_hex) / 2, "hash state");
  VideoHasher h(chunk_size);
  if (!whole || !chunk || in_chunk >= chunk_size || size != chunks.size() * chunk_size + in_chunk ||
      !h.m_whole.restore({reinterpret_cast<const char*>(whole->data()), whole->size()}) ||
      !h.m_chunk.restore({reinterpret_cast<const char*>(chunk->data()), chunk->size()}))
    return std::nullopt;
  h.m_size = size;
  h.m_in_chunk = in_chunk;
  h.m_chunks = std::move(chunks);
  return h;
}

std::vector<std::string> compare_video(const Video& expected, const Video& actual) {
  std::vector<std::string> problems;
  if (expected.size != actual.size)
    problems.push_back("size is " + std::to_string(actual.size) + " bytes, the manifest says " +
                       std::to_string(expected.size));
  const std::size_t n = std::min(expected.chunks.size(), actual.chunks.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (expected.chunks[i] == actual.chunks[i]) continue;
    const std::uint64_t from = i * expected.chunk_size;
    const std::uint64_t to = std::min(from + expected.chunk_size, expected.size) - 1;
    problems.push_back("bytes " + std::to_string(from) + "-" + std::to_string(to) +
                       " do not match the manifest (chunk " + std::to_string(i) + ")");
  }
  if (problems.empty() && expected.sha256 != actual.sha256)
    problems.push_back("SHA-256 does not match the manifest");
  return problems;
}

} // namespace bwv::manifest
