// The camera's behaviour as a pure state machine: (state, event, time) -> (state, actions).
// It decides; the daemon carries the actions out on a hardware layer (sim or linux). Nothing here
// touches a clock, a file or a device, so every transition is unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bwv::camd {

using Millis = std::int64_t; // time since boot, from the hardware layer's monotonic clock

struct Config {
  int pre_event_seconds = 30;      // 0..120; 0: no buffering at all
  Millis reminder_interval = 120'000;
  Millis max_clip_length = 30 * 60'000;
  Millis clock_beep_interval = 20'000;
  bool stealth = false;            // silences LED, tones and haptics (recorded in the manifest)
  int battery_low_percent = 15;
  int battery_critical_percent = 3;
};

enum class Mode { off, ready, recording, docked };

struct State {
  Mode mode = Mode::off;
  bool storage_full = false;
  bool battery_low = false;
  bool clock_unset = true; // until a dock sets it
  int battery_percent = 100;
  Millis recording_since = 0; // start of the activation (for reminders)
  Millis clip_since = 0;      // start of the current clip (for splitting)
  Millis last_reminder = 0;
  Millis last_clock_beep = 0;
};

enum class EventKind {
  power_on,
  power_off,
  power_cut, // the battery pulled or dead: nothing is finished, recovery does it at the next boot
  double_press,
  hold,    // a 3-second hold of the record button
  trigger, // holster or vehicle trigger
  dock,
  undock,
  clock_set,
  storage_full,
  storage_ok,
  battery, // value: percent
  tick,
};

struct Event {
  EventKind kind;
  int value = 0;
};

enum class ActionKind {
  start_buffering, // the pre-event buffer runs (video only, memory only)
  stop_buffering,  // and is dropped
  start_recording, // a new clip that begins with the pre-event buffer; value: trigger (Trigger)
  split_clip,      // finalise the clip and start the next with no frame lost
  stop_recording,  // finalise the clip
  led_flash_on,
  led_flash_off,
  alert_start,     // two tones and a buzz
  alert_reminder,  // two tones and a buzz
  alert_stop,      // one long tone
  alert_refused,   // three beeps: storage full
  alert_clock,     // five beeps: clock unset, dock me
  alert_battery,   // battery low warning
  collect_receipts,// docked: delete what the store has receipted
  power_down,
};

enum class Trigger { double_press = 0, trigger = 1 };

struct Action {
  ActionKind kind;
  int value = 0;
  bool operator==(const Action&) const = default;
};

struct Step {
  State state;
  std::vector<Action> actions;
};

Step step(const Config& config, const State& state, const Event& event, Millis now);

std::string to_string(Mode m);
std::string to_string(ActionKind a);

} // namespace bwv::camd
