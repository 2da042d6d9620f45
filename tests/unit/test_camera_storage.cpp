#include "camera/storage.hpp"

#include "core/json.hpp"
#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::names;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("camera::storage");

namespace {

constexpr std::size_t MiB = 1 << 20;
constexpr std::time_t k_start = 1795514400; // 2026-11-24T10:00:00Z


// A camera with its device key, provisioned with a store's signing and sealing keys.
struct Camera {
  TmpDir tmp;
  crypto::SecretKey device = crypto::SecretKey::generate();
  crypto::SecretKey store = crypto::SecretKey::generate();
  crypto::SealSecretKey seal = crypto::SealSecretKey::generate();
  std::optional<camera::Storage> storage;
  std::optional<std::string> prev;
  std::vector<std::string> videos;

  Camera() {
    auto s = camera::Storage::create(tmp / "cam", device.public_key());
    REQUIRE_MESSAGE(s, why(s));
    storage.emplace(std::move(*s));
  }

  fs::Path dir() const { return tmp / "cam"; }

  manifest::Manifest next_manifest() {
    manifest::Manifest m;
    m.device = "CAM0042";
    m.seq = videos.size() + 1;
    m.start = k_start + static_cast<std::time_t>(m.seq) * 600;
    m.end = m.start + 300;
    m.clip_id = text::make_clip_id(m.start, m.device, m.seq);
    m.key_id = crypto::key_id_string(device.id());
    m.officer = "PC1234";
    m.prev_manifest_sha256 = prev;
    m.pre_event_seconds = 30;
    m.trigger = "double_press";
    m.firmware = "bwv-camd 0.1.0";
    return m;
  }

  // Records a clip of size random bytes; its id.
  std::string record(std::size_t size) {
    const manifest::Manifest m = next_manifest();
    const std::string data = test::random_bytes(size);
    const fs::Path video = tmp / ("video-" + std::to_string(m.seq) + ".mp4");
    put_file(video, data);
    const auto sha = storage->add_clip_from_file(m, video, device, seal.public_key());
    REQUIRE_MESSAGE(sha, why(sha));
    prev = *sha;
    videos.push_back(data);
    return m.clip_id;
  }

  std::vector<camera::ClipFiles> clips(std::vector<camera::Problem>& problems) const {
    const auto r = storage->clips(problems);
    REQUIRE_MESSAGE(r, why(r));
    return *r;
  }

  // The receipt the store would write for a clip.
  camera::Receipt receipt(const std::string& id) const {
    const std::string bytes = get_file(storage->files(id).manifest);
    const auto m = manifest::parse(bytes, "m");
    REQUIRE_MESSAGE(m, why(m));
    camera::Receipt r;
    r.clip_id = id;
    r.manifest_sha256 = crypto::sha256_hex(bytes);
    r.video_sha256 = m->video.sha256;
    r.store_key_id = crypto::key_id_string(store.id());
    r.time = k_start + 86400;
    return r;
  }

  void write_receipt(const camera::Receipt& r, const crypto::SecretKey& key) {
    const auto w = storage->write_receipt(r, crypto::sign(key, r.write(), "bwv-receipt " + r.clip_id));
    REQUIRE_MESSAGE(w, why(w));
  }

  std::vector<std::string> collect(std::vector<camera::Problem>& problems) {
    const auto r = storage->delete_receipted(store.public_key(), problems);
    REQUIRE_MESSAGE(r, why(r));
    return *r;
  }

  bool has_all_parts(const std::string& id) const {
    const camera::ClipFiles f = storage->files(id);
    return fs::kind_of(f.manifest) == fs::Kind::regular && fs::kind_of(f.signature) == fs::Kind::regular &&
           fs::kind_of(f.sealed) == fs::Kind::regular;
  }
};

std::string all_problems(const std::vector<camera::Problem>& problems) {
  std::string s;
  for (const auto& p : problems) s += p.subject + ": " + p.message + "\n";
  return s;
}

// Unseals a whole sealed file.
Result<std::string> unseal_file(const fs::Path& path, const crypto::SealSecretKey& key) {
  auto r = BWV_TRY(camera::SealedReader::open(path, key));
  std::string plain_text;
  std::vector<unsigned char> plain;
  while (BWV_TRY(r.next(plain))) plain_text.append(reinterpret_cast<const char*>(plain.data()), plain.size());
  if (!r.final_seen()) return fail(Errc::check_failed, path, "no final record");
  return plain_text;
}

} // namespace

TEST_CASE("create lays out the storage and open accepts it") {
  Camera cam;
  CHECK(get_file(cam.dir() / "bwv-camera") == "bwv-camera 1\n");
  for (const char* sub : {"clips", "receipts", "tmp"}) CHECK(fs::kind_of(cam.dir() / sub) == fs::Kind::directory);
  const auto pub = crypto::PublicKey::parse(get_file(cam.dir() / "device.pub"), "device.pub");
  REQUIRE(pub);
  CHECK(*pub == cam.device.public_key());
  CHECK(get_file(cam.dir() / "device.pub").starts_with("untrusted comment: bwv device public key " +
                                                     crypto::key_id_string(cam.device.id()) + "\n"));
  CHECK(cam.storage->dir() == cam.dir());
  CHECK(cam.storage->tmp_dir() == cam.dir() / "tmp");
  CHECK(cam.storage->files("20261124-CAM0042-000001").sealed == cam.dir() / "clips/20261124-CAM0042-000001.mp4.sealed");
  CHECK(cam.storage->receipt_path("20261124-CAM0042-000001") ==
        cam.dir() / "receipts/20261124-CAM0042-000001.receipt");

  const auto opened = camera::Storage::open(cam.dir());
  CHECK_MESSAGE(opened, why(opened));
  // Creating again (a restart of the firmware) keeps what is there.
  const std::string id = cam.record(10);
  CHECK(camera::Storage::create(cam.dir(), cam.device.public_key()));
  CHECK(cam.has_all_parts(id));
}

TEST_CASE("open refuses what is not camera storage of version 1") {
  TmpDir tmp;
  const auto missing = camera::Storage::open(tmp / "absent");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::usage);

  const auto empty = camera::Storage::open(tmp.path());
  REQUIRE_FALSE(empty);
  CHECK(contains(empty.error().message, "marker"));

  for (const char* sub : {"clips", "receipts", "tmp"}) REQUIRE(fs::make_dirs(tmp.path(), sub));
  put_file(tmp / "bwv-camera", "bwv-camera 2\n");
  const auto v2 = camera::Storage::open(tmp.path());
  REQUIRE_FALSE(v2);
  CHECK(contains(v2.error().message, "unknown camera storage format"));
  put_file(tmp / "bwv-camera", "bwv-camera 1");
  CHECK_FALSE(camera::Storage::open(tmp.path()));

  put_file(tmp / "bwv-camera", "bwv-camera 1\n");
  CHECK(camera::Storage::open(tmp.path()));
  std::filesystem::remove(tmp / "receipts");
  const auto no_receipts = camera::Storage::open(tmp.path());
  REQUIRE_FALSE(no_receipts);
  CHECK(contains(no_receipts.error().subject, "receipts"));
}

TEST_CASE("add_clip_from_file: two clips, sealed, signed and listed") {
  Camera cam;
  const std::string a = cam.record(MiB + 100);
  const std::string b = cam.record(777);
  CHECK(a == "20261124-CAM0042-000001");
  CHECK(b == "20261124-CAM0042-000002");

  std::vector<camera::Problem> problems;
  const auto clips = cam.clips(problems);
  CHECK_MESSAGE(problems.empty(), all_problems(problems));
  REQUIRE(clips.size() == 2);
  CHECK(clips[0].id == a);
  CHECK(clips[1].id == b);
  CHECK(names(cam.storage->tmp_dir()).empty());

  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    const camera::ClipFiles& f = clips[i];
    const std::string bytes = get_file(f.manifest);
    const auto m = manifest::parse(bytes, f.manifest.string());
    REQUIRE_MESSAGE(m, why(m));
    CHECK(m->clip_id == f.id);
    CHECK(m->seq == i + 1);
    CHECK(m->video.size == cam.videos[i].size());
    CHECK(m->video.sha256 == crypto::sha256_hex(cam.videos[i]));
    CHECK(m->key_id == crypto::key_id_string(cam.device.id()));

    const auto sig = crypto::Signature::parse(get_file(f.signature), f.signature.string());
    REQUIRE_MESSAGE(sig, why(sig));
    CHECK(sig->trusted_comment == manifest::trusted_comment(*m, crypto::sha256_hex(bytes)));
    const auto ok = crypto::verify(cam.device.public_key(), bytes, *sig, f.id);
    CHECK_MESSAGE(ok, why(ok));

    const auto plain = unseal_file(f.sealed, cam.seal);
    REQUIRE_MESSAGE(plain, why(plain));
    CHECK((*plain == cam.videos[i])); // no dump of the bytes on failure
  }
  // The chain: clip 2 names clip 1's manifest.
  const auto second = manifest::parse(get_file(clips[1].manifest), "m");
  REQUIRE(second);
  CHECK(second->prev_manifest_sha256 == crypto::sha256_hex(get_file(clips[0].manifest)));
}

TEST_CASE("SealedWriter: chunking and hashes") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  for (std::size_t size : {std::size_t(0), std::size_t(1), MiB, MiB + 1, 2 * MiB}) {
    CAPTURE(size);
    const fs::Path path = tmp / ("s" + std::to_string(size));
    auto w = camera::SealedWriter::create(path, seal.public_key());
    REQUIRE_MESSAGE(w, why(w));
    const std::string data = test::random_bytes(size);
    // In odd pieces, including empty ones.
    std::size_t pos = 0, piece = 0;
    while (pos < data.size()) {
      const std::size_t n = std::min(piece, data.size() - pos);
      REQUIRE(w->write(reinterpret_cast<const unsigned char*>(data.data() + pos), n));
      pos += n;
      piece = piece * 5 + 3;
    }
    const auto video = w->finish();
    REQUIRE_MESSAGE(video, why(video));
    CHECK(video->size == size);
    CHECK(video->sha256 == crypto::sha256_hex(data));
    CHECK(video->chunks.size() == (size + MiB - 1) / MiB);
    const std::size_t sealed_chunks = size == 0 ? 1 : (size + MiB - 1) / MiB;
    CHECK(std::filesystem::file_size(path) == crypto::k_seal_header_size + size +
                                                  sealed_chunks * (crypto::k_seal_length_size + crypto::k_seal_abytes));
    const auto plain = unseal_file(path, seal);
    REQUIRE_MESSAGE(plain, why(plain));
    CHECK((*plain == data)); // no dump of the bytes on failure
  }
}

TEST_CASE("clips: a stray file and a symlink are reported and not listed") {
  Camera cam;
  const std::string a = cam.record(100);
  const std::string b = cam.record(200);
  put_file(cam.dir() / "clips/notes.txt", "stray");
  std::filesystem::create_symlink("/etc/passwd", cam.dir() / "clips/evil");
  put_file(cam.dir() / "clips/.20261124-CAM0042-000009.json.tmp-abc", "a writer's temp file");

  std::vector<camera::Problem> problems;
  const auto clips = cam.clips(problems);
  REQUIRE(clips.size() == 2);
  CHECK(clips[0].id == a);
  CHECK(clips[1].id == b);
  CHECK(problems.size() == 2);
  const std::string text = all_problems(problems);
  CHECK(contains(text, "notes.txt"));
  CHECK(contains(text, "evil"));
  CHECK_FALSE(contains(text, ".tmp-abc"));

  // A clip whose video is a symlink is refused.
  const camera::ClipFiles f = cam.storage->files(b);
  std::filesystem::rename(f.sealed, cam.tmp / "moved.sealed");
  std::filesystem::create_symlink(cam.tmp / "moved.sealed", f.sealed);
  problems.clear();
  const auto after = cam.clips(problems);
  REQUIRE(after.size() == 1);
  CHECK(after[0].id == a);
  CHECK(contains(all_problems(problems), "symbolic link"));

  // And one whose manifest is a directory.
  const camera::ClipFiles fa = cam.storage->files(a);
  std::filesystem::remove(fa.manifest);
  std::filesystem::create_directory(fa.manifest);
  problems.clear();
  CHECK(cam.clips(problems).empty());
  CHECK(contains(all_problems(problems), "not a regular file"));
}

TEST_CASE("clips: a symlink named like a clip part is reported") {
  Camera cam;
  cam.record(100);
  std::filesystem::create_symlink("/etc/passwd", cam.dir() / "clips/20261124-CAM0042-000005.json");
  std::vector<camera::Problem> problems;
  CHECK(cam.clips(problems).size() == 1);
  CHECK(contains(all_problems(problems), "20261124-CAM0042-000005.json"));
}

TEST_CASE("clips: a clip without its signature is not listed") {
  Camera cam;
  const std::string a = cam.record(100);
  const std::string b = cam.record(100);
  std::filesystem::remove(cam.storage->files(b).signature);
  std::vector<camera::Problem> problems;
  const auto clips = cam.clips(problems);
  REQUIRE(clips.size() == 1);
  CHECK(clips[0].id == a);
  CHECK(problems.empty()); // not yet written: not a problem

  // A signature without its video is reported as missing a part.
  std::filesystem::remove(cam.storage->files(a).sealed);
  problems.clear();
  CHECK(cam.clips(problems).empty());
  CHECK(contains(all_problems(problems), "missing part"));
}

TEST_CASE("clips: names that are not clip ids are reported") {
  Camera cam;
  put_file(cam.dir() / "clips/20261324-CAM0042-000001.json.minisig", "month 13");
  put_file(cam.dir() / "clips/20261124-CAM-0042-000001.mp4.sealed", "dash in device");
  put_file(cam.dir() / "clips/.json", "no id");
  std::vector<camera::Problem> problems;
  CHECK(cam.clips(problems).empty());
  CHECK(problems.size() == 2);
}

TEST_CASE("Receipt write and parse") {
  camera::Receipt r;
  r.clip_id = "20261124-CAM0042-000017";
  r.manifest_sha256 = crypto::sha256_hex("m");
  r.video_sha256 = crypto::sha256_hex("v");
  r.store_key_id = "6DDFBDB5279F3D2B";
  r.time = k_start;
  const std::string text = r.write();
  CHECK(text == "{\n  \"bwv_receipt\": 1,\n  \"clip_id\": \"20261124-CAM0042-000017\",\n  \"manifest_sha256\": \"" +
                    r.manifest_sha256 + "\",\n  \"video_sha256\": \"" + r.video_sha256 +
                    "\",\n  \"store_key_id\": \"6DDFBDB5279F3D2B\",\n  \"time\": \"2026-11-24T10:00:00Z\"\n}\n");
  const auto back = camera::Receipt::parse(text, "r");
  REQUIRE_MESSAGE(back, why(back));
  CHECK(back->clip_id == r.clip_id);
  CHECK(back->manifest_sha256 == r.manifest_sha256);
  CHECK(back->video_sha256 == r.video_sha256);
  CHECK(back->store_key_id == r.store_key_id);
  CHECK(back->time == r.time);

  json::Value v = *json::parse(text, "r");
  v["extra"] = "ignored";
  CHECK(camera::Receipt::parse(json::write_pretty(v), "r"));
  v["bwv_receipt"] = 2;
  CHECK_FALSE(camera::Receipt::parse(json::write_pretty(v), "r"));
  v["bwv_receipt"] = 1;
  v["clip_id"] = "../x";
  CHECK_FALSE(camera::Receipt::parse(json::write_pretty(v), "r"));
  v["clip_id"] = r.clip_id;
  v["video_sha256"] = "abc";
  CHECK_FALSE(camera::Receipt::parse(json::write_pretty(v), "r"));
  v["video_sha256"] = r.video_sha256;
  v["time"] = "yesterday";
  CHECK_FALSE(camera::Receipt::parse(json::write_pretty(v), "r"));
  CHECK_FALSE(camera::Receipt::parse(text + std::string(70000, ' '), "r"));
}

TEST_CASE("has_receipt: only a receipt for this exact clip, signed by this store") {
  Camera cam;
  const std::string a = cam.record(1000);
  const camera::Receipt r = cam.receipt(a);
  auto has = [&](const crypto::PublicKey& key, const std::string& msha, const std::string& vsha) {
    const auto h = cam.storage->has_receipt(a, key, msha, vsha);
    REQUIRE_MESSAGE(h, why(h));
    return *h;
  };
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256)); // none yet

  put_file(cam.storage->receipt_path(a), r.write()); // without its signature
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256));

  cam.write_receipt(r, cam.store);
  CHECK(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256));
  CHECK_FALSE(has(crypto::SecretKey::generate().public_key(), r.manifest_sha256, r.video_sha256));
  CHECK_FALSE(has(cam.store.public_key(), crypto::sha256_hex("other"), r.video_sha256));
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, crypto::sha256_hex("other")));

  cam.write_receipt(r, crypto::SecretKey::generate());
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256));
}

TEST_CASE("delete_receipted deletes a clip with a valid receipt, and only that clip") {
  Camera cam;
  const std::string a = cam.record(1000);
  const std::string b = cam.record(1000);
  cam.write_receipt(cam.receipt(a), cam.store);
  CHECK(fs::kind_of(cam.storage->receipt_path(a)) == fs::Kind::regular);
  CHECK(fs::kind_of(cam.storage->receipt_path(a).string() + ".minisig") == fs::Kind::regular);

  std::vector<camera::Problem> problems;
  const auto deleted = cam.collect(problems);
  CHECK_MESSAGE(problems.empty(), all_problems(problems));
  CHECK(deleted == std::vector<std::string>{a});
  const camera::ClipFiles f = cam.storage->files(a);
  CHECK(fs::kind_of(f.manifest) == fs::Kind::none);
  CHECK(fs::kind_of(f.signature) == fs::Kind::none);
  CHECK(fs::kind_of(f.sealed) == fs::Kind::none);
  CHECK(names(cam.dir() / "receipts").empty());
  CHECK(cam.has_all_parts(b));

  problems.clear();
  CHECK(cam.collect(problems).empty()); // nothing left to do
  CHECK(problems.empty());
}

TEST_CASE("delete_receipted refuses a receipt signed by another key") {
  Camera cam;
  const std::string a = cam.record(1000);
  const auto other = crypto::SecretKey::generate();
  cam.write_receipt(cam.receipt(a), other);
  std::vector<camera::Problem> problems;
  CHECK(cam.collect(problems).empty());
  CHECK(cam.has_all_parts(a));
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems[0].message, crypto::key_id_string(other.id())));
  CHECK(contains(problems[0].message, "nothing deleted"));
  CHECK(fs::kind_of(cam.storage->receipt_path(a)) == fs::Kind::regular); // left alone
}

TEST_CASE("delete_receipted refuses a receipt whose hashes do not match") {
  Camera cam;
  const std::string a = cam.record(1000);
  const std::string b = cam.record(1000);

  camera::Receipt wrong_video = cam.receipt(a);
  wrong_video.video_sha256 = crypto::sha256_hex("another video");
  cam.write_receipt(wrong_video, cam.store);
  camera::Receipt wrong_manifest = cam.receipt(b);
  wrong_manifest.manifest_sha256 = crypto::sha256_hex("another manifest");
  cam.write_receipt(wrong_manifest, cam.store);

  std::vector<camera::Problem> problems;
  CHECK(cam.collect(problems).empty());
  CHECK(cam.has_all_parts(a));
  CHECK(cam.has_all_parts(b));
  REQUIRE(problems.size() == 2);
  for (const auto& p : problems) CHECK(contains(p.message, "does not match"));
}

TEST_CASE("delete_receipted refuses receipts that are incomplete or name another clip") {
  Camera cam;
  const std::string a = cam.record(1000);
  const std::string b = cam.record(1000);
  const std::string c = cam.record(1000);

  // a: the receipt without its signature.
  const camera::Receipt ra = cam.receipt(a);
  put_file(cam.storage->receipt_path(a), ra.write());
  // b: a valid receipt for c filed under b's name.
  const camera::Receipt rc = cam.receipt(c);
  put_file(cam.storage->receipt_path(b), rc.write());
  put_file(cam.storage->receipt_path(b).string() + ".minisig", crypto::sign(cam.store, rc.write(), "t").to_file());
  // c: signed bytes that differ from the receipt's bytes.
  put_file(cam.storage->receipt_path(c), rc.write() + " ");
  put_file(cam.storage->receipt_path(c).string() + ".minisig", crypto::sign(cam.store, rc.write(), "t").to_file());

  std::vector<camera::Problem> problems;
  CHECK(cam.collect(problems).empty());
  CHECK(problems.size() == 3);
  CHECK(cam.has_all_parts(a));
  CHECK(cam.has_all_parts(b));
  CHECK(cam.has_all_parts(c));
}

TEST_CASE("delete_receipted finishes a clip half deleted by a power cut") {
  Camera cam;
  const std::string a = cam.record(1000);
  cam.write_receipt(cam.receipt(a), cam.store);
  // The cut came after the video and the signature were removed.
  std::filesystem::remove(cam.storage->files(a).sealed);
  std::filesystem::remove(cam.storage->files(a).signature);
  std::vector<camera::Problem> problems;
  CHECK(cam.collect(problems) == std::vector<std::string>{a});
  CHECK_MESSAGE(problems.empty(), all_problems(problems));
  CHECK(fs::kind_of(cam.storage->files(a).manifest) == fs::Kind::none);
  CHECK(names(cam.dir() / "receipts").empty());
}

// bwv-camera(5) DELETION: a clip left half deleted by a power cut "is finished at the next pass",
// also when only its receipt is left.
TEST_CASE("delete_receipted finishes a deletion cut after the manifest was removed") {
  Camera cam;
  const std::string a = cam.record(1000);
  const std::string b = cam.record(1000);
  cam.write_receipt(cam.receipt(a), cam.store);
  cam.write_receipt(cam.receipt(b), cam.store);
  for (const std::string& id : {a, b}) {
    std::filesystem::remove(cam.storage->files(id).signature);
    std::filesystem::remove(cam.storage->files(id).manifest);
  }
  std::filesystem::remove(cam.storage->files(a).sealed);
  // a: only the receipt is left, and it goes. b: a video without its manifest stays, reported.
  std::vector<camera::Problem> problems;
  CHECK(cam.collect(problems).empty()); // nothing that was still a clip
  CHECK(fs::kind_of(cam.storage->receipt_path(a)) == fs::Kind::none);
  CHECK(fs::kind_of(cam.storage->receipt_path(a).string() + ".minisig") == fs::Kind::none);
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems[0].subject, b));
  CHECK(fs::kind_of(cam.storage->files(b).sealed) == fs::Kind::regular);
  CHECK(fs::kind_of(cam.storage->receipt_path(b)) == fs::Kind::regular);
}

TEST_CASE("write_receipts writes receipts and signatures that delete_receipted accepts") {
  Camera cam;
  const std::string a = cam.record(1000);
  const std::string b = cam.record(1000);
  const std::string c = cam.record(1000);
  REQUIRE(cam.storage->write_receipts({}));
  CHECK(names(cam.dir() / "receipts").empty());

  std::vector<std::pair<camera::Receipt, crypto::Signature>> receipts;
  for (const std::string& id : {a, b}) {
    const camera::Receipt r = cam.receipt(id);
    receipts.emplace_back(r, crypto::sign(cam.store, r.write(), "bwv-receipt " + id));
  }
  const auto w = cam.storage->write_receipts(receipts);
  REQUIRE_MESSAGE(w, why(w));
  CHECK(names(cam.dir() / "receipts") == std::vector<std::string>{a + ".receipt", a + ".receipt.minisig",
                                                                   b + ".receipt", b + ".receipt.minisig"});
  CHECK(get_file(cam.storage->receipt_path(a)) == receipts[0].first.write());
  CHECK(get_file(cam.storage->receipt_path(b).string() + ".minisig") == receipts[1].second.to_file());

  for (const std::string& id : {a, b}) {
    CAPTURE(id);
    const camera::Receipt r = cam.receipt(id);
    const auto h = cam.storage->has_receipt(id, cam.store.public_key(), r.manifest_sha256, r.video_sha256);
    REQUIRE_MESSAGE(h, why(h));
    CHECK(*h);
  }
  const camera::Receipt rc = cam.receipt(c);
  CHECK_FALSE(*cam.storage->has_receipt(c, cam.store.public_key(), rc.manifest_sha256, rc.video_sha256));

  // Written again (a rerun of the same pull): replaced in place, still valid.
  REQUIRE(cam.storage->write_receipts(receipts));
  CHECK(names(cam.dir() / "receipts").size() == 4);

  std::vector<camera::Problem> problems;
  CHECK(cam.collect(problems) == std::vector<std::string>{a, b});
  CHECK_MESSAGE(problems.empty(), all_problems(problems));
  CHECK(cam.has_all_parts(c));
  CHECK(names(cam.dir() / "receipts").empty());
}

TEST_CASE("has_receipt after write_receipts: this store's key and this clip's hashes only") {
  Camera cam;
  const std::string a = cam.record(1000);
  const camera::Receipt r = cam.receipt(a);
  auto has = [&](const crypto::PublicKey& key, const std::string& msha, const std::string& vsha) {
    const auto h = cam.storage->has_receipt(a, key, msha, vsha);
    REQUIRE_MESSAGE(h, why(h));
    return *h;
  };
  const crypto::SecretKey other_store = crypto::SecretKey::generate();
  REQUIRE(cam.storage->write_receipts({{r, crypto::sign(cam.store, r.write(), "bwv-receipt " + a)}}));
  CHECK(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256));
  CHECK_FALSE(has(other_store.public_key(), r.manifest_sha256, r.video_sha256));
  CHECK_FALSE(has(cam.store.public_key(), crypto::sha256_hex("other"), r.video_sha256));
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, crypto::sha256_hex("other")));

  // Without its signature.
  std::filesystem::remove(cam.storage->receipt_path(a).string() + ".minisig");
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256));

  // Signed by another store.
  REQUIRE(cam.storage->write_receipts({{r, crypto::sign(other_store, r.write(), "bwv-receipt " + a)}}));
  CHECK_FALSE(has(cam.store.public_key(), r.manifest_sha256, r.video_sha256));
  CHECK(has(other_store.public_key(), r.manifest_sha256, r.video_sha256));

  // A valid receipt of another clip filed under this clip's name.
  const std::string b = cam.record(1000);
  const camera::Receipt rb = cam.receipt(b);
  put_file(cam.storage->receipt_path(a), rb.write());
  put_file(cam.storage->receipt_path(a).string() + ".minisig", crypto::sign(cam.store, rb.write(), "t").to_file());
  CHECK_FALSE(has(cam.store.public_key(), rb.manifest_sha256, rb.video_sha256));
}

namespace {

const unsigned char* ubytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// What a SealedReader yields for a file: the records read, whether the final one was among them,
// the sealed bytes read, and the error that stopped it, if any.
struct ReadBack {
  std::vector<std::string> records;
  bool final_seen = false;
  std::uint64_t sealed_read = 0;
  std::optional<Error> error;
  std::string plain() const {
    std::string s;
    for (const auto& r : records) s += r;
    return s;
  }
};

// Reads with next(vector), or with next_record and open_record into memory the size of each
// record, the records passing through a buffer the caller lends (one for every file, as
// bwv-pull's staging does).
ReadBack read_back_one(const fs::Path& path, const crypto::SealSecretKey& key, bool into_memory) {
  static std::vector<unsigned char> lent;
  ReadBack rb;
  auto r = into_memory ? camera::SealedReader::open(path, key, &lent) : camera::SealedReader::open(path, key);
  if (!r) {
    rb.error = r.error();
    return rb;
  }
  std::vector<unsigned char> plain;
  for (;;) {
    std::size_t n = 0;
    if (into_memory) {
      const auto more = r->next_record();
      if (!more) {
        rb.error = more.error();
        break;
      }
      if (!*more) break;
      n = **more;
      plain.assign(n, 0);
      if (const auto opened = r->open_record(plain.data()); !opened) {
        rb.error = opened.error();
        break;
      }
    } else {
      const auto more = r->next(plain);
      if (!more) {
        rb.error = more.error();
        break;
      }
      if (!*more) break;
      n = plain.size();
    }
    rb.records.emplace_back(reinterpret_cast<const char*>(plain.data()), n);
  }
  rb.final_seen = r->final_seen();
  rb.sealed_read = r->sealed_read();
  return rb;
}

// What a SealedReader yields, checked to be the same read either way.
ReadBack read_back(const fs::Path& path, const crypto::SealSecretKey& key) {
  const ReadBack rb = read_back_one(path, key, false);
  const ReadBack raw = read_back_one(path, key, true);
  CHECK((raw.records == rb.records));
  CHECK(raw.final_seen == rb.final_seen);
  CHECK(raw.sealed_read == rb.sealed_read);
  CHECK(raw.error.has_value() == rb.error.has_value());
  if (raw.error && rb.error) CHECK(raw.error->message == rb.error->message);
  return rb;
}

std::string error_text(const ReadBack& rb) { return rb.error ? rb.error->subject + ": " + rb.error->message : "ok"; }

// The sealed size of a record of n plaintext bytes.
constexpr std::uint64_t sealed_record(std::size_t n) { return crypto::k_seal_length_size + n + crypto::k_seal_abytes; }

// A sealed file written fragment by fragment, as the camera does, finished; the offsets where each
// record ends (the header's end first; the last is the end of the final record).
struct Fragments {
  std::vector<std::string> fragments;
  std::vector<std::uint64_t> ends;
};

Fragments write_fragments(const fs::Path& path, const crypto::SealPublicKey& key,
                          const std::vector<std::size_t>& sizes) {
  Fragments f;
  auto w = camera::SealedWriter::create(path, key);
  REQUIRE_MESSAGE(w, why(w));
  f.ends.push_back(w->sealed_size());
  for (std::size_t n : sizes) {
    f.fragments.push_back(test::random_bytes(n));
    const auto r = w->write_record(ubytes(f.fragments.back()), n);
    REQUIRE_MESSAGE(r, why(r));
    f.ends.push_back(w->sealed_size());
  }
  const auto video = w->finish();
  REQUIRE_MESSAGE(video, why(video));
  f.ends.push_back(w->sealed_size());
  return f;
}

} // namespace

TEST_CASE("SealedWriter: create refuses a record size of 0 or over 64 MiB") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  for (std::size_t max : {std::size_t(0), crypto::k_seal_max_record + 1}) {
    CAPTURE(max);
    const fs::Path path = tmp / "s";
    CHECK_FALSE(camera::SealedWriter::create(path, seal.public_key(), max));
    CHECK(fs::kind_of(path) == fs::Kind::none);
  }
  auto w = camera::SealedWriter::create(tmp / "one", seal.public_key(), 1);
  REQUIRE_MESSAGE(w, why(w));
  REQUIRE(w->write(ubytes("abc"), 3));
  REQUIRE(w->finish());
  const ReadBack rb = read_back(tmp / "one", seal);
  CHECK_MESSAGE(!rb.error, error_text(rb));
  CHECK(rb.records == std::vector<std::string>{"a", "b", "c"}); // the last record is final
  CHECK(rb.final_seen);
}

TEST_CASE("SealedWriter: write_record seals a record of its own, after what write() buffered") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  const fs::Path path = tmp / "s";
  auto w = camera::SealedWriter::create(path, seal.public_key(), 1000);
  REQUIRE_MESSAGE(w, why(w));
  const std::string a = test::random_bytes(300), b = test::random_bytes(50), c = test::random_bytes(2500),
                    d = test::random_bytes(700), e = test::random_bytes(1000), f = test::random_bytes(2300),
                    g = test::random_bytes(10);
  REQUIRE(w->write(ubytes(a), a.size()));        // buffered
  REQUIRE(w->write_record(ubytes(b), b.size())); // [a] [b]
  REQUIRE(w->write(ubytes(c), c.size()));        // [c 0..1000) [c 1000..2000), 500 buffered
  REQUIRE(w->write_record(ubytes(d), d.size())); // [c 2000..) [d]
  REQUIRE(w->write_record(ubytes(e), e.size())); // [e]: exactly the record size
  REQUIRE(w->write_record(ubytes(f), f.size())); // over the record size: split
  REQUIRE(w->write(ubytes(g), g.size()));        // buffered, then the final record
  const auto video = w->finish();
  REQUIRE_MESSAGE(video, why(video));
  const std::string all = a + b + c + d + e + f + g;
  CHECK(video->size == all.size());
  CHECK(video->sha256 == crypto::sha256_hex(all));

  const std::string file = get_file(path);
  CHECK(file.substr(0, 8) == "BWVSEAL2");
  CHECK(file.substr(16, 4) == std::string("\xe8\x03\x00\x00", 4)); // 1000, little-endian

  const ReadBack rb = read_back(path, seal);
  REQUIRE_MESSAGE(!rb.error, error_text(rb));
  CHECK(rb.final_seen);
  CHECK(rb.sealed_read == file.size());
  REQUIRE(rb.records.size() >= 10);
  const std::vector<std::string> expected = {a, b, c.substr(0, 1000), c.substr(1000, 1000), c.substr(2000), d, e};
  CHECK((std::vector<std::string>(rb.records.begin(), rb.records.begin() + 7) == expected));
  std::string split;
  for (std::size_t i = 7; i + 1 < rb.records.size(); ++i) {
    CHECK(rb.records[i].size() <= 1000);
    split += rb.records[i];
  }
  CHECK((split == f));
  CHECK((rb.records.back() == g));
  CHECK((rb.plain() == all));
}

TEST_CASE("SealedWriter: sealed_size() is the file's size after each record") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  const fs::Path path = tmp / "s";
  auto w = camera::SealedWriter::create(path, seal.public_key());
  REQUIRE_MESSAGE(w, why(w));
  CHECK(w->sealed_size() == crypto::k_seal_header_size);
  CHECK(std::filesystem::file_size(path) == w->sealed_size());

  std::string all;
  std::uint64_t expected = crypto::k_seal_header_size;
  for (std::size_t n : {std::size_t(1), std::size_t(5000), std::size_t(300000), MiB, std::size_t(77)}) {
    CAPTURE(n);
    const std::string frag = test::random_bytes(n);
    all += frag;
    REQUIRE(w->write_record(ubytes(frag), n));
    expected += sealed_record(n);
    CHECK(w->sealed_size() == expected);
    CHECK(std::filesystem::file_size(path) == w->sealed_size());
  }
  // A fragment over the record size goes as more than one record, all written.
  const std::string big = test::random_bytes(MiB + 1);
  all += big;
  REQUIRE(w->write_record(ubytes(big), big.size()));
  CHECK(w->sealed_size() >= expected + sealed_record(big.size()));
  CHECK(std::filesystem::file_size(path) == w->sealed_size());
  expected = w->sealed_size();

  // write() holds back what does not fill a record, and writes what does.
  const std::string small = test::random_bytes(1000);
  all += small;
  REQUIRE(w->write(ubytes(small), small.size()));
  CHECK(w->sealed_size() == expected);
  CHECK(std::filesystem::file_size(path) == expected);
  const std::string more = test::random_bytes(MiB + 10);
  all += more;
  REQUIRE(w->write(ubytes(more), more.size()));
  CHECK(w->sealed_size() == expected + sealed_record(MiB));
  CHECK(std::filesystem::file_size(path) == w->sealed_size());

  const auto video = w->finish();
  REQUIRE_MESSAGE(video, why(video));
  CHECK(w->sealed_size() == expected + sealed_record(MiB) + sealed_record(1010));
  CHECK(std::filesystem::file_size(path) == w->sealed_size());

  // The manifest's 1 MiB chunk hashes do not depend on where the records fell.
  manifest::VideoHasher one_go;
  one_go.update(ubytes(all), all.size());
  const manifest::Video whole = one_go.finish();
  CHECK(video->size == all.size());
  CHECK(video->sha256 == whole.sha256);
  CHECK(video->chunk_size == MiB);
  CHECK(video->chunks == whole.chunks);
  CHECK(video->chunks.size() == (all.size() + MiB - 1) / MiB);

  const ReadBack rb = read_back(path, seal);
  REQUIRE_MESSAGE(!rb.error, error_text(rb));
  CHECK(rb.final_seen);
  CHECK(rb.sealed_read == w->sealed_size());
  CHECK((rb.plain() == all));
}

TEST_CASE("SealedReader: a file cut after N complete records yields exactly those, with no final record") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  const fs::Path path = tmp / "s", cut = tmp / "cut";
  const std::vector<std::size_t> sizes = {1, 5000, 70000, 1000, MiB, 123};

  // A power cut after each fragment: what the file holds then.
  auto w = camera::SealedWriter::create(path, seal.public_key());
  REQUIRE_MESSAGE(w, why(w));
  std::vector<std::string> fragments;
  for (std::size_t i = 0; i <= sizes.size(); ++i) {
    CAPTURE(i);
    const std::string snapshot = get_file(path); // the writer still open
    CHECK(snapshot.size() == w->sealed_size());
    put_file(cut, snapshot);
    const ReadBack rb = read_back(cut, seal);
    REQUIRE_MESSAGE(!rb.error, error_text(rb));
    CHECK((rb.records == fragments));
    CHECK_FALSE(rb.final_seen);
    CHECK(rb.sealed_read == snapshot.size());
    if (i == sizes.size()) break;
    fragments.push_back(test::random_bytes(sizes[i]));
    REQUIRE(w->write_record(ubytes(fragments.back()), sizes[i]));
  }
  REQUIRE(w->finish());

  // The finished file, whole and cut at each record boundary.
  const Fragments f = write_fragments(path, seal.public_key(), sizes);
  REQUIRE(f.ends.size() == sizes.size() + 2);
  CHECK(f.ends.back() == std::filesystem::file_size(path));
  const ReadBack whole = read_back(path, seal);
  REQUIRE_MESSAGE(!whole.error, error_text(whole));
  CHECK(whole.final_seen);
  REQUIRE(whole.records.size() == sizes.size() + 1);
  CHECK((std::vector<std::string>(whole.records.begin(), whole.records.end() - 1) == f.fragments));
  CHECK(whole.records.back().empty()); // nothing was buffered: an empty final record

  for (std::size_t n = 0; n + 1 < f.ends.size(); ++n) {
    CAPTURE(n);
    std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(cut, f.ends[n]);
    const ReadBack rb = read_back(cut, seal);
    REQUIRE_MESSAGE(!rb.error, error_text(rb));
    CHECK((rb.records == std::vector<std::string>(f.fragments.begin(), f.fragments.begin() + n)));
    CHECK_FALSE(rb.final_seen);
    CHECK(rb.sealed_read == f.ends[n]);
  }
}

TEST_CASE("SealedReader: a record cut short is an error") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  const fs::Path path = tmp / "s", cut = tmp / "cut";
  const Fragments f = write_fragments(path, seal.public_key(), {100, 5000, 42});
  // ends: header, after 100, after 5000, after 42, after the empty final record.
  REQUIRE(f.ends.size() == 5);
  const std::uint64_t b = f.ends[1];
  struct Cut {
    std::uint64_t at;
    std::size_t complete; // records before the cut
  };
  for (const Cut c : {Cut{f.ends[0] + 1, 0}, Cut{b + 1, 1}, Cut{b + 3, 1}, Cut{b + 4, 1}, Cut{b + 4 + 10, 1},
                      Cut{f.ends[2] - 1, 1}, Cut{f.ends[3] + 2, 3}, Cut{f.ends[4] - 1, 3}}) {
    CAPTURE(c.at);
    std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(cut, c.at);
    const ReadBack rb = read_back(cut, seal);
    REQUIRE(rb.error);
    CHECK(rb.error->code == Errc::check_failed);
    CHECK(rb.error->subject == cut.string());
    CHECK(contains(rb.error->message, "cut record"));
    CHECK((rb.records == std::vector<std::string>(f.fragments.begin(), f.fragments.begin() + c.complete)));
    CHECK_FALSE(rb.final_seen);
  }

  // Cut inside the header, or empty: not opened.
  for (std::uint64_t at : {std::uint64_t(0), std::uint64_t(20), crypto::k_seal_header_size - 1}) {
    CAPTURE(at);
    std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(cut, at);
    const ReadBack rb = read_back(cut, seal);
    REQUIRE(rb.error);
    CHECK(contains(rb.error->message, "truncated sealed file"));
  }
}

TEST_CASE("SealedReader: data after the final record, a length over the limit, damage: errors") {
  TmpDir tmp;
  const auto seal = crypto::SealSecretKey::generate();
  const fs::Path path = tmp / "s", bad = tmp / "bad";
  const Fragments f = write_fragments(path, seal.public_key(), {100, 5000, 42});
  const std::string file = get_file(path);
  const std::string final_record = file.substr(f.ends[3]);

  for (const std::string& garbage : {std::string("x"), std::string(4, '\0'), final_record,
                                     file.substr(f.ends[0], f.ends[1] - f.ends[0]), test::random_bytes(100)}) {
    CAPTURE(garbage.size());
    put_file(bad, file + garbage);
    const ReadBack rb = read_back(bad, seal);
    REQUIRE(rb.error);
    CHECK(rb.error->code == Errc::check_failed);
    CHECK(contains(rb.error->message, "after the final record"));
    CHECK(rb.final_seen); // every record, the final one included, was read first
    CHECK(rb.records.size() == 4);
  }

  // A length prefix over the header's limit (1 MiB).
  std::string over = file;
  over.replace(f.ends[1], 4, std::string("\x01\x00\x10\x00", 4)); // 1 MiB + 1
  put_file(bad, over);
  const ReadBack rb_over = read_back(bad, seal);
  REQUIRE(rb_over.error);
  CHECK(contains(rb_over.error->message, "limit"));
  CHECK(rb_over.records.size() == 1);

  // A length prefix made shorter, with the file cut to match.
  std::string shorter = file.substr(0, f.ends[1]) + std::string("\x10\x00\x00\x00", 4) +
                        file.substr(f.ends[1] + 4, 16 + crypto::k_seal_abytes);
  put_file(bad, shorter);
  const ReadBack rb_short = read_back(bad, seal);
  REQUIRE(rb_short.error);
  CHECK(contains(rb_short.error->message, "authentication failed"));
  CHECK(rb_short.records.size() == 1);

  // A flipped byte in a record, and records swapped.
  std::string flipped = file;
  flipped[f.ends[1] + 100] ^= 0x04;
  put_file(bad, flipped);
  const ReadBack rb_flip = read_back(bad, seal);
  REQUIRE(rb_flip.error);
  CHECK(contains(rb_flip.error->message, "authentication failed"));
  const std::string swapped = file.substr(0, f.ends[0]) + file.substr(f.ends[1], f.ends[2] - f.ends[1]) +
                              file.substr(f.ends[0], f.ends[1] - f.ends[0]) + file.substr(f.ends[2]);
  put_file(bad, swapped);
  const ReadBack rb_swap = read_back(bad, seal);
  REQUIRE(rb_swap.error);
  CHECK(contains(rb_swap.error->message, "authentication failed"));
  CHECK(rb_swap.records.empty());

  // Another store's key.
  const ReadBack other = read_back(path, crypto::SealSecretKey::generate());
  REQUIRE(other.error);
  CHECK(contains(other.error->message, "not to this store's key"));
}

// Not tested: that hasher() holds the plaintext so far (a copy of it finished would give the
// prefix's SHA-256), because manifest::VideoHasher is not copyable (crypto::Sha256 is move-only).

TEST_SUITE_END();
