// The recording pipeline: capture, encode, the pre-event buffer, and the clip being written.
//
// Frames fall on a grid since boot (frame k at k*1000/fps ms). Capture runs while buffering or
// recording; a GOP starts every fps frames from where capture began. Finished GOPs go to the
// pre-event buffer (memory only, bounded in seconds and bytes, whole GOPs, so it always begins at
// an IDR) or, while recording, straight into the clip as one fragment each.
#pragma once

#include "camd/clip.hpp"
#include "hal/hal.hpp"
#include "media/encode.hpp"

#include <deque>
#include <optional>

namespace bwv::camd {

struct RecorderConfig {
  media::VideoSettings video;
  bool audio = true;
  int pre_event_seconds = 30;
  std::uint64_t pre_event_max_bytes = 32ull << 20;
  bool pre_event_audio = false; // else the pre-event's sound track is silence: no microphone
};

// What a finished clip reports back.
struct ClipDone {
  std::string id;
  std::uint64_t seq = 0;
  std::string manifest_sha256;
  std::uint64_t frames = 0;
};

// Where finished clips go and who learns of them.
struct RecorderContext {
  camera::Storage* storage = nullptr;
  const Internal* internal = nullptr; // where the journal goes
  const crypto::SealPublicKey* seal = nullptr;
  const crypto::SecretKey* key = nullptr;
  // The camera's time of day at a time since boot.
  std::function<std::time_t(Millis)> wall;
  // Called when a clip is finished (the daemon advances the chain). When a split follows, it
  // returns the next clip's manifest as known at its start (seq, previous hash, trigger).
  std::function<Result<manifest::Manifest>(const ClipDone&, bool split)> clip_done;
};

class Recorder {
public:
  static Result<Recorder> open(const RecorderConfig& config, hal::Hal& hal, RecorderContext context);

  bool capturing() const { return m_capturing; }
  bool recording() const { return m_clip.has_value() || m_next_clip.has_value(); }
  // The next frame's time on the grid.
  Millis next_frame_time() const;

  // Capture starts at the next frame on the grid with a new GOP; stop drops everything held.
  void start_capture(Millis now);
  void stop_capture();
  // Moves capture ahead to the first frame at or after `to`, dropping the buffer: only what the
  // buffer would have dropped before anything could use it (the sim's fast-forward).
  void skip_to(Millis to);

  // Captures and encodes the next frame (and its audio), routing any GOP it completes.
  Result<void> capture_frame();

  // A clip begins with the pre-event buffer and the GOP in progress. meta: the manifest as known
  // at the start; this fills in the start time and pre-event seconds from the first frame.
  Result<void> start_clip(manifest::Manifest meta, Millis press);
  // Ends the clip with the GOP in progress and goes on in a new one from the next: no frame lost.
  void split_at_next_gop() { m_split = true; }
  // Finishes the clip with the GOP in progress (a short last fragment). When capture goes on
  // (buffering), it starts a new GOP.
  Result<ClipDone> stop_clip();
  // A power cut: everything in memory is gone; files are left as they lie.
  void power_cut();


private:
  struct Gop {
    std::int64_t first_frame = 0; // on the grid
    std::int64_t frames = 0;
    std::vector<media::Packet> video;
    std::vector<media::Packet> audio;
    std::uint64_t bytes = 0;
  };
  struct Open {
    ClipWriter writer;
    std::optional<media::Fmp4Writer> mux;
    std::int64_t first_frame = 0;
    std::int64_t frames = 0;
  };

  Recorder(RecorderConfig config, hal::Hal& hal, RecorderContext context, media::VideoEncoder video,
           std::optional<media::AudioEncoder> audio)
      : m_config(std::move(config)), m_hal(&hal), m_ctx(std::move(context)), m_video(std::move(video)),
        m_audio(std::move(audio)) {}
  Result<void> gop_done();
  Result<void> write_gop(const Gop& g);
  // Finishes the clip, has the daemon put it in the chain, and only then forgets its journal.
  // Returns what clip_done returned.
  Result<manifest::Manifest> finish_clip(bool split, ClipDone& done);
  Result<void> open_next_clip(std::int64_t first_frame);
  // The sound the encoder still holds goes into g, and a fresh encoder carries on, so a clip's
  // sound runs to its last frame.
  Result<void> flush_audio_into(Gop& g);
  std::time_t frame_wall(std::int64_t frame) const;
  std::int64_t samples_at(std::int64_t frame) const;
  Millis frame_ms(std::int64_t frame) const;
  void new_gop();

  RecorderConfig m_config;
  hal::Hal* m_hal;
  RecorderContext m_ctx;
  media::VideoEncoder m_video;
  std::optional<media::AudioEncoder> m_audio;

  bool m_capturing = false;
  std::int64_t m_next_frame = 0;  // on the grid since boot
  std::int64_t m_gop_origin = 0;  // where GOPs are counted from
  std::int64_t m_next_sample = 0; // audio, on its own grid since boot
  Gop m_current;
  std::deque<Gop> m_buffer;
  std::uint64_t m_buffer_bytes = 0;
  std::optional<Open> m_clip;
  bool m_split = false;
  std::optional<manifest::Manifest> m_next_clip; // a split clip's successor, opened at the next GOP
  std::time_t m_piece_end = 0; // the media end of the piece being muxed, for the journal
};

} // namespace bwv::camd
