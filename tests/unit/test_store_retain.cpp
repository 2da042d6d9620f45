#include "store/retain.hpp"

#include "camera/storage.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "store/pull.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::EnvGuard;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("store::retain");

namespace {

constexpr std::time_t k_day = 86400;


class PullLog : public store::PullEvents {
public:
  std::vector<std::string> ingested_ids, receipted_ids, problems, gaps;
  void ingested(const manifest::Manifest& m) override { ingested_ids.push_back(m.clip_id); }
  void receipted(const std::string& id) override { receipted_ids.push_back(id); }
  void problem(const std::string& subject, const std::string& message) override {
    problems.push_back(subject + ": " + message);
  }
  void gap(const std::string& device, std::uint64_t after, std::uint64_t before) override {
    gaps.push_back(device + " " + std::to_string(after) + ".." + std::to_string(before));
  }
  void progress(std::uint64_t, std::uint64_t) override {}
};

class RetainLog : public store::RetainEvents {
public:
  struct Deleted {
    std::string id;
    std::time_t expires;
    std::string rule;
    std::uint64_t size;
  };
  std::vector<Deleted> deleted_clips;
  std::vector<std::string> expiring_ids, held_ids, problems;
  std::map<std::string, std::vector<std::string>> holds;
  void deleted(const std::string& id, std::time_t expires, const std::string& rule, std::uint64_t size) override {
    deleted_clips.push_back({id, expires, rule, size});
  }
  void expiring(const std::string& id, std::time_t, const std::string&) override { expiring_ids.push_back(id); }
  void held(const std::string& id, const std::vector<std::string>& h) override {
    held_ids.push_back(id);
    holds[id] = h;
  }
  void problem(const std::string& subject, const std::string& message) override {
    problems.push_back(subject + ": " + message);
  }
  std::vector<std::string> deleted_ids() const {
    std::vector<std::string> ids;
    for (const auto& d : deleted_clips) ids.push_back(d.id);
    return ids;
  }
};

// A store with one trusted camera, filled the real way: the camera records, bwv pulls.
// Clips start from t0, yesterday at 10:00 UTC: never ahead of the host's clock (tomorrow's 10:00
// was more than a day ahead before 10:00, and pull said so). The clock check compares `now` with
// the custody entries, which carry the real time, so every `now` given to retain must be later
// than the clock: days after t0.
struct Bench {
  EnvGuard host_guard{"BWV_HOST"};
  TmpDir tmp;
  std::time_t t0 = (std::time(nullptr) / k_day - 1) * k_day + 10 * 3600;
  custody::Actor actor;
  crypto::SecretKey device = crypto::SecretKey::generate();
  std::optional<store::Store> store;
  std::optional<camera::Storage> cam;
  std::optional<std::string> prev;
  std::uint64_t seq = 0;

  Bench() {
    ::setenv("BWV_HOST", "dock01", 1);
    auto a = custody::current_actor();
    REQUIRE_MESSAGE(a, why(a));
    actor = *a;
    REQUIRE(actor.host == "dock01");
    auto s = store::Store::init(tmp / "store", "Example Police");
    REQUIRE_MESSAGE(s, why(s));
    store.emplace(std::move(*s));
    const auto d = store->trust("CAM0042", device.public_key(), actor, "provisioned");
    REQUIRE_MESSAGE(d, why(d));
    auto c = camera::Storage::create(tmp / "cam", device.public_key());
    REQUIRE_MESSAGE(c, why(c));
    cam.emplace(std::move(*c));
  }

  fs::Path root() const { return store->root(); }

  // Records a clip of random bytes on the camera; its id.
  std::string record(std::time_t start, std::size_t size = 1000) {
    manifest::Manifest m;
    m.device = "CAM0042";
    m.seq = ++seq;
    m.start = start;
    m.end = start + 300;
    m.clip_id = text::make_clip_id(m.start, m.device, m.seq);
    m.key_id = crypto::key_id_string(device.id());
    m.officer = "PC1234";
    m.prev_manifest_sha256 = prev;
    m.trigger = "double_press";
    m.firmware = "bwv-camd 0.1.0";
    const fs::Path video = tmp / ("video-" + std::to_string(m.seq) + ".mp4");
    put_file(video, test::random_bytes(size));
    const auto seal = store->seal_key();
    REQUIRE_MESSAGE(seal, why(seal));
    const auto sha = cam->add_clip_from_file(m, video, device, seal->public_key());
    REQUIRE_MESSAGE(sha, why(sha));
    prev = *sha;
    return m.clip_id;
  }

  void pull(std::size_t expect_ingested) {
    PullLog events;
    store::PullOptions options;
    options.jobs = 2;
    const auto r = store::pull(*store, tmp / "cam", actor, options, events);
    REQUIRE_MESSAGE(r, why(r));
    CHECK(events.problems.empty());
    CHECK(events.gaps.empty());
    CHECK(r->ok());
    CHECK(r->ingested == expect_ingested);
  }

  store::StoredClip clip(const std::string& id) const {
    auto c = store->load_clip(id);
    REQUIRE_MESSAGE(c, why(c));
    return std::move(*c);
  }

  bool has_video(const std::string& id) const { return fs::kind_of(clip(id).video()) == fs::Kind::regular; }

  // The day directory a clip's retention ends in, days after its start.
  std::string day_after(const std::string& id, int days) const {
    return store::expiry_day(clip(id).manifest.start + days * k_day);
  }

  // Which expiry directories hold an entry for id.
  std::vector<std::string> entries_of(const std::string& id) const {
    std::vector<std::string> days;
    const auto all = fs::list_dir(root() / "expiry");
    REQUIRE_MESSAGE(all, why(all));
    for (const auto& day : *all)
      if (fs::kind_of(root() / "expiry" / day / id) == fs::Kind::regular) days.push_back(day);
    return days;
  }

  std::string log_text() const {
    const fs::Path log = store->custody_log(actor.host);
    return fs::kind_of(log) == fs::Kind::none ? std::string() : get_file(log);
  }
  std::size_t custody_lines() const {
    const std::string t = log_text();
    return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
  }
  std::vector<custody::Entry> custody_entries(const std::string& action) const {
    const auto r = custody::read(store->custody_log(actor.host));
    REQUIRE_MESSAGE(r, why(r));
    CHECK(r->problems.empty());
    std::vector<custody::Entry> out;
    for (const auto& e : r->entries)
      if (e.action == action) out.push_back(e);
    return out;
  }
  std::size_t deletions_of(const std::string& id) const {
    std::size_t n = 0;
    for (const auto& e : custody_entries("retain-delete")) n += e.clip == id;
    return n;
  }

  store::Policy policy() const {
    auto p = store::Policy::load(*store);
    REQUIRE_MESSAGE(p, why(p));
    return std::move(*p);
  }

  bool flag(const std::string& id, store::FlagAction action, const std::string& name,
            const std::string& case_ref = "") {
    const store::FlagRequest req{action, name, case_ref, "reason for " + name};
    const store::Policy p = policy();
    const auto checked = store::check_flag_request(p, req);
    REQUIRE_MESSAGE(checked, why(checked));
    const auto r = store::apply_flag(*store, p, actor, id, req);
    REQUIRE_MESSAGE(r, why(r));
    return *r;
  }

  store::RetainSummary retain(std::time_t now, RetainLog& events, bool dry_run = false,
                              std::optional<int> report_days = std::nullopt) {
    store::RetainOptions options;
    options.now = now;
    options.dry_run = dry_run;
    options.report_days = report_days;
    const auto r = store::retain(*store, actor, options, events);
    REQUIRE_MESSAGE(r, why(r));
    CHECK_MESSAGE(events.problems.empty(), (events.problems.empty() ? "" : events.problems.front()));
    return *r;
  }

  // Every file below the store with a hash of its content, and every directory. Lock files are
  // left out: they are created on first use and hold no data.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> files;
    for (auto it = std::filesystem::recursive_directory_iterator(root());
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      const std::string rel = std::filesystem::relative(it->path(), root()).string();
      if (rel == "locks" || rel.starts_with("locks/")) continue;
      files[rel] = it->is_directory() ? std::string("dir") : crypto::sha256_hex(get_file(it->path()));
    }
    return files;
  }
};

} // namespace

TEST_CASE("pull puts each new clip in the expiry index, uncategorised") {
  Bench b;
  const std::string a = b.record(b.t0);
  const std::string c = b.record(b.t0 + 600);
  b.pull(2);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 31)});
  CHECK(b.entries_of(c) == std::vector<std::string>{b.day_after(c, 31)});
  CHECK(fs::list_dir(b.root() / "expiry" / b.day_after(a, 31)).value() == std::vector<std::string>{a, c});

  // A second pull of the same camera changes nothing there.
  b.pull(0);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 31)});
}

TEST_CASE("check_flag_request refuses before any clip is touched") {
  const store::Policy p = store::Policy::defaults();
  using A = store::FlagAction;
  const auto refused = [&](const store::FlagRequest& r, const std::string& what) {
    CAPTURE(r.name);
    CAPTURE(r.reason);
    const auto c = store::check_flag_request(p, r);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == Errc::usage);
    CHECK_MESSAGE(contains(c.error().subject + ": " + c.error().message, what), why(c));
  };
  refused({A::category, "evidence-6y", "", ""}, "reason");
  refused({A::hold, "foi:REQ-7", "", ""}, "reason");
  refused({A::category, "evidence-7y", "", "r"}, "unknown category");
  refused({A::category, "Evidence-6y", "", "r"}, "unknown category");
  refused({A::category, "uncategorised", "", "r"}, "unknown category");
  refused({A::uncategorise, "uncategorised", "", "r"}, "not a category name");
  // A category dropped from the policy can still be taken off its clips.
  CHECK(store::check_flag_request(p, {A::uncategorise, "evidence-7y", "", "r"}));
  refused({A::uncategorise, "Evidence-7y", "", "r"}, "not a category name");
  refused({A::category, "", "", "r"}, "unknown category");
  refused({A::hold, "FOI:1", "", "r"}, "not a hold reference");
  refused({A::hold, "other:1", "", "r"}, "not a hold reference");
  refused({A::hold, "foi:", "", "r"}, "not a hold reference");
  refused({A::hold, "evidence-6y", "", "r"}, "not a hold reference");
  refused({A::release, "foi:has space", "", "r"}, "not a hold reference");
  refused({A::category, "evidence-6y", std::string(129, 'c'), "r"}, "--case");
  refused({A::category, "evidence-6y", "", std::string(4097, 'r')}, "--reason");

  // The unknown-category message names what the policy has, without uncategorised.
  const auto c = store::check_flag_request(p, {A::category, "evidence-7y", "", "r"});
  REQUIRE_FALSE(c);
  CHECK(contains(c.error().message, "evidence-6y, evidence-10y, until-review"));

  for (const store::FlagRequest& ok :
       {store::FlagRequest{A::category, "evidence-6y", "CASE/1", "r"}, store::FlagRequest{A::uncategorise, "until-review", "", "r"},
        store::FlagRequest{A::hold, "sar:A/1", "", "r"}, store::FlagRequest{A::release, "legal:L_1", "", "r"}}) {
    CAPTURE(ok.name);
    CHECK(store::check_flag_request(p, ok));
  }
}

TEST_CASE("apply_flag: a category moves the expiry entry; once is enough") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  const std::size_t lines = b.custody_lines();
  const std::time_t start = b.clip(a).manifest.start;

  CHECK(b.flag(a, store::FlagAction::category, "evidence-6y", "CASE/2026/17") == true);
  CHECK(b.custody_lines() == lines + 1);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 2192)});

  const auto entries = b.custody_entries("flag-category");
  REQUIRE(entries.size() == 1);
  const custody::Entry& e = entries[0];
  CHECK(e.clip == a);
  CHECK(e.user == b.actor.user);
  CHECK(e.details["category"] == "evidence-6y");
  CHECK(e.details["case"] == "CASE/2026/17");
  CHECK(e.details["reason"] == "reason for evidence-6y");
  CHECK(e.details["expires_before"] == text::format_time(start + 31 * k_day));
  CHECK(e.details["expires_after"] == text::format_time(start + 2192 * k_day));
  CHECK(e.details["holds_after"] == json::Value::array());

  const auto flags = store::load_flags(*b.store, a);
  REQUIRE_MESSAGE(flags, why(flags));
  REQUIRE(flags->categories.count("evidence-6y") == 1);
  const store::Mark& m = flags->categories.at("evidence-6y");
  CHECK(m.by == b.actor.user + "@dock01");
  CHECK(m.reason == "reason for evidence-6y");
  CHECK(m.case_ref == "CASE/2026/17");
  CHECK(m.at >= e.time - 1);
  CHECK(flags->holds.empty());

  // The same again: nothing changes, nothing is recorded.
  const std::string log_before = b.log_text();
  const std::string flags_before = get_file(b.clip(a).dir / "flags.json");
  CHECK(b.flag(a, store::FlagAction::category, "evidence-6y", "CASE/2026/17") == false);
  CHECK(b.log_text() == log_before);
  CHECK(get_file(b.clip(a).dir / "flags.json") == flags_before);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 2192)});

  // Another case reference is a change.
  CHECK(b.flag(a, store::FlagAction::category, "evidence-6y", "CASE/2026/18") == true);
  CHECK(b.custody_lines() == lines + 2);

  // A second, longer category wins; taking it out goes back.
  CHECK(b.flag(a, store::FlagAction::category, "evidence-10y") == true);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 3653)});
  CHECK(b.flag(a, store::FlagAction::category, "until-review") == true);
  CHECK(b.entries_of(a) == std::vector<std::string>{"never"});
  CHECK(b.flag(a, store::FlagAction::uncategorise, "until-review") == true);
  CHECK(b.flag(a, store::FlagAction::uncategorise, "evidence-10y") == true);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 2192)});
  CHECK(b.flag(a, store::FlagAction::uncategorise, "evidence-6y") == true);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 31)});
  CHECK(b.flag(a, store::FlagAction::uncategorise, "evidence-6y") == false);
  CHECK(b.custody_lines() == lines + 7);
  CHECK(b.custody_entries("flag-uncategorise").size() == 3);
  CHECK(store::load_flags(*b.store, a)->empty());
}

TEST_CASE("apply_flag: hold and release") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  const std::size_t lines = b.custody_lines();
  CHECK(b.flag(a, store::FlagAction::hold, "foi:REQ-7") == true);
  CHECK(b.flag(a, store::FlagAction::hold, "foi:REQ-7") == false);
  CHECK(b.flag(a, store::FlagAction::hold, "sar:A/1") == true);
  CHECK(b.custody_lines() == lines + 2);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 31)}); // a hold does not move it
  auto flags = store::load_flags(*b.store, a);
  REQUIRE(flags);
  CHECK(flags->holds.size() == 2);
  CHECK(flags->holds.at("foi:REQ-7").reason == "reason for foi:REQ-7");
  CHECK(flags->holds.at("foi:REQ-7").case_ref.empty());

  const auto holds = b.custody_entries("flag-hold");
  REQUIRE(holds.size() == 2);
  CHECK(holds[0].details["hold"] == "foi:REQ-7");
  CHECK(holds[0].details["holds_after"] == json::Value::array({"foi:REQ-7"}));
  CHECK_FALSE(holds[0].details.contains("case"));
  CHECK(holds[1].details["holds_after"] == json::Value::array({"foi:REQ-7", "sar:A/1"}));

  CHECK(b.flag(a, store::FlagAction::release, "foi:REQ-7") == true);
  CHECK(b.flag(a, store::FlagAction::release, "foi:REQ-7") == false);
  CHECK(b.flag(a, store::FlagAction::release, "legal:never-placed") == false);
  CHECK(b.flag(a, store::FlagAction::release, "sar:A/1") == true);
  CHECK(b.custody_lines() == lines + 4);
  const auto releases = b.custody_entries("flag-release");
  REQUIRE(releases.size() == 2);
  CHECK(releases[1].details["holds_after"] == json::Value::array());
  CHECK(store::load_flags(*b.store, a)->empty());
}

TEST_CASE("apply_flag refuses a clip that is not there") {
  Bench b;
  const store::FlagRequest req{store::FlagAction::hold, "foi:REQ-7", "", "r"};
  const auto absent = store::apply_flag(*b.store, b.policy(), b.actor, "20261124-CAM0042-000001", req);
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code == Errc::check_failed);
  CHECK_FALSE(store::apply_flag(*b.store, b.policy(), b.actor, "../x", req));
  CHECK(b.custody_lines() == 1); // the key-trust entry only
}

TEST_CASE("retain deletes unflagged clips whose period has run out, and nothing else") {
  Bench b;
  const std::string plain1 = b.record(b.t0, 1500);
  const std::string flagged = b.record(b.t0 + 600);
  const std::string held = b.record(b.t0 + 1200);
  const std::string plain2 = b.record(b.t0 + 1800, 2500);
  b.pull(4);
  CHECK(b.flag(flagged, store::FlagAction::category, "evidence-6y"));
  CHECK(b.flag(held, store::FlagAction::hold, "foi:REQ-7"));
  const std::string day31 = b.day_after(plain1, 31);

  SUBCASE("30 days on: nothing") {
    const std::string log_before = b.log_text();
    RetainLog events;
    const auto s = b.retain(b.t0 + 30 * k_day, events);
    CHECK(s.deleted == 0);
    CHECK(s.held == 0); // the held clip's day is not due yet
    CHECK(events.deleted_clips.empty());
    for (const auto& id : {plain1, flagged, held, plain2}) CHECK(b.has_video(id));
    CHECK(b.log_text() == log_before);
  }

  SUBCASE("32 days on: the unflagged clips go") {
    const std::time_t now = b.t0 + 32 * k_day;
    const std::size_t lines = b.custody_lines();
    RetainLog events;
    const auto s = b.retain(now, events);
    CHECK(s.deleted == 2);
    CHECK(s.bytes == 1500 + 2500);
    CHECK(s.held == 1);
    CHECK(s.problems == 0);
    CHECK(events.deleted_ids() == std::vector<std::string>{plain1, plain2});
    CHECK(events.held_ids == std::vector<std::string>{held});
    CHECK(events.holds[held] == std::vector<std::string>{"foi:REQ-7"});
    REQUIRE(events.deleted_clips.size() == 2);
    CHECK(events.deleted_clips[0].rule == "uncategorised (31 days)");
    CHECK(events.deleted_clips[0].expires == b.clip(plain1).manifest.start + 31 * k_day);
    CHECK(events.deleted_clips[0].size == 1500);

    for (const auto& id : {plain1, plain2}) {
      CAPTURE(id);
      const store::StoredClip c = b.clip(id); // the signed manifest stays
      CHECK(fs::kind_of(c.video()) == fs::Kind::none);
      CHECK(fs::kind_of(c.dir / "manifest.json.minisig") == fs::Kind::regular);
      const auto t = store::Tombstone::load(c);
      REQUIRE_MESSAGE(t, why(t));
      REQUIRE(t->has_value());
      CHECK((*t)->video_sha256 == c.manifest.video.sha256);
      CHECK((*t)->manifest_sha256 == c.manifest_sha256);
      CHECK((*t)->size == c.manifest.video.size);
      CHECK((*t)->deleted == now);
      CHECK((*t)->expired == c.manifest.start + 31 * k_day);
      CHECK((*t)->rule == "uncategorised (31 days)");
      CHECK(b.entries_of(id).empty());
      CHECK(b.deletions_of(id) == 1);
    }
    const auto deletions = b.custody_entries("retain-delete");
    REQUIRE(deletions.size() == 2);
    CHECK(b.custody_lines() == lines + 2);
    CHECK(deletions[0].clip == plain1);
    CHECK(deletions[0].details["rule"] == "uncategorised (31 days)");
    CHECK(deletions[0].details["video_sha256"] == b.clip(plain1).manifest.video.sha256);
    CHECK(deletions[0].details["manifest_sha256"] == b.clip(plain1).manifest_sha256);
    CHECK(deletions[0].details["size"] == 1500);
    CHECK(deletions[0].details["expired"] == text::format_time(b.clip(plain1).manifest.start + 31 * k_day));

    // The flagged and the held clips stay, with their entries.
    CHECK(b.has_video(flagged));
    CHECK(b.has_video(held));
    CHECK(b.entries_of(flagged) == std::vector<std::string>{b.day_after(flagged, 2192)});
    CHECK(b.entries_of(held) == std::vector<std::string>{day31});

    // Again: nothing more to do.
    RetainLog again;
    const auto s2 = b.retain(now + 60, again);
    CHECK(s2.deleted == 0);
    CHECK(s2.held == 1);
    CHECK(b.custody_lines() == lines + 2);

    // Released, the held clip goes at the next run.
    CHECK(b.flag(held, store::FlagAction::release, "foi:REQ-7"));
    RetainLog after;
    const auto s3 = b.retain(now + 120, after);
    CHECK(s3.deleted == 1);
    CHECK(after.deleted_ids() == std::vector<std::string>{held});
    CHECK_FALSE(b.has_video(held));
    CHECK(b.entries_of(held).empty());
  }
}

TEST_CASE("retain --dry-run changes no byte; --report lists what expires") {
  Bench b;
  const std::string a = b.record(b.t0);
  const std::string flagged = b.record(b.t0 + 600);
  const std::string held = b.record(b.t0 + 1200);
  const std::string c = b.record(b.t0 + 1800);
  b.pull(4);
  CHECK(b.flag(flagged, store::FlagAction::category, "evidence-6y"));
  CHECK(b.flag(held, store::FlagAction::hold, "complaint:x.y"));
  // A stale entry too: a dry run must not move it either.
  put_file(b.root() / "expiry" / b.day_after(flagged, 31) / flagged, "");
  const auto before = b.snapshot();

  RetainLog dry;
  const auto s = b.retain(b.t0 + 32 * k_day, dry, /*dry_run=*/true);
  CHECK(s.deleted == 2);
  CHECK(s.bytes == 2000);
  CHECK(s.held == 1);
  CHECK(dry.deleted_ids() == std::vector<std::string>{a, c});
  CHECK(b.snapshot() == before);

  RetainLog early;
  const auto r0 = b.retain(b.t0 + 25 * k_day, early, false, 3);
  CHECK(r0.deleted == 0);
  CHECK(early.expiring_ids.empty());
  CHECK(early.deleted_clips.empty());

  RetainLog report;
  const auto r = b.retain(b.t0 + 25 * k_day, report, false, 10);
  CHECK(r.deleted == 0);
  CHECK(report.expiring_ids == std::vector<std::string>{a, c});
  CHECK(report.held_ids == std::vector<std::string>{held});
  CHECK(report.deleted_clips.empty());
  CHECK(b.snapshot() == before);

  // A report needs no sane clock: it deletes nothing.
  RetainLog past;
  const auto p = b.retain(b.t0 - 100 * k_day, past, false, 200);
  CHECK(past.expiring_ids == std::vector<std::string>{a, c});
  CHECK(p.deleted == 0);
  CHECK(b.snapshot() == before);
}

TEST_CASE("retain deletes nothing when the clock is earlier than the store's newest record") {
  Bench b;
  const std::time_t real = std::time(nullptr);

  SUBCASE("the newest custody entry") {
    // Clips long past their period, so only the custody log is later than the clock.
    const std::string a = b.record(real - 40 * k_day);
    b.pull(1);
    const auto before = b.snapshot();
    RetainLog events;
    store::RetainOptions options;
    options.now = real - 3600;
    const auto r = store::retain(*b.store, b.actor, options, events);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK(r.error().subject == "clock");
    CHECK(contains(r.error().message, "nothing deleted"));
    CHECK(events.deleted_clips.empty());
    CHECK(b.snapshot() == before);

    RetainLog ok;
    CHECK(b.retain(real + 3600, ok).deleted == 1);
    CHECK_FALSE(b.has_video(a));
  }

  SUBCASE("not a camera's clock: a clip from a camera set ahead does not stop retention") {
    const std::string a = b.record(b.t0);
    const std::string late = b.record(b.t0 + 40 * k_day);
    PullLog pulled;
    store::PullOptions po;
    const auto p = store::pull(*b.store, b.tmp / "cam", b.actor, po, pulled);
    REQUIRE_MESSAGE(p, why(p));
    CHECK(p->ingested == 2);
    CHECK(p->anomalies == 1); // the pull says the camera's clock is ahead
    CHECK_FALSE(p->ok());
    RetainLog events;
    store::RetainOptions options;
    options.now = b.t0 + 32 * k_day; // the first clip is due; the second "ends" in the future
    const auto r = store::retain(*b.store, b.actor, options, events);
    REQUIRE_MESSAGE(r, why(r));
    CHECK(r->deleted == 1);
    CHECK_FALSE(b.has_video(a));
    CHECK(b.has_video(late));
  }
}

TEST_CASE("a stale expiry entry deletes nothing and is moved") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  const std::string day31 = b.day_after(a, 31);
  CHECK(b.entries_of(a) == std::vector<std::string>{day31});
  CHECK(b.flag(a, store::FlagAction::category, "evidence-6y"));
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 2192)});
  // As if the move had been cut short: the old entry is back.
  put_file(b.root() / "expiry" / day31 / a, "");
  const std::size_t lines = b.custody_lines();

  RetainLog events;
  const auto s = b.retain(b.t0 + 32 * k_day, events);
  CHECK(s.deleted == 0);
  CHECK(events.deleted_clips.empty());
  CHECK(b.has_video(a));
  CHECK(fs::kind_of(b.clip(a).dir / "deleted.json") == fs::Kind::none);
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 2192)});
  CHECK(b.custody_lines() == lines);
}

TEST_CASE("a stale entry of a clip now kept indefinitely is moved to never") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  // Flagged behind the index's back (a flags.json restored from backup, say).
  store::ClipFlags f;
  f.categories["until-review"] = store::Mark{"alice@dock01", b.t0, "r", ""};
  REQUIRE(store::save_flags(*b.store, a, f));
  RetainLog events;
  CHECK(b.retain(b.t0 + 32 * k_day, events).deleted == 0);
  CHECK(b.has_video(a));
  CHECK(b.entries_of(a) == std::vector<std::string>{"never"});
}

TEST_CASE("a deletion cut short after the tombstone is completed by the next run") {
  Bench b;
  const std::string a = b.record(b.t0);
  const std::string c = b.record(b.t0 + 600);
  b.pull(2);
  const std::string day31 = b.day_after(a, 31);
  const std::time_t now = b.t0 + 32 * k_day;
  // What a run killed after the tombstone leaves: a's video unlinked, c's not yet; no custody
  // entry; the expiry entries still there.
  for (const auto& id : {a, c}) {
    const store::StoredClip clip = b.clip(id);
    const store::Tombstone t{now - 60, clip.manifest.start + 31 * k_day, "uncategorised (31 days)",
                             clip.manifest.video.size, clip.manifest.video.sha256, clip.manifest_sha256};
    put_file(clip.dir / "deleted.json", t.write(id));
  }
  std::filesystem::remove(b.clip(a).video());
  const std::size_t lines = b.custody_lines();

  RetainLog events;
  b.retain(now, events);
  CHECK(b.custody_lines() == lines + 2);
  CHECK(b.deletions_of(a) == 1);
  CHECK(b.deletions_of(c) == 1);
  CHECK_FALSE(b.has_video(c));
  CHECK(b.entries_of(a).empty());
  CHECK(b.entries_of(c).empty());
  // The tombstone written first is the record: not rewritten.
  CHECK((*store::Tombstone::load(b.clip(a)))->deleted == now - 60);
  const auto del = b.custody_entries("retain-delete");
  REQUIRE(del.size() == 2);
  CHECK(del[0].details["video_sha256"] == b.clip(a).manifest.video.sha256);

  // Again: nothing to add.
  RetainLog again;
  b.retain(now + 60, again);
  CHECK(b.custody_lines() == lines + 2);

  // Cut after the custody entry, before the index entry went: the entry goes, the record stays one.
  put_file(b.root() / "expiry" / day31 / a, "");
  RetainLog third;
  b.retain(now + 120, third);
  CHECK(b.entries_of(a).empty());
  CHECK(b.custody_lines() == lines + 2);
  CHECK(b.deletions_of(a) == 1);
}

TEST_CASE("a clip with entries on two due days is deleted once, with one custody entry") {
  Bench b;
  store::Policy p = store::Policy::defaults();
  p.categories.push_back({"traffic-40d", 40});
  put_file(b.root() / "policy.json", p.write());
  const std::string a = b.record(b.t0);
  b.pull(1);
  CHECK(b.flag(a, store::FlagAction::category, "traffic-40d"));
  CHECK(b.flag(a, store::FlagAction::uncategorise, "traffic-40d"));
  // The move back to day 31 cut short after its new entry: the day-40 entry is still there.
  put_file(b.root() / "expiry" / b.day_after(a, 40) / a, "");
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 31), b.day_after(a, 40)});
  const std::size_t lines = b.custody_lines();

  RetainLog events;
  const auto s = b.retain(b.t0 + 41 * k_day, events);
  CHECK(s.deleted == 1);
  CHECK_FALSE(b.has_video(a));
  CHECK(b.entries_of(a).empty());
  CHECK(b.deletions_of(a) == 1);
  CHECK(b.custody_lines() == lines + 1);
}

TEST_CASE("a longer period in a changed policy moves the entry instead of deleting") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  store::Policy p = store::Policy::defaults();
  p.categories[0].days = 60;
  put_file(b.root() / "policy.json", p.write());
  RetainLog events;
  CHECK(b.retain(b.t0 + 32 * k_day, events).deleted == 0);
  CHECK(b.has_video(a));
  CHECK(b.entries_of(a) == std::vector<std::string>{b.day_after(a, 60)});
  RetainLog later;
  CHECK(b.retain(b.t0 + 61 * k_day, later).deleted == 1);
  CHECK(later.deleted_clips.at(0).rule == "uncategorised (60 days)");
}

TEST_CASE("an error part-way through a run still records the deletions made before it") {
  Bench b;
  const std::string a = b.record(b.t0);
  const std::string damaged = b.record(b.t0 + 600);
  b.pull(2);
  put_file(b.clip(damaged).dir / "flags.json", "{\"bwv_flags\":1,");
  for (int run = 0; run < 2; ++run) {
    CAPTURE(run);
    RetainLog events;
    store::RetainOptions options;
    options.now = b.t0 + 32 * k_day + run;
    (void)store::retain(*b.store, b.actor, options, events); // refusing or reporting the damage are both fine
    CHECK(b.has_video(damaged));
    // Never a video gone without its custody record.
    CHECK((b.has_video(a) || b.deletions_of(a) == 1));
  }
}

TEST_CASE("a video missing before its period ran out is reported, not recorded as deleted by policy") {
  Bench b;
  const std::string a = b.record(b.t0);
  const std::string lost = b.record(b.t0 + 600);
  b.pull(2);
  std::filesystem::remove(b.clip(lost).video());
  RetainLog events;
  store::RetainOptions options;
  options.now = b.t0 + 32 * k_day;
  const auto r = store::retain(*b.store, b.actor, options, events);
  REQUIRE_MESSAGE(r, why(r));
  CHECK(events.deleted_ids() == std::vector<std::string>{a});
  CHECK(r->problems == 1);
  CHECK(fs::kind_of(b.clip(lost).dir / "deleted.json") == fs::Kind::none);
  CHECK(b.deletions_of(lost) == 0);
}

TEST_CASE("apply_flag refuses a clip deleted by policy, and a pull does not index it again") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  RetainLog events;
  REQUIRE(b.retain(b.t0 + 32 * k_day, events).deleted == 1);
  const std::size_t lines = b.custody_lines();

  const store::FlagRequest req{store::FlagAction::category, "evidence-6y", "", "too late"};
  const auto r = store::apply_flag(*b.store, b.policy(), b.actor, a, req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::check_failed);
  CHECK(contains(r.error().message, "deleted by policy"));
  CHECK(fs::kind_of(b.clip(a).dir / "flags.json") == fs::Kind::none);
  CHECK(b.entries_of(a).empty());
  CHECK(b.custody_lines() == lines);

  // The camera still holds the clip (it was never collected): pulling it again brings no entry back.
  b.pull(0);
  CHECK(b.entries_of(a).empty());
  CHECK_FALSE(b.has_video(a));
}

TEST_CASE("retain reports an entry whose clip is not in the store and carries on") {
  Bench b;
  const std::string a = b.record(b.t0);
  b.pull(1);
  const std::string ghost = text::make_clip_id(b.t0, "CAM0099", 1);
  put_file(b.root() / "expiry" / b.day_after(a, 31) / ghost, "");
  put_file(b.root() / "expiry" / b.day_after(a, 31) / "not-a-clip", "");
  RetainLog events;
  store::RetainOptions options;
  options.now = b.t0 + 32 * k_day;
  const auto r = store::retain(*b.store, b.actor, options, events);
  REQUIRE_MESSAGE(r, why(r));
  CHECK(r->deleted == 1);
  CHECK(r->problems == 1);
  REQUIRE(events.problems.size() == 1);
  CHECK(contains(events.problems[0], ghost));
  CHECK_FALSE(b.has_video(a));
  CHECK(fs::kind_of(b.root() / "expiry" / b.day_after(a, 31) / ghost) == fs::Kind::regular);
}

TEST_CASE("retain exits locked while bwv-flag holds locks/policy") {
  Bench b;
  b.record(b.t0);
  b.pull(1);
  auto lock = fs::Lock::acquire(b.root() / "locks/policy", fs::Lock::Mode::exclusive, 0);
  REQUIRE_MESSAGE(lock, why(lock));
  RetainLog events;
  store::RetainOptions options;
  options.now = b.t0 + 32 * k_day;
  const auto r = store::retain(*b.store, b.actor, options, events);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::locked);
  CHECK(events.deleted_clips.empty());
}

TEST_SUITE_END();
