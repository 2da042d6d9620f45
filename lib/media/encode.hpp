// Encoding as bwv's format requires it (bwv(7), "encoder settings"): H.264 with closed GOPs of a
// fixed length, each starting with an IDR and its SPS/PPS, no B-frames, constant frame rate and no
// SEI; AAC audio; fragmented MP4 with one fragment per GOP. The camera records with these, and
// redaction re-encodes with them, so a GOP can be replaced on its own.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct AVCodecContext;
struct AVFrame;

namespace bwv::media {

struct VideoSettings {
  int width = 1280;
  int height = 720;
  int fps = 30; // also the GOP length: one GOP per second
  int bitrate_kbps = 3000;
  // A camera's choice: ultrafast costs a third of veryfast's CPU and fits its memory budget at
  // 1080p (see bench/camd), and its streams (no CABAC, no 8x8 transform) play anywhere.
  std::string preset = "ultrafast";
  // A constant quantiser instead of the bitrate when >= 0: redaction uses one, so that a filled
  // box comes out as its colour, not as the bitrate allows.
  int qp = -1;
};

struct AudioSettings {
  int sample_rate = 48000;
  int bitrate_kbps = 64;
};

// An encoded packet; times in its encoder's time base (video 1/fps, audio 1/sample_rate).
struct Packet {
  std::vector<unsigned char> data;
  std::int64_t pts = 0;
  std::int64_t dts = 0;
  std::int64_t duration = 0;
  bool key = false;
};

class VideoEncoder {
public:
  static Result<VideoEncoder> open(const VideoSettings& s);
  VideoEncoder(VideoEncoder&&) noexcept;
  VideoEncoder& operator=(VideoEncoder&&) noexcept;
  ~VideoEncoder();

  // The frame to fill (YUV 4:2:0, settings' size) before encode().
  AVFrame* frame();
  // Encodes frame() with pts (in frames); gop_start forces an IDR, which the caller asks for
  // every fps frames. Appends what the encoder gives back (zero latency: this frame's packet).
  Result<void> encode(std::int64_t pts, bool gop_start, std::vector<Packet>& out);
  const VideoSettings& settings() const;
  const AVCodecContext* context() const;
  // The encoder's build and settings in one line, for a manifest.
  std::string description() const;

private:
  struct Impl;
  explicit VideoEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

class AudioEncoder {
public:
  static Result<AudioEncoder> open(const AudioSettings& s);
  AudioEncoder(AudioEncoder&&) noexcept;
  AudioEncoder& operator=(AudioEncoder&&) noexcept;
  ~AudioEncoder();

  int frame_samples() const; // samples per frame (1024 for AAC)
  // The frame to fill (mono float, frame_samples() samples) before encode().
  AVFrame* frame();
  // Encodes frame() starting at sample number first_sample.
  Result<void> encode(std::int64_t first_sample, std::vector<Packet>& out);
  // Ends the stream: the packets the encoder still holds (its delay), after which it takes no
  // more frames.
  Result<void> flush(std::vector<Packet>& out);
  const AVCodecContext* context() const;

private:
  struct Impl;
  explicit AudioEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

// Removes every SEI NAL unit from an Annex B H.264 packet: x264 writes its version and options
// into one, and nothing identifying belongs in evidence.
void strip_sei(std::vector<unsigned char>& annexb);

// Writes fragmented MP4 in pieces: the init segment (ftyp, moov), then one fragment (moof, mdat)
// per fragment() call (none when nothing was written since the last). Each piece goes to the sink
// as it is finished, so the caller can seal it at once. Video packets must be Annex B from a
// VideoEncoder; the first must be an IDR with its SPS and PPS. Muxed by lib/media/fmp4, not
// libavformat, so the camera links no libavformat.
class Fmp4Writer {
public:
  using Sink = std::function<Result<void>(std::span<const unsigned char>)>;
  // audio may be null (no audio track). Times given to write_* are in the encoders' time bases,
  // already rebased so that the clip starts at 0.
  static Result<Fmp4Writer> open(const VideoEncoder& video, const AudioEncoder* audio,
                                 const Packet& first_idr, Sink sink);
  Fmp4Writer(Fmp4Writer&&) noexcept;
  Fmp4Writer& operator=(Fmp4Writer&&) noexcept;
  ~Fmp4Writer();

  Result<void> write_video(const Packet& p);
  Result<void> write_audio(const Packet& p);
  // Ends the current fragment and hands it to the sink.
  Result<void> fragment();

private:
  struct Impl;
  explicit Fmp4Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

} // namespace bwv::media
