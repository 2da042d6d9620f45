#include "store/pull.hpp"

#include "camera/storage.hpp"
#include "core/json.hpp"
#include "core/parallel.hpp"
#include "core/text.hpp"
#include "store/policy.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace bwv::store {

namespace {

// A clip on the camera whose manifest has been read, parsed and its signature checked.
struct Candidate {
  camera::ClipFiles files;
  std::string manifest_bytes;
  std::string manifest_sha256;
  std::string signature_text;
  manifest::Manifest m;
  std::uint64_t sealed_size = 0;
};

struct Staged {
  const Candidate* c = nullptr;
  fs::Path dir;
};

// Staged clips are flushed, claimed, recorded and receipted a run at a time, while the next run is
// staged: a run is every clip staged in order once they hold this many bytes, or half of what is
// left to claim if less (but not less than k_min_run_bytes), or the last clip is staged. Runs
// shrink towards the end so that the last, claimed once staging is done and the cores idle, is
// short; the floor bounds the extra flushes that costs (each run has its own).
constexpr std::uint64_t k_commit_bytes = 256 << 20;
constexpr std::uint64_t k_min_run_bytes = 32 << 20;

// An I/O error reading the camera's storage (a failing card, a flaky cable) is a problem with that
// clip, which stays on the camera for the next pull; the other clips are still pulled. Errors on
// the store's side still stop the pull.
template <class T> Result<T> from_camera(Result<T>&& r) {
  if (r || r.error().code != Errc::io) return std::move(r);
  return fail(Errc::check_failed, r.error().subject, "cannot be read from the camera (" + r.error().message + ")");
}

Result<Candidate> read_candidate(const Store& store, const camera::ClipFiles& f) {
  Candidate c;
  c.files = f;
  c.manifest_bytes = BWV_TRY(from_camera(fs::read_file(f.manifest, manifest::k_max_bytes)));
  c.manifest_sha256 = crypto::sha256_hex(c.manifest_bytes);
  c.m = BWV_TRY(manifest::parse(c.manifest_bytes, f.manifest.string()));
  if (c.m.clip_id != f.id)
    return fail(Errc::check_failed, f.manifest, "manifest names clip " + c.m.clip_id);
  // Only a store makes derivatives: a camera offering one would squat an original's seq.
  if (c.m.derived_from || manifest::split_derivative_id(c.m.clip_id))
    return fail(Errc::check_failed, f.id, "a derivative's manifest, which no camera makes; refused");
  c.signature_text = BWV_TRY(from_camera(fs::read_file(f.signature, 65536)));
  const auto sig = BWV_TRY(crypto::Signature::parse(c.signature_text, f.signature.string()));
  const auto key = BWV_TRY(store.device_key(c.m.device, c.m.key_id));
  if (!key)
    return fail(Errc::check_failed, f.id,
                "device " + c.m.device + " key " + c.m.key_id + " is not trusted by this store");
  BWV_CHECK(crypto::verify(key->key, c.manifest_bytes, sig, f.id + ": manifest"));
  if (key->revoked && !BWV_TRY(store.has_clip(f.id)))
    return fail(Errc::check_failed, f.id,
                "device " + c.m.device + " key " + c.m.key_id + " was revoked on " +
                    text::format_time(*key->revoked) + "; its clips are refused");
  fs::Fd fd = BWV_TRY(from_camera(fs::open_regular(f.sealed)));
  c.sealed_size = BWV_TRY(from_camera(fs::file_size(fd.get(), f.sealed)));
  return c;
}

// A staging thread's buffers, kept from clip to clip: fresh memory costs page faults, which are
// slow on virtual machines.
struct StageBuffers {
  std::vector<unsigned char> sealed;
  fs::DirectWriter out;
};

// Unseals a clip into dir/video.mp4, hashing as it goes, and writes the manifest and signature
// beside it. Nothing is made durable here (the run is flushed at once before its claim), but the
// video goes to disk as it grows (fs::DirectWriter).
Result<void> stage(const Candidate& c, const fs::Path& dir, const crypto::SealSecretKey& seal,
                   std::atomic<std::uint64_t>& done, StageBuffers& buffers) {
  const std::string subject = c.files.sealed.string();
  auto reader = BWV_TRY(from_camera(camera::SealedReader::open(c.files.sealed, seal, &buffers.sealed)));

  const fs::Path video = dir / "video.mp4";
  fs::DirectWriter& out = buffers.out;
  BWV_CHECK(out.create(video));
  // The whole-file SHA-256 is what binds the video to the signed manifest; the chunk hashes only
  // locate damage later, so they cost nothing here.
  crypto::Sha256 hash;
  std::uint64_t plain_total = 0, sealed_seen = reader.sealed_read();
  while (const auto n = BWV_TRY(from_camera(reader.next_record()))) {
    plain_total += *n;
    if (plain_total > c.m.video.size)
      return fail(Errc::check_failed, c.files.id,
                  "video does not match its manifest: larger than its " +
                      std::to_string(c.m.video.size) + " bytes");
    unsigned char* plain = BWV_TRY(out.space(*n));
    BWV_CHECK(reader.open_record(plain));
    hash.update(plain, *n);
    BWV_CHECK(out.commit(*n));
    done += reader.sealed_read() - sealed_seen;
    sealed_seen = reader.sealed_read();
  }
  // Only a clip the camera finalised after a power cut, and says so in its signed manifest, may
  // end without the final record; its size and hash below still bind every byte.
  if (!reader.final_seen() && !c.m.recovered)
    return fail(Errc::check_failed, subject, "truncated sealed file (no final record)");
  if (plain_total != c.m.video.size)
    return fail(Errc::check_failed, c.files.id,
                "video does not match its manifest: " + std::to_string(plain_total) + " bytes, the manifest says " +
                    std::to_string(c.m.video.size));
  if (crypto::hex(hash.finish()) != c.m.video.sha256)
    return fail(Errc::check_failed, c.files.id, "video does not match its manifest: SHA-256 differs");
  BWV_CHECK(out.finish());
  BWV_CHECK(fs::write_staged(dir / "manifest.json", c.manifest_bytes));
  BWV_CHECK(fs::write_staged(dir / "manifest.json.minisig", c.signature_text));
  return {};
}

// Runs stage_one(i, t) for every clip i on worker threads t, taking clips in order, while the
// caller waits for runs of finished clips to commit. Stops and joins its threads when destroyed
// (also when the caller returns early with an error).
class Stager {
public:
  Stager(const std::vector<std::uint64_t>& sizes, unsigned jobs,
         std::function<void(std::size_t, std::size_t)> stage_one)
      : m_sizes(sizes), m_done(sizes.size(), 0), m_stage_one(std::move(stage_one)) {
    for (std::size_t t = 0; t < threads(jobs, sizes.size()); ++t)
      m_threads.emplace_back([this, t] { work(t); });
  }
  static std::size_t threads(unsigned jobs, std::size_t clips) { return std::min<std::size_t>(jobs, clips); }
  ~Stager() { stop(); }
  // Stages nothing more, and returns once no clip is being staged.
  void stop() {
    m_stop = true;
    for (auto& t : m_threads)
      if (t.joinable()) t.join();
  }
  // Waits until clips [from, end) are staged, with end - from holding at least min_bytes or
  // reaching the last clip; returns end.
  std::size_t wait(std::size_t from, std::uint64_t min_bytes) {
    std::unique_lock lock(m_mutex);
    for (;;) {
      std::size_t end = from;
      std::uint64_t bytes = 0;
      while (end < m_done.size() && m_done[end]) bytes += m_sizes[end++];
      if (end > from && (end == m_done.size() || bytes >= min_bytes)) return end;
      m_cv.wait(lock);
    }
  }

private:
  void work(std::size_t t) {
    for (std::size_t i; !m_stop && (i = m_next++) < m_done.size();) {
      m_stage_one(i, t);
      std::lock_guard lock(m_mutex);
      m_done[i] = 1;
      m_cv.notify_all();
    }
  }
  const std::vector<std::uint64_t>& m_sizes;
  std::vector<char> m_done;
  std::function<void(std::size_t, std::size_t)> m_stage_one;
  std::atomic<std::size_t> m_next{0};
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::thread> m_threads;
};

// The caller's events, one call at a time: the staging threads report progress while this
// thread reports the rest.
class SerialEvents : public PullEvents {
public:
  explicit SerialEvents(PullEvents& out) : m_out(out) {}
  void ingested(const manifest::Manifest& m) override {
    std::lock_guard lock(m_mutex);
    m_out.ingested(m);
  }
  void receipted(const std::string& id) override {
    std::lock_guard lock(m_mutex);
    m_out.receipted(id);
  }
  void problem(const std::string& subject, const std::string& message) override {
    std::lock_guard lock(m_mutex);
    m_out.problem(subject, message);
  }
  void gap(const std::string& device, std::uint64_t after_seq, std::uint64_t before_seq) override {
    std::lock_guard lock(m_mutex);
    m_out.gap(device, after_seq, before_seq);
  }
  void progress(std::uint64_t bytes_done, std::uint64_t bytes_total) override {
    std::lock_guard lock(m_mutex);
    m_out.progress(bytes_done, bytes_total);
  }

private:
  PullEvents& m_out;
  std::mutex m_mutex;
};

json::Value ingest_details(const Candidate& c, const fs::Path& camera_dir) {
  json::Value d = json::Value::object();
  d["device"] = c.m.device;
  d["key_id"] = c.m.key_id;
  d["seq"] = c.m.seq;
  d["manifest_sha256"] = c.manifest_sha256;
  d["video_sha256"] = c.m.video.sha256;
  d["size"] = c.m.video.size;
  d["camera"] = camera_dir.string();
  return d;
}

} // namespace

Result<PullSummary> pull(const Store& store, const fs::Path& camera_dir, const custody::Actor& actor,
                         const PullOptions& options, PullEvents& out) {
  SerialEvents events(out);
  PullSummary summary;
  auto cam = BWV_TRY(camera::Storage::open(camera_dir));
  auto store_lock = BWV_TRY(store.lock_store(fs::Lock::Mode::shared, options.wait_seconds));
  store.remove_stale_tmp(actor.host);
  const auto seal = BWV_TRY(store.seal_key());
  const auto sign_key = BWV_TRY(store.secret_key());
  const std::string store_key_id = crypto::key_id_string(sign_key.id());
  // A broken policy must not stop ingest: the expiry entries take the default periods (bwv-retain
  // re-checks every clip against the real policy, and refuses to run on a broken one).
  auto loaded_policy = Policy::load(store);
  if (!loaded_policy) {
    events.problem(loaded_policy.error().subject, loaded_policy.error().message + "; clips are still ingested");
    ++summary.refused;
  }
  const Policy policy = loaded_policy ? *loaded_policy : Policy::defaults();

  std::vector<camera::Problem> listing_problems;
  const auto files = BWV_TRY(cam.clips(listing_problems));
  for (const auto& p : listing_problems) {
    events.problem(p.subject, p.message);
    ++summary.refused;
  }

  // Two staging threads per core: each waits on the camera and the disk about as long as it computes.
  const unsigned jobs = options.jobs ? options.jobs : 2 * std::max(1u, std::thread::hardware_concurrency());

  // Read and check every manifest first (on every core: two signature checks each); group by
  // device in seq order.
  std::vector<Result<Candidate>> checked(files.size());
  parallel_for(files.size(), jobs, [&](std::size_t i) { checked[i] = read_candidate(store, files[i]); });
  std::map<std::string, std::vector<Candidate>> by_device;
  std::uint64_t bytes_total = 0;
  for (auto& c : checked) {
    if (!c) {
      if (c.error().code != Errc::check_failed) return std::unexpected(c.error());
      events.problem(c.error().subject, c.error().message);
      ++summary.refused;
      continue;
    }
    if (c->m.start > std::time(nullptr) + 86400) {
      events.problem(c->m.clip_id, "recorded at " + text::format_time(c->m.start) +
                                       " by the camera's clock, which is ahead of this host's; ingested all the same");
      ++summary.anomalies;
    }
    bytes_total += c->sealed_size;
    by_device[c->m.device].push_back(std::move(*c));
  }
  std::atomic<std::uint64_t> bytes_done{0};
  custody::ClipIndex ingest_index([&store] { return store.custody_logs(); }, "ingest");

  for (auto& [device, cands] : by_device) {
    std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.m.seq < b.m.seq; });
    auto device_lock = BWV_TRY(store.lock_device(device, options.wait_seconds));

    // Decide per clip: already stored, refused, or to be staged; check the chain on the way.
    std::vector<const Candidate*> to_stage, already;
    std::optional<std::pair<std::uint64_t, std::string>> prev; // seq and manifest SHA-256
    for (const auto& c : cands) {
      if (BWV_TRY(store.has_clip(c.m.clip_id))) {
        auto stored = store.load_clip(c.m.clip_id);
        if (!stored && stored.error().code != Errc::check_failed) return std::unexpected(stored.error());
        if (!stored || stored->manifest_bytes != c.manifest_bytes) {
          events.problem(c.m.clip_id, "a different clip with this id is already in the store; refused");
          ++summary.refused;
          continue;
        }
        // A receipt lets the camera delete its copy: only when the store's copy is really there
        // (or was deleted by policy).
        const auto kind = BWV_TRY(fs::kind_of(stored->video()));
        std::uint64_t size = 0;
        if (kind == fs::Kind::regular) {
          const fs::Fd fd = BWV_TRY(fs::open_regular(stored->video()));
          size = BWV_TRY(fs::file_size(fd.get(), stored->video()));
        }
        if (!(kind == fs::Kind::regular && size == c.m.video.size) && !BWV_TRY(Tombstone::load(*stored))) {
          events.problem(c.m.clip_id, "already in the store, but its stored video is missing or damaged; not "
                                      "receipted, so the camera keeps its copy (run bwv-verify)");
          ++summary.refused;
          continue;
        }
        already.push_back(&c);
        prev = {c.m.seq, c.manifest_sha256};
        continue;
      }
      // Another clip already holds this seq (a device whose counter restarted, or a cloned key).
      if (const auto other = BWV_TRY(store.index_get(device, c.m.seq)); other && *other != c.m.clip_id) {
        events.problem(c.m.clip_id, "device " + device + " seq " + std::to_string(c.m.seq) +
                                        " is already stored as " + *other + "; refused");
        ++summary.refused;
        continue;
      }
      if (c.m.seq > 1 && (!prev || prev->first != c.m.seq - 1)) {
        // The previous clip is not in this pull: look for it in the store.
        if (const auto prev_id = BWV_TRY(store.index_get(device, c.m.seq - 1))) {
          const auto stored = BWV_TRY(store.load_clip(*prev_id));
          prev = {c.m.seq - 1, stored.manifest_sha256};
        } else {
          std::uint64_t last = 0;
          for (const auto& name : BWV_TRY(fs::list_dir(store.root() / "index" / device))) {
            const auto n = std::strtoull(name.c_str(), nullptr, 10);
            if (n < c.m.seq) last = std::max<std::uint64_t>(last, n);
          }
          if (prev && prev->first < c.m.seq) last = std::max(last, prev->first);
          events.gap(device, last, c.m.seq);
          ++summary.gaps;
          prev.reset();
        }
      }
      if (c.m.seq > 1 && prev && prev->first == c.m.seq - 1 && *c.m.prev_manifest_sha256 != prev->second) {
        events.problem(c.m.clip_id, "chain broken: prev_manifest_sha256 does not match the manifest of seq " +
                                        std::to_string(c.m.seq - 1) + "; refused");
        ++summary.refused;
        prev.reset();
        continue;
      }
      to_stage.push_back(&c);
      prev = {c.m.seq, c.manifest_sha256};
    }

    // What a run of clips needs once it is in place, made durable in this order: index and expiry
    // entries, custody entries, receipts.
    struct Pending {
      fs::Batch entries;
      std::map<fs::Path, std::string> index_claims;
      std::vector<custody::NewEntry> custody;
      std::vector<const Candidate*> receipts;
      std::vector<const Candidate*> fresh; // stored by this pull
    };
    Pending pending;
    // fresh: stored by this pull, so it has no flags and no tombstone yet.
    auto add_entries = [&](const Candidate& c, bool fresh) -> Result<void> {
      BWV_CHECK(store.index_add(pending.entries, device, c.m.seq, c.m.clip_id));
      pending.index_claims[store.root() / "index" / device / std::to_string(c.m.seq)] = c.m.clip_id;
      ClipFlags flags;
      if (!fresh) {
        const StoredClip stored = BWV_TRY(store.load_clip(c.m.clip_id));
        if (BWV_TRY(Tombstone::load(stored))) return {}; // deleted by policy: no expiry entry
        flags = BWV_TRY(load_flags(store, c.m.clip_id));
      }
      return expiry_add(pending.entries, store, c.m.clip_id, retention_of(policy, c.m, flags).expires);
    };
    // Already stored: complete what a crash may have left undone (index, expiry, custody), with
    // the first run.
    bool already_committed = false;
    auto add_already = [&]() -> Result<void> {
      // The pull that stored them may have died between its rename and the flush of the date
      // directory: flushed here, before anything lets the camera delete its copy.
      std::vector<fs::Path> dirs;
      for (const Candidate* c : already) {
        const fs::Path parent = BWV_TRY(store.clip_dir(c->m.clip_id)).parent_path();
        if (std::find(dirs.begin(), dirs.end(), parent) == dirs.end()) dirs.push_back(parent);
      }
      for (const auto& dir : dirs)
        BWV_CHECK(fs::fsync_path(dir));
      for (const Candidate* c : already) {
        BWV_CHECK(add_entries(*c, /*fresh=*/false));
        if (!BWV_TRY(ingest_index.has(c->m.clip_id)))
          pending.custody.push_back({"ingest", c->m.clip_id, ingest_details(*c, camera_dir)});
        pending.receipts.push_back(c);
      }
      return {};
    };

    // Clips on record, reported once the device is done or stopped: the order of the lines is
    // that of a pull recording everything at once (ingested, then receipted again).
    std::vector<const Candidate*> ingested, receipted;
    const crypto::PublicKey store_pub = sign_key.public_key();
    auto commit = [&]() -> Result<void> {
      Pending p = std::move(pending);
      pending = Pending();
      for (const auto& path : BWV_TRY(p.entries.commit()))
        if (auto it = p.index_claims.find(path); it != p.index_claims.end())
          BWV_CHECK(store.check_index(path, it->second));
      // Custody before receipts: a camera may delete a clip only once the store has recorded it.
      BWV_CHECK(store.append_custody(actor, p.custody));
      // Only now is a clip ingested: stored, indexed and on record.
      ingested.insert(ingested.end(), p.fresh.begin(), p.fresh.end());
      std::sort(p.receipts.begin(), p.receipts.end(),
                [](const Candidate* a, const Candidate* b) { return a->m.seq < b->m.seq; });
      std::vector<std::pair<camera::Receipt, crypto::Signature>> receipts;
      for (const Candidate* c : p.receipts) {
        const bool is_already = std::find(already.begin(), already.end(), c) != already.end();
        if (is_already && BWV_TRY(cam.has_receipt(c->m.clip_id, store_pub, c->manifest_sha256, c->m.video.sha256)))
          continue;
        camera::Receipt r{c->m.clip_id, c->manifest_sha256, c->m.video.sha256, store_key_id, std::time(nullptr)};
        const std::string bytes = r.write();
        receipts.emplace_back(r, crypto::sign(sign_key, bytes,
                                              "bwv-receipt " + c->m.clip_id + " " + crypto::sha256_hex(bytes),
                                              "receipt from bwv store " + store.config().store_id));
      }
      BWV_CHECK(cam.write_receipts(receipts));
      for (const auto& [r, sig] : receipts)
        for (const Candidate* c : already)
          if (c->m.clip_id == r.clip_id) receipted.push_back(c);
      return {};
    };

    BWV_CHECK(add_already());

    // Stage on every core (two threads each) while this thread flushes, claims, records and
    // receipts each finished run of clips, in order: the disk writes one run while the cores
    // decrypt the next.
    std::vector<Staged> staged(to_stage.size());
    std::vector<std::optional<Error>> errors(to_stage.size());
    std::vector<std::uint64_t> sizes;
    for (const Candidate* c : to_stage) sizes.push_back(c->sealed_size);
    for (const Candidate* c : already) bytes_done += c->sealed_size;
    std::vector<StageBuffers> buffers(Stager::threads(jobs, sizes.size()));
    Stager stager(sizes, jobs, [&](std::size_t i, std::size_t t) {
      const Candidate& c = *to_stage[i];
      const fs::Path dir = store.staging_path(actor.host, c.m.clip_id);
      staged[i] = {&c, dir};
      auto r = [&]() -> Result<void> {
        if (::mkdir(dir.c_str(), 0755) != 0) return fail_errno(dir, "mkdir", errno);
        return stage(c, dir, seal, bytes_done, buffers[t]);
      }();
      if (!r) {
        buffers[t].out.abandon();
        errors[i] = r.error();
      }
      events.progress(bytes_done, bytes_total);
    });
    // Flushes and claims clips [begin, end), adding what they need to pending.
    auto claim = [&](std::size_t begin, std::size_t end) -> Result<void> {
      // One flush for the run's data; an fsync of each file as well, for filesystems whose
      // syncfs is weaker than fsync (cheap once the data is on disk).
      BWV_CHECK(fs::sync_filesystem(store.tmp_dir()));
      std::vector<fs::Path> claimed_dirs;
      for (std::size_t i = begin; i < end; ++i) {
        const Candidate& c = *staged[i].c;
        if (errors[i]) {
          (void)fs::remove_tree(staged[i].dir);
          if (errors[i]->code != Errc::check_failed) return std::unexpected(*errors[i]);
          events.problem(errors[i]->subject, errors[i]->message + "; not ingested, left on the camera");
          ++summary.refused;
          continue;
        }
        for (const char* name : {"video.mp4", "manifest.json", "manifest.json.minisig"})
          BWV_CHECK(fs::fsync_path(staged[i].dir / name));
        BWV_CHECK(fs::fsync_path(staged[i].dir));
        const std::string& id = c.m.clip_id;
        const fs::Path final_dir = BWV_TRY(store.clip_dir(id));
        BWV_CHECK(fs::make_dirs(store.root(), fs::Path("clips") / id.substr(0, 4) / id.substr(4, 2) / id.substr(6, 2)));
        if (!BWV_TRY(fs::rename_noreplace(staged[i].dir, final_dir))) {
          // Another pull (another dock host) claimed it first: the same clip, or a refusal.
          (void)fs::remove_tree(staged[i].dir);
          const auto stored = BWV_TRY(store.load_clip(id));
          if (stored.manifest_bytes != c.manifest_bytes) {
            events.problem(id, "a different clip with this id is already in the store; refused");
            ++summary.refused;
            continue;
          }
          // Not receipted here: the pull that claimed it records and receipts it, or, if it died
          // first, the next pull finds it stored and completes it under the device lock. (Only
          // where locks fail can two pulls of one device get this far.)
          continue;
        }
        pending.fresh.push_back(&c);
        if (std::find(claimed_dirs.begin(), claimed_dirs.end(), final_dir.parent_path()) == claimed_dirs.end())
          claimed_dirs.push_back(final_dir.parent_path());
        BWV_CHECK(add_entries(c, /*fresh=*/true));
        pending.custody.push_back({"ingest", id, ingest_details(c, camera_dir)});
        pending.receipts.push_back(&c);
      }
      for (const auto& dir : claimed_dirs)
        BWV_CHECK(fs::fsync_path(dir));
      return {};
    };
    // Nothing more is staged, and what was is removed.
    auto drop_staging = [&] {
      stager.stop();
      for (const auto& st : staged)
        if (st.c) (void)fs::remove_tree(st.dir);
    };
    auto run_device = [&]() -> Result<void> {
      std::uint64_t left = 0; // to be claimed
      for (const auto size : sizes)
        left += size;
      for (std::size_t begin = 0; begin < to_stage.size();) {
        const std::size_t end = stager.wait(begin, std::min(k_commit_bytes, std::max(k_min_run_bytes, left / 2)));
        for (std::size_t i = begin; i < end; ++i)
          left -= sizes[i];
        if (auto claimed = claim(begin, end); !claimed) {
          // A store error part-way (a full disk, a failing write or flush) stops the pull, but not
          // before the clips already put in place are indexed and on record, as a rerun would
          // do: the store is left consistent, and the camera gets their receipts. The staging is
          // freed first (on a full disk, that is what makes room for the record).
          drop_staging();
          const std::vector<const Candidate*> claimed_fresh = std::move(pending.fresh);
          pending = Pending();
          if (!already_committed) BWV_CHECK(add_already());
          // A clip's rename is durable only once its date directory is flushed, which the run
          // had not yet done: a clip whose directory cannot be flushed is neither recorded nor
          // receipted here (the camera keeps it; a re-run finds it stored and completes it).
          std::vector<fs::Path> synced, failed;
          for (const Candidate* c : claimed_fresh) {
            const fs::Path parent = BWV_TRY(store.clip_dir(c->m.clip_id)).parent_path();
            if (std::find(failed.begin(), failed.end(), parent) != failed.end()) continue;
            if (std::find(synced.begin(), synced.end(), parent) == synced.end()) {
              if (!fs::fsync_path(parent)) {
                failed.push_back(parent);
                continue;
              }
              synced.push_back(parent);
            }
            BWV_CHECK(add_entries(*c, /*fresh=*/true));
            pending.custody.push_back({"ingest", c->m.clip_id, ingest_details(*c, camera_dir)});
            pending.receipts.push_back(c);
            pending.fresh.push_back(c);
          }
          BWV_CHECK(commit());
          return std::unexpected(claimed.error());
        }
        BWV_CHECK(commit());
        already_committed = true;
        begin = end;
      }
      if (!already_committed) BWV_CHECK(commit());
      return {};
    };
    const auto done = run_device();
    if (!done) drop_staging();
    for (const Candidate* c : ingested) {
      events.ingested(c->m);
      ++summary.ingested;
    }
    for (const Candidate* c : receipted) {
      events.receipted(c->m.clip_id);
      ++summary.receipted;
    }
    if (!done) return std::unexpected(done.error());
  }
  events.progress(bytes_total, bytes_total);
  return summary;
}

} // namespace bwv::store
