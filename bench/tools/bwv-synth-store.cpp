// bwv-synth-store: a bench tool (built, not installed) that writes a large synthetic store for
// bench/retain: real manifests with correct chains, real minisign signatures from device keys the
// store trusts, tiny random "videos", index and expiry entries, and one custody ingest entry per
// clip, so that bwv-verify passes on it. Clips are spread evenly over DAYS days ending today (the
// newest ends well before now, so bwv-retain's clock check passes), and every clip directory and
// file gets the clip's start time as its mtime, so that `find -mtime` sees realistic ages.
//
//   bwv-synth-store --store DIR [--clips N] [--days D] [--devices K] [--expiring-fraction F]
//                   [--video-bytes B] [--jobs J]
//   bwv-synth-store --store DIR --reflag --expiring-fraction F
//
// Without --expiring-fraction every clip is on the default policy ("uncategorised", 31 days), so
// about (D-31)/D of them are due. With it, only round(F*N) clips (picked evenly among the due ones)
// stay due; every other clip gets flags.json with category "evidence-6y" (2192 days) and its expiry
// entry there. --reflag turns a store this tool made without --expiring-fraction into that one in
// place (flags.json for the kept clips, their expiry entries moved), far cheaper than a new store.
//
// This is a generator, not a store writer: files are written directly with open/write, no temp
// file, no rename, no fsync (a crash leaves a half-made store; make it again). The flags are
// written without the flag-category custody entries bwv-flag would add; bwv-verify does not
// require them. Uses every core: devices are split between the threads (each device's chain is
// made by one thread, in order).
#include "core/fs.hpp"
#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "crypto/minisign.hpp"
#include "custody/log.hpp"
#include "manifest/manifest.hpp"
#include "store/policy.hpp"
#include "store/store.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace bwv;

constexpr std::size_t k_custody_batch = 10000;
constexpr std::time_t k_day = 86400;
constexpr std::time_t k_duration = 300; // every clip is 5 minutes long
constexpr const char* k_kept_category = "evidence-6y";

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "bwv-synth-store: error: %s\n", msg.c_str());
  std::exit(1);
}

template <class T> T must(Result<T> r) {
  if (!r) die((r.error().subject.empty() ? "" : r.error().subject + ": ") + r.error().message);
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

void usage() {
  std::fprintf(stderr,
               "usage: bwv-synth-store --store DIR [--clips N] [--days D] [--devices K]\n"
               "                       [--expiring-fraction F] [--video-bytes B] [--jobs J]\n"
               "       bwv-synth-store --store DIR --reflag --expiring-fraction F\n");
  std::exit(2);
}

// Whole file, no temp, no fsync; mtime set to t.
void put_file(const fs::Path& path, std::string_view data, std::time_t t) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) die(path.string() + ": open: " + std::strerror(errno));
  if (!data.empty() && ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    die(path.string() + ": write: " + std::strerror(errno));
  const timespec ts[2] = {{t, 0}, {t, 0}};
  if (::futimens(fd, ts) != 0) die(path.string() + ": futimens: " + std::strerror(errno));
  ::close(fd);
}

void set_mtime(const fs::Path& path, std::time_t t) {
  const timespec ts[2] = {{t, 0}, {t, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    die(path.string() + ": utimensat: " + std::strerror(errno));
}

void make_dir(const fs::Path& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    die(path.string() + ": mkdir: " + std::strerror(errno));
}

// mkdir -p under the store root, remembering what this thread made already.
class DirMaker {
public:
  explicit DirMaker(fs::Path root) : m_root(std::move(root)) {}
  void ensure(const fs::Path& rel) {
    if (m_made.count(rel.string())) return;
    must(fs::make_dirs(m_root, rel));
    m_made.insert(rel.string());
  }

private:
  fs::Path m_root;
  std::set<std::string> m_made;
};

// E of M items (E <= M), picked evenly, the first one included: items floor(j*M/E), j < E. Is
// item k one of them?
bool picked(std::uint64_t k, std::uint64_t m, std::uint64_t e) {
  if (e == 0 || k >= m) return false;
  const std::uint64_t j = (k * e + m - 1) / m; // ceil(k*E/M): the only j that can give k
  return j < e && j * m / e == k;
}

std::string day_dir(std::time_t t) { // YYYY/MM/DD
  const std::string s = text::format_time(t);
  return s.substr(0, 4) + "/" + s.substr(5, 2) + "/" + s.substr(8, 2);
}

// The bytes save_flags writes for these flags (the format is the library's): written once for a
// throw-away clip id and read back, then written as they are to every clip that needs them.
std::string flags_template(const store::Store& st, const store::ClipFlags& flags) {
  const std::string id = "19700101-TEMPLATE-000001";
  const fs::Path year = st.root() / "clips" / "1970";
  if (must(fs::kind_of(year)) != fs::Kind::none) die(year.string() + ": exists; not a store this tool made");
  must(fs::make_dirs(st.root(), fs::Path("clips/1970/01/01") / id));
  must(store::save_flags(st, id, flags));
  std::string bytes = must(fs::read_file(must(st.clip_dir(id)) / "flags.json", 1 << 20));
  must(fs::remove_tree(year));
  return bytes;
}

store::ClipFlags kept_flags(const custody::Actor& actor, std::time_t now) {
  store::ClipFlags f;
  f.categories[k_kept_category] =
      store::Mark{actor.user + "@" + actor.host, now, "synthetic store: kept as evidence", "SYN/0001"};
  return f;
}

class CustodyWriter {
public:
  CustodyWriter(const store::Store& st, custody::Actor actor) : m_store(st), m_actor(std::move(actor)) {}
  void add(std::vector<custody::NewEntry>& pending, bool force) {
    if (pending.empty() || (!force && pending.size() < k_custody_batch)) return;
    std::lock_guard lock(m_mutex);
    must(m_store.append_custody(m_actor, pending));
    pending.clear();
  }

private:
  const store::Store& m_store;
  custody::Actor m_actor;
  std::mutex m_mutex;
};

struct Options {
  fs::Path store;
  std::uint64_t clips = 1000000;
  std::uint64_t days = 400;
  std::uint64_t devices = 100;
  std::optional<double> fraction;
  std::uint64_t video_bytes = 64;
  unsigned jobs = 0;
  bool reflag = false;
};

std::uint64_t parse_uint(const char* opt, const char* s, std::uint64_t min, std::uint64_t max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno || !*s || *end || v < min || v > max || *s == '-') {
    std::fprintf(stderr, "bwv-synth-store: error: %s %s: want a whole number in [%llu, %llu]\n", opt, s,
                 static_cast<unsigned long long>(min), static_cast<unsigned long long>(max));
    std::exit(2);
  }
  return v;
}

// The clips' times: day d of D (0 oldest) holds clips [first(d), first(d+1)), spread evenly over
// the day; the last day is today, its clips ending at least 10 minutes before now (yesterday when
// today has not an hour to spare yet).
struct Layout {
  std::uint64_t n, d;
  std::time_t last_day_start, last_window;
  Layout(std::uint64_t clips, std::uint64_t days, std::time_t now) : n(clips), d(days) {
    last_day_start = now / k_day * k_day;
    if (now - 600 - k_duration - last_day_start < 3600) last_day_start -= k_day;
    last_window = std::min(k_day, now - 600 - k_duration - last_day_start);
  }
  std::uint64_t first(std::uint64_t day) const { return (day * n + d - 1) / d; }
  std::time_t start(std::uint64_t i) const {
    const std::uint64_t day = i * d / n;
    const std::uint64_t f = first(day), count = first(day + 1) - f;
    const std::time_t day_start = last_day_start - std::time_t(d - 1 - day) * k_day;
    const std::time_t window = day == d - 1 ? last_window : k_day;
    return day_start + std::time_t((i - f) * std::uint64_t(window) / count);
  }
};

int generate(const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::time_t now = std::time(nullptr);
  if (o.clips < o.days) die("--clips must be at least --days (a clip a day)");
  if (o.devices > o.clips) die("--devices must not exceed --clips");
  const auto actor = must(custody::current_actor());
  store::Store st = must(store::Store::init(o.store, "bwv bench (synthetic)"));
  const store::Policy policy = must(store::Policy::load(st));
  const Layout layout(o.clips, o.days, now);

  // One key per device, trusted as bwv-key trust would.
  const int width = o.devices > 999 ? static_cast<int>(std::to_string(o.devices).size()) : 3;
  std::vector<std::string> names;
  std::vector<crypto::SecretKey> keys;
  for (std::uint64_t k = 0; k < o.devices; ++k) {
    char name[40];
    std::snprintf(name, sizeof name, "SYN%0*llu", width, static_cast<unsigned long long>(k + 1));
    names.emplace_back(name);
    keys.push_back(crypto::SecretKey::generate());
    must(st.trust(name, keys.back().public_key(), actor, "synthetic store for bench/retain"));
  }

  // With --expiring-fraction, round(F*N) of the due clips (below), picked evenly, stay due.
  const std::string today = text::format_time(now).substr(0, 10);
  const store::ClipFlags default_flags;
  const store::ClipFlags kept = kept_flags(actor, now);
  auto default_day = [&](std::uint64_t i) {
    manifest::Manifest m;
    m.start = layout.start(i);
    return store::expiry_day(store::retention_of(policy, m, default_flags).expires);
  };
  // Due: expiring on the default policy on a day before today (so surely by now). Clips are in
  // time order: the due ones come first.
  std::uint64_t due = 0;
  while (due < o.clips && default_day(due) < today) ++due;
  const std::uint64_t expiring =
      o.fraction ? std::min<std::uint64_t>(due, std::llround(*o.fraction * double(o.clips))) : due;
  const std::string kept_bytes = o.fraction ? flags_template(st, kept) : std::string();

  const unsigned jobs = std::max(1u, std::min<unsigned>(o.jobs, static_cast<unsigned>(o.devices)));
  CustodyWriter custody_writer(st, actor);
  std::atomic<std::uint64_t> done{0};
  auto worker = [&](unsigned t) {
    DirMaker dirs(st.root());
    std::mt19937_64 rng(std::random_device{}() ^ (std::uint64_t(t) << 32));
    std::vector<custody::NewEntry> pending;
    std::string video(o.video_bytes, '\0');
    for (std::uint64_t dev = t; dev < o.devices; dev += jobs) {
      const std::string& device = names[dev];
      const crypto::SecretKey& key = keys[dev];
      const std::string key_id = crypto::key_id_string(key.id());
      dirs.ensure(fs::Path("index") / device);
      std::optional<std::string> prev;
      for (std::uint64_t i = dev, seq = 1; i < o.clips; i += o.devices, ++seq) {
        for (std::size_t b = 0; b < video.size(); b += 8) {
          const std::uint64_t r = rng();
          std::memcpy(video.data() + b, &r, std::min<std::size_t>(8, video.size() - b));
        }
        manifest::Manifest m;
        m.start = layout.start(i);
        m.end = m.start + k_duration;
        m.clip_id = text::make_clip_id(m.start, device, seq);
        m.device = device;
        m.key_id = key_id;
        m.officer = "PC" + std::to_string(1000 + dev);
        m.seq = seq;
        m.prev_manifest_sha256 = prev;
        m.pre_event_seconds = 30;
        m.trigger = "double_press";
        m.firmware = "bwv-synth-store";
        manifest::VideoHasher hasher;
        hasher.update(reinterpret_cast<const unsigned char*>(video.data()), video.size());
        m.video = hasher.finish();
        const std::string bytes = manifest::write(m);
        const std::string sha = crypto::sha256_hex(bytes);
        const crypto::Signature sig = crypto::sign(key, bytes, manifest::trusted_comment(m, sha));

        const bool keep = o.fraction && !(i < due && picked(i, due, expiring));
        const auto retention = store::retention_of(policy, m, keep ? kept : default_flags);
        const fs::Path day_rel = fs::Path("clips") / day_dir(m.start);
        dirs.ensure(day_rel);
        const fs::Path dir = st.root() / day_rel / m.clip_id;
        make_dir(dir);
        put_file(dir / "manifest.json", bytes, m.start);
        put_file(dir / "manifest.json.minisig", sig.to_file(), m.start);
        put_file(dir / "video.mp4", video, m.start);
        if (keep) put_file(dir / "flags.json", kept_bytes, m.start);
        set_mtime(dir, m.start);
        put_file(st.root() / "index" / device / std::to_string(seq), m.clip_id + "\n", m.start);
        const fs::Path expiry_rel = fs::Path("expiry") / store::expiry_day(retention.expires);
        dirs.ensure(expiry_rel);
        put_file(st.root() / expiry_rel / m.clip_id, "", m.start);

        json::Value d = json::Value::object();
        d["device"] = device;
        d["key_id"] = key_id;
        d["seq"] = seq;
        d["manifest_sha256"] = sha;
        d["video_sha256"] = m.video.sha256;
        d["size"] = m.video.size;
        d["camera"] = "/media/synthetic/" + device;
        pending.push_back({"ingest", m.clip_id, std::move(d)});
        custody_writer.add(pending, false);
        prev = sha;
        const auto n = ++done;
        if (n % 100000 == 0) std::fprintf(stderr, "bwv-synth-store: %llu clips\n", static_cast<unsigned long long>(n));
      }
    }
    custody_writer.add(pending, true);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker, t);
  worker(0);
  for (auto& th : threads) th.join();

  // Day directories last modified when their last clip arrived.
  for (std::uint64_t day = 0; day < o.days; ++day)
    set_mtime(st.root() / "clips" / day_dir(layout.start(layout.first(day))),
              layout.start(layout.first(day + 1) - 1));

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr,
               "bwv-synth-store: %llu clips from %s to %s on %llu devices; %llu expiring on days before %s, "
               "%llu kept as %s; %.1f s, %d jobs\n",
               static_cast<unsigned long long>(o.clips), text::format_time(layout.start(0)).c_str(),
               text::format_time(layout.start(o.clips - 1)).c_str(), static_cast<unsigned long long>(o.devices),
               static_cast<unsigned long long>(expiring), today.c_str(),
               static_cast<unsigned long long>(o.fraction ? o.clips - expiring : 0), k_kept_category, secs, jobs);
  return 0;
}

int reflag(const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::time_t now = std::time(nullptr);
  const auto actor = must(custody::current_actor());
  const store::Store st = must(store::Store::open(o.store));
  const store::Policy policy = must(store::Policy::load(st));
  const std::string today = text::format_time(now).substr(0, 10);

  // Every expiry entry in day order, the due ones (days before today) first; a store this tool
  // made without --expiring-fraction has one entry per clip.
  std::vector<std::pair<std::string, std::string>> entries; // day, id
  std::uint64_t due = 0;
  for (const auto& day : must(fs::list_dir(st.root() / "expiry"))) {
    if (day.size() != 10) continue;
    for (const auto& id : must(fs::list_dir(st.root() / "expiry" / day)))
      if (text::is_clip_id(id)) entries.emplace_back(day, id);
    if (day < today) due = entries.size();
  }
  if (entries.empty()) die(o.store.string() + ": no expiry entries");
  const std::uint64_t expiring =
      std::min<std::uint64_t>(due, std::llround(*o.fraction * double(entries.size())));
  const store::ClipFlags kept = kept_flags(actor, now);
  const std::string kept_bytes = flags_template(st, kept);

  std::atomic<std::size_t> next{0};
  std::mutex dirs_mutex;
  std::set<std::string> made;
  auto worker = [&] {
    for (std::size_t k; (k = next++) < entries.size();) {
      if (k < due && picked(k, due, expiring)) continue;
      const auto& [old_day, id] = entries[k];
      const store::StoredClip clip = must(st.load_clip(id));
      if (must(fs::kind_of(clip.dir / "flags.json")) != fs::Kind::none)
        die(clip.dir.string() + ": has flags already; --reflag wants a store made without --expiring-fraction");
      const std::string new_day = store::expiry_day(store::retention_of(policy, clip.manifest, kept).expires);
      {
        std::lock_guard lock(dirs_mutex);
        if (made.insert(new_day).second) make_dir(st.root() / "expiry" / new_day);
      }
      put_file(clip.dir / "flags.json", kept_bytes, clip.manifest.start);
      set_mtime(clip.dir, clip.manifest.start);
      must(fs::rename(st.root() / "expiry" / old_day / id, st.root() / "expiry" / new_day / id));
    }
  };
  const unsigned jobs = std::max(1u, o.jobs);
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& th : threads) th.join();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "bwv-synth-store: reflagged %zu clips: %llu expiring on days before %s, %llu kept as %s; %.1f s\n",
               entries.size(), static_cast<unsigned long long>(expiring), today.c_str(),
               static_cast<unsigned long long>(entries.size() - expiring), k_kept_category, secs);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (!crypto::init()) die("cannot initialise the crypto library");
  Options o;
  o.jobs = std::max(1u, std::thread::hardware_concurrency());
  bool have_store = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--store") {
      o.store = value();
      have_store = true;
    } else if (a == "--clips") {
      o.clips = parse_uint("--clips", value(), 1, 100000000);
    } else if (a == "--days") {
      o.days = parse_uint("--days", value(), 1, 10000);
    } else if (a == "--devices") {
      o.devices = parse_uint("--devices", value(), 1, 100000);
    } else if (a == "--video-bytes") {
      o.video_bytes = parse_uint("--video-bytes", value(), 0, 1 << 20);
    } else if (a == "--jobs") {
      o.jobs = static_cast<unsigned>(parse_uint("--jobs", value(), 1, 256));
    } else if (a == "--expiring-fraction") {
      const char* s = value();
      char* end = nullptr;
      const double f = std::strtod(s, &end);
      if (!*s || *end || !(f >= 0 && f <= 1)) {
        std::fprintf(stderr, "bwv-synth-store: error: --expiring-fraction %s: want a number in [0, 1]\n", s);
        return 2;
      }
      o.fraction = f;
    } else if (a == "--reflag") {
      o.reflag = true;
    } else {
      usage();
    }
  }
  if (!have_store || (o.reflag && !o.fraction)) usage();
  return o.reflag ? reflag(o) : generate(o);
}
