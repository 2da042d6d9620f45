// The directory store (bwv-store(5)): layout, keys, trusted devices, clips, index, locks.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"
#include "crypto/minisign.hpp"
#include "crypto/seal.hpp"
#include "custody/log.hpp"
#include "manifest/manifest.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace bwv::store {

inline constexpr int k_version = 1;

struct Config {
  std::string store_id;
  std::string organisation;
  std::time_t created = 0;
  // The key ids of keys/store.pub and keys/seal.pub: a key file that is not the one named here
  // (replaced by someone who then signed with it) is refused wherever it is read.
  std::string store_key_id;
  std::string seal_key_id;
};

struct DeviceKey {
  std::string device;
  crypto::PublicKey key;
  std::time_t trusted = 0;
  std::string trusted_by;
  std::optional<std::time_t> revoked;
  std::string revoke_reason;
  std::string key_id() const { return crypto::key_id_string(key.id); }
};

struct StoredClip {
  std::string id;
  fs::Path dir;
  std::string manifest_bytes;
  std::string manifest_sha256;
  manifest::Manifest manifest;
  std::string signature_text;
  fs::Path video() const { return dir / "video.mp4"; }
};

class Store {
public:
  // The store to use: --store DIR, else $BWV_STORE, else the current directory if it is one.
  static Result<fs::Path> locate(const std::optional<std::string>& option);
  // A new store in an empty or missing directory, with its signing and sealing key pairs.
  static Result<Store> init(const fs::Path& dir, const std::string& organisation);
  // Refuses (Errc::permission) a store whose directories others may write to; see check_dirs.
  static Result<Store> open(const fs::Path& dir);
  // Who may change a store (bwv-store(5), PERMISSIONS): its root and top-level directories may be
  // shared with a group but never writable by others (sticky bit or not), keys/ is writable by
  // its owner only, and a top-level directory is never a symbolic link.
  static Result<void> check_dirs(const fs::Path& dir);

  const fs::Path& root() const { return m_root; }
  const Config& config() const { return m_config; }
  fs::Path tmp_dir() const { return m_root / "tmp"; }
  // A new name for this process's staging in tmp/: HOST@PID.WHAT.RANDOM ('@' is in no host name).
  fs::Path staging_path(const std::string& host, const std::string& what) const;
  // Removes what this host's dead processes left in tmp/.
  void remove_stale_tmp(const std::string& host) const;

  // Each refused unless its key id is the one config.json names.
  Result<crypto::PublicKey> public_key() const;
  Result<crypto::SealPublicKey> seal_public_key() const;
  // Secret keys: refused as well when their files grant group or others any access (0600).
  Result<crypto::SecretKey> secret_key() const;
  Result<crypto::SealSecretKey> seal_key() const;

  // Device keys.
  Result<DeviceKey> trust(const std::string& device, const crypto::PublicKey& key,
                          const custody::Actor& actor, const std::string& reason);
  // By device id (all its keys) or by key id; returns the keys revoked now.
  Result<std::vector<DeviceKey>> revoke(const std::string& device_or_key,
                                        const custody::Actor& actor, const std::string& reason);
  Result<std::vector<DeviceKey>> devices() const;
  Result<std::optional<DeviceKey>> device_key(const std::string& device,
                                              const std::string& key_id) const;

  // Clips. Ids are checked before any path is made from them.
  Result<fs::Path> clip_dir(const std::string& id) const;
  Result<bool> has_clip(const std::string& id) const;
  Result<StoredClip> load_clip(const std::string& id) const;
  // Every clip id in the store (date directories from..to inclusive when given), sorted.
  Result<std::vector<std::string>> clip_ids(std::optional<std::time_t> from = {},
                                            std::optional<std::time_t> to = {}) const;
  // Checks a stored clip's manifest signature against the device key it names, or a derivative's
  // against the store key.
  Result<void> check_signature(const StoredClip& clip) const;
  // The ids of a clip's derivatives (id-r1, id-r2, ...: numbered densely from 1, never removed).
  Result<std::vector<std::string>> derivatives(const std::string& id) const;

  // Chain index: the id of a device's seq-th clip, if stored.
  Result<std::optional<std::string>> index_get(const std::string& device, std::uint64_t seq) const;
  Result<void> index_put(const std::string& device, std::uint64_t seq, const std::string& id) const;
  // The same, made durable with the rest of a batch; check_index() after the commit.
  Result<void> index_add(fs::Batch& batch, const std::string& device, std::uint64_t seq,
                         const std::string& id) const;
  // After a batch: an entry that already existed must name the same clip.
  Result<void> check_index(const fs::Path& entry, const std::string& id) const;

  // Custody.
  fs::Path custody_log(const std::string& host) const { return m_root / "custody" / (host + ".jsonl"); }
  Result<std::vector<fs::Path>> custody_logs() const;
  Result<std::vector<custody::Entry>> append_custody(const custody::Actor& actor,
                                                     const std::vector<custody::NewEntry>& e) const;

  // Locks (bwv-store(5) "Locks").
  Result<fs::Lock> lock_store(fs::Lock::Mode mode, int wait_seconds) const;
  Result<fs::Lock> lock_device(const std::string& device, int wait_seconds) const;

private:
  explicit Store(fs::Path root) : m_root(std::move(root)) {}
  fs::Path m_root;
  Config m_config;
};

} // namespace bwv::store
