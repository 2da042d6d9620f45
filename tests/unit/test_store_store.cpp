#include "core/json.hpp"
#include "core/text.hpp"
#include "store/store.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::EnvGuard;
using bwv::test::get_file;
using bwv::test::names;
using bwv::test::put_file;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("store::store");

namespace {

const custody::Actor k_actor{"alice", "dock01"};
constexpr std::time_t k_start = 1795514400; // 2026-11-24T10:00:00Z

unsigned mode_of(const fs::Path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

store::Store init(const fs::Path& dir) {
  auto s = store::Store::init(dir, "Example Police");
  REQUIRE_MESSAGE(s, why(s));
  return std::move(*s);
}

store::DeviceKey trust(store::Store& s, const std::string& device, const crypto::PublicKey& key) {
  auto d = s.trust(device, key, k_actor, "provisioned");
  REQUIRE_MESSAGE(d, why(d));
  return *d;
}

std::vector<custody::Entry> custody_entries(const store::Store& s) {
  const auto r = custody::read(s.custody_log(k_actor.host));
  REQUIRE_MESSAGE(r, why(r));
  CHECK(r->problems.empty());
  return r->entries;
}

// Writes a signed clip directory as a pull would leave it; its id.
std::string put_clip(const store::Store& s, const crypto::SecretKey& device_key, const std::string& device,
                     std::uint64_t seq, const std::string& video) {
  manifest::Manifest m;
  m.device = device;
  m.seq = seq;
  m.start = k_start;
  m.end = k_start + 60;
  m.clip_id = text::make_clip_id(m.start, device, seq);
  m.key_id = crypto::key_id_string(device_key.id());
  m.officer = "PC1";
  if (seq > 1) m.prev_manifest_sha256 = crypto::sha256_hex("previous");
  m.trigger = "double_press";
  m.firmware = "test";
  manifest::VideoHasher h;
  h.update(reinterpret_cast<const unsigned char*>(video.data()), video.size());
  m.video = h.finish();
  const std::string bytes = manifest::write(m);
  const auto dir = s.clip_dir(m.clip_id);
  REQUIRE_MESSAGE(dir, why(dir));
  std::filesystem::create_directories(*dir);
  put_file(*dir / "manifest.json", bytes);
  put_file(*dir / "manifest.json.minisig",
           crypto::sign(device_key, bytes, manifest::trusted_comment(m, crypto::sha256_hex(bytes))).to_file());
  put_file(*dir / "video.mp4", video);
  return m.clip_id;
}

// Writes the n-th derivative of a stored clip as bwv-redact would leave it, its manifest signed
// by key (the store's unless given) and naming that key; its id.
std::string put_derivative(const store::Store& s, const std::string& original_id, unsigned n,
                           const crypto::SecretKey* key = nullptr) {
  const auto original = s.load_clip(original_id);
  REQUIRE_MESSAGE(original, why(original));
  const auto store_key = s.secret_key();
  REQUIRE_MESSAGE(store_key, why(store_key));
  if (!key) key = &*store_key;
  manifest::Manifest m = original->manifest;
  m.clip_id = manifest::derivative_id(original_id, n);
  m.key_id = crypto::key_id_string(key->id());
  const std::string video = "redacted " + std::to_string(n);
  manifest::VideoHasher h;
  h.update(reinterpret_cast<const unsigned char*>(video.data()), video.size());
  m.video = h.finish();
  m.derived_from = manifest::Derivation{
      .clip_id = original_id,
      .manifest_sha256 = original->manifest_sha256,
      .video_sha256 = original->manifest.video.sha256,
      .method = "redaction",
      .spec_sha256 = crypto::sha256_hex("spec"),
      .reason = "",
      .created = k_start + 3600,
      .by = "alice@dock01",
      .encoder = "test",
      .render = "smart",
      .gops = 1,
      .reencoded_gops = 1,
  };
  const std::string bytes = manifest::write(m);
  const auto dir = s.clip_dir(m.clip_id);
  REQUIRE_MESSAGE(dir, why(dir));
  std::filesystem::create_directories(*dir);
  put_file(*dir / "manifest.json", bytes);
  put_file(*dir / "manifest.json.minisig",
           crypto::sign(*key, bytes, manifest::trusted_comment(m, crypto::sha256_hex(bytes))).to_file());
  put_file(*dir / "video.mp4", video);
  return m.clip_id;
}

// The pid of a process that has ended (and been reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return pid;
}

} // namespace

TEST_CASE("init makes a store in an empty directory") {
  TmpDir tmp;
  const std::time_t before = std::time(nullptr);
  const store::Store s = init(tmp.path());
  CHECK(s.root() == tmp.path());
  CHECK(get_file(tmp / "bwv-store") == "bwv-store 1\n");
  for (const char* sub : {"keys", "devices", "clips", "index", "custody", "locks", "tmp"}) {
    CAPTURE(sub);
    CHECK(fs::kind_of(tmp / sub) == fs::Kind::directory);
  }
  CHECK(mode_of(tmp / "keys") == 0700);
  CHECK(mode_of(tmp / "keys/store.key") == 0600);
  CHECK(mode_of(tmp / "keys/seal.key") == 0600);
  CHECK(s.tmp_dir() == tmp / "tmp");

  CHECK(s.config().organisation == "Example Police");
  CHECK(s.config().store_id.size() == 16);
  CHECK(s.config().store_id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(s.config().created >= before);
  CHECK(s.config().created <= std::time(nullptr));

  // The keys are there, and each public half matches its secret half.
  const auto pub = s.public_key();
  const auto sk = s.secret_key();
  REQUIRE_MESSAGE(pub, why(pub));
  REQUIRE_MESSAGE(sk, why(sk));
  CHECK(sk->public_key() == *pub);
  const auto seal = s.seal_key();
  REQUIRE_MESSAGE(seal, why(seal));
  const auto seal_pub = crypto::SealPublicKey::parse(get_file(tmp / "keys/seal.pub"), "seal.pub");
  REQUIRE(seal_pub);
  CHECK(seal->public_key().pk == seal_pub->pk);
  CHECK(seal->public_key().id == seal_pub->id);
  CHECK(get_file(tmp / "keys/store.pub")
            .starts_with("untrusted comment: bwv store public key " + crypto::key_id_string(pub->id) + "\n"));

  const auto cfg = json::parse(get_file(tmp / "config.json"), "config.json");
  REQUIRE(cfg);
  CHECK((*cfg)["bwv_store"] == 1);
  CHECK((*cfg)["store_id"] == s.config().store_id);
  CHECK((*cfg)["store_key_id"] == crypto::key_id_string(pub->id));
  CHECK((*cfg)["seal_key_id"] == crypto::key_id_string(seal_pub->id));

  // Open sees the same.
  const auto opened = store::Store::open(tmp.path());
  REQUIRE_MESSAGE(opened, why(opened));
  CHECK(opened->config().store_id == s.config().store_id);
  CHECK(opened->config().created == s.config().created);

  // A missing directory is created.
  const auto fresh = store::Store::init(tmp / "new/store", "Org");
  CHECK_MESSAGE(fresh, why(fresh));
}

TEST_CASE("init refuses a non-empty directory, an existing store and a file") {
  TmpDir tmp;
  put_file(tmp / "something", "x");
  const auto non_empty = store::Store::init(tmp.path(), "Org");
  REQUIRE_FALSE(non_empty);
  CHECK(non_empty.error().code == Errc::usage);
  CHECK(contains(non_empty.error().message, "not empty"));
  CHECK(fs::kind_of(tmp / "bwv-store") == fs::Kind::none);
  CHECK(fs::kind_of(tmp / "keys") == fs::Kind::none);

  const store::Store s = init(tmp / "store");
  const std::string key_before = get_file(tmp / "store/keys/store.key");
  const auto again = store::Store::init(tmp / "store", "Org");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::usage);
  CHECK(contains(again.error().message, "already a bwv store"));
  CHECK(get_file(tmp / "store/keys/store.key") == key_before);

  const auto file = store::Store::init(tmp / "something", "Org");
  REQUIRE_FALSE(file);
  CHECK(file.error().code == Errc::usage);
}

TEST_CASE("open refuses what is not a version 1 store") {
  TmpDir tmp;
  const auto missing = store::Store::open(tmp / "absent");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::no_store);

  const auto no_marker = store::Store::open(tmp.path());
  REQUIRE_FALSE(no_marker);
  CHECK(no_marker.error().code == Errc::no_store);

  init(tmp / "s");
  put_file(tmp / "s/bwv-store", "bwv-store 2\n");
  const auto v2 = store::Store::open(tmp / "s");
  REQUIRE_FALSE(v2);
  CHECK(v2.error().code == Errc::no_store);
  CHECK(contains(v2.error().message, "bwv-store 2"));
  for (const char* bad : {"bwv-store 1", "bwv-store 1\n\n", "bwv-store  1\n", ""}) {
    CAPTURE(bad);
    put_file(tmp / "s/bwv-store", bad);
    const auto r = store::Store::open(tmp / "s");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::no_store);
  }

  // A marker that is a symlink to a good marker is not a marker.
  put_file(tmp / "good-marker", "bwv-store 1\n");
  std::filesystem::remove(tmp / "s/bwv-store");
  std::filesystem::create_symlink(tmp / "good-marker", tmp / "s/bwv-store");
  const auto link = store::Store::open(tmp / "s");
  REQUIRE_FALSE(link);
  CHECK(link.error().code == Errc::no_store);

  // A config of another version.
  std::filesystem::remove(tmp / "s/bwv-store");
  put_file(tmp / "s/bwv-store", "bwv-store 1\n");
  CHECK(store::Store::open(tmp / "s"));
  json::Value cfg = *json::parse(get_file(tmp / "s/config.json"), "c");
  cfg["bwv_store"] = 2;
  put_file(tmp / "s/config.json", json::write_pretty(cfg));
  const auto cfg2 = store::Store::open(tmp / "s");
  REQUIRE_FALSE(cfg2);
  CHECK(cfg2.error().code == Errc::no_store);
}

TEST_CASE("secret keys readable by others are refused") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  REQUIRE(::chmod((tmp / "keys/store.key").c_str(), 0644) == 0);
  const auto loose = s.secret_key();
  REQUIRE_FALSE(loose);
  CHECK(loose.error().code == Errc::permission);
  CHECK(contains(loose.error().message, "0644"));
  REQUIRE(::chmod((tmp / "keys/store.key").c_str(), 0640) == 0);
  const auto group = s.secret_key();
  REQUIRE_FALSE(group);
  CHECK(group.error().code == Errc::permission);
  REQUIRE(::chmod((tmp / "keys/store.key").c_str(), 0400) == 0);
  CHECK(s.secret_key());

  REQUIRE(::chmod((tmp / "keys/seal.key").c_str(), 0604) == 0);
  const auto seal = s.seal_key();
  REQUIRE_FALSE(seal);
  CHECK(seal.error().code == Errc::permission);

  // A symlink in place of the key is refused too.
  std::filesystem::rename(tmp / "keys/store.key", tmp / "moved.key");
  std::filesystem::create_symlink(tmp / "moved.key", tmp / "keys/store.key");
  CHECK_FALSE(s.secret_key());
}

// Modes are read, not tried: these hold when the tests run as root, who may write anywhere.
TEST_CASE("open refuses a store others may write to; its group may share it, but not its keys") {
  TmpDir tmp;
  const fs::Path root = tmp / "s";
  init(root);
  CHECK(mode_of(root) == 0750); // made by init: footage is not for every user of the host
  auto refused = [&](const fs::Path& dir, unsigned mode, const char* fix) {
    CAPTURE(dir);
    CAPTURE(mode);
    REQUIRE(::chmod(dir.c_str(), mode) == 0);
    const auto r = store::Store::open(root);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::permission);
    CHECK(r.error().subject == dir.string());
    CHECK(contains(r.error().message, fix));
  };
  auto accepted = [&](const fs::Path& dir, unsigned mode) {
    CAPTURE(dir);
    CAPTURE(mode);
    REQUIRE(::chmod(dir.c_str(), mode) == 0);
    const auto r = store::Store::open(root);
    CHECK_MESSAGE(r, why(r));
  };
  // The root: a group may write (a dock group sharing one store); others never, sticky bit or not.
  accepted(root, 0770);
  accepted(root, 02770);
  refused(root, 0752, "chmod o-w");
  refused(root, 01777, "chmod o-w");
  accepted(root, 0750);
  for (const char* sub : {"devices", "clips", "index", "expiry", "custody", "locks", "tmp"}) {
    const fs::Path dir = root / sub;
    accepted(dir, 0775);
    refused(dir, 0757, "chmod o-w");
    refused(dir, 01777, "chmod o-w");
    accepted(dir, 0755);
  }
  // keys/: its owner's alone to change (a replaced seal.pub would have cameras seal to another key).
  accepted(root / "keys", 0750);
  refused(root / "keys", 0770, "chmod go-w");
  refused(root / "keys", 0702, "chmod o-w");
  accepted(root / "keys", 0700);

  // A top-level directory must be the store's own: a link would lead reads and writes elsewhere.
  std::filesystem::rename(root / "tmp", tmp / "tmp-elsewhere");
  std::filesystem::create_symlink(tmp / "tmp-elsewhere", root / "tmp");
  const auto linked = store::Store::open(root);
  REQUIRE_FALSE(linked);
  CHECK(linked.error().code == Errc::check_failed);
  CHECK(linked.error().subject == (root / "tmp").string());
  CHECK(contains(linked.error().message, "symbolic link"));
  std::filesystem::remove(root / "tmp");
  put_file(root / "tmp", "a file");
  CHECK_FALSE(store::Store::open(root));
  std::filesystem::remove(root / "tmp");
  CHECK(store::Store::open(root)); // missing: made when first needed

  // The root itself may be reached through a link (a mount point); its target's mode counts.
  std::filesystem::create_symlink(root, tmp / "link");
  CHECK(store::Store::open(tmp / "link"));
  REQUIRE(::chmod(root.c_str(), 0757) == 0);
  const auto via_link = store::Store::open(tmp / "link");
  REQUIRE_FALSE(via_link);
  CHECK(via_link.error().code == Errc::permission);
  CHECK_FALSE(store::Store::check_dirs(tmp / "nonexistent"));
}

TEST_CASE("init refuses an empty directory others may write to, and makes its own 0750 whatever the umask") {
  TmpDir tmp;
  std::filesystem::create_directory(tmp / "open");
  REQUIRE(::chmod((tmp / "open").c_str(), 01777) == 0);
  const auto r = store::Store::init(tmp / "open", "Org");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::permission);
  CHECK(r.error().subject == (tmp / "open").string());
  CHECK(names(tmp / "open").empty()); // nothing made

  const mode_t old_umask = ::umask(0);
  const auto made = store::Store::init(tmp / "made", "Org");
  ::umask(old_umask);
  REQUIRE_MESSAGE(made, why(made));
  CHECK(mode_of(tmp / "made") == 0750);
  CHECK(mode_of(tmp / "made/keys") == 0700);
  CHECK(mode_of(tmp / "made/keys/store.key") == 0600);
  CHECK(mode_of(tmp / "made/keys/seal.key") == 0600);
  CHECK(store::Store::open(tmp / "made"));
}

TEST_CASE("a key file that is not the key config.json names is refused") {
  TmpDir tmp;
  const store::Store s = init(tmp / "s");
  const store::Store other = init(tmp / "o");
  const auto device = crypto::SecretKey::generate();
  const std::string id = put_clip(s, device, "CAM0042", 1, "video bytes");
  const auto other_key = other.secret_key();
  REQUIRE(other_key);
  auto swap = [&](const char* name) {
    std::filesystem::copy_file(tmp / "s/keys" / name, tmp / (std::string("saved-") + name));
    std::filesystem::copy_file(tmp / "o/keys" / name, tmp / "s/keys" / name,
                               std::filesystem::copy_options::overwrite_existing);
  };
  auto restore = [&](const char* name) {
    std::filesystem::copy_file(tmp / (std::string("saved-") + name), tmp / "s/keys" / name,
                               std::filesystem::copy_options::overwrite_existing);
  };
  const std::string mine = s.config().store_key_id, theirs = other.config().store_key_id;

  // store.pub replaced, and a derivative signed with the replacement: caught by the key id.
  swap("store.pub");
  const auto pub = s.public_key();
  REQUIRE_FALSE(pub);
  CHECK(pub.error().code == Errc::check_failed);
  CHECK(pub.error().subject == (tmp / "s/keys/store.pub").string());
  CHECK(contains(pub.error().message, "holds key " + theirs + ", not the key " + mine));
  const std::string forged = put_derivative(s, id, 1, &*other_key);
  const auto sig = s.check_signature(*s.load_clip(forged));
  REQUIRE_FALSE(sig);
  CHECK(contains(sig.error().message, "keys/store.pub holds key " + theirs));
  restore("store.pub");
  CHECK(s.public_key());
  CHECK_FALSE(s.check_signature(*s.load_clip(forged))); // and against the real key it fails as ever

  swap("store.key");
  const auto sk = s.secret_key();
  REQUIRE_FALSE(sk);
  CHECK(sk.error().code == Errc::check_failed);
  restore("store.key");
  CHECK(s.secret_key());

  swap("seal.pub");
  const auto seal_pub = s.seal_public_key();
  REQUIRE_FALSE(seal_pub);
  CHECK(contains(seal_pub.error().message, "seal_key_id"));
  restore("seal.pub");
  CHECK(s.seal_public_key());

  swap("seal.key");
  CHECK_FALSE(s.seal_key());
  restore("seal.key");
  CHECK(s.seal_key());

  // A config.json without the key ids is no version 1 store's.
  json::Value cfg = *json::parse(get_file(tmp / "s/config.json"), "c");
  cfg.erase("store_key_id");
  put_file(tmp / "s/config.json", json::write_pretty(cfg));
  CHECK_FALSE(store::Store::open(tmp / "s"));
}

TEST_CASE("locate: option, then BWV_STORE") {
  EnvGuard guard("BWV_STORE");
  CHECK(store::Store::locate(std::string("/some/store")) == fs::Path("/some/store"));
  ::setenv("BWV_STORE", "/from/env", 1);
  CHECK(store::Store::locate(std::nullopt) == fs::Path("/from/env"));
  CHECK(store::Store::locate(std::string("/opt")) == fs::Path("/opt"));
}

TEST_CASE("trust, devices and device_key round trip") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto key = crypto::SecretKey::generate().public_key();
  const std::string id = crypto::key_id_string(key.id);
  const std::time_t before = std::time(nullptr);
  const store::DeviceKey d = trust(s, "CAM0042", key);
  CHECK(d.device == "CAM0042");
  CHECK(d.key == key);
  CHECK(d.key_id() == id);
  CHECK(d.trusted >= before);
  CHECK(d.trusted_by == "alice@dock01");
  CHECK_FALSE(d.revoked);

  CHECK(get_file(tmp / ("devices/CAM0042/" + id + ".pub")) == key.to_file("bwv device CAM0042 public key " + id));
  const auto rec = json::parse(get_file(tmp / ("devices/CAM0042/" + id + ".json")), "rec");
  REQUIRE(rec);
  CHECK((*rec)["bwv_device_key"] == 1);
  CHECK((*rec)["device"] == "CAM0042");
  CHECK((*rec)["key_id"] == id);
  CHECK((*rec)["revoked"].is_null());

  const auto devices = s.devices();
  REQUIRE_MESSAGE(devices, why(devices));
  REQUIRE(devices->size() == 1);
  CHECK((*devices)[0].device == "CAM0042");
  CHECK((*devices)[0].key == key);
  CHECK((*devices)[0].trusted == d.trusted);
  CHECK((*devices)[0].trusted_by == "alice@dock01");

  const auto found = s.device_key("CAM0042", id);
  REQUIRE_MESSAGE(found, why(found));
  REQUIRE(found->has_value());
  CHECK((*found)->key == key);

  // Unknown or malformed lookups find nothing.
  CHECK_FALSE(s.device_key("CAM0043", id)->has_value());
  CHECK_FALSE(s.device_key("CAM0042", "0000000000000000")->has_value());
  CHECK_FALSE(s.device_key("CAM0042", std::string(id).replace(0, 1, "x"))->has_value());
  CHECK_FALSE(s.device_key("../CAM0042", id)->has_value());
  CHECK_FALSE(s.device_key("CAM0042", "../" + id.substr(3))->has_value());

  // The custody log records it.
  const auto entries = custody_entries(s);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].action == "key-trust");
  CHECK_FALSE(entries[0].clip);
  CHECK(entries[0].details["device"] == "CAM0042");
  CHECK(entries[0].details["key_id"] == id);
  CHECK(entries[0].details["public_key"] == key.base64());
  CHECK(entries[0].details["reason"] == "provisioned");
}

TEST_CASE("trusting the same key twice is fine; one key serves one device") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto key = crypto::SecretKey::generate().public_key();
  const store::DeviceKey first = trust(s, "CAM0042", key);
  const store::DeviceKey second = trust(s, "CAM0042", key);
  CHECK(second.trusted == first.trusted);
  CHECK(s.devices()->size() == 1);
  CHECK(custody_entries(s).size() == 1); // nothing changed

  const auto elsewhere = s.trust("CAM0043", key, k_actor, "r");
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().code == Errc::check_failed);
  CHECK(contains(elsewhere.error().message, "CAM0042"));

  // A different key under the same key id is refused.
  auto impostor = crypto::SecretKey::generate().public_key();
  impostor.id = key.id;
  CHECK_FALSE(s.trust("CAM0042", impostor, k_actor, "r"));

  // Two keys for one device are fine.
  trust(s, "CAM0042", crypto::SecretKey::generate().public_key());
  CHECK(s.devices()->size() == 2);

  for (const char* bad : {"", "CAM-1", "../x", "a/b", "CAM.1"}) {
    CAPTURE(bad);
    const auto r = s.trust(bad, crypto::SecretKey::generate().public_key(), k_actor, "r");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("revoke by device and by key id; a revoked key is never trusted again") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto k1 = crypto::SecretKey::generate().public_key();
  const auto k2 = crypto::SecretKey::generate().public_key();
  const auto k3 = crypto::SecretKey::generate().public_key();
  trust(s, "CAM0042", k1);
  trust(s, "CAM0042", k2);
  trust(s, "CAM0043", k3);

  const auto revoked = s.revoke("CAM0042", k_actor, "lost");
  REQUIRE_MESSAGE(revoked, why(revoked));
  CHECK(revoked->size() == 2);
  for (const auto& key : {k1, k2}) {
    const auto d = s.device_key("CAM0042", crypto::key_id_string(key.id));
    REQUIRE(d);
    REQUIRE(d->has_value());
    CHECK((*d)->revoked.has_value());
    CHECK((*d)->revoke_reason == "lost");
    CHECK((*d)->key == key);
  }
  CHECK_FALSE((*s.device_key("CAM0043", crypto::key_id_string(k3.id)))->revoked);

  // Again: matched, but nothing more to revoke.
  const auto again = s.revoke("CAM0042", k_actor, "again");
  REQUIRE(again);
  CHECK(again->empty());
  CHECK((*s.device_key("CAM0042", crypto::key_id_string(k1.id)))->revoke_reason == "lost");

  const auto by_id = s.revoke(crypto::key_id_string(k3.id), k_actor, "retired");
  REQUIRE(by_id);
  REQUIRE(by_id->size() == 1);
  CHECK((*by_id)[0].device == "CAM0043");

  const auto unknown = s.revoke("CAM9999", k_actor, "r");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == Errc::check_failed);

  const auto retrust = s.trust("CAM0042", k1, k_actor, "found it");
  REQUIRE_FALSE(retrust);
  CHECK(retrust.error().code == Errc::check_failed);
  CHECK(contains(retrust.error().message, "revoked"));
  CHECK(s.devices()->size() == 3); // records are never deleted

  const auto entries = custody_entries(s);
  REQUIRE(entries.size() == 6); // three trusts, three revocations
  CHECK(entries[3].action == "key-revoke");
  CHECK(entries[5].details["reason"] == "retired");
}

TEST_CASE("device records of an unknown version or naming another device are refused") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto key = crypto::SecretKey::generate().public_key();
  const std::string id = crypto::key_id_string(key.id);
  trust(s, "CAM0042", key);
  const fs::Path rec = tmp / ("devices/CAM0042/" + id + ".json");
  const json::Value good = *json::parse(get_file(rec), "rec");

  json::Value v2 = good;
  v2["bwv_device_key"] = 2;
  put_file(rec, json::write_pretty(v2));
  CHECK_FALSE(s.device_key("CAM0042", id));

  json::Value other = good;
  other["device"] = "CAM0043";
  put_file(rec, json::write_pretty(other));
  const auto r = s.device_key("CAM0042", id);
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().message, "does not match"));

  json::Value extra = good;
  extra["future_field"] = "ignored";
  put_file(rec, json::write_pretty(extra));
  CHECK(s.device_key("CAM0042", id));
}

TEST_CASE("a device record naming another key id is refused") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto key = crypto::SecretKey::generate().public_key();
  const std::string id = crypto::key_id_string(key.id);
  trust(s, "CAM0042", key);
  const fs::Path rec = tmp / ("devices/CAM0042/" + id + ".json");
  json::Value v = *json::parse(get_file(rec), "rec");
  v["key_id"] = "0123456789ABCDEF";
  put_file(rec, json::write_pretty(v));
  CHECK_FALSE(s.device_key("CAM0042", id));
}

TEST_CASE("clip_dir computes the path from a valid id only") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const auto dir = s.clip_dir("20261124-CAM0042-000017");
  REQUIRE_MESSAGE(dir, why(dir));
  CHECK(*dir == tmp / "clips/2026/11/24/20261124-CAM0042-000017");
  for (const char* bad : {"../x", "", "20261124-CAM/0042-000017", "20261124-CAM0042-000017/../../x", "..",
                          "20261324-CAM0042-000017", "20261124-CAM0042-00017", "/etc/passwd"}) {
    CAPTURE(bad);
    const auto r = s.clip_dir(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::check_failed);
    CHECK_FALSE(s.has_clip(bad));
    CHECK_FALSE(s.load_clip(bad));
  }
  CHECK(s.has_clip("20261124-CAM0042-000017") == false);
  const auto absent = s.load_clip("20261124-CAM0042-000017");
  REQUIRE_FALSE(absent);
  CHECK(contains(absent.error().message, "no such clip"));
}

TEST_CASE("load_clip and check_signature") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto device = crypto::SecretKey::generate();
  const std::string id = put_clip(s, device, "CAM0042", 1, "video bytes");
  CHECK(s.has_clip(id) == true);

  const auto clip = s.load_clip(id);
  REQUIRE_MESSAGE(clip, why(clip));
  CHECK(clip->id == id);
  CHECK(clip->dir == tmp / "clips/2026/11/24" / id);
  CHECK(clip->video() == clip->dir / "video.mp4");
  CHECK(clip->manifest.seq == 1);
  CHECK(clip->manifest_sha256 == crypto::sha256_hex(clip->manifest_bytes));

  // Not trusted yet.
  const auto untrusted = s.check_signature(*clip);
  REQUIRE_FALSE(untrusted);
  CHECK(contains(untrusted.error().message, "never trusted"));

  trust(s, "CAM0042", device.public_key());
  const auto ok = s.check_signature(*clip);
  CHECK_MESSAGE(ok, why(ok));

  // Signed by another key that claims the same key id: refused.
  auto forged = *clip;
  const auto other = crypto::SecretKey::generate();
  auto sig = crypto::sign(other, forged.manifest_bytes, "t");
  sig.key_id = device.id();
  forged.signature_text = sig.to_file();
  CHECK_FALSE(s.check_signature(forged));

  // A manifest naming another clip is refused.
  const std::string other_id = "20261124-CAM0042-000099";
  std::filesystem::create_directories(tmp / "clips/2026/11/24" / other_id);
  std::filesystem::copy(clip->dir / "manifest.json", tmp / "clips/2026/11/24" / other_id / "manifest.json");
  const auto renamed = s.load_clip(other_id);
  REQUIRE_FALSE(renamed);
  CHECK(contains(renamed.error().message, id));
}

TEST_CASE("clip directories reached through a link are refused") {
  TmpDir tmp;
  store::Store s = init(tmp / "store");
  const auto device = crypto::SecretKey::generate();
  // A whole date tree outside the store, linked in as clips/2026.
  TmpDir outside;
  store::Store elsewhere = init(outside / "store");
  const std::string id = put_clip(elsewhere, device, "CAM0042", 1, "v");
  std::filesystem::create_symlink(outside / "store/clips/2026", tmp / "store/clips/2026");
  CHECK_FALSE(s.has_clip(id));
  CHECK_FALSE(s.load_clip(id));

  // And a clip directory that is itself a link.
  std::filesystem::remove(tmp / "store/clips/2026");
  std::filesystem::create_directories(tmp / "store/clips/2026/11/24");
  std::filesystem::create_symlink(outside / "store/clips/2026/11/24" / id, tmp / "store/clips/2026/11/24" / id);
  CHECK_FALSE(s.has_clip(id));
  CHECK_FALSE(s.load_clip(id));
}

TEST_CASE("index_put and index_get") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const auto none = s.index_get("CAM0042", 1);
  REQUIRE_MESSAGE(none, why(none));
  CHECK_FALSE(none->has_value());

  REQUIRE(s.index_put("CAM0042", 1, "20261124-CAM0042-000001"));
  CHECK(get_file(tmp / "index/CAM0042/1") == "20261124-CAM0042-000001\n");
  const auto got = s.index_get("CAM0042", 1);
  REQUIRE(got);
  CHECK(got->value_or("") == "20261124-CAM0042-000001");

  // The same again is fine; another id for the same seq is not, and the first stays.
  CHECK(s.index_put("CAM0042", 1, "20261124-CAM0042-000001"));
  const auto other = s.index_put("CAM0042", 1, "20261125-CAM0042-000001");
  REQUIRE_FALSE(other);
  CHECK(other.error().code == Errc::check_failed);
  CHECK(s.index_get("CAM0042", 1)->value_or("") == "20261124-CAM0042-000001");

  REQUIRE(s.index_put("CAM0042", 1000000, "20261124-CAM0042-1000000"));
  CHECK(fs::kind_of(tmp / "index/CAM0042/1000000") == fs::Kind::regular);
  CHECK_FALSE(s.index_get("CAM0043", 1)->has_value());

  put_file(tmp / "index/CAM0042/2", "../../etc/passwd\n");
  CHECK_FALSE(s.index_get("CAM0042", 2));
  CHECK_FALSE(s.index_put("../x", 1, "20261124-CAM0042-000001"));
  CHECK(fs::kind_of(tmp / "x") == fs::Kind::none);
}

TEST_CASE("clip_ids lists ids by date directory, within a range") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const std::vector<std::string> ids = {"20250101-CAM1-000001", "20261124-CAM1-000001", "20261124-CAM2-000001",
                                        "20261125-CAM1-000002", "20261201-CAM1-000003"};
  for (const auto& id : ids)
    std::filesystem::create_directories(*s.clip_dir(id));
  // Names that do not fit the layout are ignored.
  std::filesystem::create_directories(tmp / "clips/2026/11/24/not-an-id");
  std::filesystem::create_directories(tmp / "clips/2026/11/24/20261125-CAM9-000001"); // wrong day
  std::filesystem::create_directories(tmp / "clips/2026/11/24/.20261124-CAM9-000002.tmp");
  std::filesystem::create_directories(tmp / "clips/junk/11/24/20261124-CAM9-000003");
  std::filesystem::create_directories(tmp / "clips/2026/1/24/20260124-CAM9-000004");

  const auto all = s.clip_ids();
  REQUIRE_MESSAGE(all, why(all));
  CHECK(*all == ids);

  const auto range = s.clip_ids(*text::parse_time("2026-11-24T12:00:00Z"), *text::parse_time("2026-11-25T00:00:00Z"));
  REQUIRE(range);
  CHECK(*range == std::vector<std::string>{"20261124-CAM1-000001", "20261124-CAM2-000001", "20261125-CAM1-000002"});

  const auto from = s.clip_ids(*text::parse_time("2026-11-25T23:59:59Z"), std::nullopt);
  REQUIRE(from);
  CHECK(*from == std::vector<std::string>{"20261125-CAM1-000002", "20261201-CAM1-000003"});

  const auto to = s.clip_ids(std::nullopt, *text::parse_time("2025-12-31T23:59:59Z"));
  REQUIRE(to);
  CHECK(*to == std::vector<std::string>{"20250101-CAM1-000001"});

  const auto nothing = s.clip_ids(*text::parse_time("2027-01-01T00:00:00Z"), std::nullopt);
  REQUIRE(nothing);
  CHECK(nothing->empty());
}

TEST_CASE("custody logs of the store") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  CHECK(s.custody_log("dock01") == tmp / "custody/dock01.jsonl");
  const auto appended =
      s.append_custody(k_actor, {{"ingest", std::string("20261124-CAM0042-000001"), json::Value::object()}});
  REQUIRE_MESSAGE(appended, why(appended));
  CHECK(appended->size() == 1);
  custody::Actor other{"bob", "dock02"};
  REQUIRE(s.append_custody(other, {{"ingest", std::nullopt, json::Value::object()}}));
  put_file(tmp / "custody/notes.txt", "");
  put_file(tmp / "custody/.hidden.jsonl", "");
  put_file(tmp / "custody/bad name.jsonl", "");
  const auto logs = s.custody_logs();
  REQUIRE(logs);
  CHECK(*logs == std::vector<fs::Path>{tmp / "custody/dock01.jsonl", tmp / "custody/dock02.jsonl"});
}

TEST_CASE("store and device locks") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  {
    auto shared1 = s.lock_store(fs::Lock::Mode::shared, 0);
    auto shared2 = s.lock_store(fs::Lock::Mode::shared, 0);
    REQUIRE_MESSAGE(shared1, why(shared1));
    REQUIRE_MESSAGE(shared2, why(shared2));
    const auto ex = s.lock_store(fs::Lock::Mode::exclusive, 0);
    REQUIRE_FALSE(ex);
    CHECK(ex.error().code == Errc::locked);
  }
  CHECK(s.lock_store(fs::Lock::Mode::exclusive, 0));

  auto dev = s.lock_device("CAM0042", 0);
  REQUIRE_MESSAGE(dev, why(dev));
  CHECK(fs::kind_of(tmp / "locks/device-CAM0042") == fs::Kind::regular);
  const auto again = s.lock_device("CAM0042", 0);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::locked);
  CHECK(s.lock_device("CAM0043", 0));
  CHECK_FALSE(s.lock_device("../x", 0));
}

TEST_CASE("derivatives lists id-r1, id-r2, ... up to the first one missing") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const auto device = crypto::SecretKey::generate();
  const std::string id = put_clip(s, device, "CAM0042", 1, "video bytes");
  const std::string other = put_clip(s, device, "CAM0042", 2, "other video");

  const auto none = s.derivatives(id);
  REQUIRE_MESSAGE(none, why(none));
  CHECK(none->empty());

  CHECK(put_derivative(s, id, 1) == "20261124-CAM0042-000001-r1");
  CHECK(put_derivative(s, id, 2) == "20261124-CAM0042-000001-r2");
  const auto two = s.derivatives(id);
  REQUIRE_MESSAGE(two, why(two));
  CHECK(*two == std::vector<std::string>{"20261124-CAM0042-000001-r1", "20261124-CAM0042-000001-r2"});
  // Another clip's derivatives are its own.
  CHECK(s.derivatives(other)->empty());
  // They are clips of the store too, beside their original.
  CHECK(*s.clip_ids() ==
        std::vector<std::string>{id, "20261124-CAM0042-000001-r1", "20261124-CAM0042-000001-r2", other});

  // Numbered densely: a gap ends the list (r4 without r3 is not found).
  std::filesystem::create_directories(*s.clip_dir(manifest::derivative_id(id, 4)));
  CHECK(*s.derivatives(id) == *two);
  // Any directory takes its number, whatever is in it.
  std::filesystem::create_directories(*s.clip_dir(manifest::derivative_id(id, 3)));
  CHECK(s.derivatives(id)->size() == 4);

  // Ten and more, in numeric order.
  for (unsigned n = 5; n <= 11; ++n)
    std::filesystem::create_directories(*s.clip_dir(manifest::derivative_id(id, n)));
  const auto eleven = s.derivatives(id);
  REQUIRE(eleven);
  REQUIRE(eleven->size() == 11);
  CHECK(eleven->back() == "20261124-CAM0042-000001-r11");
  CHECK((*eleven)[8] == "20261124-CAM0042-000001-r9");

  // A clip that is not there has none; an id that is not one is refused.
  const auto absent = s.derivatives("20261124-CAM0042-000099");
  REQUIRE_MESSAGE(absent, why(absent));
  CHECK(absent->empty());
  CHECK_FALSE(s.derivatives("../x"));
  CHECK_FALSE(s.derivatives(""));
}

TEST_CASE("derivatives refuses a derivative reached through a link") {
  TmpDir tmp;
  const store::Store s = init(tmp / "store");
  const auto device = crypto::SecretKey::generate();
  const std::string id = put_clip(s, device, "CAM0042", 1, "v");
  TmpDir outside;
  std::filesystem::create_symlink(outside.path(), *s.clip_dir(manifest::derivative_id(id, 1)));
  CHECK_FALSE(s.derivatives(id));
}

TEST_CASE("load_clip and check_signature of a derivative: the store's key signs it") {
  TmpDir tmp;
  store::Store s = init(tmp.path());
  const auto device = crypto::SecretKey::generate();
  const std::string id = put_clip(s, device, "CAM0042", 1, "video bytes");
  const std::string rid = put_derivative(s, id, 1);

  const auto clip = s.load_clip(rid);
  REQUIRE_MESSAGE(clip, why(clip));
  REQUIRE(clip->manifest.derived_from);
  CHECK(clip->manifest.derived_from->clip_id == id);
  CHECK(clip->manifest.key_id == crypto::key_id_string(s.public_key()->id));
  CHECK(clip->dir == tmp / "clips/2026/11/24" / rid);

  // No device need be trusted: a derivative is checked against the store key only.
  const auto ok = s.check_signature(*clip);
  CHECK_MESSAGE(ok, why(ok));
  trust(s, "CAM0042", device.public_key());
  CHECK(s.check_signature(*clip));
  CHECK(s.check_signature(*s.load_clip(id))); // and the original against its device's

  // Signed by the device's key, trusted as it is, and naming it: not a derivative of this store.
  const std::string by_device = put_derivative(s, id, 2, &device);
  const auto device_signed = s.check_signature(*s.load_clip(by_device));
  REQUIRE_FALSE(device_signed);
  CHECK(device_signed.error().code == Errc::check_failed);
  CHECK(device_signed.error().subject == by_device);
  CHECK(device_signed.error().message ==
        "a derivative signed by key " + crypto::key_id_string(device.id()) + ", not by this store's key");

  // Signed by another store's key.
  TmpDir elsewhere;
  const store::Store other_store = init(elsewhere.path());
  const auto other_key = other_store.secret_key();
  REQUIRE(other_key);
  const std::string by_other = put_derivative(s, id, 3, &*other_key);
  const auto other_signed = s.check_signature(*s.load_clip(by_other));
  REQUIRE_FALSE(other_signed);
  CHECK(contains(other_signed.error().message, "not by this store's key"));

  // Naming the store's key but signed by another key under its key id.
  auto forged = *clip;
  auto sig = crypto::sign(*other_key, forged.manifest_bytes, "t");
  sig.key_id = s.public_key()->id;
  forged.signature_text = sig.to_file();
  const auto forged_r = s.check_signature(forged);
  REQUIRE_FALSE(forged_r);
  CHECK(contains(forged_r.error().message, "signature verification failed"));

  // The manifest changed after signing.
  const std::string changed_bytes = manifest::write([&] {
    manifest::Manifest m = clip->manifest;
    m.derived_from->reason = "changed";
    return m;
  }());
  auto changed = *clip;
  changed.manifest_bytes = changed_bytes;
  const auto changed_r = s.check_signature(changed);
  REQUIRE_FALSE(changed_r);
  CHECK(contains(changed_r.error().message, "signature verification failed"));

  // A missing or broken signature file.
  auto unsigned_clip = *clip;
  unsigned_clip.signature_text = "not a signature";
  CHECK_FALSE(s.check_signature(unsigned_clip));
}

TEST_CASE("remove_stale_tmp removes what this host's dead processes left, and nothing else") {
  TmpDir tmp;
  const store::Store s = init(tmp.path());
  const std::string dead = std::to_string(dead_pid());
  const std::string alive = std::to_string(::getpid());
  const fs::Path t = s.tmp_dir();

  // staging_path names a directory this host's later runs recognise.
  const fs::Path mine = s.staging_path("dock01", "redact.20261124-CAM0042-000001");
  CHECK(mine.parent_path() == t);
  CHECK(mine.filename().string().starts_with("dock01@" + alive + ".redact.20261124-CAM0042-000001."));

  // A dead run's directories (with files in them) and files.
  for (const std::string& name : {"dock01@" + dead + ".20261124-CAM0042-000001.a1b2",
                                  "dock01@" + dead + ".redact.20261124-CAM0042-000001.c3d4"}) {
    std::filesystem::create_directories(t / name / "sub");
    put_file(t / name / "sub/video.mp4", "partial");
  }
  put_file(t / ("dock01@" + dead + ".file"), "x");
  // A live run of this host; other hosts' runs (their pids are not this host's to test), among
  // them hosts whose names begin with this one's and a dot; names that are not HOST@PID.*.
  const std::vector<std::string> kept = {"dock01@" + alive + ".redact.x",
                                         "dock01@1.pull.x",
                                         "dock02@" + dead + ".pull.x",
                                         "dock011@" + dead + ".pull.x",
                                         "dock01.lan@" + dead + ".x",
                                         "dock01.5@" + dead + ".x",
                                         "dock01@" + dead,
                                         "dock01@12abc.x",
                                         "dock01@.x",
                                         "dock01@99999999999999.x",
                                         "dock01." + dead + ".x",
                                         "dock01",
                                         "notes",
                                         "xdock01@" + dead + ".pull.x"};
  for (const auto& name : kept)
    std::filesystem::create_directories(t / name);

  s.remove_stale_tmp("dock01");
  std::vector<std::string> left = names(t);
  std::vector<std::string> expected = kept;
  std::sort(expected.begin(), expected.end());
  std::sort(left.begin(), left.end());
  CHECK(left == expected);

  // Another host's dead run is that host's to clear, dotted names included.
  s.remove_stale_tmp("dock02");
  CHECK(fs::kind_of(t / ("dock02@" + dead + ".pull.x")) == fs::Kind::none);
  s.remove_stale_tmp("dock01.lan");
  CHECK(fs::kind_of(t / ("dock01.lan@" + dead + ".x")) == fs::Kind::none);
  CHECK(fs::kind_of(t / ("dock01@" + alive + ".redact.x")) == fs::Kind::directory);

  // No tmp directory at all: nothing to do, no failure.
  std::filesystem::remove_all(t);
  s.remove_stale_tmp("dock01");
  CHECK(fs::kind_of(t) == fs::Kind::none);
}

TEST_SUITE_END();
