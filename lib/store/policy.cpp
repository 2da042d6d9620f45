#include "store/policy.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace bwv::store {

namespace {

json::Value mark_json(const Mark& m, bool with_case) {
  json::Value v = json::Value::object();
  v["by"] = m.by;
  v["at"] = text::format_time(m.at);
  v["reason"] = m.reason;
  if (with_case) v["case"] = m.case_ref;
  return v;
}

Result<Mark> mark_from(const json::Value& v, const std::string& subject, bool with_case) {
  json::Reader r(v, subject);
  Mark m;
  m.by = BWV_TRY(r.str("by"));
  m.at = BWV_TRY(text::parse_time(BWV_TRY(r.str("at"))));
  m.reason = BWV_TRY(r.str("reason"));
  if (with_case) m.case_ref = BWV_TRY(r.str("case"));
  return m;
}

std::string day_of(std::time_t t) { return text::format_time(t).substr(0, 10); }

} // namespace

Policy Policy::defaults() {
  return Policy{{{k_uncategorised, 31}, {"evidence-6y", 2192}, {"evidence-10y", 3653}, {"until-review", std::nullopt}}};
}

std::string Policy::write() const {
  json::Value cats = json::Value::object();
  for (const auto& c : categories) {
    json::Value v = json::Value::object();
    v["days"] = c.days ? json::Value(*c.days) : json::Value(nullptr);
    cats[c.name] = std::move(v);
  }
  json::Value v = json::Value::object();
  v["bwv_policy"] = 1;
  v["categories"] = std::move(cats);
  return json::write_pretty(v);
}

Result<Policy> Policy::load(const Store& store) {
  const fs::Path path = store.root() / "policy.json";
  if (BWV_TRY(fs::kind_of(path)) == fs::Kind::none) return defaults();
  const std::string raw = BWV_TRY(fs::read_file(path, 1 << 20));
  const json::Value v = BWV_TRY(json::parse(raw, path.string()));
  json::Reader r(v, path.string());
  if (BWV_TRY(r.integer("bwv_policy", 0, json::k_max_int)) != 1)
    return r.bad("bwv_policy", "unknown policy version");
  Policy p;
  for (const auto& [name, c] : BWV_TRY(r.object("categories"))->items()) {
    if (!is_category_name(name)) return r.bad("categories", "\"" + text::printable(name) + "\" is not a category name");
    json::Reader cr(c, path.string(), "categories." + name + ".");
    const json::Value* days = c.is_object() && c.contains("days") ? &c["days"] : nullptr;
    if (!days) return cr.bad("days", "missing");
    if (days->is_null())
      p.categories.push_back({name, std::nullopt});
    else {
      const auto n = BWV_TRY(cr.integer("days", 1, 100000));
      p.categories.push_back({name, static_cast<int>(n)});
    }
  }
  if (!p.find(k_uncategorised))
    return r.bad("categories", "must define \"uncategorised\" (the period of clips nobody flagged)");
  if (!p.find(k_uncategorised)->days)
    return r.bad("categories", "\"uncategorised\" must have a period: footage nobody flagged is deleted");
  return p;
}

const Category* Policy::find(const std::string& name) const {
  for (const auto& c : categories)
    if (c.name == name) return &c;
  return nullptr;
}

bool is_category_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_hold_ref(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view kind = s.substr(0, colon), ref = s.substr(colon + 1);
  if (kind != "foi" && kind != "sar" && kind != "complaint" && kind != "legal") return false;
  if (ref.empty() || ref.size() > 64) return false;
  return std::all_of(ref.begin(), ref.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/' || c == '-';
  });
}

Result<ClipFlags> load_flags(const Store& store, const std::string& id) {
  const fs::Path path = BWV_TRY(store.clip_dir(id)) / "flags.json";
  ClipFlags f;
  if (BWV_TRY(fs::kind_of(path)) == fs::Kind::none) return f;
  const std::string raw = BWV_TRY(fs::read_file(path, 1 << 20));
  const json::Value v = BWV_TRY(json::parse(raw, path.string()));
  json::Reader r(v, path.string());
  if (BWV_TRY(r.integer("bwv_flags", 0, json::k_max_int)) != 1) return r.bad("bwv_flags", "unknown version");
  for (const auto& [name, m] : BWV_TRY(r.object("categories"))->items())
    f.categories[name] = BWV_TRY(mark_from(m, path.string(), true));
  for (const auto& [ref, m] : BWV_TRY(r.object("holds"))->items())
    f.holds[ref] = BWV_TRY(mark_from(m, path.string(), false));
  return f;
}

Result<void> save_flags(const Store& store, const std::string& id, const ClipFlags& flags) {
  json::Value cats = json::Value::object(), holds = json::Value::object();
  for (const auto& [name, m] : flags.categories) cats[name] = mark_json(m, true);
  for (const auto& [ref, m] : flags.holds) holds[ref] = mark_json(m, false);
  json::Value v = json::Value::object();
  v["bwv_flags"] = 1;
  v["categories"] = std::move(cats);
  v["holds"] = std::move(holds);
  const fs::Path dir = BWV_TRY(store.clip_dir(id));
  return fs::write_file_atomic(dir / "flags.json", json::write_pretty(v));
}

Retention retention_of(const Policy& policy, const manifest::Manifest& m, const ClipFlags& flags) {
  Retention r;
  for (const auto& [ref, mark] : flags.holds) r.holds.push_back(ref);
  auto consider = [&](const std::string& name) {
    const Category* c = policy.find(name);
    // A category since dropped from the policy keeps the clip: never delete on a guess.
    if (!c || !c->days) {
      r.expires.reset();
      r.rule = name + (c ? " (indefinite)" : " (not in the policy: kept)");
      return false;
    }
    const std::time_t t = m.start + std::time_t(*c->days) * 86400;
    if (r.rule.empty() || (r.expires && t >= *r.expires)) {
      r.expires = t;
      r.rule = name + " (" + std::to_string(*c->days) + " days)";
    }
    return true;
  };
  // The unflagged period is the floor: a category never shortens it.
  consider(k_uncategorised);
  for (const auto& [name, mark] : flags.categories)
    if (!consider(name)) return r;
  return r;
}

Result<Retention> retention_in(const Store& store, const Policy& policy, const StoredClip& clip,
                               const ClipFlags& flags) {
  Retention own = retention_of(policy, clip.manifest, flags);
  if (!clip.manifest.derived_from) return own;
  const std::string& original = clip.manifest.derived_from->clip_id;
  // The original's manifest may be unreadable; its start is the derivative's (copied, and checked
  // by bwv-verify), so its flags are all that is needed.
  const Retention theirs = retention_of(policy, clip.manifest, BWV_TRY(load_flags(store, original)));
  Retention r = own;
  for (const auto& h : theirs.holds)
    if (std::find(r.holds.begin(), r.holds.end(), h) == r.holds.end()) r.holds.push_back(h + " (on " + original + ")");
  if (own.expires && (!theirs.expires || *theirs.expires >= *own.expires)) {
    r.expires = theirs.expires;
    r.rule = "follows " + original + ": " + theirs.rule;
  }
  return r;
}

std::string expiry_day(std::optional<std::time_t> expires) {
  return expires ? day_of(*expires) : std::string("never");
}

Result<void> expiry_put(const Store& store, const std::string& id, std::optional<std::time_t> expires) {
  const fs::Path rel = fs::Path("expiry") / expiry_day(expires);
  BWV_CHECK(fs::make_dirs(store.root(), rel));
  BWV_CHECK(fs::create_exclusive(store.root() / rel / id, ""));
  return {};
}

Result<void> expiry_add(fs::Batch& batch, const Store& store, const std::string& id,
                        std::optional<std::time_t> expires) {
  const fs::Path rel = fs::Path("expiry") / expiry_day(expires);
  BWV_CHECK(fs::make_dirs(store.root(), rel));
  return batch.add(store.root() / rel / id, "", 0644, /*exclusive=*/true);
}

Result<void> expiry_remove(const Store& store, const std::string& id, std::optional<std::string> keep_day) {
  // A clip's entries can only be in days from its start year on, or in never/.
  for (const auto& day : BWV_TRY(expiry_days(store))) {
    if (keep_day && day == *keep_day) continue;
    const fs::Path p = store.root() / "expiry" / day / id;
    if (day.size() == 10 && day.compare(0, 4, id, 0, 4) < 0) continue; // expires before the clip began
    if (BWV_TRY(fs::kind_of(p)) != fs::Kind::none) {
      BWV_CHECK(fs::remove_file(p));
      BWV_CHECK(fs::fsync_path(p.parent_path()));
    }
  }
  return {};
}

Result<std::vector<std::string>> expiry_days_until(const Store& store, const std::string& day) {
  std::vector<std::string> days;
  for (const auto& d : BWV_TRY(expiry_days(store)))
    if (d.size() == 10 && d <= day) days.push_back(d);
  return days;
}

Result<std::vector<std::string>> expiry_days(const Store& store) {
  std::vector<std::string> days;
  const fs::Path dir = store.root() / "expiry";
  for (const auto& d : BWV_TRY(fs::list_dir(dir))) {
    if (d.starts_with(".")) continue;
    const auto kind = BWV_TRY(fs::kind_of(dir / d));
    if (kind == fs::Kind::symlink)
      return fail(Errc::check_failed, dir / d,
                  "is a symbolic link; expiry entries are never removed through one (refused)");
    if (kind == fs::Kind::directory) days.push_back(d);
  }
  return days;
}

std::string Tombstone::write(const std::string& id) const {
  json::Value v = json::Value::object();
  v["bwv_tombstone"] = 1;
  v["clip_id"] = id;
  v["deleted"] = text::format_time(deleted);
  v["expired"] = text::format_time(expired);
  v["rule"] = rule;
  v["size"] = size;
  v["video_sha256"] = video_sha256;
  v["manifest_sha256"] = manifest_sha256;
  return json::write_pretty(v);
}

Result<std::optional<Tombstone>> Tombstone::load(const StoredClip& clip) {
  const fs::Path path = clip.dir / "deleted.json";
  if (BWV_TRY(fs::kind_of(path)) == fs::Kind::none) return std::optional<Tombstone>();
  const std::string raw = BWV_TRY(fs::read_file(path, 65536));
  const json::Value v = BWV_TRY(json::parse(raw, path.string()));
  json::Reader r(v, path.string());
  if (BWV_TRY(r.integer("bwv_tombstone", 0, json::k_max_int)) != 1) return r.bad("bwv_tombstone", "unknown version");
  if (BWV_TRY(r.str("clip_id")) != clip.id) return r.bad("clip_id", "names another clip");
  Tombstone t;
  t.deleted = BWV_TRY(text::parse_time(BWV_TRY(r.str("deleted"))));
  t.expired = BWV_TRY(text::parse_time(BWV_TRY(r.str("expired"))));
  t.rule = BWV_TRY(r.str("rule"));
  t.size = static_cast<std::uint64_t>(BWV_TRY(r.integer("size", 0, json::k_max_int)));
  t.video_sha256 = BWV_TRY(r.str("video_sha256"));
  t.manifest_sha256 = BWV_TRY(r.str("manifest_sha256"));
  return std::optional<Tombstone>(t);
}

} // namespace bwv::store
