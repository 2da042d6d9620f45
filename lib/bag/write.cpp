#include "bag/write.hpp"

#include "bag/hash.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "custody/merkle.hpp"
#include "store/checkpoint.hpp"
#include "store/policy.hpp"

#include <algorithm>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace bwv::bag {

namespace {

struct Chosen {
  store::StoredClip clip;
  std::string role;
};

struct PayloadFile {
  std::string path; // relative to the bag, data/...
  FileHashes hashes;
};

// A new file of the bag (not flushed: the whole bag is flushed once before it is put in place).
Result<void> put(const fs::Path& root, const std::string& rel, std::string_view data) {
  const fs::Path p = root / rel;
  if (p.parent_path() != root) BWV_CHECK(fs::make_dirs(root, p.parent_path().lexically_relative(root)));
  return fs::write_staged(p, data);
}

// Copies one file into the bag, hashing it both ways as it goes (one read of the store).
Result<PayloadFile> copy_hashed(const fs::Path& from, const fs::Path& root, const std::string& rel,
                                const std::function<void(std::uint64_t)>& advanced) {
  const fs::Path to = root / rel;
  BWV_CHECK(fs::make_dirs(root, to.parent_path().lexically_relative(root)));
  // Not PayloadFile{rel, BWV_TRY(...)}: GCC leaks what an initializer built before a statement
  // expression returns out of it (ASan's leak check found this one).
  auto hashes = BWV_TRY(hash_file(from, &to, advanced));
  return PayloadFile{rel, std::move(hashes)};
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

// Whether any of the clip's holds (or its original's) is for this request.
Result<bool> held_for(const store::Store& store, const store::StoredClip& clip, const std::string& request) {
  std::vector<std::string> ids{clip.id};
  if (clip.manifest.derived_from) ids.push_back(clip.manifest.derived_from->clip_id);
  for (const auto& id : ids)
    for (const auto& [ref, mark] : BWV_TRY(store::load_flags(store, id)).holds)
      if (ref.substr(ref.find(':') + 1) == request) return true;
  return false;
}

std::string readme(const ExportOptions& o, const store::Store& store, const std::vector<Chosen>& chosen,
                   const std::map<std::string, std::string>& key_file_of) {
  std::string r;
  r += "Disclosure " + o.request + " from " + store.config().organisation + "\n";
  r += "Made by bwv-foi-export " BWV_VERSION " on " + text::format_time(std::time(nullptr)) + ".\n\n";
  r += "This is a BagIt 1.0 bag (RFC 8493). The video is in data/, one directory per clip, with the\n"
       "clip's signed manifest. Nothing here needs bwv to be checked: run these commands, as written,\n"
       "from the directory that holds this file (the commands are the lines indented by four spaces).\n"
       "Each prints OK lines or \"Signature and comment signature verified\" and exits 0; anything\n"
       "else means the bag is not as it was made.\n\n";
  r += "1. The bag's tag files, signed by the store (minisign 0.10 or later):\n\n";
  r += "    minisign -Vm tagmanifest-sha512.txt -p keys/store.pub\n";
  r += "    sha512sum -c tagmanifest-sha512.txt\n\n";
  r += "2. Every file of the video, both ways:\n\n";
  r += "    sha512sum -c manifest-sha512.txt\n";
  r += "    sha256sum -c manifest-sha256.txt\n\n";
  r += "3. Each clip's manifest: signed by the store (a redacted copy) or by the camera (an original),\n"
       "and naming the SHA-256 of its video:\n\n";
  for (const auto& c : chosen) {
    const std::string dir = "data/" + c.clip.id;
    r += "    minisign -Vm " + dir + "/manifest.json -p " + key_file_of.at(c.clip.id) + "\n";
    r += "    grep -x \"    \\\"sha256\\\": \\\"$(sha256sum < " + dir + "/video.mp4 | cut -c1-64)\\\",\" " + dir +
         "/manifest.json\n";
  }
  r += "\n4. Each clip's custody entries, against the store's signed checkpoints of its custody logs\n"
       "(RFC 6962 inclusion proofs; the checkpoints are in the signed tag manifest):\n\n";
  r += "    python3 custody/verify-proofs.py\n\n";
  r += "A redacted copy's manifest names its original in \"derived_from\": the original's clip id and the\n"
       "SHA-256 of its manifest and video. index.html shows each clip and its provenance in a browser.\n";
  return r;
}

std::string index_html(const ExportOptions& o, const store::Store& store, const std::vector<Chosen>& chosen) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Disclosure " +
      html_escape(o.request) +
      "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;max-width:60em}\n"
      "video{width:100%;max-width:40em;background:#000}\n"
      "table{border-collapse:collapse;margin:1em 0}\n"
      "td,th{border:1px solid #999;padding:.2em .5em;text-align:left;font-size:90%}\n"
      "td{font-family:monospace;word-break:break-all}\nsection{margin-bottom:3em}\n</style>\n</head>\n<body>\n";
  h += "<h1>Disclosure " + html_escape(o.request) + "</h1>\n<p>From " + html_escape(store.config().organisation) +
       ". Check this bag with the commands in README.txt.</p>\n";
  for (const auto& c : chosen) {
    const auto& m = c.clip.manifest;
    h += "<section id=\"" + c.clip.id + "\">\n<h2>" + c.clip.id + " (" + c.role + ")</h2>\n";
    h += "<video controls preload=\"auto\" src=\"data/" + c.clip.id + "/video.mp4\"></video>\n<table>\n";
    auto row = [&h](std::string_view k, std::string_view v) {
      h += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>\n";
    };
    row("device", m.device);
    row("officer", m.officer);
    row("recorded", text::format_time(m.start) + " to " + text::format_time(m.end));
    row("video SHA-256", m.video.sha256);
    row("manifest SHA-256", c.clip.manifest_sha256);
    row("signed by", m.derived_from ? "the store, key " + m.key_id : "camera " + m.device + ", key " + m.key_id);
    if (m.derived_from) {
      const auto& d = *m.derived_from;
      row("redacted copy of", d.clip_id);
      row("original manifest SHA-256", d.manifest_sha256);
      row("original video SHA-256", d.video_sha256);
      row("redaction spec SHA-256", d.spec_sha256);
      row("made", text::format_time(d.created) + " by " + d.by);
      row("reason", d.reason);
      row("encoder", d.encoder);
    }
    h += "</table>\n</section>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

constexpr const char* k_verify_proofs = R"PY(#!/usr/bin/env python3
# Checks every custody entry in custody/entries.jsonl against the checkpoint of its log
# (custody/LOG.checkpoint): RFC 6962 leaf hashing and RFC 9162 inclusion proof verification, with
# nothing but Python's standard library. The checkpoints themselves are covered by the signed
# tag manifest (README.txt, step 1).
import base64, hashlib, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
roots, bad, n = {}, 0, 0
for name in sorted(os.listdir(here)):
    if name.endswith(".checkpoint"):
        lines = open(os.path.join(here, name), "rb").read().split(b"\n")
        roots[name[:-len(".checkpoint")]] = (lines[0].decode(), int(lines[1]), base64.b64decode(lines[2]))
for raw in open(os.path.join(here, "entries.jsonl"), "rb"):
    n += 1
    try:
        e = json.loads(raw)
        origin, size, root = roots[e["log"]]
        proof = [base64.b64decode(p, validate=True) for p in e["proof"]]
        clip = json.loads(e["line"]).get("clip")
    except Exception as x:
        print("FAILED: entry line " + str(n) + " is malformed (" + type(x).__name__ + ")")
        bad += 1
        continue
    fn, sn, r = e["index"], size - 1, hashlib.sha256(b"\x00" + e["line"].encode()).digest()
    ok = e["size"] == size and fn < size
    for p in proof:
        if sn == 0: ok = False; break
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    ok = ok and sn == 0 and r == root
    print(("OK" if ok else "FAILED") + ": " + origin + " entry " + str(e["index"] + 1) + " (" + str(clip) + ")")
    bad += not ok
print(str(n) + " entries, " + str(bad) + " failed")
sys.exit(1 if bad or n == 0 else 0)
)PY";

} // namespace

bool is_request_ref(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/' || c == '-';
  });
}

Result<ExportResult> export_bag(const store::Store& store, const custody::Actor& actor, const ExportOptions& o,
                                const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  if (!is_request_ref(o.request)) return fail(Errc::usage, "--request", "not a reference ([A-Za-z0-9._/-]{1,64})");
  if (o.reason.size() > 4096) return fail(Errc::usage, "--reason", "longer than 4096 bytes");
  if (o.recipient.size() > 256) return fail(Errc::usage, "--recipient", "longer than 256 bytes");
  for (const std::string* s : {&o.recipient, &o.reason})
    if (std::any_of(s->begin(), s->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      return fail(Errc::usage, s == &o.recipient ? "--recipient" : "--reason", "holds a control character");
  if (o.ids.empty()) return fail(Errc::usage, "ID", "no clips given");
  if (BWV_TRY(fs::kind_of(o.out)) != fs::Kind::none)
    return fail(Errc::usage, o.out, "already exists; bags are made new");
  auto store_lock = BWV_TRY(store.lock_store(fs::Lock::Mode::shared, o.wait_seconds));

  // ---- what goes: each id's newest redacted copy (and, for a court, its original) ----
  std::vector<Chosen> chosen;
  std::set<std::string> seen;
  ExportResult result;
  auto& refused = result.refused;
  auto add = [&](store::StoredClip c, std::string role) -> Result<void> {
    if (!seen.insert(c.id).second) return {};
    if (BWV_TRY(store::Tombstone::load(c))) {
      refused.push_back({c.id, "its video was deleted by policy"});
      return {};
    }
    BWV_CHECK(store.check_signature(c));
    chosen.push_back({std::move(c), std::move(role)});
    return {};
  };
  for (const auto& id : o.ids) {
    auto clip = store.load_clip(id);
    if (!clip) {
      refused.push_back({id, clip.error().message});
      continue;
    }
    std::optional<store::StoredClip> redacted, original;
    if (clip->manifest.derived_from) {
      redacted = *clip;
      if (o.court) original = BWV_TRY(store.load_clip(clip->manifest.derived_from->clip_id));
    } else {
      const auto ds = BWV_TRY(store.derivatives(id));
      for (auto it = ds.rbegin(); it != ds.rend() && !redacted; ++it) {
        auto d = BWV_TRY(store.load_clip(*it));
        if (!BWV_TRY(store::Tombstone::load(d))) redacted = std::move(d);
      }
      if (!redacted && !(o.court && !o.reason.empty())) {
        refused.push_back({id, "has no redacted copy (make one with bwv-redact), and only a court may be given an "
                               "original, with --court and --reason"});
        continue;
      }
      if (o.court) original = *clip;
    }
    const store::StoredClip& any = redacted ? *redacted : *original;
    if (o.reason.empty() && !BWV_TRY(held_for(store, any, o.request))) {
      refused.push_back({id, "not under a hold for request " + o.request + " (bwv-flag --hold KIND:" + o.request +
                                 "), and no --reason given"});
      continue;
    }
    if (redacted) BWV_CHECK(add(*redacted, "redacted"));
    if (original) BWV_CHECK(add(*original, "original"));
  }
  if (!refused.empty()) return result;
  // Everything that could stop the export is checked before the disclosure is recorded.
  const auto key = BWV_TRY(store.secret_key());
  std::sort(chosen.begin(), chosen.end(), [](const Chosen& a, const Chosen& b) { return a.clip.id < b.clip.id; });

  // ---- the bag, made aside and put in place whole ----
  const fs::Path out = o.out.has_filename() ? o.out : o.out.parent_path();
  // Named HOST@PID so that the next export here removes what a killed one left.
  const std::string stage_prefix = "." + out.filename().string() + ".tmp-";
  fs::remove_stale_staging(out.parent_path(), stage_prefix, actor.host);
  const fs::Path tmp = out.parent_path() / fs::staging_name(stage_prefix, actor.host, "");
  if (::mkdir(tmp.c_str(), 0755) != 0) return fail_errno(tmp, "mkdir", errno);
  fs::ScratchDir cleanup(tmp);

  std::uint64_t total = 0, done = 0;
  for (const auto& c : chosen)
    total += c.clip.manifest.video.size;
  std::vector<PayloadFile> payload;
  std::map<std::string, std::string> key_file_of;
  const std::string store_pub = BWV_TRY(fs::read_file(store.root() / "keys/store.pub", 65536));
  BWV_CHECK(put(tmp, "keys/store.pub", store_pub));
  for (const auto& c : chosen) {
    const std::string dir = "data/" + c.clip.id;
    auto video = BWV_TRY(copy_hashed(c.clip.video(), tmp, dir + "/video.mp4", [&](std::uint64_t n) {
      done += n;
      if (progress) progress(done, total);
    }));
    // What leaves is what was signed: the store's copy is checked on the way out.
    if (video.hashes.sha256 != c.clip.manifest.video.sha256 || video.hashes.size != c.clip.manifest.video.size)
      return fail(Errc::check_failed, c.clip.video(),
                  "does not match its signed manifest; nothing exported (run bwv-verify)");
    payload.push_back(std::move(video));
    for (const char* name : {"manifest.json", "manifest.json.minisig"})
      payload.push_back(BWV_TRY(copy_hashed(c.clip.dir / name, tmp, dir + "/" + name, {})));
    result.clips.push_back({c.clip.id, c.role, c.clip.manifest.video.size});
    if (c.clip.manifest.derived_from) {
      key_file_of[c.clip.id] = "keys/store.pub";
    } else {
      const auto key = BWV_TRY(store.device_key(c.clip.manifest.device, c.clip.manifest.key_id));
      if (!key) return fail(Errc::check_failed, c.clip.id, "its device key is not in the store");
      const std::string file = "keys/" + c.clip.manifest.device + "-" + c.clip.manifest.key_id + ".pub";
      if (BWV_TRY(fs::kind_of(tmp / file)) == fs::Kind::none)
        BWV_CHECK(put(tmp, file,
                      key->key.to_file("device " + c.clip.manifest.device + " public key " + c.clip.manifest.key_id)));
      key_file_of[c.clip.id] = file;
    }
  }
  for (const auto& f : payload)
    result.payload_bytes += f.hashes.size;
  result.payload_files = payload.size();

  // ---- custody: the disclosure recorded, then checkpoints, then each clip's entries with proofs ----
  auto policy_lock =
      BWV_TRY(fs::Lock::acquire(store.root() / "locks/policy", fs::Lock::Mode::exclusive, o.wait_seconds));
  if (BWV_TRY(fs::kind_of(out)) != fs::Kind::none) return fail(Errc::usage, out, "already exists; bags are made new");
  const std::string bag_path = std::filesystem::absolute(out).lexically_normal().string();
  std::vector<custody::NewEntry> entries;
  json::Value all = json::Value::array();
  for (const auto& c : chosen)
    all.push_back(c.clip.id);
  for (const auto& c : chosen) {
    json::Value d = json::Value::object();
    d["request"] = o.request;
    d["recipient"] = o.recipient;
    d["court"] = o.court;
    d["reason"] = o.reason;
    d["role"] = c.role;
    d["bag"] = bag_path;
    d["clips"] = all;
    d["manifest_sha256"] = c.clip.manifest_sha256;
    d["video_sha256"] = c.clip.manifest.video.sha256;
    entries.push_back({"disclose", c.clip.id, d});
  }
  const auto appended = BWV_TRY(store.append_custody(actor, entries));
  std::set<std::string> this_disclosure;
  for (const auto& e : appended)
    this_disclosure.insert(e.line);
  const auto checkpoints = BWV_TRY(store::write_checkpoints(store));
  policy_lock = fs::Lock();

  std::set<std::string> wanted;
  for (const auto& c : chosen) {
    wanted.insert(c.clip.id);
    if (c.clip.manifest.derived_from) wanted.insert(c.clip.manifest.derived_from->clip_id);
  }
  std::string entry_lines;
  for (const auto& cp : checkpoints) {
    const fs::Path log = store.custody_log(cp.host);
    const auto res = BWV_TRY(custody::read(log));
    const auto& leaves = cp.leaves; // the log as checkpointed; read once
    bool any = false;
    for (std::size_t i = 0; i < res.entries.size(); ++i) {
      const auto& e = res.entries[i];
      const std::uint64_t index = e.line_no - 1;
      if (!e.clip || !wanted.count(*e.clip) || index >= leaves.size()) continue;
      // Only how each clip came to be, and this disclosure: other requests' holds, cases and
      // recipients are not this recipient's to read.
      if (e.action != "ingest" && e.action != "redact" && !this_disclosure.count(e.line)) continue;
      json::Value v = json::Value::object();
      v["log"] = cp.host;
      v["index"] = index;
      v["size"] = cp.checkpoint.size;
      v["line"] = e.line;
      json::Value proof = json::Value::array();
      for (const auto& h : custody::merkle::inclusion_proof(leaves, index))
        proof.push_back(text::to_base64(h));
      v["proof"] = std::move(proof);
      entry_lines += json::write_line(v) + "\n";
      ++result.custody_entries;
      any = true;
    }
    if (any) BWV_CHECK(put(tmp, "custody/" + cp.host + ".checkpoint", cp.note));
  }
  BWV_CHECK(put(tmp, "custody/entries.jsonl", entry_lines));
  BWV_CHECK(put(tmp, "custody/verify-proofs.py", k_verify_proofs));

  // ---- the tag files ----
  std::sort(payload.begin(), payload.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  std::string m256, m512;
  for (const auto& f : payload) {
    m256 += f.hashes.sha256 + "  " + f.path + "\n";
    m512 += f.hashes.sha512 + "  " + f.path + "\n";
  }
  BWV_CHECK(put(tmp, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"));
  BWV_CHECK(put(tmp, "manifest-sha256.txt", m256));
  BWV_CHECK(put(tmp, "manifest-sha512.txt", m512));
  std::string info;
  auto one_line = [](std::string s) {
    for (char& c : s)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return s;
  };
  info += "Source-Organization: " + one_line(store.config().organisation) + "\n";
  info += "Bagging-Date: " + text::format_time(std::time(nullptr)).substr(0, 10) + "\n";
  info += "External-Identifier: " + o.request + "\n";
  info += "External-Description: " + std::string(o.court ? "disclosure to a court" : "disclosure") +
          " of body-worn video by bwv-foi-export " BWV_VERSION "\n";
  info += "Payload-Oxum: " + std::to_string(result.payload_bytes) + "." + std::to_string(result.payload_files) + "\n";
  info += "Bwv-Store-Id: " + store.config().store_id + "\n";
  if (!o.recipient.empty()) info += "Bwv-Recipient: " + o.recipient + "\n";
  info += "Bwv-Clips: " + std::to_string(chosen.size()) + "\n";
  BWV_CHECK(put(tmp, "bag-info.txt", info));
  BWV_CHECK(put(tmp, "README.txt", readme(o, store, chosen, key_file_of)));
  BWV_CHECK(put(tmp, "index.html", index_html(o, store, chosen)));

  // Every tag file but the tag manifest and its signature, in sorted order.
  std::vector<std::string> tags;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = e.path().lexically_relative(tmp).string();
    if (!rel.starts_with("data/")) tags.push_back(rel);
  }
  std::sort(tags.begin(), tags.end());
  std::string tm;
  for (const auto& rel : tags) {
    tm += BWV_TRY(hash_file(tmp / rel)).sha512 + "  " + rel + "\n";
  }
  BWV_CHECK(put(tmp, "tagmanifest-sha512.txt", tm));
  const auto sig = crypto::sign(key, tm, "bwv-bag " + o.request + " " + crypto::sha256_hex(tm),
                                "signature from bwv store " + store.config().store_id);
  BWV_CHECK(put(tmp, "tagmanifest-sha512.txt.minisig", sig.to_file()));

  // ---- flushed whole, then put in place ----
  BWV_CHECK(fs::sync_filesystem(tmp));
  for (const auto& e : std::filesystem::recursive_directory_iterator(tmp))
    if (e.is_directory()) BWV_CHECK(fs::fsync_path(e.path()));
  BWV_CHECK(fs::fsync_path(tmp));
  if (!BWV_TRY(fs::rename_noreplace(tmp, out))) return fail(Errc::usage, out, "already exists; bags are made new");
  cleanup.keep();
  BWV_CHECK(fs::fsync_path(out.parent_path().empty() ? fs::Path(".") : out.parent_path()));
  return result;
}

} // namespace bwv::bag
