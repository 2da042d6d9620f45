#include "camera/storage.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

#include <fcntl.h>
#include <sodium.h>

#include <cstring>
#include <unistd.h>

namespace bwv::camera {

namespace {

constexpr std::string_view k_marker = "bwv-camera 1\n";

bool ends_with(const std::string& s, std::string_view suffix) { return s.ends_with(suffix); }

} // namespace

std::string Receipt::write() const {
  json::Value v = json::Value::object();
  v["bwv_receipt"] = 1;
  v["clip_id"] = clip_id;
  v["manifest_sha256"] = manifest_sha256;
  v["video_sha256"] = video_sha256;
  v["store_key_id"] = store_key_id;
  v["time"] = text::format_time(time);
  return json::write_pretty(v);
}

Result<Receipt> Receipt::parse(std::string_view bytes, const std::string& subject) {
  if (bytes.size() > 65536) return fail(Errc::check_failed, subject, "receipt too large");
  const json::Value v = BWV_TRY(json::parse(bytes, subject));
  json::Reader r(v, subject);
  if (BWV_TRY(r.integer("bwv_receipt", 0, json::k_max_int)) != 1)
    return r.bad("bwv_receipt", "unknown receipt version");
  Receipt rc;
  rc.clip_id = BWV_TRY(r.str("clip_id"));
  if (!text::is_clip_id(rc.clip_id)) return r.bad("clip_id", "not a clip id");
  rc.manifest_sha256 = BWV_TRY(r.str("manifest_sha256"));
  rc.video_sha256 = BWV_TRY(r.str("video_sha256"));
  if (!text::is_sha256_hex(rc.manifest_sha256) || !text::is_sha256_hex(rc.video_sha256))
    return fail(Errc::check_failed, subject, "receipt hashes are not SHA-256");
  rc.store_key_id = BWV_TRY(r.str("store_key_id"));
  const std::string t = BWV_TRY(r.str("time"));
  rc.time = BWV_TRY(text::parse_time(t));
  return rc;
}

SealedWriter::SealedWriter(fs::Path path, fs::Fd fd, const crypto::SealPublicKey& key,
                           std::size_t max_record)
    : m_path(std::move(path)), m_fd(std::move(fd)), m_sealer(key, max_record) {
  m_plain.reserve(max_record);
}

Result<SealedWriter> SealedWriter::create(const fs::Path& path, const crypto::SealPublicKey& key,
                                          std::size_t max_record) {
  if (max_record == 0 || max_record > crypto::k_seal_max_record)
    return fail(Errc::internal, path, "invalid sealed record size");
  fs::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return fail_errno(path, "create", errno);
  SealedWriter w(path, std::move(fd), key, max_record);
  BWV_CHECK(fs::write_all(w.m_fd.get(), w.m_sealer.header().data(), w.m_sealer.header().size(), path));
  w.m_sealed = w.m_sealer.header().size();
  return w;
}

Result<void> SealedWriter::flush_record(bool final) {
  m_hasher.update(m_plain.data(), m_plain.size());
  m_out.clear();
  m_sealer.push(m_plain.data(), m_plain.size(), final, m_out);
  sodium_memzero(m_plain.data(), m_plain.size());
  m_plain.clear();
  BWV_CHECK(fs::write_all(m_fd.get(), m_out.data(), m_out.size(), m_path));
  m_sealed += m_out.size();
  return {};
}

Result<void> SealedWriter::write(const unsigned char* data, std::size_t size) {
  const std::size_t max = m_sealer.max_record();
  while (size > 0) {
    const std::size_t n = std::min(size, max - m_plain.size());
    m_plain.insert(m_plain.end(), data, data + n);
    data += n;
    size -= n;
    // A full record is held back until more data shows it is not the last one.
    if (m_plain.size() == max && size > 0) BWV_CHECK(flush_record(false));
  }
  return {};
}

Result<void> SealedWriter::write_record(const unsigned char* data, std::size_t size) {
  if (!m_plain.empty()) BWV_CHECK(flush_record(false));
  const std::size_t max = m_sealer.max_record();
  do {
    const std::size_t n = std::min(size, max);
    m_plain.assign(data, data + n);
    BWV_CHECK(flush_record(false));
    data += n;
    size -= n;
  } while (size > 0);
  if (::fdatasync(m_fd.get()) != 0) return fail_errno(m_path, "fdatasync", errno);
  return {};
}

Result<manifest::Video> SealedWriter::finish() {
  BWV_CHECK(flush_record(true));
  if (::fsync(m_fd.get()) != 0) return fail_errno(m_path, "fsync", errno);
  m_fd.close();
  return m_hasher.finish();
}

Result<SealedReader> SealedReader::open(const fs::Path& path, const crypto::SealSecretKey& key,
                                        std::vector<unsigned char>* buffer) {
  fs::Fd fd = BWV_TRY(fs::open_regular(path));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::string header(crypto::k_seal_header_size, '\0');
  if (BWV_TRY(fs::read_full(fd.get(), header.data(), header.size(), path)) != header.size())
    return fail(Errc::check_failed, path, "truncated sealed file");
  auto u = BWV_TRY(crypto::Unsealer::open(key, header, path.string()));
  SealedReader r(path, std::move(fd), std::move(u), buffer);
  r.m_read = header.size();
  return r;
}

Result<std::optional<std::size_t>> SealedReader::next_record() {
  const std::string subject = m_path.string();
  unsigned char prefix[crypto::k_seal_length_size];
  const std::size_t got = BWV_TRY(fs::read_full(m_fd.get(), prefix, sizeof prefix, m_path));
  if (got == 0) return std::nullopt;
  if (m_final) return fail(Errc::check_failed, subject, "data after the final record");
  if (got != sizeof prefix) return fail(Errc::check_failed, subject, "truncated sealed file (a cut record)");
  const std::size_t n = BWV_TRY(m_unsealer.record_length(prefix, subject));
  auto& c = cipher();
  c.resize(sizeof prefix + n + crypto::k_seal_abytes);
  std::memcpy(c.data(), prefix, sizeof prefix);
  const std::size_t body = c.size() - sizeof prefix;
  if (BWV_TRY(fs::read_full(m_fd.get(), c.data() + sizeof prefix, body, m_path)) != body)
    return fail(Errc::check_failed, subject, "truncated sealed file (a cut record)");
  return n;
}

Result<void> SealedReader::open_record(unsigned char* plain) {
  BWV_CHECK(m_unsealer.pull(cipher().data(), cipher().size(), plain, m_final, m_path.string()));
  m_read += cipher().size();
  return {};
}

Result<bool> SealedReader::next(std::vector<unsigned char>& plain) {
  const auto n = BWV_TRY(next_record());
  if (!n) return false;
  plain.resize(*n);
  BWV_CHECK(open_record(plain.data()));
  return true;
}

Result<Storage> Storage::create(const fs::Path& dir, const crypto::PublicKey& device_key) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail_errno(dir, "mkdir", ec.value());
  BWV_CHECK(fs::make_dirs(dir, "clips"));
  BWV_CHECK(fs::make_dirs(dir, "receipts"));
  BWV_CHECK(fs::make_dirs(dir, "tmp"));
  const auto kind = BWV_TRY(fs::kind_of(dir / "bwv-camera"));
  if (kind == fs::Kind::none) BWV_CHECK(fs::write_file_atomic(dir / "bwv-camera", k_marker));
  BWV_CHECK(fs::write_file_atomic(
      dir / "device.pub",
      device_key.to_file("bwv device public key " + crypto::key_id_string(device_key.id))));
  return open(dir);
}

Result<Storage> Storage::open(const fs::Path& dir) {
  const auto kind = BWV_TRY(fs::kind_of(dir));
  if (kind == fs::Kind::none) return fail(Errc::usage, dir, "no such directory");
  const auto marker = fs::read_file(dir / "bwv-camera", 4096);
  if (!marker)
    return fail(Errc::check_failed, dir, "not a bwv camera's storage (no bwv-camera marker)");
  if (*marker != k_marker)
    return fail(Errc::check_failed, dir, "unknown camera storage format \"" +
                                             text::printable(*marker, 40) + "\" (this bwv reads 1)");
  for (const char* sub : {"clips", "receipts", "tmp"})
    if (BWV_TRY(fs::kind_of(dir / sub)) != fs::Kind::directory)
      return fail(Errc::check_failed, dir / sub, "missing or not a directory");
  return Storage(dir);
}

ClipFiles Storage::files(const std::string& id) const {
  const fs::Path clips = m_dir / "clips";
  return {id, clips / (id + ".json"), clips / (id + ".json.minisig"), clips / (id + ".mp4.sealed")};
}

fs::Path Storage::receipt_path(const std::string& id) const {
  return m_dir / "receipts" / (id + ".receipt");
}

Result<std::string> Storage::add_clip(const manifest::Manifest& m, const fs::Path& sealed_tmp,
                                      const crypto::SecretKey& device_key) {
  const std::string bytes = manifest::write(m);
  const std::string sha = crypto::sha256_hex(bytes);
  const crypto::Signature sig =
      crypto::sign(device_key, bytes, manifest::trusted_comment(m, sha),
                   "signature from bwv device " + m.device + " key " + m.key_id);
  const ClipFiles f = files(m.clip_id);
  // A finished clip is never replaced: two clips with one id mean a seq used twice, and the
  // first may not have been pulled yet.
  if (BWV_TRY(fs::kind_of(f.signature)) != fs::Kind::none)
    return fail(Errc::check_failed, f.signature, "a clip with this id is already finished; not replacing it");
  // Order matters: the signature is renamed last, so a clip with a signature is complete.
  BWV_CHECK(fs::rename(sealed_tmp, f.sealed));
  BWV_CHECK(fs::write_file_atomic(f.manifest, bytes));
  BWV_CHECK(fs::write_file_atomic(f.signature, sig.to_file()));
  return sha;
}

Result<std::string> Storage::add_clip_from_file(manifest::Manifest m, const fs::Path& video,
                                                const crypto::SecretKey& device_key,
                                                const crypto::SealPublicKey& store_seal) {
  const fs::Path tmp = tmp_dir() / (m.clip_id + ".mp4.sealed." + fs::random_hex(4));
  fs::Fd in = BWV_TRY(fs::open_regular(video));
  SealedWriter w = BWV_TRY(SealedWriter::create(tmp, store_seal));
  std::vector<unsigned char> buf(crypto::k_seal_chunk);
  for (;;) {
    const std::size_t n = BWV_TRY(fs::read_full(in.get(), buf.data(), buf.size(), video));
    BWV_CHECK(w.write(buf.data(), n));
    if (n < buf.size()) break;
  }
  m.video = BWV_TRY(w.finish());
  return add_clip(m, tmp, device_key);
}

Result<std::vector<ClipFiles>> Storage::clips(std::vector<Problem>& problems) const {
  const fs::Path dir = m_dir / "clips";
  const auto names = BWV_TRY(fs::list_dir(dir));
  std::vector<ClipFiles> out;
  for (const auto& name : names) {
    if (name.starts_with(".")) continue; // a writer's temp file
    std::string id;
    if (ends_with(name, ".json.minisig"))
      id = name.substr(0, name.size() - 13);
    else if (ends_with(name, ".json"))
      id = name.substr(0, name.size() - 5);
    else if (ends_with(name, ".mp4.sealed"))
      id = name.substr(0, name.size() - 11);
    if (id.empty() || !text::is_clip_id(id)) {
      problems.push_back({(dir / text::printable(name)).string(), "not a bwv clip file; ignored"});
      continue;
    }
    if (!ends_with(name, ".json.minisig")) {
      // Not complete without its signature, but a link or odd file is reported all the same.
      if (BWV_TRY(fs::kind_of(dir / name)) != fs::Kind::regular &&
          BWV_TRY(fs::kind_of(files(id).signature)) == fs::Kind::none)
        problems.push_back({(dir / name).string(), "not a regular file; refused"});
      continue;
    }
    const ClipFiles f = files(id);
    bool ok = true;
    for (const auto* p : {&f.manifest, &f.signature, &f.sealed}) {
      const auto kind = BWV_TRY(fs::kind_of(*p));
      if (kind == fs::Kind::regular) continue;
      ok = false;
      problems.push_back({p->string(), kind == fs::Kind::none      ? "missing part of a clip"
                                       : kind == fs::Kind::symlink ? "is a symbolic link; refused"
                                                                   : "not a regular file; refused"});
    }
    if (ok) out.push_back(f);
  }
  return out;
}

Result<void> Storage::write_receipt(const Receipt& r, const crypto::Signature& sig) {
  const fs::Path path = receipt_path(r.clip_id);
  // The signature first: a receipt file without its signature is ignored by the camera.
  BWV_CHECK(fs::write_file_atomic(fs::Path(path.string() + ".minisig"), sig.to_file()));
  BWV_CHECK(fs::write_file_atomic(path, r.write()));
  return {};
}

Result<void> Storage::write_receipts(
    const std::vector<std::pair<Receipt, crypto::Signature>>& receipts) {
  fs::Batch batch;
  // Each signature is added before its receipt: a receipt is never in place without it.
  for (const auto& [r, sig] : receipts) {
    const fs::Path path = receipt_path(r.clip_id);
    BWV_CHECK(batch.add(fs::Path(path.string() + ".minisig"), sig.to_file()));
    BWV_CHECK(batch.add(path, r.write()));
  }
  BWV_CHECK(batch.commit());
  return {};
}

Result<bool> Storage::has_receipt(const std::string& id, const crypto::PublicKey& store_key,
                                  const std::string& manifest_sha256,
                                  const std::string& video_sha256) const {
  const fs::Path path = receipt_path(id);
  const fs::Path sig_path(path.string() + ".minisig");
  if (BWV_TRY(fs::kind_of(path)) != fs::Kind::regular ||
      BWV_TRY(fs::kind_of(sig_path)) != fs::Kind::regular)
    return false;
  const std::string bytes = BWV_TRY(fs::read_file(path, 65536));
  const auto sig = crypto::Signature::parse(BWV_TRY(fs::read_file(sig_path, 65536)), sig_path);
  if (!sig || !crypto::verify(store_key, bytes, *sig, path)) return false;
  const auto r = Receipt::parse(bytes, path);
  return r && r->clip_id == id && r->manifest_sha256 == manifest_sha256 &&
         r->video_sha256 == video_sha256;
}

Result<std::vector<std::string>> Storage::delete_receipted(const crypto::PublicKey& store_key,
                                                           std::vector<Problem>& problems) {
  std::vector<std::string> deleted;
  const fs::Path dir = m_dir / "receipts";
  for (const auto& name : BWV_TRY(fs::list_dir(dir))) {
    if (!ends_with(name, ".receipt")) continue;
    const std::string id = name.substr(0, name.size() - 8);
    const fs::Path path = dir / name;
    auto check = [&]() -> Result<void> {
      if (!text::is_clip_id(id)) return fail(Errc::check_failed, path, "not a clip's receipt");
      const std::string bytes = BWV_TRY(fs::read_file(path, 65536));
      const std::string sig_text = BWV_TRY(fs::read_file(fs::Path(path.string() + ".minisig"), 65536));
      const auto sig = BWV_TRY(crypto::Signature::parse(sig_text, path.string() + ".minisig"));
      BWV_CHECK(crypto::verify(store_key, bytes, sig, path.string()));
      const Receipt r = BWV_TRY(Receipt::parse(bytes, path.string()));
      if (r.clip_id != id) return fail(Errc::check_failed, path, "receipt names another clip");
      const ClipFiles f = files(id);
      if (BWV_TRY(fs::kind_of(f.manifest)) == fs::Kind::none) {
        // Deletion is signature, video, manifest, receipt: no manifest means only the receipt
        // is left of an interrupted deletion, unless the video is somehow still here.
        if (BWV_TRY(fs::kind_of(f.sealed)) != fs::Kind::none)
          return fail(Errc::check_failed, f.sealed, "video without its manifest; not deleted");
        return {};
      }
      const std::string manifest_bytes = BWV_TRY(fs::read_file(f.manifest, manifest::k_max_bytes));
      const auto m = BWV_TRY(manifest::parse(manifest_bytes, f.manifest.string()));
      if (r.manifest_sha256 != crypto::sha256_hex(manifest_bytes) || r.video_sha256 != m.video.sha256)
        return fail(Errc::check_failed, path, "receipt does not match this camera's clip");
      return {};
    }();
    if (!check) {
      problems.push_back({check.error().subject, check.error().message + "; nothing deleted"});
      continue;
    }
    const ClipFiles f = files(id);
    // The signature first: without it the clip is incomplete, so readers no longer see it and a
    // crash part-way leaves nothing that looks like a damaged clip.
    const bool had_clip = BWV_TRY(fs::kind_of(f.manifest)) != fs::Kind::none;
    BWV_CHECK(fs::remove_file(f.signature));
    BWV_CHECK(fs::remove_file(f.sealed));
    BWV_CHECK(fs::remove_file(f.manifest));
    BWV_CHECK(fs::fsync_path(m_dir / "clips"));
    BWV_CHECK(fs::remove_file(path));
    BWV_CHECK(fs::remove_file(fs::Path(path.string() + ".minisig")));
    BWV_CHECK(fs::fsync_path(dir));
    if (!had_clip) continue;
    deleted.push_back(id);
  }
  return deleted;
}

} // namespace bwv::camera
