// A docked camera's storage as bwv-pull lists it (bwv-camera(5)): Storage::open and
// Storage::clips over a directory the camera, or anything pretending to be one, made.
//
// Input, one item a line: the first line is the bwv-camera marker's text (its newline added),
// every other line an entry of clips/: "d NAME" a directory, "l NAME" a symbolic link, anything
// else a regular file of that name. Names that no directory can hold are skipped.
//
// Invariants: the clips returned are sorted and unique, and they are exactly the valid clip ids
// whose three parts (manifest, signature, sealed video) were made as regular files.
#include "camera/storage.hpp"
#include "core/text.hpp"
#include "fuzz.hpp"

#include <fcntl.h>
#include <map>
#include <set>
#include <sys/stat.h>

using namespace bwv;

namespace {

constexpr std::size_t k_max_entries = 64;

enum class Made { file, dir, link };

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::text(data, size);
  const auto& root = fuzz::scratch_dir();
  const auto cam = root / "camera";
  fuzz::fresh_dir(cam);
  for (const char* sub : {"clips", "receipts", "tmp"})
    std::filesystem::create_directory(cam / sub);

  const auto nl = in.find('\n');
  fuzz::put_file(cam / "bwv-camera", std::string(in.substr(0, nl)) + "\n");
  in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  std::map<std::string, Made> made;
  while (!in.empty() && made.size() < k_max_entries) {
    const auto end = in.find('\n');
    std::string_view line = in.substr(0, end);
    in = end == std::string_view::npos ? std::string_view{} : in.substr(end + 1);
    Made kind = Made::file;
    if (line.starts_with("d ") || line.starts_with("l ")) {
      kind = line[0] == 'd' ? Made::dir : Made::link;
      line.remove_prefix(2);
    }
    const std::string name(line);
    if (!fuzz::entry_name(name) || made.count(name)) continue;
    const auto path = (cam / "clips" / name).string();
    int rc = 0;
    if (kind == Made::dir)
      rc = ::mkdir(path.c_str(), 0755);
    else if (kind == Made::link)
      rc = ::symlink("../bwv-camera", path.c_str());
    else
      fuzz::put_file(path, "");
    if (rc != 0) fuzz::setup_failed("make " + path);
    made[name] = kind;
  }

  const auto storage = camera::Storage::open(cam);
  fuzz::say("storage", storage);
  if (!storage) return 0;
  std::vector<camera::Problem> problems;
  const auto clips = storage->clips(problems);
  BWV_FUZZ_ASSERT(clips);
  if (fuzz::verbose()) {
    for (const auto& c : *clips)
      std::fprintf(stderr, "clip %s\n", c.id.c_str());
    for (const auto& p : problems)
      std::fprintf(stderr, "problem: %s: %s\n", p.subject.c_str(), p.message.c_str());
  }

  std::set<std::string> want;
  const auto regular = [&](const std::string& name) {
    const auto it = made.find(name);
    return it != made.end() && it->second == Made::file;
  };
  for (const auto& [name, kind] : made) {
    if (!name.ends_with(".json.minisig")) continue;
    const std::string id = name.substr(0, name.size() - 13);
    if (text::is_clip_id(id) && regular(name) && regular(id + ".json") && regular(id + ".mp4.sealed")) want.insert(id);
  }
  std::set<std::string> got;
  std::string last;
  for (const auto& c : *clips) {
    BWV_FUZZ_ASSERT(c.id > last || last.empty());
    last = c.id;
    got.insert(c.id);
    const auto f = storage->files(c.id);
    BWV_FUZZ_ASSERT(c.manifest == f.manifest && c.signature == f.signature && c.sealed == f.sealed);
  }
  BWV_FUZZ_ASSERT(got == want);
  for (const auto& p : problems)
    BWV_FUZZ_ASSERT(!p.subject.empty() && !p.message.empty());
  return 0;
}
