// Redaction specs (bwv-redact-spec(5)), written by hand or by other tools: redact::parse, and the
// time and geometry questions bwv-redact then asks of what it accepted.
//
// Invariants: the limits and orderings parse promises hold; check_against accepts a clip just
// long and large enough for everything in the spec; a box is where its keyframes put it at
// their instants, between its neighbouring keyframes in between, and absent outside its span;
// clipped() stays inside the frame; touched_spans() is sorted, merged, and covers every box and
// frame range; frame ranges cover exactly their [from_ms, to_ms).
#include "fuzz.hpp"
#include "redact/spec.hpp"

#include <algorithm>
#include <set>

using namespace bwv;
using redact::Rect;

namespace {

constexpr std::size_t k_checked_items = 64; // per kind: keeps each run quick on large specs

bool between(int v, int a, int b) { return v >= std::min(a, b) && v <= std::max(a, b); }

bool covered(const std::vector<std::pair<std::int64_t, std::int64_t>>& spans, std::int64_t from, std::int64_t to) {
  return std::any_of(spans.begin(), spans.end(), [&](const auto& s) { return s.first <= from && to <= s.second; });
}

void check_box(const redact::Box& box, int width, int height) {
  const auto& k = box.keyframes;
  BWV_FUZZ_ASSERT(!k.empty());
  BWV_FUZZ_ASSERT(!box_at(box, k.front().t_ms - 1));
  BWV_FUZZ_ASSERT(!box_at(box, k.back().t_ms + 1));
  for (std::size_t j = 0; j < std::min(k.size(), k_checked_items); ++j) {
    if (j > 0) BWV_FUZZ_ASSERT(k[j].t_ms > k[j - 1].t_ms);
    const auto at = box_at(box, k[j].t_ms);
    BWV_FUZZ_ASSERT(at && *at == k[j].rect);
    const auto c = redact::clipped(k[j].rect, width, height);
    if (c) {
      BWV_FUZZ_ASSERT(c->x >= 0 && c->y >= 0 && c->w > 0 && c->h > 0);
      BWV_FUZZ_ASSERT(std::int64_t{c->x} + c->w <= width && std::int64_t{c->y} + c->h <= height);
    }
    if (j + 1 == k.size()) continue;
    const auto& a = k[j].rect;
    const auto& b = k[j + 1].rect;
    for (const std::int64_t t : {k[j].t_ms + 1, (k[j].t_ms + k[j + 1].t_ms) / 2, k[j + 1].t_ms - 1}) {
      const auto r = box_at(box, t);
      BWV_FUZZ_ASSERT(r);
      BWV_FUZZ_ASSERT(between(r->x, a.x, b.x) && between(r->y, a.y, b.y) && between(r->w, a.w, b.w) &&
                      between(r->h, a.h, b.h));
    }
    // A frame shown from just before a keyframe until just after it gets the box.
    BWV_FUZZ_ASSERT(box_for_frame(box, k[j + 1].t_ms - 1, k[j + 1].t_ms + 1));
  }
  // A frame starting before the first keyframe and ending after it shows the box as there.
  const auto first = box_for_frame(box, k.front().t_ms - 1, k.front().t_ms + 1);
  BWV_FUZZ_ASSERT(first && *first == k.front().rect);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto spec = redact::parse(fuzz::text(data, size), "spec.json");
  fuzz::say("spec", spec);
  if (!spec) return 0;
  BWV_FUZZ_ASSERT(spec->boxes.size() + spec->frames.size() + spec->audio.size() <= redact::k_max_items);

  // The smallest clip everything fits in: every time before its end, every box starting inside.
  std::int64_t duration = 1;
  int width = 1, height = 1;
  std::set<std::string> labels;
  std::size_t keyframes = 0;
  for (const auto& b : spec->boxes) {
    BWV_FUZZ_ASSERT(labels.insert(b.label).second);
    keyframes += b.keyframes.size();
    for (const auto& k : b.keyframes) {
      duration = std::max(duration, k.t_ms + 1);
      width = std::max(width, k.rect.x + 1);
      height = std::max(height, k.rect.y + 1);
    }
  }
  BWV_FUZZ_ASSERT(keyframes <= redact::k_max_keyframes);
  for (const auto& r : spec->frames) {
    BWV_FUZZ_ASSERT(labels.insert(r.label).second && r.from_ms < r.to_ms);
    duration = std::max(duration, r.to_ms);
  }
  for (const auto& r : spec->audio) {
    BWV_FUZZ_ASSERT(labels.insert(r.label).second && r.from_ms < r.to_ms);
    duration = std::max(duration, r.to_ms);
  }
  const auto fits = redact::check_against(*spec, width, height, duration, "clip");
  if (!fits) std::fprintf(stderr, "check_against: %s\n", fits.error().message.c_str());
  BWV_FUZZ_ASSERT(fits);
  if (duration > 1 && !spec->boxes.empty()) BWV_FUZZ_ASSERT(!redact::check_against(*spec, width, height, 0, "clip"));

  for (std::size_t i = 0; i < std::min(spec->boxes.size(), k_checked_items); ++i)
    check_box(spec->boxes[i], width, height);

  const auto spans = redact::touched_spans(*spec);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    BWV_FUZZ_ASSERT(spans[i].first < spans[i].second);
    if (i > 0) BWV_FUZZ_ASSERT(spans[i - 1].second < spans[i].first);
  }
  for (std::size_t i = 0; i < std::min(spec->boxes.size(), k_checked_items); ++i) {
    const auto& k = spec->boxes[i].keyframes;
    BWV_FUZZ_ASSERT(covered(spans, k.front().t_ms, k.back().t_ms + 1));
  }
  for (std::size_t i = 0; i < std::min(spec->frames.size(), k_checked_items); ++i) {
    const auto& r = spec->frames[i];
    BWV_FUZZ_ASSERT(covered(spans, r.from_ms, r.to_ms));
    const redact::FrameRange* which = nullptr;
    BWV_FUZZ_ASSERT(redact::frame_redacted(*spec, r.from_ms, &which) && which);
    BWV_FUZZ_ASSERT(which->from_ms <= r.from_ms && r.from_ms < which->to_ms);
    BWV_FUZZ_ASSERT(redact::frame_redacted(*spec, r.to_ms - 1));
    BWV_FUZZ_ASSERT(redact::range_for_frame(*spec, r.from_ms - 1, r.from_ms + 1));
  }
  return 0;
}
