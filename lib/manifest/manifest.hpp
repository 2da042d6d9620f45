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

struct Video {
  std::string file = "video.mp4";
  std::string media_type = "video/mp4";
  std::uint64_t size = 0;
  std::string sha256;
  std::uint64_t chunk_size = k_chunk_size;
  std::vector<std::string> chunks; // SHA-256 of each chunk_size piece, the last may be shorter
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
  Video video;
};

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
