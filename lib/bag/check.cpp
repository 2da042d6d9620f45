#include "bag/check.hpp"

#include "bag/hash.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "crypto/minisign.hpp"
#include "custody/checkpoint.hpp"
#include "custody/merkle.hpp"
#include "manifest/manifest.hpp"

#include <algorithm>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/stat.h>

namespace bwv::bag {

namespace {

// A path a manifest may name: relative, inside the bag, no "." or ".." parts.
bool safe_path(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string_view::npos) return false;
  std::size_t i = 0;
  while (i <= p.size()) {
    const auto j = std::min(p.find('/', i), p.size());
    const auto part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

class Checker {
public:
  explicit Checker(fs::Path bag) : m_bag(std::move(bag)) {}

  void problem(std::string subject, std::string message) {
    m_report.problems.push_back({std::move(subject), std::move(message)});
  }

  Result<BagReport> run() {
    if (BWV_TRY(fs::kind_of(m_bag)) != fs::Kind::directory) return fail(Errc::usage, m_bag, "not a directory");
    BWV_CHECK(list_files());
    // Nothing more is read from a bag with a link in it: a read through it could leave the bag.
    if (m_has_link) return m_report;
    check_bagit();
    const auto store_key = load_store_key();
    check_tag_manifest(store_key);
    std::map<std::string, FileHashes> payload = BWV_TRY(check_payload_manifests());
    check_oxum(payload);
    check_clips(payload, store_key);
    check_custody(store_key);
    return m_report;
  }

private:
  std::string rel(const fs::Path& p) const { return p.lexically_relative(m_bag).string(); }
  std::string sub(const std::string& r) const { return (m_bag / r).string(); }

  Result<std::string> read(const std::string& r, std::uint64_t max = 64 << 20) { return fs::read_file(m_bag / r, max); }

  void check_bagit() {
    auto t = read("bagit.txt", 4096);
    if (!t) return problem(sub("bagit.txt"), t.error().message);
    if (*t != "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
      problem(sub("bagit.txt"), "not a BagIt 1.0 declaration with UTF-8 tag files");
  }

  Result<void> list_files() {
    for (auto it = std::filesystem::recursive_directory_iterator(m_bag);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      const auto st = it->symlink_status();
      const std::string r = rel(it->path());
      if (std::filesystem::is_symlink(st)) {
        problem(it->path().string(), "a symbolic link: a bag holds only files; not checked further");
        m_has_link = true;
        it.disable_recursion_pending();
      } else if (std::filesystem::is_regular_file(st)) {
        (r.starts_with("data/") ? m_data : m_tags).insert(r);
      } else if (!std::filesystem::is_directory(st)) {
        problem(it->path().string(), "not a regular file");
      }
    }
    return {};
  }

  std::optional<crypto::PublicKey> load_store_key() {
    auto t = read("keys/store.pub", 65536);
    if (!t) {
      problem(sub("keys/store.pub"), t.error().message);
      return std::nullopt;
    }
    auto k = crypto::PublicKey::parse(*t, sub("keys/store.pub"));
    if (!k) {
      problem(k.error().subject, k.error().message);
      return std::nullopt;
    }
    m_report.store_key_id = crypto::key_id_string(k->id);
    return *k;
  }

  // "HEX  PATH" lines; returns path -> hex. Problems for malformed lines.
  std::map<std::string, std::string> parse_manifest(const std::string& name, std::size_t hex_len) {
    std::map<std::string, std::string> out;
    auto t = read(name);
    if (!t) {
      problem(sub(name), t.error().message);
      return out;
    }
    std::size_t line_no = 0, pos = 0;
    while (pos < t->size()) {
      const auto nl = t->find('\n', pos);
      const std::string line = t->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? t->size() : nl + 1;
      ++line_no;
      const std::string where = sub(name) + ":" + std::to_string(line_no);
      if (line.size() < hex_len + 3 || line.compare(hex_len, 2, "  ") != 0 ||
          line.substr(0, hex_len).find_first_not_of("0123456789abcdef") != std::string::npos) {
        problem(where, "not a line of the form HASH  PATH");
        continue;
      }
      const std::string path = line.substr(hex_len + 2);
      if (!safe_path(path)) {
        problem(where, "names a path outside the bag or with . or .. in it");
        continue;
      }
      if (!out.emplace(path, line.substr(0, hex_len)).second) problem(where, path + " is listed twice");
    }
    return out;
  }

  void check_tag_manifest(const std::optional<crypto::PublicKey>& key) {
    const std::string name = "tagmanifest-sha512.txt";
    auto t = read(name);
    auto s = read(name + ".minisig", 65536);
    if (t && s && key) {
      auto sig = crypto::Signature::parse(*s, sub(name + ".minisig"));
      auto ok = sig ? crypto::verify(*key, *t, *sig, sub(name)) : Result<void>(std::unexpected(sig.error()));
      if (!ok) problem(sub(name), "its signature by keys/store.pub: " + ok.error().message);
    } else if (!s) {
      problem(sub(name + ".minisig"), s.error().message);
    }
    const auto listed = parse_manifest(name, 128);
    for (const auto& [path, hex] : listed) {
      if (path.starts_with("data/") || path == name || path == name + ".minisig") {
        problem(sub(name), "lists " + path + ", which is not a tag file it can cover");
        continue;
      }
      auto h = hash_file(m_bag / path);
      if (!h)
        problem(sub(path), h.error().message);
      else if (h->sha512 != hex)
        problem(sub(path), "SHA-512 differs from tagmanifest-sha512.txt");
    }
    // Every tag file is covered: a change anywhere in the bag shows.
    for (const auto& path : m_tags)
      if (path != name && path != name + ".minisig" && !listed.count(path))
        problem(sub(path), "not in tagmanifest-sha512.txt");
  }

  Result<std::map<std::string, FileHashes>> check_payload_manifests() {
    const auto m256 = parse_manifest("manifest-sha256.txt", 64);
    const auto m512 = parse_manifest("manifest-sha512.txt", 128);
    std::map<std::string, FileHashes> hashes;
    for (const auto& path : m_data) {
      auto h = hash_file(m_bag / path);
      if (!h) {
        problem(sub(path), h.error().message);
        continue;
      }
      const auto a = m256.find(path), b = m512.find(path);
      if (a == m256.end())
        problem(sub(path), "not in manifest-sha256.txt");
      else if (a->second != h->sha256)
        problem(sub(path), "SHA-256 differs from manifest-sha256.txt");
      if (b == m512.end())
        problem(sub(path), "not in manifest-sha512.txt");
      else if (b->second != h->sha512)
        problem(sub(path), "SHA-512 differs from manifest-sha512.txt");
      m_report.bytes += h->size;
      hashes[path] = *h;
    }
    for (const auto* m : {&m256, &m512})
      for (const auto& [path, hex] : *m)
        if (!m_data.count(path))
          problem(sub(m == &m256 ? "manifest-sha256.txt" : "manifest-sha512.txt"),
                  "lists " + path + ", which is not in data/");
    m_report.files = m_data.size();
    return hashes;
  }

  void check_oxum(const std::map<std::string, FileHashes>& payload) {
    auto t = read("bag-info.txt", 1 << 20);
    if (!t) return problem(sub("bag-info.txt"), t.error().message);
    const auto at = t->find("Payload-Oxum: ");
    if (at == std::string::npos) return problem(sub("bag-info.txt"), "no Payload-Oxum");
    const std::string oxum = t->substr(at + 14, t->find('\n', at) - at - 14);
    std::uint64_t bytes = 0;
    for (const auto& [p, h] : payload)
      bytes += h.size;
    const std::string want = std::to_string(bytes) + "." + std::to_string(payload.size());
    if (oxum != want) problem(sub("bag-info.txt"), "Payload-Oxum is " + oxum + ", the payload is " + want);
    if (const auto s = t->find("Bwv-Store-Id: "); s != std::string::npos)
      m_store_id = t->substr(s + 14, t->find('\n', s) - s - 14);
  }

  void check_clips(const std::map<std::string, FileHashes>& payload,
                   const std::optional<crypto::PublicKey>& store_key) {
    std::map<std::string, std::pair<manifest::Manifest, std::string>> clips; // id -> manifest, its SHA-256
    std::set<std::string> dirs;
    for (const auto& path : m_data) {
      const auto slash = path.find('/', 5);
      if (slash == std::string::npos || path.find('/', slash + 1) != std::string::npos) {
        problem(sub(path), "not in a clip's directory data/ID/");
        continue;
      }
      dirs.insert(path.substr(5, slash - 5));
    }
    for (const auto& id : dirs) {
      const std::string dir = "data/" + id + "/";
      for (const char* f : {"video.mp4", "manifest.json", "manifest.json.minisig"})
        if (!m_data.count(dir + f)) problem(sub(dir + f), "missing");
      auto bytes = read(dir + "manifest.json", manifest::k_max_bytes);
      auto sigt = read(dir + "manifest.json.minisig", 65536);
      if (!bytes || !sigt) continue;
      auto m = manifest::parse(*bytes, sub(dir + "manifest.json"));
      if (!m) {
        problem(m.error().subject, m.error().message);
        continue;
      }
      if (m->clip_id != id) problem(sub(dir + "manifest.json"), "names clip " + m->clip_id + ", not " + id);
      // The key that must have signed it: the store's for a redacted copy, the camera's otherwise.
      std::optional<crypto::PublicKey> key;
      std::string key_file;
      if (m->derived_from) {
        key = store_key;
        key_file = "keys/store.pub";
      } else {
        key_file = "keys/" + m->device + "-" + m->key_id + ".pub";
        if (auto t = read(key_file, 65536)) {
          if (auto k = crypto::PublicKey::parse(*t, sub(key_file)))
            key = *k;
          else
            problem(k.error().subject, k.error().message);
        } else {
          problem(sub(key_file), "missing: the key of device " + m->device + " that signed " + id);
        }
      }
      if (key) {
        if (crypto::key_id_string(key->id) != m->key_id)
          problem(sub(dir + "manifest.json"), "names key " + m->key_id + ", but must be signed by " + key_file);
        auto sig = crypto::Signature::parse(*sigt, sub(dir + "manifest.json.minisig"));
        auto ok = sig ? crypto::verify(*key, *bytes, *sig, sub(dir + "manifest.json"))
                      : Result<void>(std::unexpected(sig.error()));
        if (!ok) problem(sub(dir + "manifest.json"), "its signature by " + key_file + ": " + ok.error().message);
      }
      if (const auto v = payload.find(dir + "video.mp4"); v != payload.end())
        if (v->second.sha256 != m->video.sha256 || v->second.size != m->video.size)
          problem(sub(dir + "video.mp4"), "is not the video its signed manifest names");
      clips[id] = {*m, crypto::sha256_hex(*bytes)};
      ++m_report.clips;
      m_ids.insert(id);
      if (m->derived_from) m_ids.insert(m->derived_from->clip_id);
    }
    // A redacted copy and its original, when both are here, must be linked exactly.
    for (const auto& [id, mm] : clips) {
      const auto& m = mm.first;
      if (!m.derived_from) continue;
      const auto o = clips.find(m.derived_from->clip_id);
      if (o == clips.end()) continue;
      const auto& om = o->second.first;
      if (m.derived_from->manifest_sha256 != o->second.second || m.derived_from->video_sha256 != om.video.sha256 ||
          m.device != om.device || m.seq != om.seq || m.start != om.start || m.end != om.end || m.officer != om.officer)
        problem(sub("data/" + id + "/manifest.json"), "does not match its original " + o->first + " in this bag");
    }
  }

  void check_custody(const std::optional<crypto::PublicKey>& store_key) {
    if (!store_key) return;
    if (m_store_id.empty()) return problem(sub("bag-info.txt"), "no Bwv-Store-Id: the checkpoints' signer is unknown");
    const std::string name = custody::note_key_name(m_store_id);
    std::map<std::string, custody::Checkpoint> checkpoints;
    for (const auto& path : m_tags) {
      if (!path.starts_with("custody/") || !path.ends_with(".checkpoint")) continue;
      const std::string log = path.substr(8, path.size() - 8 - 11);
      auto t = read(path, 65536);
      auto c = t ? custody::open_checkpoint(*t, name, *store_key, sub(path))
                 : Result<custody::Checkpoint>(std::unexpected(t.error()));
      if (!c)
        problem(sub(path), c.error().message);
      else if (c->origin != "bwv/" + m_store_id + "/custody/" + log)
        problem(sub(path), "is the checkpoint of " + c->origin);
      else
        checkpoints[log] = *c;
    }
    auto t = read("custody/entries.jsonl", 1 << 30);
    if (!t) return problem(sub("custody/entries.jsonl"), t.error().message);
    std::map<std::string, std::set<std::string>> actions; // clip -> actions proven
    std::size_t line_no = 0, pos = 0;
    while (pos < t->size()) {
      const auto nl = t->find('\n', pos);
      const std::string line = t->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? t->size() : nl + 1;
      const std::string where = sub("custody/entries.jsonl") + ":" + std::to_string(++line_no);
      auto v = json::parse(line, where);
      auto has = [&v](const char* k, auto is) { return v->contains(k) && is(v->at(k)); };
      auto is_str = [](const json::Value& x) { return x.is_string(); };
      auto is_count = [](const json::Value& x) { return x.is_number_integer() && x.template get<std::int64_t>() >= 0; };
      auto is_list = [](const json::Value& x) { return x.is_array(); };
      if (!v || !v->is_object() || !has("log", is_str) || !has("index", is_count) || !has("size", is_count) ||
          !has("line", is_str) || !has("proof", is_list)) {
        problem(where, "not an entry with log, index, size, line and proof");
        continue;
      }
      const auto cp = checkpoints.find((*v)["log"].get<std::string>());
      if (cp == checkpoints.end()) {
        problem(where, "no signed checkpoint of its log in this bag");
        continue;
      }
      std::vector<custody::merkle::Hash> proof;
      bool ok = (*v)["size"].get<std::uint64_t>() == cp->second.size;
      for (const auto& p : (*v)["proof"]) {
        auto b =
            p.is_string() ? text::from_base64(p.get<std::string>(), "proof") : Result<std::vector<unsigned char>>();
        if (!p.is_string() || !b || b->size() != 32) {
          ok = false;
          break;
        }
        custody::merkle::Hash h;
        std::copy(b->begin(), b->end(), h.begin());
        proof.push_back(h);
      }
      const std::string entry = (*v)["line"].get<std::string>();
      ok = ok && custody::merkle::verify_inclusion((*v)["index"].get<std::uint64_t>(), cp->second.size,
                                                   custody::merkle::leaf_hash(entry), proof, cp->second.root);
      if (!ok) {
        problem(where, "its inclusion proof does not lead to the signed checkpoint of its log");
        continue;
      }
      ++m_report.custody_entries;
      if (auto e = json::parse(entry, where);
          e && e->is_object() && (*e)["clip"].is_string() && (*e)["action"].is_string())
        actions[(*e)["clip"].get<std::string>()].insert((*e)["action"].get<std::string>());
    }
    // Each clip's record: how it came into the store, and this disclosure.
    for (const auto& id : m_ids) {
      const auto& a = actions[id];
      const bool derived = manifest::split_derivative_id(id).has_value();
      if (!a.count(derived ? "redact" : "ingest"))
        problem(id, std::string("no proven custody entry of its ") + (derived ? "redaction" : "ingest"));
      if (BWV_TRY_OR(fs::kind_of(m_bag / "data" / id), fs::Kind::none) == fs::Kind::directory && !a.count("disclose"))
        problem(id, "no proven custody entry of its disclosure");
    }
  }

  fs::Path m_bag;
  BagReport m_report;
  std::set<std::string> m_data, m_tags, m_ids;
  bool m_has_link = false;
  std::string m_store_id;
};

} // namespace

Result<BagReport> check_bag(const fs::Path& bag) { return Checker(bag).run(); }

} // namespace bwv::bag
