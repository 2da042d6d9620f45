// The sim hardware layer: virtual time that runs as fast as the work allows, events from a
// script, a synthetic camera and microphone, a storage of a configured size, and a log of every
// indicator action and daemon line, which tests assert on.
//
// Script: one event per line, "TIME EVENT [ARG]", '#' comments. TIME is HH:MM:SS[.mmm] since
// power-on of the simulation, or +DURATION after the previous event (+90, +1.5s, +2m, +1h).
// Events: power_on, power_off, power_cut, press, double_press, hold, trigger [holster|vehicle],
// dock, undock, battery PERCENT, storage_free BYTES[K|M|G], end.
#pragma once

#include "hal/hal.hpp"

#include <cstdio>
#include <vector>

namespace bwv::hal {

struct SimConfig {
  std::time_t start = 0;                       // true time of day at virtual time 0
  std::uint64_t capacity = 32ull << 30;        // the camera's storage size
  std::string on_dock;                         // a command run when docked (the dock host)
  std::FILE* log = nullptr;                    // where the log goes (none when null)
};

struct ScriptEvent {
  Millis at = 0;
  std::string name; // as written
  camd::Event event{camd::EventKind::tick};
  bool machine = true; // false: handled by the sim itself (press, storage_free, end)
  std::uint64_t bytes = 0;
};

// Parses a script; errors name the line.
Result<std::vector<ScriptEvent>> parse_script(std::string_view text, const std::string& subject);

class SimHal : public Hal {
public:
  SimHal(SimConfig config, std::vector<ScriptEvent> script);

  Millis now() override { return m_now; }
  std::time_t dock_time() override { return m_config.start + m_now / 1000; }
  std::optional<camd::Event> wait(Millis deadline) override;
  std::optional<Millis> next_event_time() override;
  bool finished() override { return m_next >= m_script.size(); }
  void indicate(camd::ActionKind a, Millis now) override;
  void log(Millis now, const std::string& line) override;
  Result<void> capture_video(AVFrame* frame, std::int64_t index) override;
  Result<void> capture_audio(AVFrame* frame, std::int64_t first_sample) override;
  Result<std::uint64_t> free_bytes(std::uint64_t used_bytes) override;
  void docked() override;

private:
  SimConfig m_config;
  std::vector<ScriptEvent> m_script;
  std::size_t m_next = 0;
  Millis m_now = 0;
  std::optional<std::uint64_t> m_free_override_base; // capacity set by storage_free
  std::uint64_t m_last_used = 0;
};

} // namespace bwv::hal
