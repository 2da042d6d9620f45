// Retention policy, per-clip flags (categories and holds), and the expiry index (bwv-store(5)).
#pragma once

#include "core/error.hpp"
#include "core/json.hpp"
#include "custody/log.hpp"
#include "store/store.hpp"

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bwv::store {

inline constexpr const char* k_uncategorised = "uncategorised";

struct Category {
  std::string name;
  std::optional<int> days; // nullopt: kept until the category is removed
};

struct Policy {
  std::vector<Category> categories;
  static Policy defaults();
  static Result<Policy> load(const Store& store);
  std::string write() const;
  const Category* find(const std::string& name) const;
};

bool is_category_name(std::string_view s); // [a-z0-9-]{1,32}
// KIND:REF with KIND one of foi, sar, complaint, legal and REF [A-Za-z0-9._/-]{1,64}.
bool is_hold_ref(std::string_view s);

struct Mark {
  std::string by;
  std::time_t at = 0;
  std::string reason;
  std::string case_ref; // categories only; may be empty
};

struct ClipFlags {
  std::map<std::string, Mark> categories;
  std::map<std::string, Mark> holds;
  bool empty() const { return categories.empty() && holds.empty(); }
};

Result<ClipFlags> load_flags(const Store& store, const std::string& id);
Result<void> save_flags(const Store& store, const std::string& id, const ClipFlags& flags);

struct Retention {
  std::optional<std::time_t> expires; // nullopt: never (an indefinite category)
  std::string rule;                   // the category that decides, e.g. "uncategorised (31 days)"
  bool held() const { return !holds.empty(); }
  std::vector<std::string> holds;
};

Retention retention_of(const Policy& policy, const manifest::Manifest& m, const ClipFlags& flags);
// A stored clip's retention. A derivative follows its original: it is kept while the original's
// flags keep it, and for longer if its own flags say so; every hold on either holds it.
Result<Retention> retention_in(const Store& store, const Policy& policy, const StoredClip& clip,
                               const ClipFlags& flags);

// The expiry index: expiry/YYYY-MM-DD/<id>, or expiry/never/<id>.
std::string expiry_day(std::optional<std::time_t> expires);
Result<void> expiry_put(const Store& store, const std::string& id, std::optional<std::time_t> expires);
// The same, made durable with the rest of a batch (an existing entry is left as it is).
Result<void> expiry_add(fs::Batch& batch, const Store& store, const std::string& id,
                        std::optional<std::time_t> expires);
// Removes every entry of the clip except the one for keep (if given).
Result<void> expiry_remove(const Store& store, const std::string& id,
                           std::optional<std::string> keep_day = std::nullopt);
// Day directories up to and including day, in order (never excluded).
Result<std::vector<std::string>> expiry_days_until(const Store& store, const std::string& day);
// Every directory in expiry/ (never/ included), in order. Entries are removed through them, so a
// symbolic link among them (which would lead a removal outside the store) is refused.
Result<std::vector<std::string>> expiry_days(const Store& store);

// The tombstone a deletion by policy leaves beside the manifest.
struct Tombstone {
  std::time_t deleted = 0;
  std::time_t expired = 0;
  std::string rule;
  std::uint64_t size = 0;
  std::string video_sha256;
  std::string manifest_sha256;
  std::string write(const std::string& id) const;
  static Result<std::optional<Tombstone>> load(const StoredClip& clip);
};

} // namespace bwv::store
