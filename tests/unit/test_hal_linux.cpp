// The linux hardware layer's pure parts: button decoding, battery and dock changes, alert shapes
// and the YUYV conversion. The devices themselves are tried only on a camera.
#include "hal/linux.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace bwv::hal;
using bwv::camd::ActionKind;
using bwv::camd::EventKind;

namespace {

constexpr int rec = KEY_CAMERA;
constexpr int trig = KEY_PROG1;

// The kind of an event, or nullopt, for short checks.
std::optional<EventKind> kind(const std::optional<bwv::camd::Event>& e) {
  if (!e) return std::nullopt;
  return e->kind;
}

} // namespace

TEST_CASE("hal linux: two record presses within 600 ms are a double press") {
  ButtonDecoder d;
  CHECK_FALSE(d.feed(rec, true, 1000));
  CHECK_FALSE(d.feed(rec, false, 1100));
  CHECK(kind(d.feed(rec, true, 1600)) == EventKind::double_press); // exactly 600 ms: within
  CHECK_FALSE(d.feed(rec, false, 1700));
  // A third quick press starts a new pair instead of repeating the double press.
  CHECK_FALSE(d.feed(rec, true, 1800));
  CHECK_FALSE(d.feed(rec, false, 1850));
  CHECK(kind(d.feed(rec, true, 2000)) == EventKind::double_press);
}

TEST_CASE("hal linux: presses more than 600 ms apart are not a double press") {
  ButtonDecoder d;
  CHECK_FALSE(d.feed(rec, true, 0));
  CHECK_FALSE(d.feed(rec, false, 100));
  CHECK_FALSE(d.feed(rec, true, 601));
  CHECK_FALSE(d.feed(rec, false, 700));
  // The late press is the first of a new pair.
  CHECK(kind(d.feed(rec, true, 1000)) == EventKind::double_press);
}

TEST_CASE("hal linux: a hold is given once, at exactly 3 s") {
  ButtonDecoder d;
  CHECK_FALSE(d.next_due());
  CHECK_FALSE(d.feed(rec, true, 500));
  CHECK(d.held());
  REQUIRE(d.next_due());
  CHECK(*d.next_due() == 3500);
  CHECK_FALSE(d.poll(3499));
  CHECK(kind(d.poll(3500)) == EventKind::hold);
  CHECK_FALSE(d.next_due());
  CHECK_FALSE(d.poll(3501));
  CHECK_FALSE(d.poll(10'000));
  CHECK_FALSE(d.feed(rec, false, 11'000)); // the release adds nothing
  CHECK_FALSE(d.held());
}

TEST_CASE("hal linux: a hold nobody polled for is given at the release") {
  ButtonDecoder d;
  CHECK_FALSE(d.feed(rec, true, 0));
  CHECK(kind(d.feed(rec, false, 3200)) == EventKind::hold);
  // A release before 3 s is no hold.
  CHECK_FALSE(d.feed(rec, true, 5000));
  CHECK_FALSE(d.feed(rec, false, 7999));
  CHECK_FALSE(d.poll(9000));
}

TEST_CASE("hal linux: press, release, press and hold gives a double press, then a hold") {
  ButtonDecoder d;
  CHECK_FALSE(d.feed(rec, true, 0));
  CHECK_FALSE(d.feed(rec, false, 150));
  CHECK(kind(d.feed(rec, true, 400)) == EventKind::double_press);
  // The hold counts from the second press, not the first.
  CHECK(*d.next_due() == 3400);
  CHECK_FALSE(d.poll(3000));
  CHECK_FALSE(d.poll(3399));
  CHECK(kind(d.poll(3400)) == EventKind::hold);
  CHECK_FALSE(d.poll(3500));
  CHECK_FALSE(d.feed(rec, false, 4000));
  // The next press starts afresh: no double press with the pressed-and-held one.
  CHECK_FALSE(d.feed(rec, true, 4200));
}

TEST_CASE("hal linux: the trigger key and other keys") {
  ButtonDecoder d;
  CHECK(kind(d.feed(trig, true, 100)) == EventKind::trigger);
  CHECK_FALSE(d.feed(trig, false, 200));
  CHECK_FALSE(d.feed(KEY_VOLUMEUP, true, 300));
  CHECK_FALSE(d.feed(KEY_VOLUMEUP, false, 310));
  // A trigger press neither makes nor breaks a double press or a hold.
  CHECK_FALSE(d.feed(rec, true, 1000));
  CHECK(kind(d.feed(trig, true, 1100)) == EventKind::trigger);
  CHECK_FALSE(d.feed(rec, false, 1200));
  CHECK(kind(d.feed(rec, true, 1400)) == EventKind::double_press);
  CHECK(kind(d.poll(4400)) == EventKind::hold);

  ButtonDecoder other(KEY_ENTER, KEY_F1);
  CHECK_FALSE(other.feed(rec, true, 0));
  CHECK_FALSE(other.feed(trig, true, 0));
  CHECK(kind(other.feed(KEY_F1, true, 0)) == EventKind::trigger);
}

TEST_CASE("hal linux: battery changes and dock transitions") {
  StatusWatcher s;
  auto b = s.battery(80); // the first reading is news: the machine assumes 100
  REQUIRE(b);
  CHECK(b->kind == EventKind::battery);
  CHECK(b->value == 80);
  CHECK_FALSE(s.battery(80));
  REQUIRE(s.battery(79));
  CHECK(s.battery(80)->value == 80);

  CHECK_FALSE(s.dock(false));
  CHECK(kind(s.dock(true)) == EventKind::dock);
  CHECK_FALSE(s.dock(true));
  CHECK(kind(s.dock(false)) == EventKind::undock);
  CHECK_FALSE(s.dock(false));

  StatusWatcher booted_docked;
  CHECK(kind(booted_docked.dock(true)) == EventKind::dock);
}

TEST_CASE("hal linux: sysfs integers") {
  CHECK(parse_sysfs_int("87\n") == 87);
  CHECK(parse_sysfs_int(" 0 ") == 0);
  CHECK(parse_sysfs_int("1") == 1);
  CHECK(parse_sysfs_int("-5\n") == -5);
  CHECK_FALSE(parse_sysfs_int(""));
  CHECK_FALSE(parse_sysfs_int("\n"));
  CHECK_FALSE(parse_sysfs_int("USB=1\n"));
  CHECK_FALSE(parse_sysfs_int("12a"));
}

TEST_CASE("hal linux: alerts are short, and only alerts sound") {
  for (auto a : {ActionKind::alert_start, ActionKind::alert_reminder, ActionKind::alert_stop,
                 ActionKind::alert_refused, ActionKind::alert_clock, ActionKind::alert_battery}) {
    const Alert al = alert_for(a);
    CAPTURE(bwv::camd::to_string(a));
    CHECK_FALSE(al.tones.empty());
    CHECK(al.total_ms() < 1000);
    CHECK(al.tones.back().gap_ms == 0); // no trailing silence to wait through
  }
  CHECK(alert_for(ActionKind::alert_start).tones.size() == 2);
  CHECK(alert_for(ActionKind::alert_start).rumble_ms == 200);
  CHECK(alert_for(ActionKind::alert_reminder).rumble_ms == 200);
  CHECK(alert_for(ActionKind::alert_stop).tones.size() == 1);
  CHECK(alert_for(ActionKind::alert_stop).tones[0].ms == 600);
  CHECK(alert_for(ActionKind::alert_refused).tones.size() == 3);
  CHECK(alert_for(ActionKind::alert_clock).tones.size() == 5);
  CHECK(alert_for(ActionKind::alert_battery).tones.size() == 2);
  CHECK(alert_for(ActionKind::alert_battery).tones[0].hz <
        alert_for(ActionKind::alert_start).tones[0].hz);
  for (auto a : {ActionKind::start_recording, ActionKind::led_flash_on, ActionKind::power_down}) {
    CHECK(alert_for(a).tones.empty());
    CHECK(alert_for(a).rumble_ms == 0);
  }
}

TEST_CASE("hal linux: a 4x2 YUYV image to YUV 4:2:0 planes") {
  // Source rows padded to 10 bytes; destination planes padded with 0xEE, which must survive.
  const std::vector<std::uint8_t> src = {
      10, 100, 20, 200, 30, 110, 40, 210, 1, 1, // Y0 U Y1 V, Y2 U Y3 V, padding
      50, 101, 60, 202, 70, 121, 80, 231, 1, 1,
  };
  std::vector<std::uint8_t> y(6 * 2, 0xEE), u(3, 0xEE), v(3, 0xEE);
  yuyv_to_yuv420p(src.data(), 10, 4, 2, {y.data(), 6, u.data(), 3, v.data(), 3});
  CHECK(y == std::vector<std::uint8_t>{10, 20, 30, 40, 0xEE, 0xEE, 50, 60, 70, 80, 0xEE, 0xEE});
  // Each chroma sample is the rounded mean of its two rows.
  CHECK(u == std::vector<std::uint8_t>{101, 116, 0xEE});
  CHECK(v == std::vector<std::uint8_t>{201, 221, 0xEE});
}

TEST_CASE("hal linux: a V4L2 YUV420 image is copied plane by plane") {
  // 4x2 with an 8-byte luma stride: chroma rows are 4 bytes apart, U then V after the luma.
  std::vector<std::uint8_t> src(8 * 2 + 4 + 4, 0);
  for (int i = 0; i < 4; ++i) {
    src[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(10 + i);
    src[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(20 + i);
  }
  src[16] = 100, src[17] = 101; // U
  src[20] = 200, src[21] = 201; // V
  std::vector<std::uint8_t> y(4 * 2), u(2), v(2);
  copy_yuv420(src.data(), 8, 4, 2, {y.data(), 4, u.data(), 2, v.data(), 2});
  CHECK(y == std::vector<std::uint8_t>{10, 11, 12, 13, 20, 21, 22, 23});
  CHECK(u == std::vector<std::uint8_t>{100, 101});
  CHECK(v == std::vector<std::uint8_t>{200, 201});
}
