// bwv-render: a bench tool (built, not installed) that renders a redacted copy of a bwv video
// through the library, as bwv-redact will once it exists: `bwv-render [--full] SPEC IN OUT` parses
// SPEC (bwv-redact-spec(5)) with redact::parse, checks it against the video (redact::check_against)
// and calls redact::render, smart by default (only the GOPs a redaction touches are re-encoded),
// every GOP with --full. OUT must not exist. Prints "gops N reencoded M" on stderr.
// bench/redact compares it with ffmpeg doing the same redaction.
#include "core/fs.hpp"
#include "redact/render.hpp"
#include "redact/spec.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

int report(const bwv::Error& e) {
  if (e.subject.empty()) std::fprintf(stderr, "bwv-render: error: %s\n", e.message.c_str());
  else std::fprintf(stderr, "bwv-render: error: %s: %s\n", e.subject.c_str(), e.message.c_str());
  return static_cast<int>(e.code);
}

int usage() {
  std::fprintf(stderr, "usage: bwv-render [--full] SPEC IN OUT\n");
  return static_cast<int>(bwv::Errc::usage);
}

} // namespace

int main(int argc, char** argv) {
  bool full = false;
  int qp = bwv::redact::RenderOptions{}.qp;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--full") full = true;
    else if (a.starts_with("--qp=")) qp = std::atoi(argv[i] + 5);
    else if (a == "--") {
      for (++i; i < argc; ++i) args.emplace_back(argv[i]);
    } else if (a.size() > 1 && a[0] == '-') return usage();
    else args.emplace_back(a);
  }
  if (args.size() != 3) return usage();
  const std::string& spec_path = args[0];
  const bwv::fs::Path in = args[1], out = args[2];

  const auto bytes = bwv::fs::read_file(spec_path, bwv::redact::k_max_bytes);
  if (!bytes) return report(bytes.error());
  const auto spec = bwv::redact::parse(*bytes, spec_path);
  if (!spec) return report(spec.error());

  const auto check = [&](int w, int h, std::int64_t ms) { return bwv::redact::check_against(*spec, w, h, ms, spec_path); };
  const auto stats = bwv::redact::render(in, *spec, out, {.full = full, .qp = qp}, check);
  if (!stats) return report(stats.error());
  std::fprintf(stderr, "gops %d reencoded %d\n", stats->gops, stats->reencoded);
  return 0;
}
