// A clip being recorded on the camera, and what finishes it after a power cut.
//
// While recording, tmp/ holds ID.open.json (the manifest as known at the start), ID.mp4.sealed
// (one sealed record per fMP4 piece, each fdatasync'd) and ID.journal (a line per record,
// written after the record is durable: where it ends, the piece's hash and the running hash
// state). Plaintext exists only in memory, for the piece being written. At boot, recover()
// finishes every clip left open from its journal: complete pieces only, manifest marked
// recovered, signed, and moved into clips/ like any other.
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
  static Result<ClipWriter> create(camera::Storage& storage, manifest::Manifest meta,
                                   const crypto::SealPublicKey& seal);
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

private:
  ClipWriter(camera::Storage& storage, manifest::Manifest meta, camera::SealedWriter writer,
             fs::Fd journal)
      : m_storage(&storage), m_meta(std::move(meta)), m_writer(std::move(writer)),
        m_journal(std::move(journal)) {}
  camera::Storage* m_storage;
  manifest::Manifest m_meta;
  camera::SealedWriter m_writer;
  fs::Fd m_journal;
  std::vector<manifest::Fragment> m_fragments;
  std::size_t m_chunks_journaled = 0;
};

// Finishes the clips a power cut left in tmp/ and brings the chain in `internal` up to date.
// Reports each clip as it goes. Returns the ids recovered.
Result<std::vector<std::string>> recover(camera::Storage& storage, Internal& internal,
                                         const std::function<void(const std::string&)>& report);

} // namespace bwv::camd
