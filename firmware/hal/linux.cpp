#include "hal/linux.hpp"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <linux/input.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <thread>
#include <unistd.h>

namespace bwv::hal {

using camd::ActionKind;
using camd::Event;
using camd::EventKind;
using camd::Millis;

// ---- pure pieces ----

std::optional<Event> ButtonDecoder::feed(int key, bool pressed, Millis now) {
  if (key == m_trigger_key) {
    if (pressed) return Event{EventKind::trigger};
    return std::nullopt;
  }
  if (key != m_record_key) return std::nullopt;
  if (pressed) {
    if (m_held_since) return std::nullopt; // a second press with no release between: one press
    m_held_since = now;
    m_hold_given = false;
    if (m_last_press && now - *m_last_press <= double_press_window) {
      m_last_press.reset(); // a third quick press starts a new pair rather than repeating this one
      return Event{EventKind::double_press};
    }
    m_last_press = now;
    return std::nullopt;
  }
  if (!m_held_since) return std::nullopt;
  auto hold = poll(now); // held long enough though nobody polled in time: still a hold
  m_held_since.reset();
  return hold;
}

std::optional<Event> ButtonDecoder::poll(Millis now) {
  if (!m_held_since || m_hold_given || now - *m_held_since < hold_time) return std::nullopt;
  m_hold_given = true;
  return Event{EventKind::hold};
}

std::optional<Millis> ButtonDecoder::next_due() const {
  if (!m_held_since || m_hold_given) return std::nullopt;
  return *m_held_since + hold_time;
}

std::optional<Event> StatusWatcher::battery(int percent) {
  if (m_percent == percent) return std::nullopt;
  m_percent = percent;
  return Event{EventKind::battery, percent};
}

std::optional<Event> StatusWatcher::dock(bool docked) {
  if (docked == m_docked) return std::nullopt;
  m_docked = docked;
  return Event{docked ? EventKind::dock : EventKind::undock};
}

std::optional<int> parse_sysfs_int(std::string_view text) {
  constexpr std::string_view space = " \t\r\n";
  const auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return std::nullopt;
  text = text.substr(first, text.find_last_not_of(space) - first + 1);
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int Alert::total_ms() const {
  int total = 0;
  for (const auto& t : tones)
    total += t.ms + t.gap_ms;
  return total;
}

Alert alert_for(ActionKind a) {
  // Every alert is under a second: indicate() plays it in the daemon's own thread.
  switch (a) {
  case ActionKind::alert_start:
  case ActionKind::alert_reminder:
    return {{{2000, 120, 80}, {2000, 120, 0}}, 200};
  case ActionKind::alert_stop:
    return {{{2000, 600, 0}}, 0};
  case ActionKind::alert_refused:
    return {{{2000, 100, 100}, {2000, 100, 100}, {2000, 100, 0}}, 0};
  case ActionKind::alert_clock: {
    Alert five{std::vector<Tone>(5, Tone{2000, 80, 80}), 0};
    five.tones.back().gap_ms = 0;
    return five;
  }
  case ActionKind::alert_battery:
    return {{{500, 200, 100}, {400, 200, 0}}, 0};
  default:
    return {};
  }
}

void yuyv_to_yuv420p(const std::uint8_t* src, int src_stride, int width, int height,
                     const Yuv420Planes& dst) {
  for (int r = 0; r < height / 2; ++r) {
    const std::uint8_t* s0 = src + static_cast<std::ptrdiff_t>(2 * r) * src_stride;
    const std::uint8_t* s1 = s0 + src_stride;
    std::uint8_t* y0 = dst.y + static_cast<std::ptrdiff_t>(2 * r) * dst.y_stride;
    std::uint8_t* y1 = y0 + dst.y_stride;
    std::uint8_t* u = dst.u + static_cast<std::ptrdiff_t>(r) * dst.u_stride;
    std::uint8_t* v = dst.v + static_cast<std::ptrdiff_t>(r) * dst.v_stride;
    for (int i = 0; i < width / 2; ++i) {
      const std::uint8_t* p0 = s0 + 4 * i;
      const std::uint8_t* p1 = s1 + 4 * i;
      y0[2 * i] = p0[0];
      y0[2 * i + 1] = p0[2];
      y1[2 * i] = p1[0];
      y1[2 * i + 1] = p1[2];
      u[i] = static_cast<std::uint8_t>((p0[1] + p1[1] + 1) >> 1);
      v[i] = static_cast<std::uint8_t>((p0[3] + p1[3] + 1) >> 1);
    }
  }
}

void copy_yuv420(const std::uint8_t* src, int src_stride, int width, int height,
                 const Yuv420Planes& dst) {
  auto plane = [](const std::uint8_t* s, int s_stride, std::uint8_t* d, int d_stride, int w,
                  int h) {
    for (int r = 0; r < h; ++r)
      std::memcpy(d + static_cast<std::ptrdiff_t>(r) * d_stride,
                  s + static_cast<std::ptrdiff_t>(r) * s_stride, static_cast<std::size_t>(w));
  };
  const int c_stride = src_stride / 2;
  const std::uint8_t* u = src + static_cast<std::ptrdiff_t>(src_stride) * height;
  const std::uint8_t* v = u + static_cast<std::ptrdiff_t>(c_stride) * (height / 2);
  plane(src, src_stride, dst.y, dst.y_stride, width, height);
  plane(u, c_stride, dst.u, dst.u_stride, width / 2, height / 2);
  plane(v, c_stride, dst.v, dst.v_stride, width / 2, height / 2);
}

// ---- the layer ----

namespace {

std::int64_t monotonic_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// ioctl, retried when a signal interrupts it.
template <class T> int xioctl(int fd, unsigned long request, T arg) {
  for (;;) {
    const int rc = ::ioctl(fd, request, arg);
    if (rc >= 0 || errno != EINTR) return rc;
  }
}

bool test_bit(const unsigned long* bits, int bit) {
  constexpr int per = static_cast<int>(sizeof(unsigned long) * CHAR_BIT);
  return (bits[bit / per] >> (bit % per)) & 1UL;
}

// Whether an evdev device reports code among the codes of event type.
bool has_code(int fd, int type, int code) {
  constexpr int per = static_cast<int>(sizeof(unsigned long) * CHAR_BIT);
  unsigned long bits[(KEY_MAX + per) / per] = {};
  if (xioctl(fd, EVIOCGBIT(type, sizeof bits), bits) < 0) return false;
  return test_bit(bits, code);
}

Result<fs::Fd> open_device(const std::string& path, int flags) {
  fs::Fd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) return fail_errno(path, "open", errno);
  return fd;
}

// sysfs attributes are written in one write(2), not through write_file_atomic: they are not files.
Result<void> write_attr(const std::string& path, std::string_view value) {
  fs::Fd fd = BWV_TRY(open_device(path, O_WRONLY));
  return fs::write_all(fd.get(), value.data(), value.size(), path);
}

Result<int> read_attr_int(const std::string& path) {
  fs::Fd fd = BWV_TRY(open_device(path, O_RDONLY));
  char buf[64];
  const std::size_t n = BWV_TRY(fs::read_full(fd.get(), buf, sizeof buf, path));
  const auto value = parse_sysfs_int(std::string_view(buf, n));
  if (!value) return fail(Errc::io, path, "not a number");
  return *value;
}

std::string fourcc(std::uint32_t f) {
  std::string s;
  for (int i = 0; i < 4; ++i)
    s += static_cast<char>((f >> (8 * i)) & 0xff);
  return s;
}

Result<void> write_event(int fd, int type, int code, int value, const std::string& path) {
  input_event ev{};
  ev.type = static_cast<std::uint16_t>(type);
  ev.code = static_cast<std::uint16_t>(code);
  ev.value = value;
  return fs::write_all(fd, &ev, sizeof ev, path);
}

} // namespace

LinuxHal::LinuxHal(const LinuxConfig& config)
    : m_config(config), m_epoch_ms(monotonic_ms()),
      m_decoder(config.record_key, config.trigger_key) {}

LinuxHal::~LinuxHal() {
  if (m_streaming) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(m_video.get(), VIDIOC_STREAMOFF, &type);
  }
  for (const auto& b : m_buffers)
    ::munmap(b.start, b.length);
}

Result<std::unique_ptr<LinuxHal>> LinuxHal::open(const LinuxConfig& config) {
  if (config.video_device.empty()) return fail(Errc::usage, "video", "no video device configured");
  if (config.storage_dir.empty())
    return fail(Errc::usage, "storage", "no storage directory configured");
  if (config.width < 16 || config.height < 16 || config.width % 2 || config.height % 2 ||
      config.fps < 1 || config.fps > 120)
    return fail(Errc::usage, config.video_device, "unsupported size or frame rate");

  std::unique_ptr<LinuxHal> hal(new LinuxHal(config));

  if (!config.button_device.empty()) {
    hal->m_buttons = BWV_TRY(open_device(config.button_device, O_RDONLY | O_NONBLOCK));
    // Stamped on our clock, key edges keep their true times even when read late (the daemon
    // was encoding).
    int clock = CLOCK_MONOTONIC;
    hal->m_event_clock = xioctl(hal->m_buttons.get(), EVIOCSCLOCKID, &clock) == 0;
  }
  if (!config.beeper_device.empty()) {
    hal->m_beeper = BWV_TRY(open_device(config.beeper_device, O_WRONLY));
    if (!has_code(hal->m_beeper.get(), EV_SND, SND_TONE))
      return fail(Errc::usage, config.beeper_device, "not a tone generator (no EV_SND SND_TONE)");
  }
  if (!config.haptic_device.empty()) {
    hal->m_haptic = BWV_TRY(open_device(config.haptic_device, O_RDWR));
    if (!has_code(hal->m_haptic.get(), EV_FF, FF_RUMBLE))
      return fail(Errc::usage, config.haptic_device, "no FF_RUMBLE force feedback");
  }
  if (!config.led.empty() && ::access((config.led + "/trigger").c_str(), F_OK) != 0)
    return fail_errno(config.led, "not an LED class directory", errno);
  BWV_CHECK(hal->open_video());
  if (config.battery.empty() && config.dock_gpio_or_extcon.empty())
    hal->m_next_status = std::numeric_limits<Millis>::max();
  hal->log(hal->now(), "audio: no codec wired in; recording silence");
  return hal;
}

Result<void> LinuxHal::open_video() {
  const std::string& path = m_config.video_device;
  // Non-blocking so that a stalled sensor is an error after a timeout, not a hung daemon.
  m_video = BWV_TRY(open_device(path, O_RDWR | O_NONBLOCK));
  const int fd = m_video.get();

  v4l2_capability cap{};
  if (xioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) return fail_errno(path, "VIDIOC_QUERYCAP", errno);
  const std::uint32_t caps =
      (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
    if (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)
      return fail(Errc::usage, path, "multi-planar capture devices are not supported");
    return fail(Errc::usage, path, "not a video capture device");
  }
  if (!(caps & V4L2_CAP_STREAMING)) return fail(Errc::usage, path, "no streaming I/O");

  // YUV420 needs only copying; YUYV is what most USB and many SoC sensors give.
  bool yuv420 = false, yuyv = false;
  std::string offered;
  for (std::uint32_t i = 0;; ++i) {
    v4l2_fmtdesc d{};
    d.index = i;
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(fd, VIDIOC_ENUM_FMT, &d) < 0) break;
    yuv420 |= d.pixelformat == V4L2_PIX_FMT_YUV420;
    yuyv |= d.pixelformat == V4L2_PIX_FMT_YUYV;
    offered += (offered.empty() ? "" : " ") + fourcc(d.pixelformat);
  }
  if (!yuv420 && !yuyv)
    return fail(Errc::usage, path, "offers neither YUV420 nor YUYV (offers: " + offered + ")");

  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = static_cast<std::uint32_t>(m_config.width);
  fmt.fmt.pix.height = static_cast<std::uint32_t>(m_config.height);
  fmt.fmt.pix.pixelformat = yuv420 ? V4L2_PIX_FMT_YUV420 : V4L2_PIX_FMT_YUYV;
  fmt.fmt.pix.field = V4L2_FIELD_NONE;
  if (xioctl(fd, VIDIOC_S_FMT, &fmt) < 0) return fail_errno(path, "VIDIOC_S_FMT", errno);
  // Drivers adjust rather than refuse; the encoder's frame is the configured size, so check.
  if (fmt.fmt.pix.width != static_cast<std::uint32_t>(m_config.width) ||
      fmt.fmt.pix.height != static_cast<std::uint32_t>(m_config.height) ||
      (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_YUV420 &&
       fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV))
    return fail(Errc::usage, path,
                "gives " + std::to_string(fmt.fmt.pix.width) + "x" +
                    std::to_string(fmt.fmt.pix.height) + " " + fourcc(fmt.fmt.pix.pixelformat) +
                    " when asked for " + std::to_string(m_config.width) + "x" +
                    std::to_string(m_config.height));
  m_pixelformat = fmt.fmt.pix.pixelformat;
  const bool packed = m_pixelformat == V4L2_PIX_FMT_YUYV;
  const int min_bpl = packed ? m_config.width * 2 : m_config.width;
  m_bytesperline = std::max(static_cast<int>(fmt.fmt.pix.bytesperline), min_bpl);
  const std::size_t luma = static_cast<std::size_t>(m_bytesperline) * m_config.height;
  m_frame_bytes = packed ? luma
                         : luma + 2 * static_cast<std::size_t>(m_bytesperline / 2) *
                                      static_cast<std::size_t>(m_config.height / 2);

  v4l2_streamparm parm{};
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  parm.parm.capture.timeperframe = {1, static_cast<std::uint32_t>(m_config.fps)};
  if (xioctl(fd, VIDIOC_S_PARM, &parm) == 0) {
    // Frames are stamped by their number at the configured rate, so a device running at another
    // rate would make every clip's duration wrong: refuse it.
    const auto& t = parm.parm.capture.timeperframe;
    if (t.numerator != 0 && std::abs(static_cast<double>(t.denominator) / t.numerator -
                                     m_config.fps) > 0.01 * m_config.fps)
      return fail(Errc::usage, path,
                  "runs at " + std::to_string(t.denominator) + "/" + std::to_string(t.numerator) +
                      " fps, not " + std::to_string(m_config.fps));
  } else if (errno == ENOTTY || errno == EINVAL) {
    log(now(), "video: " + path + " does not set its frame rate; assuming " +
                   std::to_string(m_config.fps) + " fps");
  } else {
    return fail_errno(path, "VIDIOC_S_PARM", errno);
  }

  v4l2_requestbuffers req{};
  req.count = 4;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (xioctl(fd, VIDIOC_REQBUFS, &req) < 0) return fail_errno(path, "VIDIOC_REQBUFS", errno);
  if (req.count < 2) return fail(Errc::io, path, "fewer than two capture buffers");
  for (std::uint32_t i = 0; i < req.count; ++i) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (xioctl(fd, VIDIOC_QUERYBUF, &buf) < 0) return fail_errno(path, "VIDIOC_QUERYBUF", errno);
    if (buf.length < m_frame_bytes)
      return fail(Errc::io, path, "capture buffer smaller than a frame");
    void* p = ::mmap(nullptr, buf.length, PROT_READ, MAP_SHARED, fd, buf.m.offset);
    if (p == MAP_FAILED) return fail_errno(path, "mmap", errno);
    m_buffers.push_back({p, buf.length});
  }
  return {};
}

Result<void> LinuxHal::start_streaming() {
  const std::string& path = m_config.video_device;
  for (std::uint32_t i = 0; i < m_buffers.size(); ++i) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (xioctl(m_video.get(), VIDIOC_QBUF, &buf) < 0) return fail_errno(path, "VIDIOC_QBUF", errno);
  }
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(m_video.get(), VIDIOC_STREAMON, &type) < 0)
    return fail_errno(path, "VIDIOC_STREAMON", errno);
  m_streaming = true;
  return {};
}

Millis LinuxHal::now() {
  return monotonic_ms() - m_epoch_ms;
}

// The dock sets the camera's clock over USB before it docks, so the system clock is the dock's.
std::time_t LinuxHal::dock_time() {
  return std::time(nullptr);
}

std::optional<Event> LinuxHal::wait(Millis deadline) {
  for (;;) {
    if (!m_pending.empty()) {
      const Event e = m_pending.front();
      m_pending.pop_front();
      return e;
    }
    Millis t = now();
    read_buttons(t); // whatever is queued first, so a release just before a hold's time wins
    if (!m_pending.empty()) continue;
    if (auto e = m_decoder.poll(t)) return e;
    if (t >= m_next_status) {
      check_status(t);
      m_next_status = t + 1000;
      if (!m_pending.empty()) continue;
    }
    if (t >= deadline) return std::nullopt;

    Millis until = std::min(deadline, m_next_status);
    if (auto due = m_decoder.next_due()) until = std::min(until, *due);
    pollfd pfd{m_buttons.get(), POLLIN, 0};
    const int n = ::poll(&pfd, m_buttons ? 1 : 0, static_cast<int>(std::max<Millis>(until - t, 0)));
    if (n < 0 && errno != EINTR) {
      log(now(), "buttons: poll: " + std::string(std::strerror(errno)) + "; buttons disabled");
      m_buttons.close();
    } else if (n > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
      log(now(), "buttons: " + m_config.button_device + " went away; buttons disabled");
      m_buttons.close();
    }
  }
}

void LinuxHal::read_buttons(Millis now) {
  if (!m_buttons) return;
  input_event evs[64];
  for (;;) {
    const ssize_t n = ::read(m_buttons.get(), evs, sizeof evs);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      log(now, "buttons: read " + m_config.button_device + ": " + std::strerror(errno) +
                   "; buttons disabled");
      m_buttons.close();
      return;
    }
    const std::size_t count = static_cast<std::size_t>(n) / sizeof(input_event);
    for (std::size_t i = 0; i < count; ++i) {
      const input_event& ev = evs[i];
      if (ev.type == EV_SYN && ev.code == SYN_DROPPED) {
        m_resync = true;
        continue;
      }
      if (m_resync) {
        if (ev.type == EV_SYN && ev.code == SYN_REPORT) {
          m_resync = false;
          resync_keys(now);
        }
        continue;
      }
      if (ev.type != EV_KEY || ev.value == 2) continue; // 2: autorepeat, not an edge
      Millis at = now;
      if (m_event_clock)
        at = std::min<Millis>(now, static_cast<Millis>(ev.input_event_sec) * 1000 +
                                       ev.input_event_usec / 1000 - m_epoch_ms);
      key(ev.code, ev.value != 0, at);
    }
    if (static_cast<std::size_t>(n) < sizeof evs) return;
  }
}

void LinuxHal::key(int code, bool pressed, Millis at) {
  if (code == m_config.trigger_key) m_trigger_down = pressed;
  if (auto e = m_decoder.poll(at)) m_pending.push_back(*e); // a hold that came due before this
  if (auto e = m_decoder.feed(code, pressed, at)) m_pending.push_back(*e);
}

// After evdev dropped events, the keys' state now stands in for the edges that were lost.
void LinuxHal::resync_keys(Millis now) {
  constexpr int per = static_cast<int>(sizeof(unsigned long) * CHAR_BIT);
  unsigned long bits[(KEY_MAX + per) / per] = {};
  if (xioctl(m_buttons.get(), EVIOCGKEY(sizeof bits), bits) < 0) return;
  const bool record = test_bit(bits, m_config.record_key);
  const bool trigger = test_bit(bits, m_config.trigger_key);
  if (record != m_decoder.held()) key(m_config.record_key, record, now);
  if (trigger != m_trigger_down) key(m_config.trigger_key, trigger, now);
}

void LinuxHal::check_status(Millis now) {
  // A failing file is logged when it starts and stops failing, not every second.
  auto report = [&](bool& failing, const Result<int>& r, const std::string& what) {
    if (!r && !failing) log(now, what + ": " + r.error().subject + ": " + r.error().message);
    if (r && failing) log(now, what + ": readable again");
    failing = !r;
  };
  if (!m_config.battery.empty()) {
    const auto r = read_attr_int(m_config.battery + "/capacity");
    report(m_battery_failing, r, "battery");
    if (r)
      if (auto e = m_status.battery(std::clamp(*r, 0, 100))) m_pending.push_back(*e);
  }
  if (!m_config.dock_gpio_or_extcon.empty()) {
    const auto r = read_attr_int(m_config.dock_gpio_or_extcon);
    report(m_dock_failing, r, "dock");
    if (r)
      if (auto e = m_status.dock(*r != 0)) m_pending.push_back(*e);
  }
}

void LinuxHal::indicate(ActionKind a, Millis now) {
  switch (a) {
  case ActionKind::led_flash_on:
    led(true, now);
    break;
  case ActionKind::led_flash_off:
    led(false, now);
    break;
  default:
    play(alert_for(a), now);
    break;
  }
}

void LinuxHal::led(bool flashing, Millis now) {
  if (m_config.led.empty()) return;
  const std::string& d = m_config.led;
  // delay_on and delay_off exist only once the timer trigger is set, hence the order.
  auto set = [&]() -> Result<void> {
    if (!flashing) {
      BWV_CHECK(write_attr(d + "/trigger", "none"));
      return write_attr(d + "/brightness", "0");
    }
    BWV_CHECK(write_attr(d + "/trigger", "timer"));
    BWV_CHECK(write_attr(d + "/delay_on", "250"));
    return write_attr(d + "/delay_off", "250");
  };
  const auto r = set();
  if (!r) log(now, "led: " + r.error().subject + ": " + r.error().message);
}

void LinuxHal::play(const Alert& alert, Millis now) {
  if (m_haptic && alert.rumble_ms > 0) {
    ff_effect effect{};
    effect.type = FF_RUMBLE;
    effect.id = static_cast<std::int16_t>(m_rumble_id); // -1 the first time: the kernel picks one
    effect.replay.length = static_cast<std::uint16_t>(alert.rumble_ms);
    effect.u.rumble.strong_magnitude = 0xc000;
    effect.u.rumble.weak_magnitude = 0x8000;
    Result<void> r;
    if (xioctl(m_haptic.get(), EVIOCSFF, &effect) < 0)
      r = fail_errno(m_config.haptic_device, "EVIOCSFF", errno);
    else {
      m_rumble_id = effect.id;
      // The effect stops itself after its length, so it runs beside the tones below.
      r = write_event(m_haptic.get(), EV_FF, m_rumble_id, 1, m_config.haptic_device);
    }
    if (!r) log(now, "haptic: " + r.error().subject + ": " + r.error().message);
  }
  if (!m_beeper) return;
  // The tones are timed by sleeping here, blocking the daemon for the alert's length (under a
  // second, see alert_for): simpler than a tone thread, and the V4L2 queue holds the frames
  // captured meanwhile.
  for (const auto& tone : alert.tones) {
    auto r = write_event(m_beeper.get(), EV_SND, SND_TONE, tone.hz, m_config.beeper_device);
    std::this_thread::sleep_for(std::chrono::milliseconds(tone.ms));
    if (r) r = write_event(m_beeper.get(), EV_SND, SND_TONE, 0, m_config.beeper_device);
    if (!r) {
      log(now, "beeper: " + r.error().subject + ": " + r.error().message);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(tone.gap_ms));
  }
}

void LinuxHal::log(Millis now, const std::string& line) {
  const std::string out = std::to_string(now) + " ms " + line + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
}

Result<void> LinuxHal::capture_video(AVFrame* frame, std::int64_t index) {
  (void)index; // the device paces the frames; the daemon numbers them
  const std::string& path = m_config.video_device;
  if (frame->format != AV_PIX_FMT_YUV420P || frame->width != m_config.width ||
      frame->height != m_config.height)
    return fail(Errc::internal, path, "frame is not YUV420P at the configured size");
  if (!m_streaming) BWV_CHECK(start_streaming());

  const int fd = m_video.get();
  // Frames the driver marks as damaged are given back and the next awaited, up to a second's.
  for (int bad = 0; bad <= m_config.fps;) {
    pollfd pfd{fd, POLLIN, 0};
    const int n = ::poll(&pfd, 1, 2000);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(path, "poll", errno);
    }
    if (n == 0) return fail(Errc::io, path, "no frame within 2 s");
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    if (xioctl(fd, VIDIOC_DQBUF, &buf) < 0) {
      if (errno == EAGAIN) continue;
      return fail_errno(path, "VIDIOC_DQBUF", errno);
    }
    const bool usable = buf.index < m_buffers.size() && !(buf.flags & V4L2_BUF_FLAG_ERROR) &&
                        (buf.bytesused == 0 || buf.bytesused >= m_frame_bytes);
    if (usable) {
      const auto* src = static_cast<const std::uint8_t*>(m_buffers[buf.index].start);
      const Yuv420Planes dst{frame->data[0],     frame->linesize[0], frame->data[1],
                             frame->linesize[1], frame->data[2],     frame->linesize[2]};
      if (m_pixelformat == V4L2_PIX_FMT_YUYV)
        yuyv_to_yuv420p(src, m_bytesperline, m_config.width, m_config.height, dst);
      else
        copy_yuv420(src, m_bytesperline, m_config.width, m_config.height, dst);
    }
    if (xioctl(fd, VIDIOC_QBUF, &buf) < 0) return fail_errno(path, "VIDIOC_QBUF", errno);
    if (usable) return {};
    ++bad;
  }
  return fail(Errc::io, path, "only damaged frames for a second");
}

// A real camera wires its audio codec in here (ALSA or the SoC's own interface); until then
// the clips carry silence, which keeps this layer free of an ALSA dependency.
Result<void> LinuxHal::capture_audio(AVFrame* frame, std::int64_t first_sample) {
  (void)first_sample;
  av_samples_set_silence(frame->extended_data, 0, frame->nb_samples, frame->ch_layout.nb_channels,
                         static_cast<AVSampleFormat>(frame->format));
  return {};
}

Result<std::uint64_t> LinuxHal::free_bytes(std::uint64_t used_bytes) {
  (void)used_bytes; // the filesystem knows
  struct statvfs st {};
  if (::statvfs(m_config.storage_dir.c_str(), &st) != 0)
    return fail_errno(m_config.storage_dir, "statvfs", errno);
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

} // namespace bwv::hal
