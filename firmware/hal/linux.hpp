// The linux hardware layer: the record button and trigger line from evdev, the LED class, tones
// and haptics from evdev sound and force feedback, video from V4L2, battery and dock from sysfs.
// The decoding and conversion it does are pure functions below, unit-tested without hardware.
#pragma once

#include "core/fs.hpp"
#include "hal/hal.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <linux/input-event-codes.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bwv::hal {

struct LinuxConfig {
  // evdev device of the record button and the holster or vehicle trigger line, e.g.
  // /dev/input/by-path/platform-gpio-keys-event; empty: no buttons.
  std::string button_device;
  int record_key = KEY_CAMERA;
  int trigger_key = KEY_PROG1;
  // LED class directory, e.g. /sys/class/leds/bwv:red:rec; empty: no LED.
  std::string led;
  // evdev device with EV_SND SND_TONE (pcspkr, pwm-beeper); empty: no tones.
  std::string beeper_device;
  // evdev device with FF_RUMBLE; empty: no haptics.
  std::string haptic_device;
  // V4L2 capture device, e.g. /dev/video0 (required).
  std::string video_device;
  int width = 1280;
  int height = 720;
  int fps = 30;
  // Not opened: capture_audio gives silence until a camera's codec is wired in.
  std::string audio_device;
  // power_supply directory, e.g. /sys/class/power_supply/battery; empty: no battery events.
  std::string battery;
  // A sysfs file holding 1 when docked and 0 when not, e.g. an extcon cable's
  // /sys/class/extcon/extcon0/cable.0/state or a GPIO's value; empty: no dock events.
  std::string dock_gpio_or_extcon;
  // Where clips are stored, for free space (required).
  std::string storage_dir;
};

// ---- pure pieces (no devices) ----

// Turns record-button and trigger key edges into the machine's events: two record presses within
// double_press_window (press to press) are a double press; a record press held for hold_time is
// a hold, given once per press, by poll() when the time comes or by the release if nobody polled
// in time. Every press starts its own hold, so press-release-press-hold gives both events.
class ButtonDecoder {
public:
  static constexpr camd::Millis double_press_window = 600;
  static constexpr camd::Millis hold_time = 3000;

  explicit ButtonDecoder(int record_key = KEY_CAMERA, int trigger_key = KEY_PROG1)
      : m_record_key(record_key), m_trigger_key(trigger_key) {}

  // A key edge (autorepeat is not an edge); other keys are ignored.
  std::optional<camd::Event> feed(int key, bool pressed, camd::Millis now);
  // The hold, if it is due at now and not yet given.
  std::optional<camd::Event> poll(camd::Millis now);
  // When poll() will next have something to give, if ever (for the caller's poll timeout).
  std::optional<camd::Millis> next_due() const;
  bool held() const { return m_held_since.has_value(); }

private:
  int m_record_key;
  int m_trigger_key;
  std::optional<camd::Millis> m_last_press; // a press that may still become a double press
  std::optional<camd::Millis> m_held_since;
  bool m_hold_given = false;
};

// Battery and dock readings to events: the first battery reading and every change after it; a
// dock on 0 -> 1 and an undock on 1 -> 0, starting from undocked (a camera booted in its dock
// hears a dock, as the machine starts away from it).
class StatusWatcher {
public:
  std::optional<camd::Event> battery(int percent);
  std::optional<camd::Event> dock(bool docked);

private:
  std::optional<int> m_percent;
  bool m_docked = false;
};

// A sysfs attribute's integer ("87\n"); nullopt if it holds anything else.
std::optional<int> parse_sysfs_int(std::string_view text);

// What an indicator action sounds and feels like.
struct Tone {
  int hz;
  int ms;
  int gap_ms; // silence after it
};
struct Alert {
  std::vector<Tone> tones;
  int rumble_ms = 0;
  int total_ms() const; // how long the tones take (the rumble runs beside them)
};
// Empty for actions that are not alerts.
Alert alert_for(camd::ActionKind a);

// A YUV 4:2:0 planar destination (an AVFrame's data[0..2] and linesize[0..2]).
struct Yuv420Planes {
  std::uint8_t* y;
  int y_stride;
  std::uint8_t* u;
  int u_stride;
  std::uint8_t* v;
  int v_stride;
};

// Packed YUYV (Y0 U Y1 V per two pixels) to planar 4:2:0: luma as is, each chroma sample the
// rounded mean of the two rows it covers. width and height must be even.
void yuyv_to_yuv420p(const std::uint8_t* src, int src_stride, int width, int height,
                     const Yuv420Planes& dst);
// V4L2's single-plane YUV420 (I420: Y, then U and V at half the luma stride) into planes.
void copy_yuv420(const std::uint8_t* src, int src_stride, int width, int height,
                 const Yuv420Planes& dst);

// ---- the layer ----

class LinuxHal : public Hal {
public:
  static Result<std::unique_ptr<LinuxHal>> open(const LinuxConfig& config);
  ~LinuxHal() override;
  LinuxHal(const LinuxHal&) = delete;
  LinuxHal& operator=(const LinuxHal&) = delete;

  camd::Millis now() override;
  std::time_t dock_time() override;
  std::optional<camd::Event> wait(camd::Millis deadline) override;
  void indicate(camd::ActionKind a, camd::Millis now) override;
  void log(camd::Millis now, const std::string& line) override;
  Result<void> capture_video(AVFrame* frame, std::int64_t index) override;
  Result<void> capture_audio(AVFrame* frame, std::int64_t first_sample) override;
  Result<std::uint64_t> free_bytes(std::uint64_t used_bytes) override;

private:
  struct Mapped {
    void* start = nullptr;
    std::size_t length = 0;
  };

  explicit LinuxHal(const LinuxConfig& config);
  Result<void> open_video();
  Result<void> start_streaming();
  void read_buttons(camd::Millis now);
  void key(int code, bool pressed, camd::Millis at);
  void resync_keys(camd::Millis now);
  void check_status(camd::Millis now);
  void led(bool flashing, camd::Millis now);
  void play(const Alert& alert, camd::Millis now);

  LinuxConfig m_config;
  std::int64_t m_epoch_ms = 0; // CLOCK_MONOTONIC at open(): now() is relative to it
  bool m_event_clock = false;  // evdev stamps events with CLOCK_MONOTONIC
  fs::Fd m_buttons;
  fs::Fd m_beeper;
  fs::Fd m_haptic;
  int m_rumble_id = -1;
  fs::Fd m_video;
  std::uint32_t m_pixelformat = 0;
  int m_bytesperline = 0;
  std::size_t m_frame_bytes = 0; // what one frame of m_pixelformat needs
  std::vector<Mapped> m_buffers;
  bool m_streaming = false;
  ButtonDecoder m_decoder;
  StatusWatcher m_status;
  camd::Millis m_next_status = 0;
  bool m_resync = false; // evdev dropped events: skip to the next report and re-read key state
  bool m_trigger_down = false;
  bool m_battery_failing = false;
  bool m_dock_failing = false;
  std::deque<camd::Event> m_pending; // decoded but not yet returned, oldest first
};

} // namespace bwv::hal
