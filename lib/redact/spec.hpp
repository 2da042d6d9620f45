// The redaction spec (bwv-redact-spec(5)): what bwv-redact hides in a derivative clip, parsed
// strictly so that a typo cannot silently leave something visible, and the time and geometry
// questions the redactor asks of it. Times are integer milliseconds from the start of the video.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bwv::redact {

inline constexpr int k_version = 1;
inline constexpr std::uint64_t k_max_bytes = 16 << 20;
inline constexpr std::size_t k_max_items = 10000;      // boxes, frame and audio ranges together
inline constexpr std::size_t k_max_keyframes = 100000; // over all boxes
inline constexpr std::size_t k_max_text = 200;         // label and reason, bytes
// Bounds that keep interpolation's products within 64 bits (10^12 ms is about 31 years).
inline constexpr std::int64_t k_max_ms = 1000000000000;
inline constexpr int k_max_coord = 65535;
inline constexpr int k_max_size = 65536;

inline constexpr int k_default_block = 16, k_min_block = 8, k_max_block = 256;
inline constexpr int k_default_radius = 12, k_min_radius = 4, k_max_radius = 128;

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
  bool operator==(const Rect&) const = default;
};

enum class Method { fill, pixelate, blur };
enum class AudioMethod { mute, bleep };

std::string_view name(Method m);
std::string_view name(AudioMethod m);

struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

// How a region is hidden. Only the parameters of its method are meaningful; the others keep
// their defaults.
struct Look {
  Method method = Method::fill;
  Color color;
  int block = k_default_block;
  int radius = k_default_radius;
  bool operator==(const Look&) const = default;
};

struct Keyframe {
  std::int64_t t_ms = 0;
  Rect rect;
};

// A region followed through the clip.
struct Box {
  std::string label;
  std::string reason;
  Look look;
  std::vector<Keyframe> keyframes; // at least one, t_ms strictly increasing
};

// Whole frames shown during [from_ms, to_ms).
struct FrameRange {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::string label;
  std::string reason;
  Look look;
};

// Sound during [from_ms, to_ms).
struct AudioRange {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::string label;
  std::string reason;
  AudioMethod method = AudioMethod::mute;
};

struct Spec {
  std::optional<std::string> clip_id; // when set, the only clip the spec may be applied to
  std::vector<Box> boxes;
  std::vector<FrameRange> frames;
  std::vector<AudioRange> audio;
};

// Every rule of bwv-redact-spec(5) that needs no clip; errors name the field.
Result<Spec> parse(std::string_view bytes, const std::string& subject);

// The rules that need the clip: every keyframe and range within the video's duration (keyframes
// and from_ms before it, to_ms at most it), and no keyframe rect entirely outside the frame
// (rects partly outside are allowed and clipped, see clipped()).
Result<void> check_against(const Spec& spec, int width, int height, std::int64_t duration_ms,
                           const std::string& subject);

// The part of r inside a width x height frame; nullopt when none of it is.
std::optional<Rect> clipped(const Rect& r, int width, int height);

// The box at an instant: x, y, w, h interpolated linearly between the keyframes around t_ms and
// rounded to the nearest integer (halves up); nullopt outside the span from the first keyframe to
// the last inclusive, so a box with one keyframe is there at that instant only.
std::optional<Rect> box_at(const Box& box, std::int64_t t_ms);

// The box on the frame shown during [frame_ms, next_ms): present when its span meets that
// interval, as it is at frame_ms, or at its first keyframe when it starts during the frame: the
// one frame showing at a single keyframe's instant so gets that box.
std::optional<Rect> box_for_frame(const Box& box, std::int64_t frame_ms, std::int64_t next_ms);

// Whether a frame range covers the instant t_ms; which (if not null) gets the first one that does.
bool frame_redacted(const Spec& spec, std::int64_t t_ms, const FrameRange** which = nullptr);

// The first frame range that meets the frame shown during [frame_ms, next_ms), or null.
const FrameRange* range_for_frame(const Spec& spec, std::int64_t frame_ms, std::int64_t next_ms);

// The times any video redaction touches as half-open [from, to) spans, sorted, with overlapping and
// adjacent spans merged; a box's span is [first t_ms, last t_ms + 1). A GOP shown during [a, b)
// must be re-encoded when it meets a span; the others can be copied as they are.
std::vector<std::pair<std::int64_t, std::int64_t>> touched_spans(const Spec& spec);

} // namespace bwv::redact
