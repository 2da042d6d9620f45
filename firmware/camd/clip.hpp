// A clip being recorded on the camera, and what finishes it after a power cut.
//
// While recording, the storage's tmp/ holds ID.open.json (the manifest as known at the start) and
// ID.mp4.sealed (one sealed record per fMP4 piece, each fdatasync'd); the camera's internal
// directory holds journal/ID.journal (a line per record, written once the record is durable:
// where it ends, the piece's hash and the running hash state). The hash state carries up to 63
// bytes of the plaintext not yet hashed, which is why the journal lives beside the device key and
// never on the storage a dock reads. At boot, recover() finishes every clip left open from its
// journal: complete pieces only, manifest marked recovered, signed, and moved into clips/ like any
// other. What the journal cannot vouch for is kept, never deleted.
#pragma once

#include "camera/storage.hpp"
#include "core/error.hpp"
#include "crypto/minisign.hpp"
#include "manifest/manifest.hpp"

#include <ctime>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace bwv::camd {

// The camera's own state, kept off the storage a dock reads: the device key and the chain.
class Internal {
public:
  // Opens the internal directory, making the device key at first boot (it never leaves it).
  static Result<Internal> open(const fs::Path& dir, bool& created_key);
  const crypto::SecretKey& key() const { return m_key; }
  std::string key_id() const;
  fs::Path journal_dir() const { return m_dir / "journal"; }

  std::uint64_t seq = 0;                    // the last finished clip's
  std::optional<std::string> prev;          // its manifest's SHA-256
  std::optional<std::time_t> clock_set;     // when a dock last set the clock
  Result<void> save() const;

private:
  Internal(fs::Path dir, crypto::SecretKey key) : m_dir(std::move(dir)), m_key(std::move(key)) {}
  fs::Path m_dir;
  crypto::SecretKey m_key;
};

class ClipWriter {
public:
  // meta: every manifest field but end and video; recovered false.
  static Result<ClipWriter> create(camera::Storage& storage, const Internal& internal,
                                   manifest::Manifest meta, const crypto::SealPublicKey& seal);
  ClipWriter(ClipWriter&&) noexcept = default;
  ClipWriter& operator=(ClipWriter&&) noexcept = default;

  const manifest::Manifest& meta() const { return m_meta; }
  // Seals one piece (the init segment or a fragment) as a record and journals it. media_end:
  // the camera time when the piece's media ends.
  Result<void> piece(std::span<const unsigned char> bytes, std::time_t media_end);
  std::uint64_t sealed_bytes() const { return m_writer.sealed_size(); }
  // Finishes the clip: final record, manifest, signature, into clips/. Returns the manifest's
  // SHA-256. Dropping a ClipWriter without finish() is what a power cut does.
  Result<std::string> finish(std::time_t end, const crypto::SecretKey& key);
  // Removes the journal and open manifest: only once the chain names the finished clip, or a
  // cut in between would let the next clip take its seq.
  Result<void> forget();

private:
  ClipWriter(camera::Storage& storage, fs::Path journal_path, manifest::Manifest meta,
             camera::SealedWriter writer, fs::Fd journal)
      : m_storage(&storage), m_journal_path(std::move(journal_path)), m_meta(std::move(meta)),
        m_writer(std::move(writer)), m_journal(std::move(journal)) {}
  camera::Storage* m_storage;
  fs::Path m_journal_path;
  manifest::Manifest m_meta;
  camera::SealedWriter m_writer;
  fs::Fd m_journal;
  std::vector<manifest::Fragment> m_fragments;
  std::size_t m_chunks_journaled = 0;
};

// Finishes the clips a power cut left in tmp/ and brings the chain in `internal` up to date with
// the clips on the storage (a lost state file never lets a seq be used twice). A clip it cannot
// finish is reported and left in tmp/ under a .failed name, and boot goes on: a camera that
// cannot record is worse than one clip set aside. Returns the ids recovered.
Result<std::vector<std::string>> recover(camera::Storage& storage, Internal& internal,
                                         const std::function<void(const std::string&)>& report);

} // namespace bwv::camd
