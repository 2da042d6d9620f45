// Receipts (bwv-camera(5)) as the camera reads them back before deleting a clip: Receipt::parse
// must not crash, and a receipt it accepts must write back to one that parses to the same fields.
#include "camera/storage.hpp"
#include "core/text.hpp"
#include "fuzz.hpp"

using namespace bwv;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto r = camera::Receipt::parse(fuzz::text(data, size), "x.receipt");
  fuzz::say("receipt", r);
  if (!r) return 0;
  BWV_FUZZ_ASSERT(text::is_clip_id(r->clip_id));
  BWV_FUZZ_ASSERT(text::is_sha256_hex(r->manifest_sha256) && text::is_sha256_hex(r->video_sha256));
  const std::string out = r->write();
  const auto again = camera::Receipt::parse(out, "rewritten");
  BWV_FUZZ_ASSERT(again);
  BWV_FUZZ_ASSERT(again->clip_id == r->clip_id && again->manifest_sha256 == r->manifest_sha256 &&
                  again->video_sha256 == r->video_sha256 && again->store_key_id == r->store_key_id &&
                  again->time == r->time);
  BWV_FUZZ_ASSERT(again->write() == out);
  return 0;
}
