#include "store/store.hpp"

#include "store/policy.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

#include <sodium.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace bwv::store {

namespace {

constexpr std::string_view k_marker = "bwv-store 1\n";
constexpr const char* k_top_dirs[] = {"keys", "devices", "clips", "index", "expiry", "custody", "locks", "tmp"};

std::string mode_string(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Others may never write to a store's directories: with the sticky bit they still could add a
// clip, a custody log or a key of their own. keys/ is its owner's alone.
Result<void> check_dir_mode(const fs::Path& dir, mode_t mode, bool group_may_write) {
  if (mode & S_IWOTH)
    return fail(Errc::permission, dir,
                "writable by any user (mode " + mode_string(mode) +
                    "): anyone could add or replace the store's files; refused (chmod o-w it)");
  if (!group_may_write && (mode & S_IWGRP))
    return fail(Errc::permission, dir,
                "writable by its group (mode " + mode_string(mode) +
                    "): only the store's owner may change its keys; refused (chmod go-w it)");
  return {};
}

// A key file must hold the key config.json names: one replaced (and then signed with) is refused.
Result<void> check_key_id(const fs::Path& file, const crypto::KeyId& id, const std::string& recorded,
                          const char* field) {
  const std::string actual = crypto::key_id_string(id);
  if (actual == recorded) return {};
  return fail(Errc::check_failed, file,
              "holds key " + actual + ", not the key " + recorded + " config.json names as " + field +
                  ": the key was replaced; refused");
}

bool is_key_id(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789ABCDEF") == std::string::npos;
}

std::string date_path(std::string_view id) {
  return std::string(id.substr(0, 4)) + "/" + std::string(id.substr(4, 2)) + "/" +
         std::string(id.substr(6, 2));
}

bool all_digits(const std::string& s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

json::Value device_record(const DeviceKey& d) {
  json::Value v = json::Value::object();
  v["bwv_device_key"] = 1;
  v["device"] = d.device;
  v["key_id"] = d.key_id();
  v["trusted"] = text::format_time(d.trusted);
  v["trusted_by"] = d.trusted_by;
  v["revoked"] = d.revoked ? json::Value(text::format_time(*d.revoked)) : json::Value(nullptr);
  v["revoke_reason"] = d.revoke_reason;
  return v;
}

} // namespace

Result<fs::Path> Store::locate(const std::optional<std::string>& option) {
  if (option) return fs::Path(*option);
  if (const char* env = std::getenv("BWV_STORE"); env && *env) return fs::Path(env);
  if (BWV_TRY(fs::kind_of("bwv-store")) == fs::Kind::regular) return fs::Path(".");
  return fail(Errc::no_store, "", "no store: give --store DIR, set BWV_STORE, or run inside a store");
}

Result<Store> Store::init(const fs::Path& dir, const std::string& organisation) {
  const auto kind = BWV_TRY(fs::kind_of(dir));
  if (kind == fs::Kind::none) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail_errno(dir, "mkdir", ec.value());
    // Footage is for the store's owner and group (the dock and evidence staff), not every user
    // of the host; whatever the umask.
    if (::chmod(dir.c_str(), 0750) != 0) return fail_errno(dir, "chmod", errno);
  } else if (kind != fs::Kind::directory) {
    return fail(Errc::usage, dir, "exists and is not a directory");
  } else if (!BWV_TRY(fs::list_dir(dir)).empty()) {
    if (BWV_TRY(fs::kind_of(dir / "bwv-store")) != fs::Kind::none)
      return fail(Errc::usage, dir, "already a bwv store");
    return fail(Errc::usage, dir, "not empty; a new store needs an empty directory");
  } else {
    // Refused before anything is made: open() would refuse the finished store.
    BWV_CHECK(check_dirs(dir));
  }
  for (const char* sub : {"keys", "devices", "clips", "index", "expiry", "custody", "locks", "tmp"})
    BWV_CHECK(fs::make_dirs(dir, sub, std::string_view(sub) == "keys" ? 0700 : 0755));

  Config cfg;
  cfg.store_id = fs::random_hex(8);
  cfg.organisation = organisation;
  cfg.created = std::time(nullptr);
  const crypto::SecretKey sk = crypto::SecretKey::generate();
  const crypto::SealSecretKey seal = crypto::SealSecretKey::generate();
  // The keys' file texts live in guarded memory only (crypto::SecretBytes), and are 0600 from
  // the moment they exist (the temporary file is created with that mode).
  const crypto::SecretBytes sk_file = BWV_TRY(sk.to_file(std::nullopt));
  BWV_CHECK(fs::write_file_atomic(dir / "keys/store.key", sk_file.view(), 0600));
  BWV_CHECK(fs::write_file_atomic(
      dir / "keys/store.pub",
      sk.public_key().to_file("bwv store public key " + crypto::key_id_string(sk.id()))));
  BWV_CHECK(fs::write_file_atomic(dir / "keys/seal.key", seal.to_file().view(), 0600));
  BWV_CHECK(fs::write_file_atomic(dir / "keys/seal.pub", seal.public_key().to_file()));
  json::Value v = json::Value::object();
  v["bwv_store"] = k_version;
  v["store_id"] = cfg.store_id;
  v["organisation"] = cfg.organisation;
  v["created"] = text::format_time(cfg.created);
  v["store_key_id"] = crypto::key_id_string(sk.id());
  v["seal_key_id"] = crypto::key_id_string(seal.public_key().id);
  BWV_CHECK(fs::write_file_atomic(dir / "config.json", json::write_pretty(v)));
  BWV_CHECK(fs::write_file_atomic(dir / "policy.json", Policy::defaults().write()));
  // The marker last: a directory without it is not a store, so a crashed init is never used.
  BWV_CHECK(fs::write_file_atomic(dir / "bwv-store", k_marker));
  return open(dir);
}

Result<Store> Store::open(const fs::Path& dir) {
  const auto kind = BWV_TRY(fs::kind_of(dir));
  if (kind == fs::Kind::none) return fail(Errc::no_store, dir, "no such directory");
  const fs::Path marker_path = dir / "bwv-store";
  if (BWV_TRY(fs::kind_of(marker_path)) != fs::Kind::regular)
    return fail(Errc::no_store, dir, "not a bwv store (no bwv-store marker)");
  const std::string marker = BWV_TRY(fs::read_file(marker_path, 4096));
  if (marker != k_marker)
    return fail(Errc::no_store, dir, "unknown store format \"" + text::printable(marker, 40) +
                                         "\" (this bwv reads bwv-store 1)");
  // Before anything in it is believed.
  BWV_CHECK(check_dirs(dir));
  Store s(dir);
  const std::string cfg_text = BWV_TRY(fs::read_file(dir / "config.json", 65536));
  const json::Value cfg = BWV_TRY(json::parse(cfg_text, (dir / "config.json").string()));
  json::Reader r(cfg, (dir / "config.json").string());
  if (BWV_TRY(r.integer("bwv_store", 0, json::k_max_int)) != k_version)
    return fail(Errc::no_store, dir / "config.json", "unknown store config version");
  s.m_config.store_id = BWV_TRY(r.str("store_id"));
  s.m_config.organisation = BWV_TRY(r.str("organisation"));
  s.m_config.created = BWV_TRY(text::parse_time(BWV_TRY(r.str("created"))));
  s.m_config.store_key_id = BWV_TRY(r.str("store_key_id"));
  s.m_config.seal_key_id = BWV_TRY(r.str("seal_key_id"));
  if (!is_key_id(s.m_config.store_key_id)) return r.bad("store_key_id", "not a key id (16 upper-case hex digits)");
  if (!is_key_id(s.m_config.seal_key_id)) return r.bad("seal_key_id", "not a key id (16 upper-case hex digits)");
  return s;
}

Result<void> Store::check_dirs(const fs::Path& dir) {
  // The root may be reached through a link (a mount point, /srv/bwv -> /data/bwv): its target counts.
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail_errno(dir, "stat", errno);
  BWV_CHECK(check_dir_mode(dir, st.st_mode, /*group_may_write=*/true));
  for (const char* name : k_top_dirs) {
    const fs::Path sub = dir / name;
    if (::lstat(sub.c_str(), &st) != 0) {
      if (errno == ENOENT) continue; // made when first needed
      return fail_errno(sub, "stat", errno);
    }
    if (S_ISLNK(st.st_mode))
      return fail(Errc::check_failed, sub, "is a symbolic link; a store's directories must be its own (refused)");
    if (!S_ISDIR(st.st_mode)) return fail(Errc::check_failed, sub, "not a directory; refused");
    BWV_CHECK(check_dir_mode(sub, st.st_mode, /*group_may_write=*/std::string_view(name) != "keys"));
  }
  return {};
}

Result<crypto::PublicKey> Store::public_key() const {
  const fs::Path p = m_root / "keys/store.pub";
  const std::string p_text = BWV_TRY(fs::read_file(p, 4096));
  const auto key = BWV_TRY(crypto::PublicKey::parse(p_text, p.string()));
  BWV_CHECK(check_key_id(p, key.id, m_config.store_key_id, "store_key_id"));
  return key;
}

Result<crypto::SealPublicKey> Store::seal_public_key() const {
  const fs::Path p = m_root / "keys/seal.pub";
  const std::string p_text = BWV_TRY(fs::read_file(p, 4096));
  const auto key = BWV_TRY(crypto::SealPublicKey::parse(p_text, p.string()));
  BWV_CHECK(check_key_id(p, key.id, m_config.seal_key_id, "seal_key_id"));
  return key;
}

Result<crypto::SecretKey> Store::secret_key() const {
  const fs::Path p = m_root / "keys/store.key";
  const crypto::SecretBytes text = BWV_TRY(crypto::read_secret_file(p));
  auto key = BWV_TRY(crypto::SecretKey::parse(text.view(), p.string(), std::nullopt));
  BWV_CHECK(check_key_id(p, key.id(), m_config.store_key_id, "store_key_id"));
  return key;
}

Result<crypto::SealSecretKey> Store::seal_key() const {
  const fs::Path p = m_root / "keys/seal.key";
  const crypto::SecretBytes text = BWV_TRY(crypto::read_secret_file(p));
  auto key = BWV_TRY(crypto::SealSecretKey::parse(text.view(), p.string()));
  BWV_CHECK(check_key_id(p, key.public_key().id, m_config.seal_key_id, "seal_key_id"));
  return key;
}

Result<std::vector<DeviceKey>> Store::devices() const {
  std::vector<DeviceKey> out;
  for (const auto& dev : BWV_TRY(fs::list_dir(m_root / "devices"))) {
    if (!text::is_device_id(dev)) continue;
    for (const auto& name : BWV_TRY(fs::list_dir(m_root / "devices" / dev))) {
      if (!name.ends_with(".json") || name.starts_with(".")) continue;
      const auto key = BWV_TRY(device_key(dev, name.substr(0, name.size() - 5)));
      if (key) out.push_back(*key);
    }
  }
  return out;
}

Result<std::optional<DeviceKey>> Store::device_key(const std::string& device,
                                                   const std::string& key_id) const {
  if (!text::is_device_id(device) || key_id.size() != 16 ||
      key_id.find_first_not_of("0123456789ABCDEF") != std::string::npos)
    return std::optional<DeviceKey>();
  const fs::Path dir = m_root / "devices" / device;
  const fs::Path rec_path = dir / (key_id + ".json");
  if (BWV_TRY(fs::kind_of(rec_path)) == fs::Kind::none) return std::optional<DeviceKey>();
  const std::string rec_text = BWV_TRY(fs::read_file(rec_path, 65536));
  const json::Value v = BWV_TRY(json::parse(rec_text, rec_path.string()));
  json::Reader r(v, rec_path.string());
  if (BWV_TRY(r.integer("bwv_device_key", 0, json::k_max_int)) != 1)
    return r.bad("bwv_device_key", "unknown device key record version");
  DeviceKey d;
  d.device = BWV_TRY(r.str("device"));
  const std::string recorded_key_id = BWV_TRY(r.str("key_id"));
  d.trusted = BWV_TRY(text::parse_time(BWV_TRY(r.str("trusted"))));
  d.trusted_by = BWV_TRY(r.str("trusted_by"));
  if (const auto revoked = BWV_TRY(r.str_or_null("revoked")))
    d.revoked = BWV_TRY(text::parse_time(*revoked));
  d.revoke_reason = BWV_TRY(r.str("revoke_reason"));
  const fs::Path pub_path = dir / (key_id + ".pub");
  const std::string pub_path_text = BWV_TRY(fs::read_file(pub_path, 4096));
  d.key = BWV_TRY(crypto::PublicKey::parse(pub_path_text, pub_path.string()));
  if (d.device != device || d.key_id() != key_id || recorded_key_id != key_id)
    return fail(Errc::check_failed, rec_path, "device record does not match its file name");
  return std::optional<DeviceKey>(std::move(d));
}

Result<DeviceKey> Store::trust(const std::string& device, const crypto::PublicKey& key,
                               const custody::Actor& actor, const std::string& reason) {
  if (!text::is_device_id(device))
    return fail(Errc::usage, text::printable(device), "not a device id ([A-Za-z0-9_]{1,32})");
  const std::string key_id = crypto::key_id_string(key.id);
  if (auto existing = BWV_TRY(device_key(device, key_id))) {
    if (existing->key != key)
      return fail(Errc::check_failed, key_id, "a different key with this key id is already trusted");
    if (existing->revoked)
      return fail(Errc::check_failed, device + " " + key_id,
                  "this key was revoked; a revoked key is never trusted again");
    return *existing; // trusting twice changes nothing
  }
  for (const auto& other : BWV_TRY(devices()))
    if (other.key == key)
      return fail(Errc::check_failed, key_id, "this key is already trusted for device " + other.device);
  BWV_CHECK(fs::make_dirs(m_root, fs::Path("devices") / device));
  DeviceKey d{device, key, std::time(nullptr), actor.user + "@" + actor.host, std::nullopt, ""};
  const fs::Path dir = m_root / "devices" / device;
  BWV_CHECK(fs::write_file_atomic(dir / (key_id + ".pub"),
                                  key.to_file("bwv device " + device + " public key " + key_id)));
  json::Value details = json::Value::object();
  details["device"] = device;
  details["key_id"] = key_id;
  details["public_key"] = key.base64();
  details["reason"] = reason;
  BWV_CHECK(append_custody(actor, {{"key-trust", std::nullopt, details}}));
  // The record last: a key is trusted once its record exists.
  BWV_CHECK(fs::write_file_atomic(dir / (key_id + ".json"), json::write_pretty(device_record(d))));
  return d;
}

Result<std::vector<DeviceKey>> Store::revoke(const std::string& device_or_key,
                                             const custody::Actor& actor, const std::string& reason) {
  // Exclusive: no pull is between checking a key and storing a clip while it is revoked.
  auto lock = BWV_TRY(lock_store(fs::Lock::Mode::exclusive, 60));
  std::vector<DeviceKey> revoked;
  bool matched = false;
  // A key id as minisign 0.11 prints it drops leading zeros; either case is accepted.
  std::string key_id = device_or_key;
  if (!key_id.empty() && key_id.size() < 16 && key_id.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos)
    key_id.insert(0, 16 - key_id.size(), '0');
  for (char& c : key_id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto d : BWV_TRY(devices())) {
    if (d.device != device_or_key && d.key_id() != key_id) continue;
    matched = true;
    if (d.revoked) continue;
    d.revoked = std::time(nullptr);
    d.revoke_reason = reason;
    json::Value details = json::Value::object();
    details["device"] = d.device;
    details["key_id"] = d.key_id();
    details["reason"] = reason;
    BWV_CHECK(append_custody(actor, {{"key-revoke", std::nullopt, details}}));
    BWV_CHECK(fs::write_file_atomic(m_root / "devices" / d.device / (d.key_id() + ".json"),
                                    json::write_pretty(device_record(d))));
    revoked.push_back(d);
  }
  if (!matched)
    return fail(Errc::check_failed, text::printable(device_or_key), "no such device or key id");
  return revoked;
}

Result<fs::Path> Store::clip_dir(const std::string& id) const {
  if (!text::is_clip_id(id)) return fail(Errc::check_failed, text::printable(id), "not a clip id");
  return m_root / "clips" / date_path(id) / id;
}

// The date directories above a clip must be real directories: a link there would lead reads
// outside the store.
static Result<void> check_date_dirs(const fs::Path& clip_dir) {
  fs::Path p = clip_dir;
  for (int i = 0; i < 3; ++i) {
    p = p.parent_path();
    const auto kind = BWV_TRY(fs::kind_of(p));
    if (kind != fs::Kind::directory && kind != fs::Kind::none)
      return fail(Errc::check_failed, p, "not a directory (a link?); refused");
  }
  return {};
}

Result<bool> Store::has_clip(const std::string& id) const {
  const fs::Path dir = BWV_TRY(clip_dir(id));
  BWV_CHECK(check_date_dirs(dir));
  const auto kind = BWV_TRY(fs::kind_of(dir));
  if (kind == fs::Kind::none) return false;
  if (kind != fs::Kind::directory) return fail(Errc::check_failed, dir, "not a directory");
  return true;
}

Result<StoredClip> Store::load_clip(const std::string& id) const {
  StoredClip c;
  c.id = id;
  c.dir = BWV_TRY(clip_dir(id));
  BWV_CHECK(check_date_dirs(c.dir));
  const auto kind = BWV_TRY(fs::kind_of(c.dir));
  if (kind == fs::Kind::none) return fail(Errc::check_failed, id, "no such clip in the store");
  if (kind != fs::Kind::directory) return fail(Errc::check_failed, c.dir, "not a directory; refused");
  c.manifest_bytes = BWV_TRY(fs::read_file(c.dir / "manifest.json", manifest::k_max_bytes));
  c.manifest_sha256 = crypto::sha256_hex(c.manifest_bytes);
  c.manifest = BWV_TRY(manifest::parse(c.manifest_bytes, (c.dir / "manifest.json").string()));
  if (c.manifest.clip_id != id)
    return fail(Errc::check_failed, c.dir / "manifest.json", "names clip " + c.manifest.clip_id);
  c.signature_text = BWV_TRY(fs::read_file(c.dir / "manifest.json.minisig", 65536));
  return c;
}

Result<void> Store::check_signature(const StoredClip& clip) const {
  const std::string sig_path = (clip.dir / "manifest.json.minisig").string();
  if (clip.manifest.derived_from) {
    const auto key = BWV_TRY(map_error(public_key(), [](Error e) {
      e.message = "keys/store.pub " + e.message; // said of a clip, the file must be named
      return e;
    }));
    if (clip.manifest.key_id != crypto::key_id_string(key.id))
      return fail(Errc::check_failed, clip.id,
                  "a derivative signed by key " + clip.manifest.key_id + ", not by this store's key");
    const auto sig = BWV_TRY(crypto::Signature::parse(clip.signature_text, sig_path));
    return crypto::verify(key, clip.manifest_bytes, sig, clip.id + ": manifest");
  }
  const auto key = BWV_TRY(device_key(clip.manifest.device, clip.manifest.key_id));
  if (!key)
    return fail(Errc::check_failed, clip.id,
                "signed by key " + clip.manifest.key_id + " of device " + clip.manifest.device +
                    ", which this store has never trusted");
  const auto sig = BWV_TRY(crypto::Signature::parse(clip.signature_text, sig_path));
  return crypto::verify(key->key, clip.manifest_bytes, sig, clip.id + ": manifest");
}

Result<std::vector<std::string>> Store::derivatives(const std::string& id) const {
  std::vector<std::string> ids;
  for (unsigned n = 1;; ++n) {
    const std::string d = manifest::derivative_id(id, n);
    if (!BWV_TRY(has_clip(d))) return ids;
    ids.push_back(d);
  }
}

Result<std::vector<std::string>> Store::clip_ids(std::optional<std::time_t> from,
                                                 std::optional<std::time_t> to) const {
  // Date directories are pruned by name: cost follows the days asked for, not the store's size.
  auto day_key = [](std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
  };
  const int lo = from ? day_key(*from) : 0, hi = to ? day_key(*to) : 99999999;
  std::vector<std::string> ids;
  const fs::Path clips = m_root / "clips";
  for (const auto& y : BWV_TRY(fs::list_dir(clips))) {
    if (!all_digits(y, 4) || std::stoi(y) * 10000 + 1231 < lo || std::stoi(y) * 10000 > hi) continue;
    for (const auto& m : BWV_TRY(fs::list_dir(clips / y))) {
      if (!all_digits(m, 2)) continue;
      for (const auto& d : BWV_TRY(fs::list_dir(clips / y / m))) {
        if (!all_digits(d, 2)) continue;
        const int key = std::stoi(y + m + d);
        if (key < lo || key > hi) continue;
        for (const auto& id : BWV_TRY(fs::list_dir(clips / y / m / d)))
          if (text::is_clip_id(id) && id.compare(0, 8, y + m + d) == 0) ids.push_back(id);
      }
    }
  }
  return ids;
}

Result<std::optional<std::string>> Store::index_get(const std::string& device,
                                                    std::uint64_t seq) const {
  const fs::Path p = m_root / "index" / device / std::to_string(seq);
  if (BWV_TRY(fs::kind_of(p)) == fs::Kind::none) return std::optional<std::string>();
  std::string id = BWV_TRY(fs::read_file(p, 256));
  if (!id.empty() && id.back() == '\n') id.pop_back();
  if (!text::is_clip_id(id)) return fail(Errc::check_failed, p, "index entry is not a clip id");
  return std::optional<std::string>(id);
}

Result<void> Store::index_put(const std::string& device, std::uint64_t seq,
                              const std::string& id) const {
  BWV_CHECK(fs::make_dirs(m_root, fs::Path("index") / device));
  const fs::Path p = m_root / "index" / device / std::to_string(seq);
  if (BWV_TRY(fs::create_exclusive(p, id + "\n"))) return {};
  const auto existing = BWV_TRY(index_get(device, seq));
  if (existing != id)
    return fail(Errc::check_failed, p, "index already names another clip for this seq");
  return {};
}

Result<void> Store::index_add(fs::Batch& batch, const std::string& device, std::uint64_t seq,
                              const std::string& id) const {
  BWV_CHECK(fs::make_dirs(m_root, fs::Path("index") / device));
  return batch.add(m_root / "index" / device / std::to_string(seq), id + "\n", 0644, /*exclusive=*/true);
}

Result<void> Store::check_index(const fs::Path& entry, const std::string& id) const {
  std::string existing = BWV_TRY(fs::read_file(entry, 256));
  if (existing != id + "\n")
    return fail(Errc::check_failed, entry, "index already names another clip for this seq");
  return {};
}

Result<std::vector<fs::Path>> Store::custody_logs() const {
  std::vector<fs::Path> logs;
  for (const auto& name : BWV_TRY(fs::list_dir(m_root / "custody")))
    if (name.ends_with(".jsonl") && text::is_host_name(name.substr(0, name.size() - 6)))
      logs.push_back(m_root / "custody" / name);
  return logs;
}

Result<std::vector<custody::Entry>> Store::append_custody(
    const custody::Actor& actor, const std::vector<custody::NewEntry>& e) const {
  return custody::append(custody_log(actor.host), actor, e);
}

fs::Path Store::staging_path(const std::string& host, const std::string& what) const {
  return tmp_dir() / fs::staging_name("", host, what);
}

void Store::remove_stale_tmp(const std::string& host) const { fs::remove_stale_staging(tmp_dir(), "", host); }

Result<fs::Lock> Store::lock_store(fs::Lock::Mode mode, int wait_seconds) const {
  return fs::Lock::acquire(m_root / "locks/store", mode, wait_seconds);
}

Result<fs::Lock> Store::lock_device(const std::string& device, int wait_seconds) const {
  if (!text::is_device_id(device)) return fail(Errc::internal, device, "not a device id");
  return fs::Lock::acquire(m_root / "locks" / ("device-" + device), fs::Lock::Mode::exclusive,
                           wait_seconds);
}

} // namespace bwv::store
