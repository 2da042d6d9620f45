// Disclosure bags (bwv-bag(5), bwv-foi-export(1)): a BagIt 1.0 bag (RFC 8493) of redacted
// derivatives (and, for a court, their originals) with their signed manifests, the keys that
// check them, their custody entries with inclusion proofs against signed checkpoints, and a
// tag manifest signed by the store, so that a requester or a court checks it with stock tools.
#pragma once

#include "core/error.hpp"
#include "custody/log.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bwv::bag {

struct ExportOptions {
  std::string request;   // the request's reference: REF of a hold KIND:REF
  fs::Path out;          // the bag, made new
  bool court = false;    // the originals too
  std::string reason;    // required for clips not held for the request, and originals without a redacted copy
  std::string recipient; // who receives it
  std::vector<std::string> ids;
  int wait_seconds = 0;
};

struct ExportedClip {
  std::string id;
  std::string role; // "redacted" or "original"
  std::uint64_t size = 0;
};

struct ExportResult {
  std::vector<std::pair<std::string, std::string>> refused; // id, why: then nothing was exported
  std::vector<ExportedClip> clips;
  std::uint64_t payload_bytes = 0;
  std::size_t payload_files = 0;
  std::size_t custody_entries = 0;
};

bool is_request_ref(std::string_view s); // [A-Za-z0-9._/-]{1,64}

// progress(bytes copied, bytes in all). When any clip is refused, nothing is written or recorded
// and the result lists the refusals.
Result<ExportResult> export_bag(const store::Store& store, const custody::Actor& actor, const ExportOptions& options,
                                const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

} // namespace bwv::bag
