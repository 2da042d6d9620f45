#include "camd/clip.hpp"

#include "core/json.hpp"
#include "core/text.hpp"
#include "crypto/hash.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

namespace bwv::camd {

namespace {

fs::Path open_path(const camera::Storage& s, const std::string& id) { return s.tmp_dir() / (id + ".open.json"); }
fs::Path journal_path(const Internal& in, const std::string& id) { return in.journal_dir() / (id + ".journal"); }
fs::Path sealed_tmp(const camera::Storage& s, const std::string& id) { return s.tmp_dir() / (id + ".mp4.sealed"); }

Result<void> remove_if_there(const fs::Path& p) {
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return fail_errno(p, "unlink", errno);
  return {};
}

// One journal line: a record made durable.
struct JournalLine {
  std::uint64_t sealed_end = 0;
  std::uint64_t plain_end = 0;
  std::time_t media_end = 0;
  std::string sha256;
  std::string hasher; // VideoHasher::save()
  std::vector<std::string> new_chunks;
};

std::string format_line(const JournalLine& j) {
  std::string chunks;
  for (const auto& c : j.new_chunks) chunks += (chunks.empty() ? "" : ",") + c;
  return "R " + std::to_string(j.sealed_end) + " " + std::to_string(j.plain_end) + " " +
         std::to_string(j.media_end) + " " + j.sha256 + " " + j.hasher + " " + (chunks.empty() ? "-" : chunks) + "\n";
}

std::optional<JournalLine> parse_line(const std::string& line) {
  std::istringstream in(line);
  std::string tag, h1, h2, h3, h4, chunks;
  JournalLine j;
  long long media_end = 0;
  if (!(in >> tag >> j.sealed_end >> j.plain_end >> media_end >> j.sha256 >> h1 >> h2 >> h3 >> h4 >> chunks) ||
      tag != "R" || !text::is_sha256_hex(j.sha256))
    return std::nullopt;
  j.media_end = static_cast<std::time_t>(media_end);
  j.hasher = h1 + " " + h2 + " " + h3 + " " + h4;
  if (chunks != "-") {
    std::size_t at = 0;
    while (at <= chunks.size()) {
      const std::size_t comma = std::min(chunks.find(',', at), chunks.size());
      std::string c = chunks.substr(at, comma - at);
      if (!text::is_sha256_hex(c)) return std::nullopt;
      j.new_chunks.push_back(std::move(c));
      at = comma + 1;
    }
  }
  return j;
}

const std::string k_state = "state.json";
const std::string k_key = "device.key";

} // namespace

// ---- Internal ----

Result<Internal> Internal::open(const fs::Path& dir, bool& created_key) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail_errno(dir, "mkdir", ec.value());
  created_key = false;
  const fs::Path key_path = dir / k_key;
  if (BWV_TRY(fs::kind_of(key_path)) == fs::Kind::none) {
    // First boot: the device key is made here and never leaves this directory (nor guarded memory).
    const auto sk = crypto::SecretKey::generate();
    BWV_CHECK(fs::write_file_atomic(key_path, BWV_TRY(sk.to_file(std::nullopt)).view(), 0600));
    created_key = true;
  }
  // Refused when its mode lets anyone but the daemon's user read it (chmod 600).
  const crypto::SecretBytes key_text = BWV_TRY(crypto::read_secret_file(key_path));
  auto key = BWV_TRY(crypto::SecretKey::parse(key_text.view(), key_path, std::nullopt));
  Internal in(dir, std::move(key));
  const fs::Path state = dir / k_state;
  if (BWV_TRY(fs::kind_of(state)) != fs::Kind::none) {
    const json::Value v = BWV_TRY(json::parse(BWV_TRY(fs::read_file(state, 65536)), state.string()));
    json::Reader r(v, state.string());
    in.seq = static_cast<std::uint64_t>(BWV_TRY(r.integer("seq", 0, json::k_max_int)));
    in.prev = BWV_TRY(r.str_or_null("prev_manifest_sha256"));
    if (const auto t = BWV_TRY(r.str_or_null("clock_set"))) in.clock_set = BWV_TRY(text::parse_time(*t));
  }
  return in;
}

std::string Internal::key_id() const { return crypto::key_id_string(m_key.id()); }

Result<void> Internal::save() const {
  json::Value v = json::Value::object();
  v["seq"] = seq;
  v["prev_manifest_sha256"] = prev ? json::Value(*prev) : json::Value(nullptr);
  v["clock_set"] = clock_set ? json::Value(text::format_time(*clock_set)) : json::Value(nullptr);
  return fs::write_file_atomic(m_dir / k_state, json::write_pretty(v));
}

// ---- ClipWriter ----

Result<ClipWriter> ClipWriter::create(camera::Storage& storage, const Internal& internal,
                                      manifest::Manifest meta, const crypto::SealPublicKey& seal) {
  const std::string& id = meta.clip_id;
  // Never over a clip already made: a seq used twice would overwrite footage nobody pulled.
  const auto files = storage.files(id);
  for (const auto& p : {files.signature, files.manifest, files.sealed, open_path(storage, id),
                        sealed_tmp(storage, id)})
    if (BWV_TRY(fs::kind_of(p)) != fs::Kind::none)
      return fail(Errc::check_failed, p, "already exists; refusing to record over it");
  meta.end = meta.start;
  meta.recovered = false;
  meta.video = {};
  meta.video.sha256 = std::string(64, '0'); // filled in at the end
  BWV_CHECK(fs::make_dirs(internal.journal_dir().parent_path(), "journal", 0700));
  const fs::Path jp = journal_path(internal, id);
  fs::Fd journal(::open(jp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!journal) return fail_errno(jp, "create", errno);
  auto writer = BWV_TRY(camera::SealedWriter::create(sealed_tmp(storage, id), seal, crypto::k_seal_max_record));
  // The open manifest last: with it, recovery finds the other two.
  BWV_CHECK(fs::write_file_atomic(open_path(storage, id), manifest::write(meta)));
  BWV_CHECK(fs::fsync_path(storage.tmp_dir()));
  BWV_CHECK(fs::fsync_path(internal.journal_dir()));
  return ClipWriter(storage, jp, std::move(meta), std::move(writer), std::move(journal));
}

Result<void> ClipWriter::piece(std::span<const unsigned char> bytes, std::time_t media_end) {
  const std::uint64_t offset = m_writer.hasher().size();
  BWV_CHECK(m_writer.write_record(bytes.data(), bytes.size()));
  manifest::Fragment f{offset, bytes.size(), crypto::sha256_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()})};
  JournalLine j;
  j.sealed_end = m_writer.sealed_size();
  j.plain_end = offset + bytes.size();
  j.media_end = media_end;
  j.sha256 = f.sha256;
  j.hasher = m_writer.hasher().save();
  const auto& chunks = m_writer.hasher().chunks();
  j.new_chunks.assign(chunks.begin() + static_cast<std::ptrdiff_t>(m_chunks_journaled), chunks.end());
  m_chunks_journaled = chunks.size();
  m_fragments.push_back(std::move(f));
  const std::string line = format_line(j);
  BWV_CHECK(fs::write_all(m_journal.get(), line.data(), line.size(), m_journal_path));
  if (::fdatasync(m_journal.get()) != 0) return fail_errno(m_journal_path, "fdatasync", errno);
  m_meta.end = media_end;
  return {};
}

Result<std::string> ClipWriter::finish(std::time_t end, const crypto::SecretKey& key) {
  const std::string id = m_meta.clip_id;
  m_meta.end = std::max(end, m_meta.start);
  m_meta.video = BWV_TRY(m_writer.finish());
  m_meta.video.fragments = m_fragments;
  const std::string sha = BWV_TRY(m_storage->add_clip(m_meta, sealed_tmp(*m_storage, id), key));
  m_journal.close();
  return sha;
}

Result<void> ClipWriter::forget() {
  BWV_CHECK(remove_if_there(m_journal_path));
  return remove_if_there(open_path(*m_storage, m_meta.clip_id));
}

// ---- recovery ----

namespace {

// Adopts a clip into the chain if it is this camera's (its signature verifies with the device
// key) and later than what the chain names.
Result<void> adopt(const camera::Storage& storage, Internal& internal, const std::string& id) {
  const auto f = storage.files(id);
  const std::string bytes = BWV_TRY(fs::read_file(f.manifest, manifest::k_max_bytes));
  const auto sig = BWV_TRY(crypto::Signature::parse(BWV_TRY(fs::read_file(f.signature, 65536)), f.signature));
  BWV_CHECK(crypto::verify(internal.key().public_key(), bytes, sig, f.manifest.string()));
  const auto m = BWV_TRY(manifest::parse(bytes, f.manifest.string()));
  if (m.seq > internal.seq) {
    internal.seq = m.seq;
    internal.prev = crypto::sha256_hex(bytes);
    BWV_CHECK(internal.save());
  }
  return {};
}

// Where the record starting at `at` ends, from its length prefix, or nullopt if the file ends
// first.
std::optional<std::uint64_t> next_record_end(const fs::Path& sealed, std::uint64_t at, std::uint64_t size) {
  if (at + crypto::k_seal_length_size > size) return std::nullopt;
  fs::Fd fd(::open(sealed.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  unsigned char p[crypto::k_seal_length_size];
  if (!fd || ::pread(fd.get(), p, sizeof p, static_cast<off_t>(at)) != static_cast<ssize_t>(sizeof p))
    return std::nullopt;
  const std::uint64_t n = std::uint64_t(p[0]) | std::uint64_t(p[1]) << 8 | std::uint64_t(p[2]) << 16 |
                          std::uint64_t(p[3]) << 24;
  const std::uint64_t end = at + crypto::k_seal_length_size + n + crypto::k_seal_abytes;
  if (end > size) return std::nullopt;
  return end;
}

Result<void> copy_whole(const fs::Path& from, const fs::Path& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::none, ec);
  if (ec) return fail_errno(to, "copy", ec.value());
  return fs::fsync_path(to);
}

// A clip set aside keeps its seq: the chain moves past it (the store then sees the gap, which is
// the truth until someone brings the clip in), and no later clip can take its id and files.
Result<void> skip_seq(Internal& internal, const std::string& id) {
  const auto dash = id.rfind('-');
  const std::uint64_t seq = std::strtoull(id.c_str() + dash + 1, nullptr, 10);
  if (seq <= internal.seq) return {};
  internal.seq = seq;
  return internal.save();
}

Result<std::optional<std::string>> recover_one(camera::Storage& storage, Internal& internal,
                                               const std::string& id,
                                               const std::function<void(const std::string&)>& report) {
  const auto files = storage.files(id);
  const fs::Path op = open_path(storage, id);
  const fs::Path sealed = sealed_tmp(storage, id);
  const fs::Path jp = journal_path(internal, id);
  if (BWV_TRY(fs::kind_of(files.signature)) == fs::Kind::regular) {
    // Finished before the cut: only the chain and the leftovers may lag behind.
    BWV_CHECK(adopt(storage, internal, id));
    BWV_CHECK(remove_if_there(jp));
    BWV_CHECK(remove_if_there(sealed));
    BWV_CHECK(remove_if_there(op));
    return std::nullopt;
  }
  manifest::Manifest m = BWV_TRY(manifest::parse(BWV_TRY(fs::read_file(op, manifest::k_max_bytes)), op.string()));
  if (m.clip_id != id || m.key_id != internal.key_id())
    return fail(Errc::check_failed, op, "names another clip or another device key");
  // A cut inside add_clip may have moved the sealed file already: bring it back.
  if (BWV_TRY(fs::kind_of(sealed)) == fs::Kind::none && BWV_TRY(fs::kind_of(files.sealed)) == fs::Kind::regular)
    BWV_CHECK(fs::rename(files.sealed, sealed));
  BWV_CHECK(remove_if_there(files.manifest));

  std::uint64_t sealed_size = 0;
  if (BWV_TRY(fs::kind_of(sealed)) == fs::Kind::regular) {
    fs::Fd fd = BWV_TRY(fs::open_regular(sealed));
    sealed_size = BWV_TRY(fs::file_size(fd.get(), sealed));
  }
  // The journal's complete lines, up to the last record the sealed file still holds whole.
  std::string text;
  if (BWV_TRY(fs::kind_of(jp)) == fs::Kind::regular) text = BWV_TRY(fs::read_file(jp, 1ull << 30));
  std::vector<JournalLine> lines;
  std::size_t at = 0;
  bool damaged = false; // a bad line, not just the last one cut short by the power
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;
    auto j = parse_line(text.substr(at, nl - at));
    if (!j || j->sealed_end > sealed_size) {
      damaged = true;
      break;
    }
    lines.push_back(std::move(*j));
    at = nl + 1;
  }
  // Sealed records the journal does not vouch for (beyond the one a cut can catch between its
  // flush and its journal line) are kept whole for the store, which can open them; the camera
  // cannot. Footage is never deleted on a guess.
  const std::uint64_t vouched = lines.empty() ? crypto::k_seal_header_size : lines.back().sealed_end;
  const auto one_more = next_record_end(sealed, vouched, sealed_size);
  const bool more = one_more && next_record_end(sealed, *one_more, sealed_size).has_value();
  if (damaged || more) {
    const fs::Path keep = storage.tmp_dir() / (id + ".mp4.sealed.unvouched");
    if (BWV_TRY(fs::kind_of(keep)) == fs::Kind::none) BWV_CHECK(copy_whole(sealed, keep));
    report(id + ": the journal does not vouch for all of the sealed video; kept whole as " +
           keep.filename().string() + " for the store");
  }
  if (lines.size() < 2) {
    // The init segment alone holds no footage; but a kept copy holds some, and its seq is
    // never given to another clip.
    if (damaged || more) BWV_CHECK(skip_seq(internal, id));
    report(id + ": no complete fragment before the power cut; nothing to finish");
    BWV_CHECK(remove_if_there(sealed));
    BWV_CHECK(remove_if_there(jp));
    BWV_CHECK(remove_if_there(op));
    return std::nullopt;
  }
  std::vector<std::string> chunks;
  std::vector<manifest::Fragment> fragments;
  std::uint64_t offset = 0;
  for (const auto& j : lines) {
    chunks.insert(chunks.end(), j.new_chunks.begin(), j.new_chunks.end());
    fragments.push_back({offset, j.plain_end - offset, j.sha256});
    offset = j.plain_end;
  }
  auto hasher = manifest::VideoHasher::restore(lines.back().hasher, std::move(chunks));
  if (!hasher || hasher->size() != lines.back().plain_end)
    return fail(Errc::check_failed, jp, "journal does not match itself");
  // Cut the sealed file after its last complete record.
  if (::truncate(sealed.c_str(), static_cast<off_t>(lines.back().sealed_end)) != 0)
    return fail_errno(sealed, "truncate", errno);
  BWV_CHECK(fs::fsync_path(sealed));
  m.recovered = true;
  m.end = std::max(m.start, lines.back().media_end);
  m.video = hasher->finish();
  m.video.fragments = std::move(fragments);
  const std::string sha = BWV_TRY(storage.add_clip(m, sealed, internal.key()));
  if (m.seq > internal.seq) {
    internal.seq = m.seq;
    internal.prev = sha;
    BWV_CHECK(internal.save());
  }
  BWV_CHECK(remove_if_there(jp));
  BWV_CHECK(remove_if_there(op));
  report(id + ": recovered " + std::to_string(lines.size() - 1) + " complete fragments after a power cut");
  return id;
}

} // namespace

Result<std::vector<std::string>> recover(camera::Storage& storage, Internal& internal,
                                         const std::function<void(const std::string&)>& report) {
  std::vector<std::string> recovered;
  std::vector<std::string> ids;
  for (const auto& name : BWV_TRY(fs::list_dir(storage.tmp_dir())))
    if (name.ends_with(".open.json") && text::is_clip_id(name.substr(0, name.size() - 10)))
      ids.push_back(name.substr(0, name.size() - 10));
  for (const auto& id : ids) {
    auto r = recover_one(storage, internal, id, report);
    if (r) {
      if (*r) recovered.push_back(**r);
      continue;
    }
    report(id + ": cannot be finished (" + r.error().subject + ": " + r.error().message +
           "); set aside in tmp/ as " + id + ".open.json.failed");
    BWV_CHECK(fs::rename(open_path(storage, id), storage.tmp_dir() / (id + ".open.json.failed")));
    BWV_CHECK(skip_seq(internal, id));
  }
  // A sealed file with no open manifest (nor a failed one) was cut between its creation and the
  // open manifest's, before any record: it holds the header alone, no footage, and left there it
  // would stop every later clip of its id ("already exists"). Anything longer is kept whole for
  // the store, as unvouched video is, and its seq is never given to another clip.
  for (const auto& name : BWV_TRY(fs::list_dir(storage.tmp_dir()))) {
    if (!name.ends_with(".mp4.sealed")) continue;
    const std::string id = name.substr(0, name.size() - 11);
    if (!text::is_clip_id(id) || BWV_TRY(fs::kind_of(open_path(storage, id))) != fs::Kind::none ||
        BWV_TRY(fs::kind_of(storage.tmp_dir() / (id + ".open.json.failed"))) != fs::Kind::none)
      continue;
    const fs::Path sealed = sealed_tmp(storage, id);
    fs::Fd fd = BWV_TRY(fs::open_regular(sealed));
    if (BWV_TRY(fs::file_size(fd.get(), sealed)) <= crypto::k_seal_header_size) {
      report(id + ": a sealed file begun without its open manifest holds no footage; removed");
    } else {
      const fs::Path keep = storage.tmp_dir() / (id + ".mp4.sealed.unvouched");
      if (BWV_TRY(fs::kind_of(keep)) == fs::Kind::none) BWV_CHECK(copy_whole(sealed, keep));
      BWV_CHECK(skip_seq(internal, id));
      report(id + ": a sealed file without its open manifest; kept whole as " + keep.filename().string() +
             " for the store");
    }
    BWV_CHECK(remove_if_there(sealed));
    BWV_CHECK(remove_if_there(journal_path(internal, id)));
    BWV_CHECK(fs::fsync_path(storage.tmp_dir()));
  }
  // The chain follows the clips on the storage, whatever the state file says.
  std::vector<camera::Problem> ignored;
  for (const auto& f : BWV_TRY(storage.clips(ignored))) {
    auto r = adopt(storage, internal, f.id);
    if (!r) report(f.id + ": not adopted into the chain: " + r.error().message);
  }
  return recovered;
}

} // namespace bwv::camd
