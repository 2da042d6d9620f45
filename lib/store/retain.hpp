// Flags and retention (bwv-flag(1), bwv-retain(1)): categories and holds, and the nightly
// deletion of video whose retention has run out.
#pragma once

#include "core/error.hpp"
#include "custody/log.hpp"
#include "store/policy.hpp"
#include "store/store.hpp"

#include <ctime>
#include <optional>
#include <string>

namespace bwv::store {

enum class FlagAction { category, uncategorise, hold, release };

struct FlagRequest {
  FlagAction action = FlagAction::category;
  std::string name; // a category name or a hold reference
  std::string case_ref;
  std::string reason;
};

// Checks a request against the policy before any clip is touched.
Result<void> check_flag_request(const Policy& policy, const FlagRequest& request);

// Applies a request to one clip (the caller holds locks/policy); false when it changed nothing.
Result<bool> apply_flag(const Store& store, const Policy& policy, const custody::Actor& actor,
                        const std::string& id, const FlagRequest& request);

// Puts the clip's expiry entry where its flags say and removes any other.
Result<void> settle_expiry(const Store& store, const Policy& policy, const StoredClip& clip,
                           const ClipFlags& flags);

struct RetainOptions {
  bool dry_run = false;
  std::optional<int> report_days; // list what expires in the coming days; change nothing
  int wait_seconds = 0;
  std::time_t now = 0; // 0: the clock
  // Whether events need each clip's exact expiry (JSON output). Without, a dry run or report
  // decides the plainly expired clips from their ids and a few stats, reading no manifest.
  bool details = true;
};

class RetainEvents {
public:
  virtual ~RetainEvents() = default;
  // deleted (or would be, in a dry run); expires is when retention ended
  virtual void deleted(const std::string& id, std::time_t expires, const std::string& rule, std::uint64_t size) = 0;
  virtual void expiring(const std::string& id, std::time_t expires, const std::string& rule) = 0; // --report
  virtual void held(const std::string& id, const std::vector<std::string>& holds) = 0;
  virtual void problem(const std::string& subject, const std::string& message) = 0;
};

struct RetainSummary {
  std::size_t deleted = 0;
  std::uint64_t bytes = 0;
  std::size_t held = 0;
  std::size_t problems = 0;
};

// Rebuilds the expiry index from every clip's flags and the policy (after the policy changes);
// returns how many entries were moved away or removed. Cost follows the store's size.
Result<std::size_t> reindex(const Store& store, int wait_seconds);

Result<RetainSummary> retain(const Store& store, const custody::Actor& actor,
                             const RetainOptions& options, RetainEvents& events);

} // namespace bwv::store
