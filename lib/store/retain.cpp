#include "store/retain.hpp"

#include "core/text.hpp"

#include <set>
#include <sys/stat.h>

namespace bwv::store {

namespace {

const char* action_name(FlagAction a) {
  switch (a) {
  case FlagAction::category: return "flag-category";
  case FlagAction::uncategorise: return "flag-uncategorise";
  case FlagAction::hold: return "flag-hold";
  case FlagAction::release: return "flag-release";
  }
  return "flag";
}

json::Value time_or_null(std::optional<std::time_t> t) {
  return t ? json::Value(text::format_time(*t)) : json::Value(nullptr);
}

// The newest time the store has seen: every host's last custody entry, which includes the ingest
// of its newest clip. A clock earlier than this is wrong, and nothing is deleted by it. A clip's
// own times come from a camera's clock and are not trusted for this: one camera set years ahead
// would otherwise stop retention for the whole store.
Result<std::time_t> newest_time(const Store& store) {
  std::time_t newest = 0;
  for (const auto& log : BWV_TRY(store.custody_logs()))
    if (const auto e = BWV_TRY(custody::last_entry(log))) newest = std::max(newest, e->time);
  return newest;
}

json::Value deletion_details(const Tombstone& t) {
  json::Value d = json::Value::object();
  d["rule"] = t.rule;
  d["expired"] = text::format_time(t.expired);
  d["size"] = t.size;
  d["video_sha256"] = t.video_sha256;
  d["manifest_sha256"] = t.manifest_sha256;
  return d;
}

// Whether the custody record's last word on the clip's hold or category NAME is this very change
// (a category's with the same case): an earlier run may have made the change and been cut short
// before recording it. An older entry about the same name (a hold placed, released and placed
// again) is not the record of this change. Each log in its own order; across hosts' logs, the
// later time.
Result<bool> last_recorded(const Store& store, const std::string& id, const custody::NewEntry& entry,
                           const std::string& key, const std::string& name) {
  std::optional<custody::Entry> last;
  for (const auto& log : BWV_TRY(store.custody_logs())) {
    std::optional<custody::Entry> in_log;
    for (auto& e : BWV_TRY(custody::read(log)).entries) {
      if (e.clip != id || !e.action.starts_with("flag-")) continue;
      const auto it = e.details.find(key);
      if (it != e.details.end() && it->is_string() && it->get<std::string>() == name) in_log = std::move(e);
    }
    if (in_log && (!last || in_log->time >= last->time)) last = std::move(in_log);
  }
  if (!last || last->action != entry.action) return false;
  if (entry.action != "flag-category") return true;
  return last->details.value("case", json::Value()) == entry.details.value("case", json::Value());
}

} // namespace

Result<void> check_flag_request(const Policy& policy, const FlagRequest& r) {
  if (r.reason.empty()) return fail(Errc::usage, "--reason", "a reason is required");
  if (r.reason.size() > 4096) return fail(Errc::usage, "--reason", "longer than 4096 bytes");
  if (r.case_ref.size() > 128) return fail(Errc::usage, "--case", "longer than 128 bytes");
  switch (r.action) {
  case FlagAction::uncategorise:
    // A category since dropped from the policy can still be taken off its clips.
    if (!is_category_name(r.name) || r.name == k_uncategorised)
      return fail(Errc::usage, text::printable(r.name), "not a category name");
    return {};
  case FlagAction::category:
    if (!is_category_name(r.name) || r.name == k_uncategorised || !policy.find(r.name)) {
      std::string known;
      for (const auto& c : policy.categories)
        if (c.name != k_uncategorised) known += (known.empty() ? "" : ", ") + c.name;
      return fail(Errc::usage, text::printable(r.name), "unknown category (the policy has: " + known + ")");
    }
    return {};
  case FlagAction::hold:
  case FlagAction::release:
    if (!is_hold_ref(r.name))
      return fail(Errc::usage, text::printable(r.name),
                  "not a hold reference: KIND:REF with KIND foi, sar, complaint or legal");
    return {};
  }
  return {};
}

Result<void> settle_expiry(const Store& store, const Policy& policy, const StoredClip& clip,
                           const ClipFlags& flags) {
  const Retention r = BWV_TRY(retention_in(store, policy, clip, flags));
  BWV_CHECK(expiry_put(store, clip.id, r.expires));
  BWV_CHECK(expiry_remove(store, clip.id, expiry_day(r.expires)));
  if (clip.manifest.derived_from) return {};
  // The derivatives follow the original: their entries move with its flags. Best effort: one
  // damaged derivative must not stop the rest, and an entry left behind is safe, because
  // bwv-retain decides from the flags of both when it reaches it, and moves it then.
  for (const auto& id : BWV_TRY(store.derivatives(clip.id))) {
    auto settled = [&]() -> Result<void> {
      const StoredClip d = BWV_TRY(store.load_clip(id));
      if (BWV_TRY(Tombstone::load(d))) return {};
      return settle_expiry(store, policy, d, BWV_TRY(load_flags(store, id)));
    }();
    (void)settled;
  }
  return {};
}

Result<bool> apply_flag(const Store& store, const Policy& policy, const custody::Actor& actor,
                        const std::string& id, const FlagRequest& req) {
  const StoredClip clip = BWV_TRY(store.load_clip(id));
  if (const auto t = BWV_TRY(Tombstone::load(clip)))
    return fail(Errc::check_failed, id,
                "its video was deleted by policy on " + text::format_time(t->deleted) + "; nothing to flag");
  ClipFlags flags = BWV_TRY(load_flags(store, id));
  const Retention before = BWV_TRY(retention_in(store, policy, clip, flags));
  const Mark mark{actor.user + "@" + actor.host, std::time(nullptr), req.reason, req.case_ref};
  bool changed = false;
  switch (req.action) {
  case FlagAction::category: {
    auto it = flags.categories.find(req.name);
    changed = it == flags.categories.end() || it->second.case_ref != req.case_ref;
    if (changed) flags.categories[req.name] = mark;
    break;
  }
  case FlagAction::uncategorise: changed = flags.categories.erase(req.name) > 0; break;
  case FlagAction::hold:
    changed = !flags.holds.count(req.name);
    if (changed) flags.holds[req.name] = mark;
    break;
  case FlagAction::release: changed = flags.holds.erase(req.name) > 0; break;
  }
  const bool protective = req.action == FlagAction::category || req.action == FlagAction::hold;
  const Retention after = BWV_TRY(retention_in(store, policy, clip, flags));
  json::Value d = json::Value::object();
  d[req.action == FlagAction::category || req.action == FlagAction::uncategorise ? "category" : "hold"] = req.name;
  if (req.action == FlagAction::category) d["case"] = req.case_ref;
  d["reason"] = req.reason;
  d["expires_before"] = time_or_null(before.expires);
  d["expires_after"] = time_or_null(after.expires);
  d["holds_after"] = after.holds;
  const custody::NewEntry entry{action_name(req.action), id, d};
  if (changed && protective) {
    // A hold or a category takes effect before it is logged: a crash between the two never
    // leaves a hold on record that does not stop deletion. A rerun completes the record (below).
    BWV_CHECK(save_flags(store, id, flags));
    BWV_CHECK(store.append_custody(actor, {entry}));
  } else if (changed) {
    // A release is logged before it takes effect: nothing is ever released off the record.
    BWV_CHECK(store.append_custody(actor, {entry}));
    BWV_CHECK(save_flags(store, id, flags));
  } else if (protective && !BWV_TRY(last_recorded(store, id, entry, d.begin().key(), req.name))) {
    // Already in effect but not on record: an earlier run was cut short between the two.
    BWV_CHECK(store.append_custody(actor, {entry}));
  }
  // Also when nothing changed: completes an expiry move a crash may have cut short.
  BWV_CHECK(settle_expiry(store, policy, clip, flags));
  return changed;
}

Result<std::size_t> reindex(const Store& store, int wait_seconds) {
  auto store_lock = BWV_TRY(store.lock_store(fs::Lock::Mode::shared, wait_seconds));
  auto policy_lock = BWV_TRY(fs::Lock::acquire(store.root() / "locks/policy", fs::Lock::Mode::exclusive, wait_seconds));
  const Policy policy = BWV_TRY(Policy::load(store));
  // A linked day is refused before any entry is made, not half way through.
  BWV_CHECK(expiry_days(store));
  // Every clip's entry where its flags and the policy put it now...
  std::set<std::pair<std::string, std::string>> wanted; // day, id
  std::set<std::string> indexed;                        // ids whose entries this run decides
  for (const auto& id : BWV_TRY(store.clip_ids())) {
    const StoredClip clip = BWV_TRY(store.load_clip(id));
    // A deleted clip's entry stays until bwv-retain has recorded the deletion and removed it.
    if (BWV_TRY(Tombstone::load(clip))) continue;
    indexed.insert(id);
    const Retention r = BWV_TRY(retention_in(store, policy, clip, BWV_TRY(load_flags(store, id))));
    wanted.insert({expiry_day(r.expires), id});
    BWV_CHECK(expiry_put(store, id, r.expires));
  }
  // ...and no other. New entries first: a clip is never without one.
  std::size_t removed = 0;
  for (const auto& day : BWV_TRY(expiry_days(store)))
    for (const auto& id : BWV_TRY(fs::list_dir(store.root() / "expiry" / day)))
      // Only clips seen above: one pulled while this runs keeps the entry its pull wrote.
      if (indexed.count(id) && !wanted.count({day, id})) {
        BWV_CHECK(fs::remove_file(store.root() / "expiry" / day / id));
        ++removed;
      }
  return removed;
}

Result<RetainSummary> retain(const Store& store, const custody::Actor& actor,
                             const RetainOptions& options, RetainEvents& events) {
  RetainSummary summary;
  auto store_lock = BWV_TRY(store.lock_store(fs::Lock::Mode::shared, options.wait_seconds));
  const bool report = options.report_days.has_value();
  // Only a run that deletes or moves entries excludes bwv-flag; a dry run or a report reads.
  std::optional<fs::Lock> policy_lock;
  if (!report && !options.dry_run)
    policy_lock = BWV_TRY(fs::Lock::acquire(store.root() / "locks/policy", fs::Lock::Mode::exclusive,
                                            options.wait_seconds));
  const Policy policy = BWV_TRY(Policy::load(store));
  const std::time_t now = options.now ? options.now : std::time(nullptr);

  if (!report) {
    const std::time_t newest = BWV_TRY(newest_time(store));
    if (now < newest)
      return fail(Errc::check_failed, "clock",
                  "the clock says " + text::format_time(now) + ", earlier than the store's newest record (" +
                      text::format_time(newest) + "); nothing deleted");
  }
  const std::time_t horizon = report ? now + std::time_t(*options.report_days) * 86400 : now;
  custody::ClipIndex deletions([&store] { return store.custody_logs(); }, "retain-delete");
  std::vector<std::pair<std::string, custody::NewEntry>> batch; // expiry day and entry
  std::vector<std::pair<std::string, std::string>> extra_entries; // more entries of a handled clip
  std::set<std::string> recorded;                                  // deletions in this run's batches

  auto flush = [&]() -> Result<void> {
    if (!batch.empty()) {
      std::vector<custody::NewEntry> entries;
      for (auto& [day, e] : batch) entries.push_back(e);
      BWV_CHECK(store.append_custody(actor, entries));
    }
    for (auto& [day, e] : batch) extra_entries.push_back({day, *e.clip});
    for (auto& [day, id] : extra_entries) BWV_CHECK(fs::remove_file(store.root() / "expiry" / day / id));
    std::set<std::string> days;
    for (auto& [day, id] : extra_entries) days.insert(day);
    for (const auto& day : days) BWV_CHECK(fs::fsync_path(store.root() / "expiry" / day));
    batch.clear();
    extra_entries.clear();
    return {};
  };

  const int unflagged_days = *policy.find(k_uncategorised)->days;
  const std::time_t sure_before = horizon - std::time_t(unflagged_days + 1) * 86400;

  // A clip with no flags is kept for the unflagged period from its start, and it started on the
  // day its id names: once that day plus the period plus a day is past, it has certainly
  // expired, and a dry run or report need not read its manifest to say so.
  auto plainly_expired = [&](const std::string& id) -> Result<bool> {
    if (!(report || options.dry_run) || options.details) return false;
    if (manifest::split_derivative_id(id)) return false; // follows its original's flags
    const auto started = text::parse_time(id.substr(0, 4) + "-" + id.substr(4, 2) + "-" + id.substr(6, 2) + "T00:00:00Z");
    if (!started || *started > sure_before) return false;
    const fs::Path dir = BWV_TRY(store.clip_dir(id));
    if (BWV_TRY(fs::kind_of(dir / "flags.json")) != fs::Kind::none ||
        BWV_TRY(fs::kind_of(dir / "deleted.json")) != fs::Kind::none ||
        BWV_TRY(fs::kind_of(dir / "manifest.json")) != fs::Kind::regular)
      return false;
    struct stat st {};
    if (::lstat((dir / "video.mp4").c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false; // the full path reports it
    const std::string rule = std::string(k_uncategorised) + " (" + std::to_string(unflagged_days) + " days)";
    if (report) {
      events.expiring(id, 0, rule);
    } else {
      ++summary.deleted;
      summary.bytes += static_cast<std::uint64_t>(st.st_size);
      events.deleted(id, 0, rule, static_cast<std::uint64_t>(st.st_size));
    }
    return true;
  };

  // One clip; an error here stops the run (after the batch so far is recorded).
  auto one = [&](const std::string& day, const std::string& id) -> Result<void> {
    if (BWV_TRY(plainly_expired(id))) return {};
    auto clip = store.load_clip(id);
    if (!clip) {
      events.problem(id, "in the expiry index but not loadable: " + clip.error().message);
      ++summary.problems;
      return {};
    }
    auto tomb = Tombstone::load(*clip);
    auto flags = load_flags(store, id);
    auto retention = tomb && flags ? retention_in(store, policy, *clip, *flags) : Result<Retention>(Retention{});
    if (!tomb || !flags || !retention) {
      // One damaged clip must not stop retention of the others.
      const Error& e = !tomb ? tomb.error() : !flags ? flags.error() : retention.error();
      events.problem(e.subject, e.message);
      ++summary.problems;
      return {};
    }
    const Retention& r = *retention;
    const fs::Kind video_kind = BWV_TRY(fs::kind_of(clip->video()));
    if (video_kind != fs::Kind::none && video_kind != fs::Kind::regular) {
      // A link in its place is not the video the manifest names: deleting it and recording a
      // deletion by policy would cover up whatever became of the real one.
      events.problem(clip->video().string(), "not a regular file (a symbolic link?); not deleted (see bwv-verify)");
      ++summary.problems;
      return {};
    }
    const bool video_present = video_kind != fs::Kind::none;
    if (*tomb) {
      // An earlier run was cut short, or the clip had a second entry: complete the record once.
      if (report || options.dry_run) return {};
      if (video_present && r.held()) {
        // Held since that run was cut short, before its video went: the hold wins.
        BWV_CHECK(fs::remove_file(clip->dir / "deleted.json"));
        BWV_CHECK(fs::fsync_path(clip->dir));
        BWV_CHECK(settle_expiry(store, policy, *clip, *flags));
        return {};
      }
      if (video_present) BWV_CHECK(fs::remove_file(clip->video()));
      if (!recorded.count(id) && !BWV_TRY(deletions.has(id))) {
        batch.push_back({day, {"retain-delete", id, deletion_details(**tomb)}});
        recorded.insert(id);
      } else {
        extra_entries.push_back({day, id});
      }
      return {};
    }
    if (!r.expires || *r.expires > horizon) {
      // A stale entry (the clip was flagged since): never delete on it; move it.
      if (!report && !options.dry_run) BWV_CHECK(settle_expiry(store, policy, *clip, *flags));
      return {};
    }
    if (r.held()) {
      events.held(id, r.holds);
      ++summary.held;
      return {};
    }
    if (!video_present) {
      // Not a deletion by policy: recording it as one would hide a missing video.
      events.problem(id, "video.mp4 is missing; not recorded as a deletion (see bwv-verify)");
      ++summary.problems;
      return {};
    }
    if (report) {
      events.expiring(id, *r.expires, r.rule);
      return {};
    }
    ++summary.deleted;
    summary.bytes += clip->manifest.video.size;
    if (options.dry_run) {
      events.deleted(id, *r.expires, r.rule, clip->manifest.video.size);
      return {};
    }
    Tombstone t{now, *r.expires, r.rule, clip->manifest.video.size, clip->manifest.video.sha256,
                clip->manifest_sha256};
    // The tombstone first: once the video is gone, what it was and why it went are on disk.
    BWV_CHECK(fs::write_file_atomic(clip->dir / "deleted.json", t.write(id)));
    BWV_CHECK(fs::remove_file(clip->video()));
    BWV_CHECK(fs::fsync_path(clip->dir));
    batch.push_back({day, {"retain-delete", id, deletion_details(t)}});
    recorded.insert(id);
    events.deleted(id, *r.expires, r.rule, clip->manifest.video.size);
    if (batch.size() >= 1000) BWV_CHECK(flush());
    return {};
  };

  auto run = [&]() -> Result<void> {
    for (const auto& day : BWV_TRY(expiry_days_until(store, text::format_time(horizon).substr(0, 10))))
      for (const auto& id : BWV_TRY(fs::list_dir(store.root() / "expiry" / day)))
        if (!id.starts_with(".") && text::is_clip_id(id)) BWV_CHECK(one(day, id));
    return {};
  };
  const auto ran = run();
  // Whatever was deleted before an error is recorded all the same.
  const auto flushed = flush();
  if (!ran) return std::unexpected(ran.error());
  if (!flushed) return std::unexpected(flushed.error());
  return summary;
}

} // namespace bwv::store
