// Clip manifests (bwv-manifest(5)), as a camera or a bag presents them: manifest::parse must
// refuse or accept without crashing, and what it accepts must write back to bytes that parse to
// the same manifest and write again to the same bytes.
#include "fuzz.hpp"
#include "manifest/manifest.hpp"

using namespace bwv;

namespace {

bool same_video(const manifest::Video& a, const manifest::Video& b) {
  return a.file == b.file && a.media_type == b.media_type && a.size == b.size && a.sha256 == b.sha256 &&
         a.chunk_size == b.chunk_size && a.chunks == b.chunks && a.fragments == b.fragments;
}

bool same(const manifest::Manifest& a, const manifest::Manifest& b) {
  return a.clip_id == b.clip_id && a.device == b.device && a.key_id == b.key_id && a.officer == b.officer &&
         a.seq == b.seq && a.prev_manifest_sha256 == b.prev_manifest_sha256 && a.start == b.start && a.end == b.end &&
         a.pre_event_seconds == b.pre_event_seconds && a.trigger == b.trigger && a.firmware == b.firmware &&
         a.stealth == b.stealth && a.recovered == b.recovered && a.clock_known == b.clock_known &&
         a.clock_set == b.clock_set && same_video(a.video, b.video) && a.derived_from == b.derived_from;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto m = manifest::parse(fuzz::text(data, size), "manifest.json");
  fuzz::say("manifest", m);
  if (!m) {
    BWV_FUZZ_ASSERT(!m.error().message.empty());
    return 0;
  }
  const std::string out = manifest::write(*m);
  const auto again = manifest::parse(out, "rewritten");
  if (!again) std::fprintf(stderr, "rewritten manifest refused: %s\n", again.error().message.c_str());
  BWV_FUZZ_ASSERT(again);
  BWV_FUZZ_ASSERT(same(*m, *again));
  BWV_FUZZ_ASSERT(manifest::write(*again) == out);

  // A derivative's id splits into its original's and a number that make it again.
  if (const auto split = manifest::split_derivative_id(m->clip_id))
    BWV_FUZZ_ASSERT(manifest::derivative_id(split->first, split->second) == m->clip_id);
  BWV_FUZZ_ASSERT(m->derived_from.has_value() == manifest::split_derivative_id(m->clip_id).has_value());
  BWV_FUZZ_ASSERT(manifest::compare_video(m->video, m->video).empty());
  return 0;
}
