// The hardware layer under bwv-camd: time, buttons and triggers, indicators, capture, storage
// space and the dock. Two backends: sim (virtual time, a script, a synthetic source and a log of
// every indicator, for tests and the demo) and linux (evdev, LED class, V4L2; for a real camera).
#pragma once

#include "core/error.hpp"
#include "core/machine.hpp" // firmware/core

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

struct AVFrame;

namespace bwv::hal {

using camd::Millis;

class Hal {
public:
  virtual ~Hal() = default;

  // Milliseconds since boot, monotonic.
  virtual Millis now() = 0;
  // The true time of day as a dock knows it (set into the camera's clock at docking).
  virtual std::time_t dock_time() = 0;

  // Waits until the next event or until the deadline, whichever is first; nullopt at the
  // deadline (now() is then the deadline). The sim layer returns at once, moving its clock.
  virtual std::optional<camd::Event> wait(Millis deadline) = 0;
  // When the next event is due, if the layer knows (sim): lets the daemon skip encoding frames
  // that the pre-event buffer would drop before anything could use them.
  virtual std::optional<Millis> next_event_time() { return std::nullopt; }
  // Whether the event source is exhausted (sim: end of script); the daemon then shuts down.
  virtual bool finished() { return false; }

  // Carries out an indicator action (LED, tones, haptics).
  virtual void indicate(camd::ActionKind a, Millis now) = 0;
  // A line for the camera's own log (the sim writes it beside the indicators).
  virtual void log(Millis now, const std::string& line) = 0;

  // Fills a YUV 4:2:0 frame (already allocated at the configured size) with video frame
  // number index since capture started, and a mono float audio frame with samples from
  // first_sample.
  virtual Result<void> capture_video(AVFrame* frame, std::int64_t index) = 0;
  virtual Result<void> capture_audio(AVFrame* frame, std::int64_t first_sample) = 0;

  // Free bytes on the camera's storage, as the layer measures them (sim: its configured
  // capacity less what is used).
  virtual Result<std::uint64_t> free_bytes(std::uint64_t used_bytes) = 0;

  // Called after the camera has handled a dock event: the dock host's turn (the sim may run a
  // command there, as a dock host runs bwv-pull).
  virtual void docked() {}
};

} // namespace bwv::hal
