#include "core/machine.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace bwv::camd;

namespace {

// Drives the machine through events, keeping every action taken, with the time each was taken.
struct Camera {
  Config config;
  State state;
  std::vector<std::pair<Millis, Action>> log;

  std::vector<Action> on(EventKind kind, Millis now, int value = 0) {
    Step s = step(config, state, {kind, value}, now);
    state = s.state;
    for (const auto& a : s.actions) log.push_back({now, a});
    return s.actions;
  }
  // Ticks every second from..to inclusive, as the daemon's loop does.
  void run(Millis from, Millis to) {
    for (Millis t = from; t <= to; t += 1000) on(EventKind::tick, t);
  }
  std::vector<Millis> times_of(ActionKind k) const {
    std::vector<Millis> out;
    for (const auto& [t, a] : log)
      if (a.kind == k) out.push_back(t);
    return out;
  }
  bool did(ActionKind k) const { return !times_of(k).empty(); }
};

Camera ready_camera(Config config = {}) {
  Camera c;
  c.config = config;
  c.on(EventKind::power_on, 0);
  c.on(EventKind::clock_set, 0);
  c.log.clear();
  return c;
}

std::vector<ActionKind> kinds(const std::vector<Action>& actions) {
  std::vector<ActionKind> out;
  for (const auto& a : actions) out.push_back(a.kind);
  return out;
}

} // namespace

TEST_SUITE_BEGIN("firmware::machine");

TEST_CASE("power on: ready and buffering; off stays off for presses") {
  Camera c;
  CHECK(c.on(EventKind::double_press, 0).empty());
  CHECK(c.state.mode == Mode::off);
  const auto a = kinds(c.on(EventKind::power_on, 0));
  CHECK(c.state.mode == Mode::ready);
  CHECK(a == std::vector{ActionKind::start_buffering, ActionKind::alert_clock});
}

TEST_CASE("a pre-event buffer of 0 s means no buffering at all") {
  Config cfg;
  cfg.pre_event_seconds = 0;
  Camera c;
  c.config = cfg;
  c.on(EventKind::power_on, 0);
  CHECK_FALSE(c.did(ActionKind::start_buffering));
  c.on(EventKind::clock_set, 0);
  c.on(EventKind::double_press, 1000);
  c.on(EventKind::hold, 5000);
  CHECK_FALSE(c.did(ActionKind::start_buffering));
}

TEST_CASE("double press starts a recording with LED, two tones and a buzz; a 3 s hold stops it") {
  Camera c = ready_camera();
  auto a = c.on(EventKind::double_press, 5000);
  CHECK(c.state.mode == Mode::recording);
  CHECK(kinds(a) == std::vector{ActionKind::start_recording, ActionKind::led_flash_on, ActionKind::alert_start});
  CHECK(a[0].value == static_cast<int>(Trigger::double_press));
  a = c.on(EventKind::hold, 65000);
  CHECK(c.state.mode == Mode::ready);
  CHECK(kinds(a) == std::vector{ActionKind::stop_recording, ActionKind::led_flash_off, ActionKind::alert_stop,
                                ActionKind::start_buffering});
}

TEST_CASE("a holster or vehicle trigger starts a recording too, and says so") {
  Camera c = ready_camera();
  const auto a = c.on(EventKind::trigger, 1000);
  CHECK(c.state.mode == Mode::recording);
  CHECK(a[0] == Action{ActionKind::start_recording, static_cast<int>(Trigger::trigger)});
}

TEST_CASE("presses and triggers while recording change nothing; a hold when ready does nothing") {
  Camera c = ready_camera();
  CHECK(c.on(EventKind::hold, 1000).empty());
  c.on(EventKind::double_press, 2000);
  CHECK(c.on(EventKind::double_press, 3000).empty());
  CHECK(c.on(EventKind::trigger, 4000).empty());
  CHECK(c.state.mode == Mode::recording);
}

TEST_CASE("reminders at 0, 120 and 240 s of a recording, and none when ready") {
  Camera c = ready_camera();
  c.run(1000, 300'000); // ready for five minutes: no reminder
  CHECK_FALSE(c.did(ActionKind::alert_reminder));
  c.on(EventKind::double_press, 301'000);
  c.run(302'000, 301'000 + 250'000);
  CHECK(c.times_of(ActionKind::alert_start) == std::vector<Millis>{301'000});
  CHECK(c.times_of(ActionKind::alert_reminder) == std::vector<Millis>{301'000 + 120'000, 301'000 + 240'000});
}

TEST_CASE("a configured reminder interval is kept") {
  Config cfg;
  cfg.reminder_interval = 60'000;
  Camera c = ready_camera(cfg);
  c.on(EventKind::double_press, 0);
  c.run(1000, 200'000);
  CHECK(c.times_of(ActionKind::alert_reminder) == std::vector<Millis>{60'000, 120'000, 180'000});
}

TEST_CASE("stealth: no LED, tones or buzz, but the recording is the same") {
  Config cfg;
  cfg.stealth = true;
  Camera c = ready_camera(cfg);
  c.on(EventKind::double_press, 0);
  c.run(1000, 300'000);
  c.on(EventKind::hold, 301'000);
  CHECK(c.did(ActionKind::start_recording));
  CHECK(c.did(ActionKind::stop_recording));
  for (auto k : {ActionKind::led_flash_on, ActionKind::led_flash_off, ActionKind::alert_start,
                 ActionKind::alert_reminder, ActionKind::alert_stop})
    CHECK_FALSE(c.did(k));
}

TEST_CASE("long recordings are split at the maximum clip length with no gap") {
  Config cfg;
  cfg.max_clip_length = 10 * 60'000;
  Camera c = ready_camera(cfg);
  c.on(EventKind::double_press, 0);
  c.run(1000, 35 * 60'000);
  CHECK(c.times_of(ActionKind::split_clip) == std::vector<Millis>{600'000, 1'200'000, 1'800'000});
  CHECK(c.state.mode == Mode::recording);
  // Reminders run on from the start of the activation, not of each clip.
  CHECK(c.times_of(ActionKind::alert_reminder).size() == 35 * 60 / 120);
}

TEST_CASE("storage full: recording refused with three beeps, even in stealth") {
  Config cfg;
  cfg.stealth = true;
  Camera c = ready_camera(cfg);
  c.on(EventKind::storage_full, 0);
  CHECK(kinds(c.on(EventKind::double_press, 1000)) == std::vector{ActionKind::alert_refused});
  CHECK(c.state.mode == Mode::ready);
  c.on(EventKind::storage_ok, 2000);
  c.on(EventKind::double_press, 3000);
  CHECK(c.state.mode == Mode::recording);
}

TEST_CASE("storage filling during a recording: the clip is finalised, then refusal") {
  Camera c = ready_camera();
  c.on(EventKind::double_press, 0);
  const auto a = kinds(c.on(EventKind::storage_full, 5000));
  CHECK(a.front() == ActionKind::stop_recording);
  CHECK(std::find(a.begin(), a.end(), ActionKind::alert_refused) != a.end());
  CHECK(c.state.mode == Mode::ready);
}

TEST_CASE("clock unset: five beeps every 20 s while ready, until a dock sets it") {
  Camera c;
  c.on(EventKind::power_on, 0);
  c.run(1000, 60'000);
  CHECK(c.times_of(ActionKind::alert_clock) == std::vector<Millis>{0, 20'000, 40'000, 60'000});
  c.on(EventKind::dock, 61'000);
  c.on(EventKind::clock_set, 61'000);
  c.on(EventKind::undock, 62'000);
  c.log.clear();
  c.run(63'000, 200'000);
  CHECK_FALSE(c.did(ActionKind::alert_clock));
}

TEST_CASE("a camera with its clock unset still records when activated") {
  Camera c;
  c.on(EventKind::power_on, 0);
  c.on(EventKind::double_press, 1000);
  CHECK(c.state.mode == Mode::recording);
}

TEST_CASE("battery low: one warning; critical: a clean stop and power down") {
  Camera c = ready_camera();
  c.on(EventKind::double_press, 0);
  CHECK(kinds(c.on(EventKind::battery, 1000, 50)).empty());
  CHECK(kinds(c.on(EventKind::battery, 2000, 15)) == std::vector{ActionKind::alert_battery});
  CHECK(kinds(c.on(EventKind::battery, 3000, 10)).empty()); // warned once
  const auto a = kinds(c.on(EventKind::battery, 4000, 3));
  CHECK(a.front() == ActionKind::stop_recording);
  CHECK(a.back() == ActionKind::power_down);
  CHECK(c.state.mode == Mode::off);
}

TEST_CASE("docking stops a recording, collects receipts, and refuses to record") {
  Camera c = ready_camera();
  c.on(EventKind::double_press, 0);
  const auto a = kinds(c.on(EventKind::dock, 10'000));
  CHECK(a.front() == ActionKind::stop_recording);
  CHECK(a.back() == ActionKind::collect_receipts);
  CHECK(c.state.mode == Mode::docked);
  CHECK(c.on(EventKind::double_press, 11'000).empty());
  CHECK(c.on(EventKind::battery, 12'000, 2).empty()); // charging on the dock: no shutdown
  const auto u = kinds(c.on(EventKind::undock, 20'000));
  CHECK(u == std::vector{ActionKind::collect_receipts, ActionKind::start_buffering});
  CHECK(c.state.mode == Mode::ready);
}

TEST_CASE("power off while recording finalises the clip first") {
  Camera c = ready_camera();
  c.on(EventKind::double_press, 0);
  const auto a = kinds(c.on(EventKind::power_off, 1000));
  CHECK(a.front() == ActionKind::stop_recording);
  CHECK(a.back() == ActionKind::power_down);
  CHECK(c.state.mode == Mode::off);
  CHECK(c.on(EventKind::power_off, 2000).empty());
}

TEST_CASE("a power cut finishes nothing: the camera is simply off") {
  Camera c = ready_camera();
  c.on(EventKind::double_press, 0);
  CHECK(c.on(EventKind::power_cut, 5000).empty());
  CHECK(c.state.mode == Mode::off);
  // The next boot starts again from off.
  const auto a = kinds(c.on(EventKind::power_on, 9000));
  CHECK(c.state.mode == Mode::ready);
  CHECK(std::find(a.begin(), a.end(), ActionKind::start_buffering) != a.end());
}

TEST_CASE("every event in every mode leaves a valid mode and never records when docked or off") {
  const EventKind all[] = {EventKind::power_on, EventKind::power_off, EventKind::power_cut, EventKind::double_press, EventKind::hold,
                           EventKind::trigger, EventKind::dock, EventKind::undock, EventKind::clock_set,
                           EventKind::storage_full, EventKind::storage_ok, EventKind::battery, EventKind::tick};
  for (Mode m : {Mode::off, Mode::ready, Mode::recording, Mode::docked}) {
    for (EventKind e : all) {
      State s;
      s.mode = m;
      s.clock_unset = false;
      const Step r = step(Config{}, s, {e, 50}, 1000);
      CAPTURE(to_string(m));
      CAPTURE(static_cast<int>(e));
      const bool starts = std::any_of(r.actions.begin(), r.actions.end(),
                                      [](const Action& a) { return a.kind == ActionKind::start_recording; });
      if (starts) CHECK(m == Mode::ready);
      if (r.state.mode == Mode::recording) CHECK((m == Mode::ready || m == Mode::recording));
    }
  }
}

TEST_SUITE_END();
