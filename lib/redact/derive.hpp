// Making a redacted derivative in the store (bwv-redact(1)): the original checked, the copy
// rendered aside, then signed by the store, put in place beside its original, recorded in custody
// and given its retention. A crash at any point leaves either nothing (a temporary directory) or a
// complete derivative that a re-run with the same inputs finds and completes.
#pragma once

#include "core/error.hpp"
#include "custody/log.hpp"
#include "redact/render.hpp"
#include "store/store.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace bwv::redact {

struct DeriveOptions {
  bool full = false;
  std::string reason;
  int wait_seconds = 0;
  std::string preset = "ultrafast";
};

struct Derived {
  std::string id;
  std::string original;
  bool existing = false; // the same original, spec and mode were already made into this one
  manifest::Manifest manifest;
  std::string manifest_sha256;
};

// spec_bytes is the spec file's contents; spec_subject names it in errors.
Result<Derived> derive(const store::Store& store, const custody::Actor& actor, const std::string& id,
                       std::string_view spec_bytes, const std::string& spec_subject, const DeriveOptions& options,
                       const std::function<void(int, int)>& progress = {});

} // namespace bwv::redact
