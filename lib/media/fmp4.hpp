// Fragmented MP4 (ISO/IEC 14496-12, with H.264 and AAC as 14496-15 and 14496-14 store them),
// written here rather than by libavformat: the camera links libavcodec only, and libavformat
// brings a hundred-odd shared libraries (TLS, XML, Blu-ray, SSH...) that cost its RSS budget.
//
// The layout is the one FFmpeg's mp4 muxer wrote for bwv (movflags frag_custom, empty_moov,
// default_base_moof, skip_trailer; bitexact): an init segment (ftyp, moov with empty sample
// tables and mvex), then one moof + mdat per fragment() with default-base-is-moof and a tfdt, and
// no trailer, so a file cut after any fragment plays. No version strings, no times of day: the
// same samples give the same bytes.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace bwv::media::fmp4 {

// Seconds per tick of a packet's timestamps: num / den.
struct TimeBase {
  int num = 1;
  int den = 1;
};

struct VideoTrack {
  int width = 0;
  int height = 0;
  TimeBase time_base;              // the packets' (an encoder's: 1/fps)
  std::int64_t frame_duration = 1; // in time_base: a packet's duration when it gives none (libx264's)
  std::int64_t bit_rate = 0;       // bits/s, for btrt; 0 leaves btrt out
  std::vector<unsigned char> sps;  // the NAL units, without start codes
  std::vector<unsigned char> pps;
};

struct AudioTrack {
  int sample_rate = 0;
  int channels = 0;
  TimeBase time_base;              // the packets' (1/sample_rate)
  std::int64_t frame_duration = 0; // in time_base: a packet's duration when it gives none
  std::int64_t bit_rate = 0;
  std::vector<unsigned char> config; // AudioSpecificConfig: the AAC encoder's extradata
};

struct Sample {
  std::span<const unsigned char> data; // video: Annex B (start codes); audio: one raw AAC frame
  std::int64_t pts = 0;
  std::int64_t dts = 0;
  std::int64_t duration = 0; // 0: unknown (the track's frame_duration, or the next sample's dts)
  bool sync = false;
};

// Splits Annex B into its NAL units (without start codes or the zero bytes before the next one).
// Empty when b does not begin with a start code (leading zero bytes aside).
std::vector<std::span<const unsigned char>> annexb_units(std::span<const unsigned char> b);

class Writer {
public:
  static Result<Writer> open(VideoTrack video, std::optional<AudioTrack> audio);

  // ftyp and moov: what every fragment needs to be played.
  std::vector<unsigned char> init_segment() const;

  // Samples in decoding order per track, dts strictly increasing and never negative, pts >= dts;
  // the first video sample must be a sync sample (an IDR with its SPS and PPS).
  Result<void> add_video(const Sample& s);
  Result<void> add_audio(const Sample& s);
  bool has_audio() const { return m_tracks.size() > 1; }

  // The samples added since the last call as one fragment (moof, mdat); empty when there are
  // none. The bytes are the writer's, valid until its next call.
  Result<std::span<const unsigned char>> fragment();

private:
  struct Entry {
    std::int64_t dts = 0;      // in the track's timescale
    std::int64_t offset = 0;   // pts - dts
    std::int64_t duration = 0; // the packet's, in the timescale; 0: unknown
    std::int64_t lead = 0;     // how far a track's first sample was moved back to time 0
    std::uint32_t size = 0;
    bool sync = false;
  };
  struct Track {
    std::uint32_t id = 0;
    bool video = false;
    std::uint32_t timescale = 0;
    std::int64_t scale = 1;          // ticks of the timescale per tick of the packets' time base
    std::int64_t frame_duration = 0; // in the timescale
    std::int64_t last_dts = -1;      // the packets' last dts (time base), across fragments
    std::vector<Entry> entries;      // this fragment's samples
    std::size_t bytes = 0;           // and their size
    std::vector<unsigned char> data; // their bytes, but for video's (in m_frag)
  };

  Result<void> add(Track& t, const Sample& s);
  std::vector<unsigned char>& bytes_of(Track& t);
  void reclaim();

  VideoTrack m_video;
  std::optional<AudioTrack> m_audio;
  std::vector<Track> m_tracks; // video first, then audio
  std::uint32_t m_sequence = 0;
  // The fragment in the making: room for its moof, then the video as it comes (4-byte
  // length-prefixed units), the sound joining at the end. Video is nearly all of a fragment, so
  // building it in place, not copying it into a piece, saves the camera a GOP of memory.
  std::vector<unsigned char> m_frag;
  bool m_emitted = false; // m_frag holds the last fragment, handed out
  std::vector<unsigned char> m_moof;
};

} // namespace bwv::media::fmp4
