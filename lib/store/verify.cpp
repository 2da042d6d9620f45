#include "store/verify.hpp"

#include "core/parallel.hpp"
#include "core/text.hpp"
#include "custody/log.hpp"
#include "store/checkpoint.hpp"
#include "store/policy.hpp"

#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace bwv::store {

namespace {

struct Loaded {
  bool ok = false;
  bool deleted = false; // the video was deleted by policy (a tombstone stands in for it)
  std::set<std::string> holds; // in flags.json
  std::string device;
  std::uint64_t seq = 0;
  std::string manifest_sha256;
  std::optional<std::string> prev;
  std::optional<std::string> original; // a derivative's
};

// A video deleted by policy leaves a tombstone that must describe exactly the video the manifest
// names; returns whether the clip is such a deletion.
bool check_tombstone(const StoredClip& clip, ClipReport& report) {
  if (BWV_TRY_OR(fs::kind_of(clip.video()), fs::Kind::none) != fs::Kind::none) return false;
  auto t = Tombstone::load(clip);
  if (!t) {
    report.problems.push_back(t.error().message);
    return true;
  }
  if (!*t) return false;
  if ((*t)->size != clip.manifest.video.size || (*t)->video_sha256 != clip.manifest.video.sha256 ||
      (*t)->manifest_sha256 != clip.manifest_sha256)
    report.problems.push_back("deleted.json does not describe this clip's video and manifest");
  if ((*t)->deleted < (*t)->expired)
    report.problems.push_back("deleted.json says the video went before its retention ended");
  return true;
}

// Hashes the video in one pass; only when it differs is a second pass made over the chunks to
// say where the damage is.
void check_video(const StoredClip& clip, ClipReport& report) {
  const fs::Path video = clip.video();
  auto fd = fs::open_regular(video);
  if (!fd) {
    report.problems.push_back(fd.error().code == Errc::io && fd.error().message.find("No such") != std::string::npos
                                  ? "video.mp4 is missing"
                                  : "video.mp4: " + fd.error().message);
    return;
  }
  ::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  crypto::Sha256 whole;
  std::vector<unsigned char> buf(1 << 20);
  std::uint64_t size = 0;
  for (;;) {
    auto n = fs::read_full(fd->get(), buf.data(), buf.size(), video);
    if (!n) {
      report.problems.push_back("video.mp4: " + n.error().message);
      return;
    }
    whole.update(buf.data(), *n);
    size += *n;
    if (*n < buf.size()) break;
  }
  report.bytes = size;
  if (size == clip.manifest.video.size && crypto::hex(whole.finish()) == clip.manifest.video.sha256)
    return;
  // Locate the damage.
  manifest::VideoHasher hasher(clip.manifest.video.chunk_size);
  ::lseek(fd->get(), 0, SEEK_SET);
  for (;;) {
    auto n = fs::read_full(fd->get(), buf.data(), buf.size(), video);
    if (!n) break;
    hasher.update(buf.data(), *n);
    if (*n < buf.size()) break;
  }
  for (auto& p : manifest::compare_video(clip.manifest.video, hasher.finish()))
    report.problems.push_back("video.mp4: " + p);
}

// A derivative must name its original exactly: the original's manifest and video hashes, and the
// recording fields it copies.
void check_derivation(const Store& store, const StoredClip& clip, ClipReport& report) {
  const manifest::Manifest& m = clip.manifest;
  const manifest::Derivation& d = *m.derived_from;
  auto original = store.load_clip(d.clip_id);
  if (!original) {
    report.problems.push_back("its original " + d.clip_id + " is not in the store: " + original.error().message);
    return;
  }
  const manifest::Manifest& o = original->manifest;
  if (original->manifest_sha256 != d.manifest_sha256)
    report.problems.push_back("derived_from.manifest_sha256 is not the SHA-256 of " + d.clip_id + "'s manifest");
  if (o.video.sha256 != d.video_sha256)
    report.problems.push_back("derived_from.video_sha256 is not the SHA-256 " + d.clip_id + "'s manifest gives its video");
  if (m.device != o.device || m.officer != o.officer || m.seq != o.seq || m.prev_manifest_sha256 != o.prev_manifest_sha256 ||
      m.start != o.start || m.end != o.end || m.pre_event_seconds != o.pre_event_seconds || m.trigger != o.trigger ||
      m.firmware != o.firmware || m.stealth != o.stealth || m.recovered != o.recovered ||
      m.clock_known != o.clock_known || m.clock_set != o.clock_set)
    report.problems.push_back("its recording fields differ from those of its original " + d.clip_id);
}

} // namespace

std::size_t VerifyReport::problem_count() const {
  std::size_t n = others.size();
  for (const auto& c : clips) n += c.problems.size();
  return n;
}

Result<VerifyReport> verify(const Store& store, const VerifyOptions& options,
                            const std::function<void(std::size_t, std::size_t)>& progress) {
  VerifyReport report;
  // The store's keys must be those config.json names: whoever replaced keys/store.pub could sign
  // derivatives and checkpoints that check against it, and whoever replaced keys/seal.pub would
  // have the cameras provisioned from it seal their footage to a key of theirs.
  bool store_key_ok = true;
  if (auto k = store.public_key(); !k) {
    if (k.error().code != Errc::check_failed) return std::unexpected(k.error());
    report.others.push_back({k.error().subject, k.error().message});
    store_key_ok = false;
  }
  if (auto k = store.seal_public_key(); !k) {
    if (k.error().code != Errc::check_failed) return std::unexpected(k.error());
    report.others.push_back({k.error().subject, k.error().message});
  }
  const bool whole_store = options.ids.empty();
  std::vector<std::string> ids = whole_store ? BWV_TRY(store.clip_ids()) : options.ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  report.clips.resize(ids.size());
  const Policy policy = BWV_TRY(Policy::load(store));
  std::vector<Loaded> loaded(ids.size());
  std::vector<std::set<std::string>> holds_of(ids.size());

  // Per clip, on every core: manifest, signature, video.
  std::atomic<std::size_t> done_clips{0};
  std::mutex progress_mutex;
  const unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  parallel_for(ids.size(), jobs, [&](std::size_t i) {
    ClipReport& r = report.clips[i];
    r.id = ids[i];
    auto clip = store.load_clip(ids[i]);
    if (!clip) {
      ++done_clips;
      r.problems.push_back(clip.error().message == "no such clip in the store"
                               ? "no such clip in the store"
                               : text::printable(clip.error().subject, 200) + ": " + clip.error().message);
      return;
    }
    if (auto sig = store.check_signature(*clip); !sig) r.problems.push_back(sig.error().message);
    if (clip->manifest.derived_from) check_derivation(store, *clip, r);
    const bool deleted = check_tombstone(*clip, r);
    if (!deleted) {
      check_video(*clip, r);
      // Retention finds clips only through the expiry index: a clip missing from it would be
      // kept for ever.
      if (auto flags = load_flags(store, ids[i]); !flags) {
        r.problems.push_back(flags.error().message);
      } else {
        for (const auto& [ref, mark] : flags->holds)
          holds_of[i].insert(ref);
        const auto retention = retention_in(store, policy, *clip, *flags);
        const std::string day = retention ? expiry_day(retention->expires) : "?";
        if (!retention)
          r.problems.push_back(retention.error().message);
        else if (BWV_TRY_OR(fs::kind_of(store.root() / "expiry" / day / ids[i]), fs::Kind::none) == fs::Kind::none)
          r.problems.push_back("not in expiry/" + day +
                               "/, where its flags and the policy put it: bwv-retain "
                               "would not find it on time (bwv-retain --reindex mends the index)");
      }
    }
    loaded[i] = {true,
                 deleted,
                 std::move(holds_of[i]),
                 clip->manifest.device,
                 clip->manifest.seq,
                 clip->manifest_sha256,
                 clip->manifest.prev_manifest_sha256,
                 clip->manifest.derived_from ? std::optional(clip->manifest.derived_from->clip_id) : std::nullopt};
    ++done_clips;
    if (progress) {
      std::lock_guard lock(progress_mutex);
      progress(done_clips, ids.size());
    }
  });
  for (const auto& c : report.clips) report.bytes += c.bytes;

  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < ids.size(); ++i) index_of[ids[i]] = i;
  auto clip_problem = [&](const std::string& id, std::string msg) {
    if (auto it = index_of.find(id); it != index_of.end())
      report.clips[it->second].problems.push_back(std::move(msg));
    else
      report.others.push_back({id, std::move(msg)});
  };

  // Chains: each device's clips in seq order, each naming the previous manifest's SHA-256.
  std::map<std::string, std::map<std::uint64_t, std::size_t>> chains;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!loaded[i].ok || loaded[i].original) continue; // a derivative is not in its device's chain
    auto [it, fresh] = chains[loaded[i].device].try_emplace(loaded[i].seq, i);
    if (!fresh)
      clip_problem(ids[i], "device " + loaded[i].device + " seq " + std::to_string(loaded[i].seq) +
                               " is also claimed by " + ids[it->second] + " (a forked chain)");
  }
  // Index entries name clips; one naming a clip that is not here is a missing clip.
  if (whole_store)
    for (const auto& device : BWV_TRY(fs::list_dir(store.root() / "index")))
      for (const auto& seq : BWV_TRY(fs::list_dir(store.root() / "index" / device))) {
        auto id = store.index_get(device, std::strtoull(seq.c_str(), nullptr, 10));
        if (!id) {
          report.others.push_back({(store.root() / "index" / device / seq).string(), id.error().message});
        } else if (*id && !index_of.count(**id)) {
          report.others.push_back({**id, "missing: the index names it as device " + device + " seq " + seq +
                                             ", but it is not in the store"});
        }
      }
  for (const auto& [device, by_seq] : chains) {
    std::uint64_t expect = 1;
    for (const auto& [seq, i] : by_seq) {
      const Loaded& l = loaded[i];
      if (whole_store && seq > expect)
        report.others.push_back({device, seq - expect == 1
                                             ? "chain gap: clip seq " + std::to_string(expect) + " is missing"
                                             : "chain gap: clips seq " + std::to_string(expect) + " to " +
                                                   std::to_string(seq - 1) + " are missing"});
      expect = seq + 1;
      if (seq == 1) continue;
      std::optional<std::string> prev_sha;
      if (auto it = by_seq.find(seq - 1); it != by_seq.end()) {
        prev_sha = loaded[it->second].manifest_sha256;
      } else if (!whole_store) {
        if (auto prev_id = store.index_get(device, seq - 1); prev_id && *prev_id)
          if (auto prev_clip = store.load_clip(**prev_id)) prev_sha = prev_clip->manifest_sha256;
      }
      if (prev_sha && l.prev != prev_sha)
        clip_problem(ids[i], "chain broken: prev_manifest_sha256 is not the SHA-256 of the manifest of seq " +
                                 std::to_string(seq - 1));
    }
  }

  // Custody: every log chains; every clip has an ingest entry (a derivative, a redact entry); every
  // ingested or derived clip is stored.
  std::map<std::string, const custody::Entry*> ingest;
  std::vector<custody::ReadResult> logs;
  for (const auto& log : BWV_TRY(store.custody_logs())) {
    auto res = custody::read(log);
    if (!res) {
      report.others.push_back({log.string(), res.error().message});
      continue;
    }
    for (const auto& p : res->problems) report.others.push_back({"custody", p});
    logs.push_back(std::move(*res));
  }
  // Signed checkpoints: a log changed after one was taken no longer matches it. With a replaced
  // store key they prove nothing, and that is reported above.
  if (store_key_ok)
    for (auto& [subject, message] : BWV_TRY(check_checkpoints(store))) report.others.push_back({subject, message});
  std::set<std::string> deletions;
  std::vector<const custody::Entry*> merged;
  for (const auto& log : logs)
    for (const auto& e : log.entries) {
      if ((e.action == "ingest" || e.action == "redact") && e.clip && !ingest.count(*e.clip)) ingest[*e.clip] = &e;
      if (e.action == "retain-delete" && e.clip) deletions.insert(*e.clip);
    }
  // Holds as the custody log tells them, in order: a deletion while one was on record, or a
  // flags.json that disagrees with the record, is tampering or damage. Each log in its own order
  // (its seq and hash chain say what came first, whatever the clock said: a clock set back between
  // two entries must not put a release before its hold); the logs of different hosts merged by
  // time, then host.
  for (std::vector<std::size_t> at(logs.size(), 0);;) {
    std::optional<std::size_t> next;
    for (std::size_t l = 0; l < logs.size(); ++l) {
      while (at[l] < logs[l].entries.size() && !logs[l].entries[at[l]].clip) ++at[l];
      if (at[l] == logs[l].entries.size()) continue;
      const custody::Entry& e = logs[l].entries[at[l]];
      const custody::Entry* best = next ? &logs[*next].entries[at[*next]] : nullptr;
      if (!best || e.time < best->time || (e.time == best->time && e.host < best->host)) next = l;
    }
    if (!next) break;
    merged.push_back(&logs[*next].entries[at[*next]++]);
  }
  std::map<std::string, std::set<std::string>> held;
  for (const custody::Entry* e : merged) {
    const auto hold = e->details.find("hold");
    if ((e->action == "flag-hold" || e->action == "flag-release") && hold != e->details.end() && hold->is_string()) {
      if (e->action == "flag-hold") held[*e->clip].insert(hold->get<std::string>());
      else held[*e->clip].erase(hold->get<std::string>());
    } else if (e->action == "retain-delete") {
      // A derivative is held by its original's holds as well.
      const auto split = manifest::split_derivative_id(*e->clip);
      const std::set<std::string>& mine = held[*e->clip];
      const std::set<std::string>& theirs = split ? held[split->first] : mine;
      if (!mine.empty() || !theirs.empty())
        clip_problem(*e->clip, "deleted by bwv-retain (" + e->source + ":" + std::to_string(e->line_no) +
                                   ") while the custody log shows it held (" +
                                   *(mine.empty() ? theirs : mine).begin() + ")");
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (loaded[i].ok && !loaded[i].deleted && held[ids[i]] != loaded[i].holds)
      clip_problem(ids[i], "flags.json and the custody log disagree about its holds");
  std::map<std::pair<std::string, std::string>, std::time_t> revoked;
  for (const auto& d : BWV_TRY(store.devices()))
    if (d.revoked) revoked[{d.device, d.key_id()}] = *d.revoked;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!loaded[i].ok) continue;
    if (loaded[i].deleted && !deletions.count(ids[i]))
      clip_problem(ids[i], "video.mp4 is gone and a tombstone says it was deleted by policy, but no "
                           "custody entry records the deletion");
    const auto it = ingest.find(ids[i]);
    const char* made = loaded[i].original ? "redact" : "ingest";
    if (it == ingest.end() || it->second->action != made) {
      clip_problem(ids[i], std::string("no ") + made + " entry in the custody log");
      continue;
    }
    const custody::Entry& e = *it->second;
    const auto sha = e.details.find("manifest_sha256");
    if (sha == e.details.end() || *sha != loaded[i].manifest_sha256)
      clip_problem(ids[i], "manifest differs from the one recorded at ingest (" + e.source + ":" +
                               std::to_string(e.line_no) + ")");
    const auto key = e.details.find("key_id");
    if (key != e.details.end() && key->is_string())
      if (auto rv = revoked.find({loaded[i].device, key->get<std::string>()});
          rv != revoked.end() && e.time > rv->second)
        clip_problem(ids[i], "ingested after its device key was revoked");
  }
  for (const auto& [id, e] : ingest) {
    const bool asked = whole_store || index_of.count(id);
    if (!asked || (index_of.count(id) && loaded[index_of[id]].ok)) continue;
    if (!whole_store) continue; // reported already as "no such clip"
    report.others.push_back({id, "missing: custody records its " + e->action + " on " + text::format_time(e->time) +
                                     " by " + e->host + ", but it is not in the store"});
  }
  return report;
}

} // namespace bwv::store
