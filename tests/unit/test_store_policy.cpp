#include "store/policy.hpp"

#include "core/json.hpp"
#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::names;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("store::policy");

namespace {

constexpr std::time_t k_start = 1795514400; // 2026-11-24T10:00:00Z
constexpr std::time_t k_day = 86400;
const std::string k_id = "20261124-CAM0042-000001";

store::Store init(const fs::Path& dir) {
  auto s = store::Store::init(dir, "Example Police");
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

store::Policy load_ok(const store::Store& s) {
  auto p = store::Policy::load(s);
  REQUIRE_MESSAGE(p, why(p));
  return std::move(*p);
}

// The policy's categories as "name=days" ("name=null" for indefinite), in order.
std::vector<std::string> summary(const store::Policy& p) {
  std::vector<std::string> out;
  for (const auto& c : p.categories) out.push_back(c.name + "=" + (c.days ? std::to_string(*c.days) : "null"));
  return out;
}

manifest::Manifest clip_starting(std::time_t start) {
  manifest::Manifest m;
  m.clip_id = text::make_clip_id(start, "CAM0042", 1);
  m.device = "CAM0042";
  m.seq = 1;
  m.start = start;
  m.end = start + 300;
  return m;
}

store::ClipFlags with_categories(const std::vector<std::string>& names) {
  store::ClipFlags f;
  for (const auto& n : names) f.categories[n] = store::Mark{"alice@dock01", k_start, "r", ""};
  return f;
}

// A stored derivative of the clip k_id (its manifest only: retention_in reads no files of it).
store::StoredClip derivative_of_k_id(const store::Store& s) {
  store::StoredClip c;
  c.id = manifest::derivative_id(k_id, 1);
  c.dir = *s.clip_dir(c.id);
  c.manifest = clip_starting(k_start);
  c.manifest.clip_id = c.id;
  c.manifest.derived_from = manifest::Derivation{.clip_id = k_id, .render = "smart"};
  return c;
}

// Saves flags for the original k_id, whose directory is made if missing.
void flag_original(const store::Store& s, const store::ClipFlags& f) {
  std::filesystem::create_directories(*s.clip_dir(k_id));
  const auto saved = store::save_flags(s, k_id, f);
  REQUIRE_MESSAGE(saved, why(saved));
}

store::Retention retention_ok(const store::Store& s, const store::StoredClip& clip, const store::ClipFlags& f) {
  const auto r = store::retention_in(s, store::Policy::defaults(), clip, f);
  REQUIRE_MESSAGE(r, why(r));
  return *r;
}

// Which expiry directories hold an entry for id.
std::vector<std::string> entries_of(const store::Store& s, const std::string& id) {
  std::vector<std::string> days;
  for (const auto& day : names(s.root() / "expiry"))
    if (fs::kind_of(s.root() / "expiry" / day / id) == fs::Kind::regular) days.push_back(day);
  return days;
}

} // namespace

TEST_CASE("Policy::defaults is the documented policy") {
  const store::Policy p = store::Policy::defaults();
  CHECK(summary(p) ==
        std::vector<std::string>{"uncategorised=31", "evidence-6y=2192", "evidence-10y=3653", "until-review=null"});
  REQUIRE(p.find("evidence-6y"));
  CHECK(p.find("evidence-6y")->days == 2192);
  REQUIRE(p.find(store::k_uncategorised));
  CHECK(p.find(store::k_uncategorised)->days == 31);
  CHECK_FALSE(p.find("until-review")->days);
  CHECK_FALSE(p.find("evidence-7y"));
  CHECK_FALSE(p.find(""));

  // Written as DESIGN.md shows it.
  const auto v = json::parse(p.write(), "policy.json");
  REQUIRE_MESSAGE(v, why(v));
  CHECK(json::write_line(*v) == "{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":31},"
                                "\"evidence-6y\":{\"days\":2192},\"evidence-10y\":{\"days\":3653},"
                                "\"until-review\":{\"days\":null}}}");
  CHECK(p.write().ends_with("}\n"));
}

TEST_CASE("init writes the default policy, and load reads it back") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  CHECK(get_file(tmp / "policy.json") == store::Policy::defaults().write());
  CHECK(summary(load_ok(s)) == summary(store::Policy::defaults()));
}

TEST_CASE("Policy write and load round trip") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  store::Policy p;
  p.categories = {{"uncategorised", 14}, {"traffic-2y", 731}, {"evidence-6y", 2192}, {"keep", std::nullopt},
                  {"x", 1}, {std::string(32, 'a'), 100000}};
  put_file(tmp / "policy.json", p.write());
  const store::Policy back = load_ok(s);
  CHECK(summary(back) == summary(p));
  CHECK(back.write() == p.write());

  // Unknown keys are ignored, as elsewhere.
  json::Value v = *json::parse(p.write(), "p");
  v["comment"] = "reviewed 2026";
  put_file(tmp / "policy.json", json::write_pretty(v));
  CHECK(summary(load_ok(s)) == summary(p));
}

TEST_CASE("a missing policy.json means the defaults") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  std::filesystem::remove(tmp / "policy.json");
  CHECK(summary(load_ok(s)) == summary(store::Policy::defaults()));
}

TEST_CASE("Policy::load refuses what it cannot apply") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const auto refused = [&](const std::string& text, const std::string& what) {
    CAPTURE(text);
    put_file(tmp / "policy.json", text);
    const auto p = store::Policy::load(s);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == Errc::check_failed);
    CHECK_MESSAGE(contains(p.error().subject + ": " + p.error().message, what), why(p));
  };
  const std::string good_rest = "\"uncategorised\":{\"days\":31}";
  refused("{\"bwv_policy\":2,\"categories\":{" + good_rest + "}}", "unknown policy version");
  refused("{\"bwv_policy\":0,\"categories\":{" + good_rest + "}}", "bwv_policy");
  refused("{\"categories\":{" + good_rest + "}}", "bwv_policy");
  refused("{\"bwv_policy\":1}", "categories");
  refused("{\"bwv_policy\":1,\"categories\":{" + good_rest + ",\"Evidence\":{\"days\":5}}}", "Evidence");
  refused("{\"bwv_policy\":1,\"categories\":{" + good_rest + ",\"evidence 6y\":{\"days\":5}}}", "not a category name");
  refused("{\"bwv_policy\":1,\"categories\":{" + good_rest + ",\"" + std::string(33, 'a') + "\":{\"days\":5}}}",
          "not a category name");
  refused("{\"bwv_policy\":1,\"categories\":{\"evidence-6y\":{\"days\":2192}}}", "uncategorised");
  refused("{\"bwv_policy\":1,\"categories\":{}}", "uncategorised");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":null}}}", "uncategorised");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{}}}", "days");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":31}}", "days");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":0}}}", "days");
  refused("{\"bwv_policy\":1,\"categories\":{" + good_rest + ",\"short\":{\"days\":0}}}", "short");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":-31}}}", "days");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":100001}}}", "days");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":\"31\"}}}", "days");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":31.5}}}", "");
  refused("{\"bwv_policy\":1,\"categories\":{\"uncategorised\":{\"days\":31.0}}}", "");
  refused("{\"bwv_policy\":1,\"categories\":{" + good_rest + "," + good_rest + "}}", ""); // duplicate key
  refused("not json", "");
}

TEST_CASE("is_category_name") {
  for (const char* good : {"uncategorised", "evidence-6y", "a", "0", "until-review", "x-1-2"}) {
    CAPTURE(good);
    CHECK(store::is_category_name(good));
  }
  CHECK(store::is_category_name(std::string(32, 'z')));
  for (const char* bad : {"", "Evidence", "evidence_6y", "evidence 6y", "evidence.6y", "é", "a/b", "foi:1"}) {
    CAPTURE(bad);
    CHECK_FALSE(store::is_category_name(bad));
  }
  CHECK_FALSE(store::is_category_name(std::string(33, 'z')));
}

TEST_CASE("is_hold_ref: KIND:REF") {
  for (const char* good : {"foi:REQ-7", "sar:A/1", "complaint:x.y", "legal:L_1", "foi:1"}) {
    CAPTURE(good);
    CHECK(store::is_hold_ref(good));
  }
  CHECK(store::is_hold_ref("foi:" + std::string(64, 'r')));
  for (const char* bad : {"FOI:1", "foi:", "foi:has space", "other:1", "foi", ":1", "", "foi:a:b", "foi:é",
                          "foi: 1", "Legal:1", "foi:a\nb"}) {
    CAPTURE(bad);
    CHECK_FALSE(store::is_hold_ref(bad));
  }
  CHECK_FALSE(store::is_hold_ref("foi:" + std::string(65, 'r')));
}

TEST_CASE("retention_of: no categories is uncategorised, 31 days from the start") {
  const store::Policy p = store::Policy::defaults();
  const store::Retention r = store::retention_of(p, clip_starting(k_start), {});
  REQUIRE(r.expires);
  CHECK(*r.expires == k_start + 31 * k_day);
  CHECK(r.rule == "uncategorised (31 days)");
  CHECK_FALSE(r.held());
  CHECK(r.holds.empty());
}

TEST_CASE("retention_of: a category's period, the longest of several, and indefinite ones") {
  const store::Policy p = store::Policy::defaults();
  const manifest::Manifest m = clip_starting(k_start);

  const store::Retention six = store::retention_of(p, m, with_categories({"evidence-6y"}));
  REQUIRE(six.expires);
  CHECK(*six.expires == k_start + 2192 * k_day);
  CHECK(six.rule == "evidence-6y (2192 days)");

  const store::Retention both = store::retention_of(p, m, with_categories({"evidence-6y", "evidence-10y"}));
  REQUIRE(both.expires);
  CHECK(*both.expires == k_start + 3653 * k_day);
  CHECK(both.rule == "evidence-10y (3653 days)");

  // The longest wins whichever comes first by name.
  store::Policy custom;
  custom.categories = {{"uncategorised", 31}, {"a-long", 200}, {"b-short", 100}, {"c-long", 300}};
  const store::Retention ab = store::retention_of(custom, m, with_categories({"a-long", "b-short"}));
  REQUIRE(ab.expires);
  CHECK(*ab.expires == k_start + 200 * k_day);
  CHECK(ab.rule == "a-long (200 days)");
  const store::Retention bc = store::retention_of(custom, m, with_categories({"b-short", "c-long"}));
  REQUIRE(bc.expires);
  CHECK(*bc.expires == k_start + 300 * k_day);
  CHECK(bc.rule == "c-long (300 days)");

  const store::Retention review = store::retention_of(p, m, with_categories({"until-review"}));
  CHECK_FALSE(review.expires);
  CHECK(contains(review.rule, "until-review"));
  // Indefinite beats any period, before or after it by name.
  CHECK_FALSE(store::retention_of(p, m, with_categories({"evidence-6y", "until-review"})).expires);
  CHECK_FALSE(store::retention_of(p, m, with_categories({"evidence-10y", "until-review"})).expires);
  CHECK_FALSE(store::retention_of(p, m, with_categories({"aaa-review"})).expires);
}

TEST_CASE("retention_of: a category the policy no longer has keeps the clip") {
  const store::Policy p = store::Policy::defaults();
  const manifest::Manifest m = clip_starting(k_start);
  const store::Retention gone = store::retention_of(p, m, with_categories({"evidence-99y"}));
  CHECK_FALSE(gone.expires);
  CHECK(contains(gone.rule, "evidence-99y"));
  CHECK(contains(gone.rule, "kept"));
  // Also beside a category that has a period.
  CHECK_FALSE(store::retention_of(p, m, with_categories({"evidence-6y", "evidence-99y"})).expires);
  CHECK_FALSE(store::retention_of(p, m, with_categories({"a-gone", "evidence-6y"})).expires);
}

TEST_CASE("retention_of lists the holds") {
  const store::Policy p = store::Policy::defaults();
  store::ClipFlags f = with_categories({"evidence-6y"});
  f.holds["sar:A/1"] = store::Mark{"bob@dock02", k_start, "request", ""};
  f.holds["foi:REQ-7"] = store::Mark{"bob@dock02", k_start, "request", ""};
  const store::Retention r = store::retention_of(p, clip_starting(k_start), f);
  CHECK(r.held());
  CHECK(r.holds == std::vector<std::string>{"foi:REQ-7", "sar:A/1"});
  REQUIRE(r.expires); // a hold blocks deletion; it does not change the period
  CHECK(*r.expires == k_start + 2192 * k_day);

  store::ClipFlags only_hold;
  only_hold.holds["legal:L_1"] = store::Mark{"bob@dock02", k_start, "r", ""};
  const store::Retention h = store::retention_of(p, clip_starting(k_start), only_hold);
  CHECK(h.holds == std::vector<std::string>{"legal:L_1"});
  CHECK(h.rule == "uncategorised (31 days)");
}

TEST_CASE("load_flags and save_flags round trip; no flags.json means none") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  std::filesystem::create_directories(*s.clip_dir(k_id));
  const auto none = store::load_flags(s, k_id);
  REQUIRE_MESSAGE(none, why(none));
  CHECK(none->empty());

  store::ClipFlags f;
  f.categories["evidence-6y"] = store::Mark{"alice@dock01", k_start, "assault, arrest at scene", "CASE/2026/17"};
  f.categories["until-review"] = store::Mark{"bob@dock02", k_start + 60, "caf\xc3\xa9 \"quoted\"", ""};
  f.holds["foi:REQ-7"] = store::Mark{"carol@dock01", k_start + 120, "FOI request 7", ""};
  const auto saved = store::save_flags(s, k_id, f);
  REQUIRE_MESSAGE(saved, why(saved));
  CHECK(fs::kind_of(*s.clip_dir(k_id) / "flags.json") == fs::Kind::regular);

  const auto back = store::load_flags(s, k_id);
  REQUIRE_MESSAGE(back, why(back));
  CHECK_FALSE(back->empty());
  REQUIRE(back->categories.size() == 2);
  REQUIRE(back->holds.size() == 1);
  const store::Mark& six = back->categories.at("evidence-6y");
  CHECK(six.by == "alice@dock01");
  CHECK(six.at == k_start);
  CHECK(six.reason == "assault, arrest at scene");
  CHECK(six.case_ref == "CASE/2026/17");
  CHECK(back->categories.at("until-review").reason == "caf\xc3\xa9 \"quoted\"");
  CHECK(back->categories.at("until-review").case_ref.empty());
  const store::Mark& hold = back->holds.at("foi:REQ-7");
  CHECK(hold.by == "carol@dock01");
  CHECK(hold.at == k_start + 120);
  CHECK(hold.reason == "FOI request 7");

  // Saving none leaves an empty record, read back as none; no temp file is left.
  REQUIRE(store::save_flags(s, k_id, {}));
  CHECK(store::load_flags(s, k_id)->empty());
  CHECK(names(*s.clip_dir(k_id)) == std::vector<std::string>{"flags.json"});

  // An unknown version is refused.
  json::Value v = *json::parse(get_file(*s.clip_dir(k_id) / "flags.json"), "f");
  v["bwv_flags"] = 2;
  put_file(*s.clip_dir(k_id) / "flags.json", json::write_pretty(v));
  CHECK_FALSE(store::load_flags(s, k_id));

  // Ids are checked before any path is made.
  CHECK_FALSE(store::load_flags(s, "../x"));
  CHECK_FALSE(store::save_flags(s, "../x", f));
}

TEST_CASE("expiry_day") {
  CHECK(store::expiry_day(std::nullopt) == "never");
  CHECK(store::expiry_day(k_start) == "2026-11-24");
  CHECK(store::expiry_day(k_start + 31 * k_day) == "2026-12-25");
  CHECK(store::expiry_day(*text::parse_time("2026-11-24T23:59:59Z")) == "2026-11-24");
  CHECK(store::expiry_day(*text::parse_time("2026-11-25T00:00:00Z")) == "2026-11-25");
}

TEST_CASE("expiry_put and expiry_remove keep one entry per clip") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const std::string other = "20261124-CAM0042-000002";
  const std::time_t d31 = k_start + 31 * k_day, d2192 = k_start + 2192 * k_day;

  REQUIRE(store::expiry_put(s, k_id, d31));
  CHECK(get_file(tmp / "expiry/2026-12-25" / k_id).empty());
  REQUIRE(store::expiry_put(s, k_id, d31)); // already there: fine
  REQUIRE(store::expiry_put(s, k_id, d2192));
  REQUIRE(store::expiry_put(s, k_id, std::nullopt));
  REQUIRE(store::expiry_put(s, other, d31));
  CHECK(entries_of(s, k_id) == std::vector<std::string>{"2026-12-25", store::expiry_day(d2192), "never"});

  // Keep the given day, remove the rest (never included); another clip's entry stays.
  const auto kept = store::expiry_remove(s, k_id, store::expiry_day(d2192));
  REQUIRE_MESSAGE(kept, why(kept));
  CHECK(entries_of(s, k_id) == std::vector<std::string>{store::expiry_day(d2192)});
  CHECK(entries_of(s, other) == std::vector<std::string>{"2026-12-25"});

  REQUIRE(store::expiry_put(s, k_id, std::nullopt));
  REQUIRE(store::expiry_remove(s, k_id, std::string("never")));
  CHECK(entries_of(s, k_id) == std::vector<std::string>{"never"});

  REQUIRE(store::expiry_remove(s, k_id));
  CHECK(entries_of(s, k_id).empty());
  CHECK(entries_of(s, other) == std::vector<std::string>{"2026-12-25"});
  REQUIRE(store::expiry_remove(s, k_id)); // nothing left: fine

  // No temp files anywhere in the index.
  for (const auto& day : names(tmp / "expiry"))
    for (const auto& n : names(tmp / "expiry" / day)) CHECK_FALSE(n.starts_with("."));
}

TEST_CASE("an expiry day that is a symbolic link is refused, and nothing is removed through it") {
  TmpDir tmp;
  const store::Store s = init(tmp / "s");
  REQUIRE(store::expiry_put(s, k_id, k_start + 31 * k_day));
  // A file outside the store named like an entry, and a day directory leading to it.
  std::filesystem::create_directory(tmp / "outside");
  put_file(tmp / "outside" / k_id, "not the store's");
  std::filesystem::create_symlink(tmp / "outside", tmp / "s/expiry/2026-11-30");
  const auto removed = store::expiry_remove(s, k_id);
  REQUIRE_FALSE(removed);
  CHECK(removed.error().code == Errc::check_failed);
  CHECK(removed.error().subject == (tmp / "s/expiry/2026-11-30").string());
  CHECK(contains(removed.error().message, "symbolic link"));
  CHECK(get_file(tmp / "outside" / k_id) == "not the store's");
  CHECK_FALSE(store::expiry_days_until(s, "2027-01-01"));
  // Not a directory at all (a stray file): passed over, as readers pass over what is not theirs.
  std::filesystem::remove(tmp / "s/expiry/2026-11-30");
  put_file(tmp / "s/expiry/notes.txt", "x");
  const auto days = store::expiry_days(s);
  REQUIRE_MESSAGE(days, why(days));
  CHECK(*days == std::vector<std::string>{"2026-12-25"});
  CHECK(store::expiry_remove(s, k_id));
}

TEST_CASE("expiry_add puts the entry with a batch and leaves an existing one") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  fs::Batch batch;
  REQUIRE(store::expiry_add(batch, s, k_id, k_start + 31 * k_day));
  REQUIRE(store::expiry_add(batch, s, "20261124-CAM0042-000002", std::nullopt));
  CHECK(entries_of(s, k_id).empty()); // not before the commit
  const auto existed = batch.commit();
  REQUIRE_MESSAGE(existed, why(existed));
  CHECK(existed->empty());
  CHECK(entries_of(s, k_id) == std::vector<std::string>{"2026-12-25"});
  CHECK(entries_of(s, "20261124-CAM0042-000002") == std::vector<std::string>{"never"});

  fs::Batch again;
  REQUIRE(store::expiry_add(again, s, k_id, k_start + 31 * k_day));
  const auto second = again.commit();
  REQUIRE(second);
  CHECK(*second == std::vector<fs::Path>{tmp / "expiry/2026-12-25" / k_id});
  CHECK(names(tmp / "expiry/2026-12-25") == std::vector<std::string>{k_id});
}

TEST_CASE("expiry_days_until lists day directories up to a day, in order, without never") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const auto empty = store::expiry_days_until(s, "2026-12-31");
  REQUIRE_MESSAGE(empty, why(empty));
  CHECK(empty->empty());

  for (const char* day : {"2026-12-25", "2026-11-30", "2027-01-01", "2026-12-24", "never"})
    REQUIRE(fs::make_dirs(tmp / "expiry", day));
  const auto upto = store::expiry_days_until(s, "2026-12-25");
  REQUIRE(upto);
  CHECK(*upto == std::vector<std::string>{"2026-11-30", "2026-12-24", "2026-12-25"});
  CHECK(store::expiry_days_until(s, "2026-11-29")->empty());
  CHECK(*store::expiry_days_until(s, "2099-01-01") ==
        std::vector<std::string>{"2026-11-30", "2026-12-24", "2026-12-25", "2027-01-01"});
}

TEST_CASE("Tombstone write and load round trip") {
  TmpDir tmp;
  store::StoredClip clip;
  clip.id = k_id;
  clip.dir = tmp.path();
  const auto none = store::Tombstone::load(clip);
  REQUIRE_MESSAGE(none, why(none));
  CHECK_FALSE(none->has_value());

  store::Tombstone t;
  t.deleted = k_start + 32 * k_day;
  t.expired = k_start + 31 * k_day;
  t.rule = "uncategorised (31 days)";
  t.size = 123456789012;
  t.video_sha256 = crypto::sha256_hex("video");
  t.manifest_sha256 = crypto::sha256_hex("manifest");
  const std::string text = t.write(k_id);
  const auto v = json::parse(text, "deleted.json");
  REQUIRE_MESSAGE(v, why(v));
  CHECK((*v)["bwv_tombstone"] == 1);
  CHECK((*v)["clip_id"] == k_id);
  CHECK((*v)["deleted"] == "2026-12-26T10:00:00Z");
  CHECK((*v)["expired"] == "2026-12-25T10:00:00Z");

  put_file(tmp / "deleted.json", text);
  const auto back = store::Tombstone::load(clip);
  REQUIRE_MESSAGE(back, why(back));
  REQUIRE(back->has_value());
  const store::Tombstone& b = **back;
  CHECK(b.deleted == t.deleted);
  CHECK(b.expired == t.expired);
  CHECK(b.rule == t.rule);
  CHECK(b.size == t.size);
  CHECK(b.video_sha256 == t.video_sha256);
  CHECK(b.manifest_sha256 == t.manifest_sha256);

  // One naming another clip is refused.
  put_file(tmp / "deleted.json", t.write("20261124-CAM0042-000002"));
  const auto other = store::Tombstone::load(clip);
  REQUIRE_FALSE(other);
  CHECK(other.error().code == Errc::check_failed);
  CHECK(contains(other.error().message, "clip_id"));

  json::Value v2 = *v;
  v2["bwv_tombstone"] = 2;
  put_file(tmp / "deleted.json", json::write_pretty(v2));
  CHECK_FALSE(store::Tombstone::load(clip));
}

TEST_CASE("retention_in: a clip that is not a derivative has its own retention") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  store::StoredClip clip;
  clip.id = k_id;
  clip.dir = *s.clip_dir(k_id);
  clip.manifest = clip_starting(k_start);
  store::ClipFlags f = with_categories({"evidence-6y"});
  f.holds["foi:REQ-7"] = store::Mark{"bob@dock02", k_start, "r", ""};
  const store::Retention r = retention_ok(s, clip, f);
  const store::Retention plain = store::retention_of(store::Policy::defaults(), clip.manifest, f);
  CHECK(r.expires == plain.expires);
  CHECK(r.rule == plain.rule);
  CHECK(r.rule == "evidence-6y (2192 days)");
  CHECK(r.holds == std::vector<std::string>{"foi:REQ-7"});
}

TEST_CASE("retention_in: an unflagged derivative of an unflagged original follows it") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const store::StoredClip d = derivative_of_k_id(s);

  // The original's directory is not even there: no flags.
  const store::Retention none = retention_ok(s, d, {});
  REQUIRE(none.expires);
  CHECK(*none.expires == k_start + 31 * k_day);
  CHECK(none.rule == "follows 20261124-CAM0042-000001: uncategorised (31 days)");
  CHECK_FALSE(none.held());

  // An empty flags file is the same.
  flag_original(s, {});
  const store::Retention empty = retention_ok(s, d, {});
  CHECK(empty.expires == none.expires);
  CHECK(empty.rule == none.rule);
  CHECK(empty.holds.empty());
}

TEST_CASE("retention_in: a derivative is kept while its original's flags keep it") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const store::StoredClip d = derivative_of_k_id(s);

  flag_original(s, with_categories({"evidence-6y"}));
  const store::Retention six = retention_ok(s, d, {});
  REQUIRE(six.expires);
  CHECK(*six.expires == k_start + 2192 * k_day);
  CHECK(six.rule == "follows 20261124-CAM0042-000001: evidence-6y (2192 days)");

  // Its own shorter or equal category does not shorten it; the original's rule is named on a tie.
  CHECK(retention_ok(s, d, with_categories({"evidence-6y"})).rule ==
        "follows 20261124-CAM0042-000001: evidence-6y (2192 days)");
  CHECK(*retention_ok(s, d, with_categories({"evidence-6y"})).expires == k_start + 2192 * k_day);

  // An indefinite category on the original keeps the derivative for ever, whatever its own flags say.
  flag_original(s, with_categories({"until-review"}));
  const store::Retention review = retention_ok(s, d, {});
  CHECK_FALSE(review.expires);
  CHECK(review.rule == "follows 20261124-CAM0042-000001: until-review (indefinite)");
  const store::Retention review_own = retention_ok(s, d, with_categories({"evidence-10y"}));
  CHECK_FALSE(review_own.expires);
  CHECK(review_own.rule == "follows 20261124-CAM0042-000001: until-review (indefinite)");

  // So does a category on the original that the policy no longer has.
  flag_original(s, with_categories({"evidence-99y"}));
  const store::Retention gone = retention_ok(s, d, {});
  CHECK_FALSE(gone.expires);
  CHECK(gone.rule == "follows 20261124-CAM0042-000001: evidence-99y (not in the policy: kept)");
}

TEST_CASE("retention_in: a derivative's own longer category decides") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const store::StoredClip d = derivative_of_k_id(s);

  // Original unflagged (no flags file, then an empty one).
  for (bool with_file : {false, true}) {
    CAPTURE(with_file);
    if (with_file) flag_original(s, {});
    const store::Retention six = retention_ok(s, d, with_categories({"evidence-6y"}));
    REQUIRE(six.expires);
    CHECK(*six.expires == k_start + 2192 * k_day);
    CHECK(six.rule == "evidence-6y (2192 days)");
  }

  flag_original(s, with_categories({"evidence-6y"}));
  const store::Retention ten = retention_ok(s, d, with_categories({"evidence-10y"}));
  REQUIRE(ten.expires);
  CHECK(*ten.expires == k_start + 3653 * k_day);
  CHECK(ten.rule == "evidence-10y (3653 days)");

  const store::Retention review = retention_ok(s, d, with_categories({"until-review"}));
  CHECK_FALSE(review.expires);
  CHECK(review.rule == "until-review (indefinite)");
}

TEST_CASE("retention_in: every hold on the original holds its derivative") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const store::StoredClip d = derivative_of_k_id(s);
  const store::Mark mark{"bob@dock02", k_start, "request", ""};

  store::ClipFlags held;
  held.holds["foi:X"] = mark;
  held.holds["sar:A/1"] = mark;
  flag_original(s, held);
  const store::Retention r = retention_ok(s, d, {});
  CHECK(r.held());
  CHECK(r.holds ==
        std::vector<std::string>{"foi:X (on 20261124-CAM0042-000001)", "sar:A/1 (on 20261124-CAM0042-000001)"});
  // A hold does not change the period.
  REQUIRE(r.expires);
  CHECK(*r.expires == k_start + 31 * k_day);
  CHECK(r.rule == "follows 20261124-CAM0042-000001: uncategorised (31 days)");

  // Its own holds come first; one also on the original is listed once.
  store::ClipFlags own;
  own.holds["foi:X"] = mark;
  own.holds["legal:L_1"] = mark;
  const store::Retention both = retention_ok(s, d, own);
  CHECK(both.holds == std::vector<std::string>{"foi:X", "legal:L_1", "sar:A/1 (on 20261124-CAM0042-000001)"});

  // The original's holds are its own to lift: once lifted there, only the derivative's remain.
  flag_original(s, {});
  CHECK(retention_ok(s, d, own).holds == std::vector<std::string>{"foi:X", "legal:L_1"});
  CHECK_FALSE(retention_ok(s, d, {}).held());
}

TEST_CASE("retention_in: a derivative whose original's flags are unreadable is an error, not a guess") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const store::StoredClip d = derivative_of_k_id(s);
  flag_original(s, with_categories({"until-review"}));
  put_file(*s.clip_dir(k_id) / "flags.json", "{\"bwv_flags\":2,\"categories\":{},\"holds\":{}}");
  const auto r = store::retention_in(s, store::Policy::defaults(), d, {});
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().subject + ": " + r.error().message, "bwv_flags"));
  put_file(*s.clip_dir(k_id) / "flags.json", "not json");
  CHECK_FALSE(store::retention_in(s, store::Policy::defaults(), d, {}));
}

TEST_SUITE_END();
