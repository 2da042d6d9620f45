// The signed clip manifest (bwv-manifest(5)): built, written in the restricted JSON form, and
// parsed back with strict validation. A manifest is signed as its exact bytes.
#pragma once

#include "core/error.hpp"
#include "crypto/hash.hpp"

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bwv::manifest {

inline constexpr int k_version = 1;
inline constexpr std::uint64_t k_max_bytes = 4 << 20;
inline constexpr std::uint64_t k_chunk_size = 1 << 20;

// One fMP4 fragment (or the init segment before them) of a camera's video: they tile the file, so
// a GOP can be checked or cut on its own (redaction) and a damaged one named.
struct Fragment {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string sha256;
  bool operator==(const Fragment&) const = default;
};

struct Video {
  std::string file = "video.mp4";
  std::string media_type = "video/mp4";
  std::uint64_t size = 0;
  std::string sha256;
  std::uint64_t chunk_size = k_chunk_size;
  std::vector<std::string> chunks; // SHA-256 of each chunk_size piece, the last may be shorter
  std::vector<Fragment> fragments; // optional: written by the camera firmware
};

// What a derivative (a redacted copy made in the store) was made from, and how. A derivative's
// manifest is signed by the store's key; its recording fields are copied from the original's.
struct Derivation {
  std::string clip_id;         // the original
  std::string manifest_sha256; // of the original's manifest bytes
  std::string video_sha256;    // of the original's video
  std::string method = "redaction";
  std::string spec_sha256;     // of the redaction spec's bytes
  std::string reason;          // may be empty
  std::time_t created = 0;
  std::string by;              // user@host
  std::string encoder;         // the encoder's build and settings
  std::string render;          // "smart" or "full": what was done
  std::string requested;       // "smart" or "full": what was asked (smart falls back to full on other footage)
  std::uint64_t gops = 0;
  std::uint64_t reencoded_gops = 0;
  bool operator==(const Derivation&) const = default;
};

struct Manifest {
  std::string clip_id;
  std::string device;
  std::string key_id; // the device key that signs it, as minisign prints it
  std::string officer;
  std::uint64_t seq = 0;
  std::optional<std::string> prev_manifest_sha256; // null only for seq 1
  std::time_t start = 0;
  std::time_t end = 0;
  int pre_event_seconds = 0;
  std::string trigger;
  std::string firmware;
  bool stealth = false;
  bool recovered = false;
  // When the camera's clock was last set by a dock; written by the firmware, null while it has
  // never been set (times in the manifest are then the camera's guess).
  bool clock_known = false;
  std::optional<std::time_t> clock_set;
  Video video;
  std::optional<Derivation> derived_from; // only in a derivative
};

// A derivative's id: its original's id and "-r" with a number from 1.
std::string derivative_id(std::string_view original, unsigned n);
// The original's id and the number, if id names a derivative.
std::optional<std::pair<std::string, unsigned>> split_derivative_id(std::string_view id);

std::string write(const Manifest& m);
Result<Manifest> parse(std::string_view bytes, const std::string& subject);

// The trusted comment bwv puts in a manifest's signature.
std::string trusted_comment(const Manifest& m, std::string_view manifest_sha256);

// Hashes a video as it streams by: the whole file and each chunk.
class VideoHasher {
public:
  explicit VideoHasher(std::uint64_t chunk_size = k_chunk_size) : m_chunk_size(chunk_size) {}
  void update(const unsigned char* data, std::size_t size);
  Video finish();
  std::uint64_t size() const { return m_size; }
  // The chunk hashes finished so far.
  const std::vector<std::string>& chunks() const { return m_chunks; }
  // The state of the running hashes (size, position in the chunk, SHA-256 midstates) as one line
  // of text, for this build only: with chunks() it lets a camera finish the hashes of a clip cut
  // short by a power cut, when the plaintext is gone.
  std::string save() const;
  static std::optional<VideoHasher> restore(std::string_view saved, std::vector<std::string> chunks,
                                            std::uint64_t chunk_size = k_chunk_size);

private:
  std::uint64_t m_chunk_size;
  std::uint64_t m_size = 0;
  std::uint64_t m_in_chunk = 0;
  crypto::Sha256 m_whole;
  crypto::Sha256 m_chunk;
  std::vector<std::string> m_chunks;
};

// Where video and manifest disagree: the byte ranges of chunks whose hashes differ, or a size or
// whole-file mismatch. Empty when they agree.
std::vector<std::string> compare_video(const Video& expected, const Video& actual);

} // namespace bwv::manifest
