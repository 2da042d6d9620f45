// Whole-store or per-clip verification (bwv-verify(1)): signatures, video hashes (every core),
// per-device chains, and the custody logs.
#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bwv::store {

struct VerifyOptions {
  std::vector<std::string> ids; // empty: the whole store
  unsigned jobs = 0;            // hashing threads; 0: one per core
};

struct ClipReport {
  std::string id;
  std::uint64_t bytes = 0;
  std::vector<std::string> problems;
};

struct StoreProblem {
  std::string subject;
  std::string message;
};

struct VerifyReport {
  std::vector<ClipReport> clips;     // in id order
  std::vector<StoreProblem> others;  // chains, custody, missing clips
  std::uint64_t bytes = 0;
  std::size_t problem_count() const;
};

// progress(clips done, clips in all) is called from the hashing threads, one at a time.
Result<VerifyReport> verify(const Store& store, const VerifyOptions& options,
                            const std::function<void(std::size_t, std::size_t)>& progress = {});

} // namespace bwv::store
