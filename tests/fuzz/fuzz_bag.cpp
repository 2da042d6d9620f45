// Disclosure bags (bwv-bag(5)) as bwv-verify --bag checks them, from whoever handed the bag over:
// bag::check_bag over a directory made from the input, which reaches every file it parses:
// bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-sha512.txt and
// its signature, keys/*.pub, data/ID/manifest.json and its signature, custody/*.checkpoint and
// custody/entries.jsonl.
//
// Input: files, each a header line "@@@ PATH" and then its bytes up to and including the newline
// before the next header (the last file runs to the end of the input). Paths that could leave the
// bag (absolute, "." or ".." parts, too deep or long) are skipped, as is a file that would need a
// file as its directory.
//
// Invariants: check_bag answers (a report, not an error) for any such directory, and its counts
// agree with what was made: the payload files are those made under data/, and clips are at most
// the directories under data/.
#include "bag/check.hpp"
#include "fuzz.hpp"

#include <set>

using namespace bwv;

namespace {

constexpr std::string_view k_header = "@@@ ";
constexpr std::size_t k_max_files = 64;
constexpr int k_max_depth = 4;

// A relative path of at most k_max_depth plain parts.
bool bag_path(std::string_view p) {
  if (p.empty() || p.size() > 200) return false;
  int depth = 0;
  for (std::size_t i = 0; i <= p.size();) {
    const auto j = std::min(p.find('/', i), p.size());
    if (!fuzz::entry_name(p.substr(i, j - i)) || ++depth > k_max_depth) return false;
    i = j + 1;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::text(data, size);
  const auto bag = fuzz::scratch_dir() / "bag";
  fuzz::fresh_dir(bag);

  std::set<std::string> data_files, clip_dirs;
  std::size_t files = 0;
  // Where each header begins: at the start of the input or of a line.
  auto next_header = [&](std::size_t from) {
    for (std::size_t at = from;; ++at) {
      at = in.find(k_header, at);
      if (at == std::string_view::npos || at == 0 || in[at - 1] == '\n') return at;
    }
  };
  for (std::size_t at = next_header(0); at != std::string_view::npos && files < k_max_files;) {
    const auto eol = in.find('\n', at);
    if (eol == std::string_view::npos) break;
    const std::string path(in.substr(at + k_header.size(), eol - at - k_header.size()));
    const auto next = next_header(eol + 1);
    const std::string_view body = in.substr(eol + 1, next == std::string_view::npos ? in.npos : next - eol - 1);
    at = next;
    if (!bag_path(path)) continue;
    std::error_code ec;
    std::filesystem::create_directories((bag / path).parent_path(), ec);
    if (ec || std::filesystem::is_directory(bag / path)) continue; // a file in the way, or a directory
    fuzz::put_file(bag / path, body);
    ++files;
    if (path.starts_with("data/")) {
      data_files.insert(path);
      if (const auto slash = path.find('/', 5); slash != std::string::npos) clip_dirs.insert(path.substr(5, slash - 5));
    }
  }

  const auto report = bag::check_bag(bag);
  if (!report) std::fprintf(stderr, "check_bag: %s\n", report.error().message.c_str());
  BWV_FUZZ_ASSERT(report);
  if (fuzz::verbose()) {
    std::fprintf(stderr, "%zu files, %zu clips, %zu custody entries\n", report->files, report->clips,
                 report->custody_entries);
    for (const auto& p : report->problems)
      std::fprintf(stderr, "problem: %s: %s\n", p.subject.c_str(), p.message.c_str());
  }
  BWV_FUZZ_ASSERT(report->files == data_files.size());
  BWV_FUZZ_ASSERT(report->clips <= clip_dirs.size());
  for (const auto& p : report->problems)
    BWV_FUZZ_ASSERT(!p.subject.empty() && !p.message.empty());
  return 0;
}
