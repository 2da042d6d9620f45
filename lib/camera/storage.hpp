// What a docked camera presents (bwv-camera(5)): the writer the firmware uses and the reader
// bwv-pull uses. One definition of the layout for both sides.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"
#include "crypto/minisign.hpp"
#include "crypto/seal.hpp"
#include "manifest/manifest.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace bwv::camera {

inline constexpr int k_version = 1;

// A receipt: the store's signed word that it holds a clip. The camera deletes nothing without one.
struct Receipt {
  std::string clip_id;
  std::string manifest_sha256;
  std::string video_sha256;
  std::string store_key_id;
  std::time_t time = 0;

  std::string write() const;
  static Result<Receipt> parse(std::string_view bytes, const std::string& subject);
};

// Streams a video into a sealed file, hashing the plaintext as it goes. Plaintext is held only
// in memory: one record's worth for write(), nothing after write_record() returns.
class SealedWriter {
public:
  static Result<SealedWriter> create(const fs::Path& path, const crypto::SealPublicKey& key,
                                     std::size_t max_record = crypto::k_seal_chunk);
  // Buffers into records of the writer's record size.
  Result<void> write(const unsigned char* data, std::size_t size);
  // Seals data as one record of its own (after anything write() buffered) and makes it durable
  // (fdatasync): the camera's one record per fMP4 fragment.
  Result<void> write_record(const unsigned char* data, std::size_t size);
  // Bytes of the sealed file written so far.
  std::uint64_t sealed_size() const { return m_sealed; }
  const manifest::VideoHasher& hasher() const { return m_hasher; }
  // Writes the final record and fsyncs; returns the plaintext's size and hashes.
  Result<manifest::Video> finish();

private:
  SealedWriter(fs::Path path, fs::Fd fd, const crypto::SealPublicKey& key, std::size_t max_record);
  Result<void> flush_record(bool final);
  fs::Path m_path;
  fs::Fd m_fd;
  crypto::Sealer m_sealer;
  manifest::VideoHasher m_hasher;
  std::vector<unsigned char> m_plain;
  std::string m_out;
  std::uint64_t m_sealed = 0;
};

// Reads a sealed file record by record.
class SealedReader {
public:
  // buffer, when given, holds each record as it is read and must outlive the reader: one buffer
  // for file after file is memory that stays warm.
  static Result<SealedReader> open(const fs::Path& path, const crypto::SealSecretKey& key,
                                   std::vector<unsigned char>* buffer = nullptr);
  // The next record's plaintext into plain (resized), or false at the end of the file. An end
  // before the final record is reported by final_seen() staying false, not as an error: only a
  // recovered clip may end so, and only the caller knows whether it is one.
  Result<bool> next(std::vector<unsigned char>& plain);
  // The same in two steps, to let the caller find room for the plaintext: reads the next record,
  // returning its plaintext length (nothing at the end of the file); then open_record decrypts it
  // into plain.
  Result<std::optional<std::size_t>> next_record();
  Result<void> open_record(unsigned char* plain);
  bool final_seen() const { return m_final; }
  std::uint64_t sealed_read() const { return m_read; }

private:
  SealedReader(fs::Path path, fs::Fd fd, crypto::Unsealer u, std::vector<unsigned char>* buffer)
      : m_path(std::move(path)), m_fd(std::move(fd)), m_unsealer(std::move(u)), m_buffer(buffer) {}
  std::vector<unsigned char>& cipher() { return m_buffer ? *m_buffer : m_own; }
  fs::Path m_path;
  fs::Fd m_fd;
  crypto::Unsealer m_unsealer;
  std::vector<unsigned char>* m_buffer;
  std::vector<unsigned char> m_own;
  bool m_final = false;
  std::uint64_t m_read = 0;
};

struct ClipFiles {
  std::string id;
  fs::Path manifest;  // clips/<id>.json
  fs::Path signature; // clips/<id>.json.minisig
  fs::Path sealed;    // clips/<id>.mp4.sealed
};

struct Problem {
  std::string subject;
  std::string message;
};

class Storage {
public:
  // Creates the layout when absent (the firmware at first boot) and records the device key.
  static Result<Storage> create(const fs::Path& dir, const crypto::PublicKey& device_key);
  // Opens existing camera storage; refuses what is not one or has an unknown version.
  static Result<Storage> open(const fs::Path& dir);

  const fs::Path& dir() const { return m_dir; }
  fs::Path tmp_dir() const { return m_dir / "tmp"; }
  ClipFiles files(const std::string& id) const;
  fs::Path receipt_path(const std::string& id) const;

  // Finalises a clip from a sealed video already written into tmp/ by a SealedWriter: writes the
  // manifest (m.video filled in by the caller), signs it, and renames everything into clips/,
  // the signature last, which is what makes the clip complete.
  Result<std::string> add_clip(const manifest::Manifest& m, const fs::Path& sealed_tmp,
                               const crypto::SecretKey& device_key);
  // The same from a plaintext MP4 file: seals it, hashes it, fills in m.video.
  Result<std::string> add_clip_from_file(manifest::Manifest m, const fs::Path& video,
                                         const crypto::SecretKey& device_key,
                                         const crypto::SealPublicKey& store_seal);

  // The complete clips, sorted by id, and a problem for each entry that is not one of bwv's
  // (a symlink, a stray file, a clip missing a part).
  Result<std::vector<ClipFiles>> clips(std::vector<Problem>& problems) const;

  Result<void> write_receipt(const Receipt& r, const crypto::Signature& sig);
  // Many receipts made durable together (fs::Batch): one flush for the lot.
  Result<void> write_receipts(const std::vector<std::pair<Receipt, crypto::Signature>>& receipts);
  // Whether the camera already holds a receipt for this exact clip, signed by this store: a valid
  // receipt is never rewritten (a rewrite cut short would leave a receipt and a signature that
  // do not match).
  Result<bool> has_receipt(const std::string& id, const crypto::PublicKey& store_key,
                           const std::string& manifest_sha256, const std::string& video_sha256) const;

  // The camera's side of a receipt: deletes each clip whose receipt verifies with the store key
  // the camera was provisioned with and names this clip's exact manifest and video. Returns the
  // ids deleted; anything else is left alone and reported.
  Result<std::vector<std::string>> delete_receipted(const crypto::PublicKey& store_key,
                                                    std::vector<Problem>& problems);

private:
  explicit Storage(fs::Path dir) : m_dir(std::move(dir)) {}
  fs::Path m_dir;
};

} // namespace bwv::camera
