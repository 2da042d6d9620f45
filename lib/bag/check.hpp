// Checking a disclosure bag completely (bwv-verify --bag, bwv-bag(5)): BagIt validity, every
// hash both ways, the signed tag manifest, each clip's signed manifest and its video, the links
// between a redacted copy and its original, and each custody entry's inclusion proof against a
// checkpoint signed by the store. It trusts nothing but the store key the bag carries, whose id
// it reports so the recipient can compare it with one published elsewhere.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"

#include <string>
#include <vector>

namespace bwv::bag {

struct BagProblem {
  std::string subject; // a path inside the bag, or the bag
  std::string message;
};

struct BagReport {
  std::string store_key_id;
  std::size_t clips = 0;
  std::size_t files = 0;
  std::uint64_t bytes = 0;
  std::size_t custody_entries = 0;
  std::vector<BagProblem> problems;
};

// Problems with the bag go into the report; only failures to read at all are errors.
Result<BagReport> check_bag(const fs::Path& bag);

} // namespace bwv::bag
