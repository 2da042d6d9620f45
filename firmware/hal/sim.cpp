#include "hal/sim.hpp"

#include "core/text.hpp"

extern "C" {
#include <libavutil/frame.h>
}

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace bwv::hal {

namespace {

std::optional<Millis> parse_clock(const std::string& t) {
  int h = 0, m = 0, s = 0, used = 0;
  if (std::sscanf(t.c_str(), "%d:%d:%d%n", &h, &m, &s, &used) != 3) return std::nullopt;
  if (h < 0 || m < 0 || m > 59 || s < 0 || s > 59) return std::nullopt;
  Millis ms = 0;
  const std::string_view rest = std::string_view(t).substr(static_cast<std::size_t>(used));
  if (!rest.empty()) {
    // A decimal fraction of a second: ".5" is 500 ms, ".25" 250, ".125" 125.
    if (rest.size() < 2 || rest.size() > 4 || rest[0] != '.') return std::nullopt;
    Millis scale = 100;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      ms += (c - '0') * scale;
      scale /= 10;
    }
  }
  return ((h * 60 + m) * 60 + s) * Millis{1000} + ms;
}

std::optional<Millis> parse_relative(const std::string& t) {
  double v = 0;
  char unit = 's', extra = 0;
  const int n = std::sscanf(t.c_str(), "+%lf%c%c", &v, &unit, &extra);
  if (n < 1 || n > 2 || !std::isfinite(v) || v < 0 || v > 1e9) return std::nullopt;
  const double mult = unit == 's' ? 1000 : unit == 'm' ? 60'000 : unit == 'h' ? 3'600'000 : -1;
  if (mult < 0) return std::nullopt;
  return static_cast<Millis>(std::llround(v * mult));
}

std::optional<std::uint64_t> parse_bytes(const std::string& t) {
  unsigned long long v = 0;
  char unit = 0, extra = 0;
  const int n = std::sscanf(t.c_str(), "%llu%c%c", &v, &unit, &extra);
  if (n < 1 || n > 2) return std::nullopt;
  const std::uint64_t mult = n == 1 ? 1 : unit == 'K' ? 1ull << 10 : unit == 'M' ? 1ull << 20 : unit == 'G' ? 1ull << 30 : 0;
  if (mult == 0) return std::nullopt;
  return v * mult;
}

} // namespace

Result<std::vector<ScriptEvent>> parse_script(std::string_view text, const std::string& subject) {
  using camd::EventKind;
  std::vector<ScriptEvent> out;
  std::istringstream in{std::string(text)};
  std::string line;
  Millis last = 0;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = subject + ":" + std::to_string(number);
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string time, name, arg, extra;
    if (!(words >> time)) continue;
    if (!(words >> name)) return fail(Errc::usage, where, "a time without an event");
    words >> arg;
    if (words >> extra) return fail(Errc::usage, where, "unexpected \"" + text::printable(extra, 40) + "\"");
    const auto at = time.starts_with("+") ? parse_relative(time).transform([&](Millis d) { return last + d; })
                                          : parse_clock(time);
    if (!at) return fail(Errc::usage, where, "bad time \"" + text::printable(time, 40) + "\" (HH:MM:SS[.mmm] or +N[s|m|h])");
    if (*at < last) return fail(Errc::usage, where, "time goes backwards");
    ScriptEvent e;
    e.at = last = *at;
    e.name = name;
    const bool wants_arg = name == "battery" || name == "storage_free" || name == "trigger";
    if (!wants_arg && !arg.empty()) return fail(Errc::usage, where, name + " takes no argument");
    if (name == "power_on") e.event = {EventKind::power_on};
    else if (name == "power_off") e.event = {EventKind::power_off};
    else if (name == "power_cut") e.event = {EventKind::power_cut};
    else if (name == "double_press") e.event = {EventKind::double_press};
    else if (name == "hold") e.event = {EventKind::hold};
    else if (name == "dock") e.event = {EventKind::dock};
    else if (name == "undock") e.event = {EventKind::undock};
    else if (name == "trigger") {
      if (arg.empty() || arg == "holster") e.event = {EventKind::trigger, 1};
      else if (arg == "vehicle") e.event = {EventKind::trigger, 2};
      else return fail(Errc::usage, where, "trigger is holster or vehicle");
    } else if (name == "battery") {
      char* end = nullptr;
      const long v = std::strtol(arg.c_str(), &end, 10);
      if (arg.empty() || *end || v < 0 || v > 100) return fail(Errc::usage, where, "battery takes a percentage 0-100");
      e.event = {EventKind::battery, static_cast<int>(v)};
    } else if (name == "storage_free") {
      const auto b = parse_bytes(arg);
      if (!b) return fail(Errc::usage, where, "storage_free takes a size (bytes, or with K, M or G)");
      e.machine = false;
      e.bytes = *b;
    } else if (name == "press" || name == "end") {
      e.machine = false;
    } else {
      return fail(Errc::usage, where, "unknown event \"" + text::printable(name, 40) + "\"");
    }
    out.push_back(std::move(e));
  }
  return out;
}

SimHal::SimHal(SimConfig config, std::vector<ScriptEvent> script)
    : m_config(std::move(config)), m_script(std::move(script)) {}

std::optional<camd::Event> SimHal::wait(Millis deadline) {
  while (m_next < m_script.size() && m_script[m_next].at <= deadline) {
    const ScriptEvent& e = m_script[m_next++];
    m_now = std::max(m_now, e.at);
    log(m_now, "event " + e.name + (e.event.kind == camd::EventKind::battery ? " " + std::to_string(e.event.value) : ""));
    if (e.name == "storage_free") {
      m_free_override_base = m_last_used + e.bytes;
      continue;
    }
    if (e.name == "end") {
      m_next = m_script.size();
      return std::nullopt;
    }
    if (!e.machine) continue; // a single press does nothing on a body-worn camera
    return e.event;
  }
  m_now = std::max(m_now, deadline);
  return std::nullopt;
}

std::optional<Millis> SimHal::next_event_time() {
  if (m_next >= m_script.size()) return std::nullopt;
  return m_script[m_next].at;
}

void SimHal::indicate(camd::ActionKind a, Millis now) { log(now, camd::to_string(a)); }

void SimHal::log(Millis now, const std::string& line) {
  if (!m_config.log) return;
  std::fprintf(m_config.log, "%lld %s %s\n", static_cast<long long>(now),
               text::format_time(m_config.start + now / 1000).c_str(), line.c_str());
  std::fflush(m_config.log);
}

Result<void> SimHal::capture_video(AVFrame* f, std::int64_t index) {
  // A moving diagonal gradient with the frame number as a bar of 24 bits along the top, so a
  // frame can be told from its neighbours.
  for (int y = 0; y < f->height; ++y) {
    std::uint8_t* row = f->data[0] + y * f->linesize[0];
    for (int x = 0; x < f->width; ++x) row[x] = static_cast<std::uint8_t>(x + y * 2 + index * 4);
  }
  const int bar = std::max(2, f->height / 16), cell = std::max(1, f->width / 24);
  for (int b = 0; b < 24; ++b) {
    const std::uint8_t v = (index >> b) & 1 ? 235 : 16;
    for (int y = 0; y < bar; ++y)
      for (int x = b * cell; x < (b + 1) * cell && x < f->width; ++x) f->data[0][y * f->linesize[0] + x] = v;
  }
  for (int y = 0; y < f->height / 2; ++y) {
    std::uint8_t* u = f->data[1] + y * f->linesize[1];
    std::uint8_t* v = f->data[2] + y * f->linesize[2];
    for (int x = 0; x < f->width / 2; ++x) {
      u[x] = static_cast<std::uint8_t>(128 + x / 4);
      v[x] = static_cast<std::uint8_t>(128 - y / 4);
    }
  }
  return {};
}

Result<void> SimHal::capture_audio(AVFrame* f, std::int64_t first_sample) {
  auto* s = reinterpret_cast<float*>(f->data[0]);
  for (int i = 0; i < f->nb_samples; ++i)
    s[i] = 0.1f * static_cast<float>(std::sin(2 * M_PI * 440.0 * double(first_sample + i) / f->sample_rate));
  return {};
}

Result<std::uint64_t> SimHal::free_bytes(std::uint64_t used) {
  m_last_used = used;
  const std::uint64_t capacity = m_free_override_base.value_or(m_config.capacity);
  return capacity > used ? capacity - used : 0;
}

void SimHal::docked() {
  if (m_config.on_dock.empty()) return;
  const int rc = std::system(m_config.on_dock.c_str());
  log(m_now, "dock host: " + m_config.on_dock + " exited " +
                 std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc)));
}

} // namespace bwv::hal
