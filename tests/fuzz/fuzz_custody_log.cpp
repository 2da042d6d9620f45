// A custody log (bwv-custody(5)) as bwv-verify and bwv-log read it, and as an append finds its
// tail: custody::read over the whole file and custody::last_entry from its end.
//
// Invariants: the two readers agree on the last complete line (the tail reader returns the entry
// the whole-file reader parsed from it, and fails when that line did not parse or is longer than
// append writes, as it does for such a torn tail); a log read without problems has one entry per
// line, numbered from 1 and chained; every entry's JSON writes back (bwv's one-line form) to text
// that parses to the same value and writes the same again.
#include "core/json.hpp"
#include "custody/log.hpp"
#include "fuzz.hpp"

using namespace bwv;

namespace {
constexpr std::size_t k_max_line = 1 << 20; // custody/log.cpp's: the longest line append writes
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  const auto path = fuzz::scratch_dir() / "host.jsonl";
  fuzz::put_file(path, in);

  const auto all = custody::read(path);
  BWV_FUZZ_ASSERT(all);
  const auto last = custody::last_entry(path);
  fuzz::say("last entry", last);
  if (fuzz::verbose()) {
    std::fprintf(stderr, "%zu entries\n", all->entries.size());
    for (const auto& p : all->problems)
      std::fprintf(stderr, "problem: %s\n", p.c_str());
  }

  // The complete lines: each ends in a newline; what follows the last newline is a torn tail.
  std::size_t lines = 0;
  for (char c : in)
    lines += c == '\n';
  const bool torn = !in.empty() && in.back() != '\n';
  BWV_FUZZ_ASSERT(all->entries.size() <= lines);

  std::uint64_t prev_no = 0;
  for (const auto& e : all->entries) {
    BWV_FUZZ_ASSERT(e.line_no > prev_no && e.line_no <= lines);
    prev_no = e.line_no;
    BWV_FUZZ_ASSERT(e.line.find('\n') == std::string::npos);
    BWV_FUZZ_ASSERT(e.source == path.string());
    const auto v = json::parse(e.line, "line");
    BWV_FUZZ_ASSERT(v);
    const std::string once = json::write_line(*v);
    const auto back = json::parse(once, "rewritten");
    BWV_FUZZ_ASSERT(back && *back == *v);
    BWV_FUZZ_ASSERT(json::write_line(*back) == once);
    BWV_FUZZ_ASSERT(e.details.is_object());
  }

  // A torn tail longer than any line append writes is damage to both readers.
  const auto last_nl = in.rfind('\n');
  const std::size_t tail = in.size() - (last_nl == std::string_view::npos ? 0 : last_nl + 1);
  if (tail > k_max_line) {
    BWV_FUZZ_ASSERT(!last && !all->problems.empty());
  } else if (lines == 0) {
    BWV_FUZZ_ASSERT(last && !*last);
  } else if (!all->entries.empty() && all->entries.back().line_no == lines) {
    const auto& e = all->entries.back();
    BWV_FUZZ_ASSERT(last && *last);
    BWV_FUZZ_ASSERT((*last)->line == e.line && (*last)->seq == e.seq && (*last)->prev == e.prev);
  } else {
    BWV_FUZZ_ASSERT(!last); // the last complete line does not parse
  }

  if (all->problems.empty()) {
    BWV_FUZZ_ASSERT(!torn && all->entries.size() == lines);
    for (std::size_t i = 0; i < all->entries.size(); ++i) {
      BWV_FUZZ_ASSERT(all->entries[i].seq == i + 1);
      BWV_FUZZ_ASSERT(all->entries[i].prev.has_value() == (i > 0));
    }
  }
  return 0;
}
