// Rendering a redacted copy of a bwv video. On bwv footage (closed 1 s GOPs, each an IDR with its
// SPS and PPS, no B-frames) only the GOPs a redaction touches are decoded, redacted and
// re-encoded; every other GOP's packets are copied bit for bit. The output is fragmented MP4 in
// bwv's format, one fragment per GOP, with no container metadata and no SEI.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"
#include "manifest/manifest.hpp"
#include "redact/spec.hpp"

#include <functional>

namespace bwv::redact {

struct RenderOptions {
  bool full = false;          // re-encode every GOP
  std::string preset = "ultrafast"; // the camera's
  int qp = 10; // re-encoded GOPs: a constant quantiser, so fills stay their colour
};

struct RenderStats {
  int width = 0;
  int height = 0;
  int fps = 0;
  std::int64_t duration_ms = 0;
  int gops = 0;
  int reencoded = 0;
  std::string encoder; // the encoder's build and settings, for the derivative's manifest
  bool smart = false;  // false: every GOP was re-encoded
  manifest::Video video; // the output's size, hashes and fragments, taken as it was written
};

// Reads in, writes the redacted video to out (created, flushed). check(width, height, duration)
// runs once the original is known, before anything is written (the spec's check_against).
// progress(done, total) counts GOPs.
Result<RenderStats> render(const fs::Path& in, const Spec& spec, const fs::Path& out, const RenderOptions& options,
                           const std::function<Result<void>(int, int, std::int64_t)>& check,
                           const std::function<void(int, int)>& progress = {});

} // namespace bwv::redact
