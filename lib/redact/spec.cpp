#include "redact/spec.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <initializer_list>
#include <map>

namespace bwv::redact {

std::string_view name(Method m) {
  switch (m) {
  case Method::fill:
    return "fill";
  case Method::pixelate:
    return "pixelate";
  case Method::blur:
    return "blur";
  }
  return "?";
}

std::string_view name(AudioMethod m) {
  switch (m) {
  case AudioMethod::mute:
    return "mute";
  case AudioMethod::bleep:
    return "bleep";
  }
  return "?";
}

namespace {

std::string index(const std::string& prefix, const char* key, std::size_t i) {
  return prefix + key + "[" + std::to_string(i) + "]";
}

// Unknown keys are refused rather than ignored: a misspelt optional field ("colour", "clipid")
// would otherwise leave the default in force without anyone noticing.
Result<void> known_keys(const json::Value& obj, const json::Reader& r,
                        std::initializer_list<std::string_view> keys) {
  for (const auto& [key, value] : obj.items())
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return r.bad(text::printable(key, 64).c_str(), "unknown field");
  return {};
}

// The JSON reader has checked UTF-8; this refuses C0 and C1 controls and DEL, which would let a
// label or reason rewrite the line it is shown on.
bool is_printable(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) return false;
  }
  return true;
}

Result<std::string> text_field(const json::Reader& r, const char* key) {
  std::string s = BWV_TRY(r.str(key));
  if (s.empty()) return r.bad(key, "empty");
  if (s.size() > k_max_text)
    return r.bad(key, "longer than " + std::to_string(k_max_text) + " bytes");
  if (!is_printable(s)) return r.bad(key, "holds a control character");
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Color> color_field(const json::Reader& r) {
  const std::string s = BWV_TRY(r.str("color"));
  int v[6] = {};
  bool ok = s.size() == 7 && s[0] == '#';
  for (std::size_t i = 0; ok && i < 6; ++i)
    ok = (v[i] = hex_digit(s[i + 1])) >= 0;
  if (!ok) return r.bad("color", "not a colour of the form #RRGGBB");
  return Color{static_cast<std::uint8_t>(v[0] * 16 + v[1]),
               static_cast<std::uint8_t>(v[2] * 16 + v[3]),
               static_cast<std::uint8_t>(v[4] * 16 + v[5])};
}

// How a box or frame range hides the picture, with the parameters of that method only.
Result<Look> look_fields(const json::Reader& r) {
  Look look;
  if (r.has("method")) {
    const std::string m = BWV_TRY(r.str("method"));
    if (m == "fill")
      look.method = Method::fill;
    else if (m == "pixelate")
      look.method = Method::pixelate;
    else if (m == "blur")
      look.method = Method::blur;
    else
      return r.bad("method", "\"" + text::printable(m, 32) + "\" is not fill, pixelate or blur");
  }
  // A parameter of another method means the writer expected a different result: refuse it.
  const std::pair<const char*, Method> params[] = {
      {"color", Method::fill}, {"block", Method::pixelate}, {"radius", Method::blur}};
  for (const auto& [key, method] : params)
    if (r.has(key) && look.method != method)
      return r.bad(key, "only for method " + std::string(name(method)) + " (this one is " +
                            std::string(name(look.method)) + ")");
  if (r.has("color")) look.color = BWV_TRY(color_field(r));
  if (r.has("block"))
    look.block = static_cast<int>(BWV_TRY(r.integer("block", k_min_block, k_max_block)));
  if (r.has("radius"))
    look.radius = static_cast<int>(BWV_TRY(r.integer("radius", k_min_radius, k_max_radius)));
  return look;
}

// The state of a parse that spans the arrays: labels seen, and the totals the limits bound.
struct Totals {
  std::map<std::string, std::string, std::less<>> labels; // label -> the field that has it
  std::size_t items = 0;
  std::size_t keyframes = 0;
};

Result<void> unique_label(const json::Reader& r, const std::string& label, const std::string& where,
                          Totals& totals) {
  const auto [it, inserted] = totals.labels.emplace(label, where);
  if (!inserted)
    return r.bad("label",
                 "\"" + text::printable(label, 64) + "\" is also the label of " + it->second);
  return {};
}

// The array under key (empty when absent), counted against the limit on boxes and ranges.
Result<const json::Value*> items_field(const json::Reader& r, const char* key, Totals& totals) {
  static const json::Value empty = json::Value::array();
  if (!r.has(key)) return &empty;
  const json::Value* a = BWV_TRY(r.array(key));
  totals.items += a->size();
  if (totals.items > k_max_items)
    return r.bad(key, "more than " + std::to_string(k_max_items) + " boxes and ranges in all");
  return a;
}

Result<Box> parse_box(const json::Value& obj, const std::string& subject, const std::string& where,
                      Totals& totals) {
  json::Reader r(obj, subject, where + ".");
  BWV_CHECK(
      known_keys(obj, r, {"label", "reason", "method", "color", "block", "radius", "keyframes"}));
  Box box;
  box.label = BWV_TRY(text_field(r, "label"));
  BWV_CHECK(unique_label(r, box.label, where, totals));
  box.reason = BWV_TRY(text_field(r, "reason"));
  const Look look = BWV_TRY(look_fields(r));
  box.look = look;
  const json::Value* kfs = BWV_TRY(r.array("keyframes"));
  if (kfs->empty()) return r.bad("keyframes", "needs at least one keyframe");
  totals.keyframes += kfs->size();
  if (totals.keyframes > k_max_keyframes)
    return r.bad("keyframes", "more than " + std::to_string(k_max_keyframes) + " keyframes in all");
  for (std::size_t j = 0; j < kfs->size(); ++j) {
    const json::Value& o = (*kfs)[j];
    const std::string at = index(where + ".", "keyframes", j);
    if (!o.is_object())
      return fail(Errc::check_failed, subject, "field \"" + at + "\": not an object");
    json::Reader kr(o, subject, at + ".");
    BWV_CHECK(known_keys(o, kr, {"t_ms", "x", "y", "w", "h"}));
    Keyframe k;
    k.t_ms = BWV_TRY(kr.integer("t_ms", 0, k_max_ms));
    if (j > 0 && k.t_ms <= box.keyframes.back().t_ms)
      return kr.bad("t_ms", "must be greater than the keyframe before (" +
                                std::to_string(box.keyframes.back().t_ms) + ")");
    k.rect.x = static_cast<int>(BWV_TRY(kr.integer("x", 0, k_max_coord)));
    k.rect.y = static_cast<int>(BWV_TRY(kr.integer("y", 0, k_max_coord)));
    k.rect.w = static_cast<int>(BWV_TRY(kr.integer("w", 1, k_max_size)));
    k.rect.h = static_cast<int>(BWV_TRY(kr.integer("h", 1, k_max_size)));
    box.keyframes.push_back(k);
  }
  return box;
}

// The fields every range has; the method is the caller's, as it differs between video and audio.
template <class R>
Result<void> range_fields(const json::Reader& r, const std::string& where, Totals& totals,
                          R& range) {
  range.from_ms = BWV_TRY(r.integer("from_ms", 0, k_max_ms));
  range.to_ms = BWV_TRY(r.integer("to_ms", 0, k_max_ms));
  if (range.to_ms <= range.from_ms)
    return r.bad("to_ms", "must be greater than from_ms (" + std::to_string(range.from_ms) + ")");
  range.label = BWV_TRY(text_field(r, "label"));
  BWV_CHECK(unique_label(r, range.label, where, totals));
  range.reason = BWV_TRY(text_field(r, "reason"));
  return {};
}

Result<FrameRange> parse_frame_range(const json::Value& obj, const std::string& subject,
                                     const std::string& where, Totals& totals) {
  json::Reader r(obj, subject, where + ".");
  BWV_CHECK(known_keys(
      obj, r, {"from_ms", "to_ms", "label", "reason", "method", "color", "block", "radius"}));
  FrameRange range;
  BWV_CHECK(range_fields(r, where, totals, range));
  const Look look = BWV_TRY(look_fields(r));
  range.look = look;
  return range;
}

Result<AudioRange> parse_audio_range(const json::Value& obj, const std::string& subject,
                                     const std::string& where, Totals& totals) {
  json::Reader r(obj, subject, where + ".");
  BWV_CHECK(known_keys(obj, r, {"from_ms", "to_ms", "label", "reason", "method"}));
  AudioRange range;
  BWV_CHECK(range_fields(r, where, totals, range));
  if (r.has("method")) {
    const std::string m = BWV_TRY(r.str("method"));
    if (m == "mute")
      range.method = AudioMethod::mute;
    else if (m == "bleep")
      range.method = AudioMethod::bleep;
    else
      return r.bad("method", "\"" + text::printable(m, 32) + "\" is not mute or bleep");
  }
  return range;
}

// Each element of an array of objects, parsed by f with its field name ("boxes[3]").
template <class T, class F>
Result<std::vector<T>> parse_items(const json::Value& array, const char* key,
                                   const std::string& subject, F&& f) {
  std::vector<T> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string where = index("", key, i);
    if (!array[i].is_object())
      return fail(Errc::check_failed, subject, "field \"" + where + "\": not an object");
    out.push_back(BWV_TRY(f(array[i], where)));
  }
  return out;
}

} // namespace

Result<Spec> parse(std::string_view bytes, const std::string& subject) {
  if (bytes.size() > k_max_bytes)
    return fail(Errc::check_failed, subject,
                "redaction spec larger than " + std::to_string(k_max_bytes) + " bytes");
  const json::Value v = BWV_TRY(json::parse(bytes, subject));
  if (!v.is_object())
    return fail(Errc::check_failed, subject, "redaction spec is not a JSON object");
  json::Reader r(v, subject);
  const std::int64_t version = BWV_TRY(r.integer("bwv_redaction", 0, json::k_max_int));
  if (version != k_version)
    return fail(Errc::check_failed, subject,
                "unknown redaction spec format version " + std::to_string(version) +
                    " (this bwv reads " + std::to_string(k_version) + ")");
  BWV_CHECK(known_keys(v, r, {"bwv_redaction", "clip_id", "boxes", "frames", "audio"}));
  Spec spec;
  if (r.has("clip_id")) {
    spec.clip_id = BWV_TRY(r.str("clip_id"));
    if (!text::is_clip_id(*spec.clip_id)) return r.bad("clip_id", "not a clip id");
  }
  Totals totals;
  const json::Value* boxes = BWV_TRY(items_field(r, "boxes", totals));
  const json::Value* frames = BWV_TRY(items_field(r, "frames", totals));
  const json::Value* audio = BWV_TRY(items_field(r, "audio", totals));
  spec.boxes = BWV_TRY(
      parse_items<Box>(*boxes, "boxes", subject, [&](const json::Value& o, const std::string& w) {
        return parse_box(o, subject, w, totals);
      }));
  spec.frames = BWV_TRY(parse_items<FrameRange>(*frames, "frames", subject,
                                                [&](const json::Value& o, const std::string& w) {
                                                  return parse_frame_range(o, subject, w, totals);
                                                }));
  spec.audio = BWV_TRY(parse_items<AudioRange>(*audio, "audio", subject,
                                               [&](const json::Value& o, const std::string& w) {
                                                 return parse_audio_range(o, subject, w, totals);
                                               }));
  return spec;
}

Result<void> check_against(const Spec& spec, int width, int height, std::int64_t duration_ms,
                           const std::string& subject) {
  const auto bad = [&](const std::string& field, const std::string& what) {
    return fail(Errc::check_failed, subject, "field \"" + field + "\": " + what);
  };
  const std::string end = " (" + std::to_string(duration_ms) + " ms)";
  for (std::size_t i = 0; i < spec.boxes.size(); ++i) {
    const auto& kfs = spec.boxes[i].keyframes;
    for (std::size_t j = 0; j < kfs.size(); ++j) {
      const std::string at = index(index("", "boxes", i) + ".", "keyframes", j) + ".";
      const Keyframe& k = kfs[j];
      if (k.t_ms >= duration_ms)
        return bad(at + "t_ms",
                   std::to_string(k.t_ms) + " is not before the end of the video" + end);
      if (k.rect.x >= width)
        return bad(at + "x", std::to_string(k.rect.x) + " puts the box outside the frame (" +
                                 std::to_string(width) + " pixels wide)");
      if (k.rect.y >= height)
        return bad(at + "y", std::to_string(k.rect.y) + " puts the box outside the frame (" +
                                 std::to_string(height) + " pixels high)");
    }
  }
  const auto check_range = [&](const std::string& where, std::int64_t from,
                               std::int64_t to) -> Result<void> {
    if (from >= duration_ms)
      return bad(where + ".from_ms",
                 std::to_string(from) + " is not before the end of the video" + end);
    if (to > duration_ms)
      return bad(where + ".to_ms", std::to_string(to) + " is after the end of the video" + end);
    return {};
  };
  for (std::size_t i = 0; i < spec.frames.size(); ++i)
    BWV_CHECK(check_range(index("", "frames", i), spec.frames[i].from_ms, spec.frames[i].to_ms));
  for (std::size_t i = 0; i < spec.audio.size(); ++i)
    BWV_CHECK(check_range(index("", "audio", i), spec.audio[i].from_ms, spec.audio[i].to_ms));
  return {};
}

std::optional<Rect> clipped(const Rect& r, int width, int height) {
  const std::int64_t x0 = std::max(r.x, 0), y0 = std::max(r.y, 0);
  const std::int64_t x1 = std::min<std::int64_t>(std::int64_t{r.x} + r.w, width);
  const std::int64_t y1 = std::min<std::int64_t>(std::int64_t{r.y} + r.h, height);
  if (x1 <= x0 || y1 <= y0) return std::nullopt;
  return Rect{static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1 - x0),
              static_cast<int>(y1 - y0)};
}

std::optional<Rect> box_at(const Box& box, std::int64_t t_ms) {
  const auto& k = box.keyframes;
  if (k.empty() || t_ms < k.front().t_ms || t_ms > k.back().t_ms) return std::nullopt;
  // The first keyframe after t_ms; the one before it is at or before t_ms.
  const auto next = std::upper_bound(k.begin(), k.end(), t_ms,
                                     [](std::int64_t t, const Keyframe& f) { return t < f.t_ms; });
  const Keyframe& a = *(next - 1);
  if (next == k.end() || a.t_ms == t_ms) return a.rect;
  const Keyframe& b = *next;
  const std::int64_t span = b.t_ms - a.t_ms, done = t_ms - a.t_ms;
  // floor(u + (v - u) * done / span + 1/2) in integers; parse()'s bounds keep it within 64 bits.
  const auto lerp = [&](int u, int v) {
    return static_cast<int>(
        ((std::int64_t{u} * (span - done) + std::int64_t{v} * done) * 2 + span) / (2 * span));
  };
  return Rect{lerp(a.rect.x, b.rect.x), lerp(a.rect.y, b.rect.y), lerp(a.rect.w, b.rect.w),
              lerp(a.rect.h, b.rect.h)};
}

std::optional<Rect> box_for_frame(const Box& box, std::int64_t frame_ms, std::int64_t next_ms) {
  if (box.keyframes.empty()) return std::nullopt;
  next_ms = std::max(next_ms, frame_ms + 1);
  const std::int64_t first = box.keyframes.front().t_ms, last = box.keyframes.back().t_ms;
  if (frame_ms > last || next_ms <= first) return std::nullopt;
  return box_at(box, std::max(frame_ms, first));
}

bool frame_redacted(const Spec& spec, std::int64_t t_ms, const FrameRange** which) {
  const FrameRange* found = range_for_frame(spec, t_ms, t_ms + 1);
  if (which) *which = found;
  return found != nullptr;
}

const FrameRange* range_for_frame(const Spec& spec, std::int64_t frame_ms, std::int64_t next_ms) {
  next_ms = std::max(next_ms, frame_ms + 1);
  for (const auto& r : spec.frames)
    if (r.from_ms < next_ms && r.to_ms > frame_ms) return &r;
  return nullptr;
}

std::vector<std::pair<std::int64_t, std::int64_t>> touched_spans(const Spec& spec) {
  std::vector<std::pair<std::int64_t, std::int64_t>> spans;
  for (const auto& b : spec.boxes)
    if (!b.keyframes.empty())
      spans.emplace_back(b.keyframes.front().t_ms, b.keyframes.back().t_ms + 1);
  for (const auto& r : spec.frames)
    spans.emplace_back(r.from_ms, r.to_ms);
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<std::int64_t, std::int64_t>> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, s.second);
    else
      merged.push_back(s);
  }
  return merged;
}

} // namespace bwv::redact
