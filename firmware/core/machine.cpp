#include "core/machine.hpp"

namespace bwv::camd {

namespace {

// Indicators are silenced in stealth mode; the decision to record is not.
void indicate(const Config& c, std::vector<Action>& out, ActionKind a) {
  if (!c.stealth) out.push_back({a});
}

void start_recording(const Config& c, State& s, std::vector<Action>& out, Millis now, Trigger why) {
  out.push_back({ActionKind::start_recording, static_cast<int>(why)});
  indicate(c, out, ActionKind::led_flash_on);
  indicate(c, out, ActionKind::alert_start);
  s.mode = Mode::recording;
  s.recording_since = s.clip_since = s.last_reminder = now;
}

void stop_recording(const Config& c, std::vector<Action>& out) {
  out.push_back({ActionKind::stop_recording});
  indicate(c, out, ActionKind::led_flash_off);
  indicate(c, out, ActionKind::alert_stop);
}

void enter_ready(const Config& c, State& s, std::vector<Action>& out) {
  s.mode = Mode::ready;
  if (c.pre_event_seconds > 0) out.push_back({ActionKind::start_buffering});
}

void leave_ready(const Config& c, std::vector<Action>& out) {
  if (c.pre_event_seconds > 0) out.push_back({ActionKind::stop_buffering});
}

} // namespace

Step step(const Config& c, const State& in, const Event& e, Millis now) {
  Step r{in, {}};
  State& s = r.state;
  auto& out = r.actions;

  switch (e.kind) {
  case EventKind::power_on:
    if (s.mode != Mode::off) break;
    s.last_clock_beep = now;
    enter_ready(c, s, out);
    if (s.clock_unset) indicate(c, out, ActionKind::alert_clock);
    break;

  case EventKind::power_off:
    if (s.mode == Mode::recording) stop_recording(c, out);
    if (s.mode == Mode::ready) leave_ready(c, out);
    if (s.mode != Mode::off) out.push_back({ActionKind::power_down});
    s.mode = Mode::off;
    break;

  case EventKind::power_cut:
    // No actions: there is no power to carry any out. The daemon drops what is in memory.
    s.mode = Mode::off;
    break;

  case EventKind::double_press:
  case EventKind::trigger:
    if (s.mode != Mode::ready) break; // already recording, docked or off: nothing to do
    if (s.storage_full) {
      // Refuse rather than overwrite anything; the refusal is always heard, stealth or not.
      out.push_back({ActionKind::alert_refused});
      break;
    }
    start_recording(c, s, out, now, e.kind == EventKind::double_press ? Trigger::double_press : Trigger::trigger);
    break;

  case EventKind::hold:
    if (s.mode != Mode::recording) break;
    stop_recording(c, out);
    enter_ready(c, s, out);
    break;

  case EventKind::dock:
    if (s.mode == Mode::off || s.mode == Mode::docked) break;
    if (s.mode == Mode::recording) stop_recording(c, out);
    if (s.mode == Mode::ready) leave_ready(c, out);
    s.mode = Mode::docked;
    out.push_back({ActionKind::collect_receipts});
    break;

  case EventKind::undock:
    if (s.mode != Mode::docked) break;
    out.push_back({ActionKind::collect_receipts});
    s.last_clock_beep = now;
    enter_ready(c, s, out);
    break;

  case EventKind::clock_set:
    s.clock_unset = false;
    break;

  case EventKind::storage_full:
    s.storage_full = true;
    if (s.mode == Mode::recording) {
      // Keep what is recorded: finalise the clip, and say why recording stopped.
      stop_recording(c, out);
      out.push_back({ActionKind::alert_refused});
      enter_ready(c, s, out);
    }
    break;

  case EventKind::storage_ok:
    s.storage_full = false;
    break;

  case EventKind::battery: {
    s.battery_percent = e.value;
    const bool low = e.value <= c.battery_low_percent;
    if (low && !s.battery_low && s.mode != Mode::docked && s.mode != Mode::off)
      out.push_back({ActionKind::alert_battery}); // a warning is always given, stealth or not
    s.battery_low = low;
    if (e.value <= c.battery_critical_percent && s.mode != Mode::docked && s.mode != Mode::off) {
      // A clean stop before the battery dies: the clip is finalised, not cut.
      if (s.mode == Mode::recording) stop_recording(c, out);
      if (s.mode == Mode::ready) leave_ready(c, out);
      out.push_back({ActionKind::power_down});
      s.mode = Mode::off;
    }
    break;
  }

  case EventKind::tick:
    if (s.mode == Mode::recording) {
      if (now - s.clip_since >= c.max_clip_length) {
        out.push_back({ActionKind::split_clip});
        s.clip_since += c.max_clip_length;
      }
      if (now - s.last_reminder >= c.reminder_interval) {
        indicate(c, out, ActionKind::alert_reminder);
        s.last_reminder += c.reminder_interval;
      }
    }
    if (s.clock_unset && s.mode == Mode::ready && now - s.last_clock_beep >= c.clock_beep_interval) {
      indicate(c, out, ActionKind::alert_clock);
      s.last_clock_beep = now;
    }
    break;
  }
  return r;
}

std::string to_string(Mode m) {
  switch (m) {
  case Mode::off: return "off";
  case Mode::ready: return "ready";
  case Mode::recording: return "recording";
  case Mode::docked: return "docked";
  }
  return "?";
}

std::string to_string(ActionKind a) {
  switch (a) {
  case ActionKind::start_buffering: return "start_buffering";
  case ActionKind::stop_buffering: return "stop_buffering";
  case ActionKind::start_recording: return "start_recording";
  case ActionKind::split_clip: return "split_clip";
  case ActionKind::stop_recording: return "stop_recording";
  case ActionKind::led_flash_on: return "led_flash_on";
  case ActionKind::led_flash_off: return "led_flash_off";
  case ActionKind::alert_start: return "alert_start";
  case ActionKind::alert_reminder: return "alert_reminder";
  case ActionKind::alert_stop: return "alert_stop";
  case ActionKind::alert_refused: return "alert_refused";
  case ActionKind::alert_clock: return "alert_clock";
  case ActionKind::alert_battery: return "alert_battery";
  case ActionKind::collect_receipts: return "collect_receipts";
  case ActionKind::power_down: return "power_down";
  }
  return "?";
}

} // namespace bwv::camd
