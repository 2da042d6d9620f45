// Ingest from a docked camera (bwv-pull(1)): check, unseal, store atomically, log custody, and
// only then receipt. Safe to kill at any instant; a rerun completes the work.
#pragma once

#include "core/error.hpp"
#include "custody/log.hpp"
#include "manifest/manifest.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string>

namespace bwv::store {

struct PullOptions {
  int wait_seconds = 300; // for the store and device locks
  unsigned jobs = 0;      // staging threads; 0: two per core
};

// What a pull reports as it goes; the command turns these into output lines.
class PullEvents {
public:
  virtual ~PullEvents() = default;
  virtual void ingested(const manifest::Manifest& m) = 0;
  virtual void receipted(const std::string& id) = 0; // already stored; receipt written again
  virtual void problem(const std::string& subject, const std::string& message) = 0;
  virtual void gap(const std::string& device, std::uint64_t after_seq, std::uint64_t before_seq) = 0;
  virtual void progress(std::uint64_t bytes_done, std::uint64_t bytes_total) = 0;
};

struct PullSummary {
  std::size_t ingested = 0;
  std::size_t receipted = 0;
  std::size_t refused = 0;
  std::size_t gaps = 0;
  std::size_t anomalies = 0; // ingested, but something about them needs a look (a camera clock ahead)
  bool ok() const { return refused == 0 && gaps == 0 && anomalies == 0; }
};

// One camera's storage. Errors that stop the whole camera (not a camera, locked, I/O on the store)
// come back as an Error; per-clip refusals go to events.problem and the summary.
Result<PullSummary> pull(const Store& store, const fs::Path& camera_dir, const custody::Actor& actor,
                         const PullOptions& options, PullEvents& events);

} // namespace bwv::store
