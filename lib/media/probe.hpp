// What is in a media file, read with FFmpeg's libavformat: duration and streams.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bwv::media {

struct Stream {
  std::string type;  // "video", "audio", ...
  std::string codec; // FFmpeg's codec name: "h264", "aac"
  int width = 0;
  int height = 0;
  int sample_rate = 0;
};

struct Info {
  std::string format;             // the demuxer: "mov,mp4,m4a,3gp,3g2,mj2"
  std::int64_t duration_ms = 0;   // of the longest stream
  std::vector<Stream> streams;
};

Result<Info> probe(const fs::Path& path);

} // namespace bwv::media
