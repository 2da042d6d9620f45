// A store's retention policy (policy.json, edited by hand: bwv-store(5)) as bwv-retain and
// bwv-flag load it, with the other per-store JSON they read beside it: a clip's flags.json and
// the tombstone (deleted.json) a deletion leaves. Every input is loaded as a policy; as flags too
// when it mentions "bwv_flags", and as a tombstone when it mentions "bwv_tombstone".
//
// Invariants: a policy loaded has valid, unique category names with periods in range, and an
// "uncategorised" period; it writes back to a file that loads to the same categories in the same
// order. Flags loaded have valid times. A tombstone loaded writes back to one that loads the same.
// retention_of() on the loaded policy and flags never picks an expiry before the unflagged floor.
#include "core/text.hpp"
#include "fuzz.hpp"
#include "store/policy.hpp"

#include <set>

using namespace bwv;

namespace {

constexpr std::string_view k_clip = "20261124-CAM01-000004";

const store::Store& fixture_store() {
  static const store::Store s = [] {
    auto st = store::Store::init(fuzz::scratch_dir() / "store", "fuzz");
    if (!st) fuzz::setup_failed("store: " + st.error().message);
    return *st;
  }();
  return s;
}

bool same(const store::Policy& a, const store::Policy& b) {
  if (a.categories.size() != b.categories.size()) return false;
  for (std::size_t i = 0; i < a.categories.size(); ++i)
    if (a.categories[i].name != b.categories[i].name || a.categories[i].days != b.categories[i].days) return false;
  return true;
}

void check_policy(const store::Store& st, const store::Policy& p) {
  std::set<std::string> names;
  for (const auto& c : p.categories) {
    BWV_FUZZ_ASSERT(store::is_category_name(c.name) && names.insert(c.name).second);
    BWV_FUZZ_ASSERT(!c.days || (*c.days >= 1 && *c.days <= 100000));
  }
  const auto* u = p.find(store::k_uncategorised);
  BWV_FUZZ_ASSERT(u && u->days);
  fuzz::put_file(st.root() / "policy.json", p.write());
  const auto again = store::Policy::load(st);
  BWV_FUZZ_ASSERT(again && same(p, *again));
}

void check_flags(const store::Store& st, const store::Policy& p, std::string_view in) {
  const auto dir = st.clip_dir(std::string(k_clip));
  BWV_FUZZ_ASSERT(dir);
  std::filesystem::create_directories(*dir);
  fuzz::put_file(*dir / "flags.json", in);
  const auto flags = store::load_flags(st, std::string(k_clip));
  fuzz::say("flags", flags);
  if (!flags) return;
  for (const auto* marks : {&flags->categories, &flags->holds})
    for (const auto& [name, mark] : *marks)
      BWV_FUZZ_ASSERT(text::parse_time(text::format_time(mark.at)));
  manifest::Manifest m;
  m.start = 1795510800; // 2026-11-24T09:00:00Z
  const auto r = store::retention_of(p, m, *flags);
  BWV_FUZZ_ASSERT(r.holds.size() == flags->holds.size());
  const auto* u = p.find(store::k_uncategorised);
  if (r.expires) BWV_FUZZ_ASSERT(*r.expires >= m.start + std::time_t(*u->days) * 86400);
}

void check_tombstone(std::string_view in) {
  store::StoredClip clip;
  clip.id = std::string(k_clip);
  clip.dir = fuzz::scratch_dir() / "tombstone";
  std::filesystem::create_directories(clip.dir);
  fuzz::put_file(clip.dir / "deleted.json", in);
  const auto t = store::Tombstone::load(clip);
  fuzz::say("tombstone", t);
  if (!t || !*t) return;
  const std::string out = (*t)->write(clip.id);
  fuzz::put_file(clip.dir / "deleted.json", out);
  const auto again = store::Tombstone::load(clip);
  BWV_FUZZ_ASSERT(again && *again);
  const auto& a = **t;
  const auto& b = **again;
  BWV_FUZZ_ASSERT(a.deleted == b.deleted && a.expired == b.expired && a.rule == b.rule && a.size == b.size &&
                  a.video_sha256 == b.video_sha256 && a.manifest_sha256 == b.manifest_sha256);
  BWV_FUZZ_ASSERT(b.write(clip.id) == out);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  const store::Store& st = fixture_store();

  fuzz::put_file(st.root() / "policy.json", in);
  const auto loaded = store::Policy::load(st);
  fuzz::say("policy", loaded);
  if (loaded) check_policy(st, *loaded);
  const store::Policy policy = loaded ? *loaded : store::Policy::defaults();

  if (in.find("bwv_flags") != std::string_view::npos) check_flags(st, policy, in);
  if (in.find("bwv_tombstone") != std::string_view::npos) check_tombstone(in);
  return 0;
}
