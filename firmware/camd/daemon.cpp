#include "camd/daemon.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

#include <sys/stat.h>

#include <set>

namespace bwv::camd {

namespace {

constexpr std::time_t k_unset_clock = 946684800; // 2000-01-01T00:00:00Z: what an unset RTC reads

Result<int> int_or(const json::Reader& r, const char* key, int fallback, int min, int max) {
  if (!r.has(key)) return fallback;
  return static_cast<int>(BWV_TRY(r.integer(key, min, max)));
}

Result<bool> bool_or(const json::Reader& r, const char* key, bool fallback) {
  if (!r.has(key)) return fallback;
  return BWV_TRY(r.boolean(key));
}

} // namespace

Result<DaemonConfig> load_config(const fs::Path& path) {
  const std::string path_text = BWV_TRY(fs::read_file(path, 1 << 20));
  const json::Value v = BWV_TRY(json::parse(path_text, path.string()));
  if (!v.is_object()) return fail(Errc::usage, path, "configuration is not a JSON object");
  json::Reader r(v, path.string());
  const fs::Path base = path.parent_path();
  auto rel = [&](const std::string& p) { return p.starts_with("/") ? fs::Path(p) : base / p; };
  DaemonConfig c;
  c.device = BWV_TRY(r.str("device"));
  if (!text::is_device_id(c.device)) return r.bad("device", "not a device id ([A-Za-z0-9_]{1,32})");
  c.officer = r.has("officer") ? BWV_TRY(r.str("officer")) : "";
  const fs::Path seal = rel(BWV_TRY(r.str("seal_pub")));
  c.seal = BWV_TRY(crypto::SealPublicKey::parse(BWV_TRY(fs::read_file(seal, 4096)), seal));
  const fs::Path store = rel(BWV_TRY(r.str("store_pub")));
  c.store_key = BWV_TRY(crypto::PublicKey::parse(BWV_TRY(fs::read_file(store, 4096)), store));
  c.machine.pre_event_seconds = BWV_TRY(int_or(r, "pre_event_seconds", 30, 0, 120));
  c.recorder.pre_event_seconds = c.machine.pre_event_seconds;
  c.recorder.pre_event_max_bytes =
      static_cast<std::uint64_t>(BWV_TRY(int_or(r, "pre_event_max_mib", 32, 1, 1024))) << 20;
  c.recorder.pre_event_audio = BWV_TRY(bool_or(r, "pre_event_audio", false));
  c.machine.reminder_interval = BWV_TRY(int_or(r, "reminder_seconds", 120, 10, 3600)) * Millis{1000};
  c.machine.max_clip_length = BWV_TRY(int_or(r, "max_clip_seconds", 1800, 10, 4 * 3600)) * Millis{1000};
  c.machine.stealth = BWV_TRY(bool_or(r, "stealth", false));
  c.machine.battery_low_percent = BWV_TRY(int_or(r, "battery_low_percent", 15, 1, 50));
  c.machine.battery_critical_percent = BWV_TRY(int_or(r, "battery_critical_percent", 3, 0, 20));
  c.storage_reserve = static_cast<std::uint64_t>(BWV_TRY(int_or(r, "storage_reserve_mib", 256, 1, 1 << 20))) << 20;
  c.recorder.audio = BWV_TRY(bool_or(r, "audio", true));
  if (r.has("video")) {
    json::Reader vr(*BWV_TRY(r.object("video")), path.string(), "video.");
    c.recorder.video.width = BWV_TRY(int_or(vr, "width", 1280, 16, 7680));
    c.recorder.video.height = BWV_TRY(int_or(vr, "height", 720, 16, 4320));
    c.recorder.video.fps = BWV_TRY(int_or(vr, "fps", 30, 1, 120));
    c.recorder.video.bitrate_kbps = BWV_TRY(int_or(vr, "bitrate_kbps", 3000, 50, 100000));
    if (vr.has("preset")) c.recorder.video.preset = BWV_TRY(vr.str("preset"));
  }
  return c;
}

std::time_t Daemon::wall(Millis ms) const {
  // Once a dock has set the clock the camera's RTC keeps the true time; before, it counts from
  // its reset value and every manifest says the clock was never set.
  // (Whole seconds: the clock is read to the second, so a time is good to a second.)
  if (m_internal && m_internal->clock_set) return m_hal->dock_time() - m_hal->now() / 1000 + ms / 1000;
  return k_unset_clock + ms / 1000;
}

manifest::Manifest Daemon::next_meta(const std::string& trigger) const {
  manifest::Manifest m;
  m.device = m_config.device;
  m.key_id = m_internal->key_id();
  m.officer = m_config.officer;
  m.seq = m_internal->seq + 1;
  if (m.seq > 1) m.prev_manifest_sha256 = m_internal->prev.value_or(std::string(64, '0'));
  m.trigger = trigger;
  m.firmware = "bwv-camd " BWV_VERSION;
  m.stealth = m_config.machine.stealth;
  m.clock_known = true;
  m.clock_set = m_internal->clock_set;
  return m;
}

Result<void> Daemon::boot() {
  bool created = false;
  m_internal.emplace(BWV_TRY(Internal::open(m_config.internal, created)));
  if (created) log("first boot: made device key " + m_internal->key_id());
  m_storage.emplace(BWV_TRY(camera::Storage::create(m_config.storage, m_internal->key().public_key())));
  (void)BWV_TRY(recover(*m_storage, *m_internal, [&](const std::string& l) { log("recovery: " + l); }));
  m_state.clock_unset = !m_internal->clock_set;
  RecorderContext ctx;
  ctx.storage = &*m_storage;
  ctx.internal = &*m_internal;
  ctx.seal = &m_config.seal;
  ctx.key = &m_internal->key();
  ctx.wall = [this](Millis ms) { return wall(ms); };
  ctx.clip_done = [this](const ClipDone& d, bool split) -> Result<manifest::Manifest> {
    m_internal->seq = d.seq;
    m_internal->prev = d.manifest_sha256;
    BWV_CHECK(m_internal->save());
    log("clip " + d.id + " finished: " + std::to_string(d.frames) + " frames");
    return next_meta(split ? "continuation" : "");
  };
  m_recorder.emplace(BWV_TRY(Recorder::open(m_config.recorder, *m_hal, std::move(ctx))));
  return {};
}

Result<std::uint64_t> Daemon::used_bytes() const {
  std::uint64_t used = 0;
  for (const char* sub : {"clips", "tmp", "receipts"}) {
    const fs::Path dir = m_config.storage / sub;
    for (const auto& name : BWV_TRY(fs::list_dir(dir))) {
      struct stat st{};
      if (::lstat((dir / name).c_str(), &st) == 0) used += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  }
  return used;
}

Result<void> Daemon::check_storage() {
  const std::uint64_t free = BWV_TRY(m_hal->free_bytes(BWV_TRY(used_bytes())));
  const bool full = free < m_config.storage_reserve;
  if (full == m_state.storage_full) return {};
  log(full ? "storage full: " + std::to_string(free) + " bytes free" : "storage no longer full");
  return handle({full ? EventKind::storage_full : EventKind::storage_ok});
}

Result<void> Daemon::collect_receipts() {
  std::vector<camera::Problem> problems;
  const auto deleted = BWV_TRY(m_storage->delete_receipted(m_config.store_key, problems));
  for (const auto& id : deleted) log("receipted, deleted " + id);
  // Receipts are looked at again and again while docked: a refusal is said once.
  std::set<std::string> now_refused;
  for (const auto& p : problems) {
    const std::string line = "receipt refused: " + p.subject + ": " + p.message;
    if (!m_refused.contains(line)) log(line);
    now_refused.insert(line);
  }
  m_refused = std::move(now_refused);
  m_last_collect = m_hal->now();
  return {};
}

Result<void> Daemon::perform(const std::vector<Action>& actions, const Event& cause) {
  const Millis now = m_hal->now();
  for (const Action& a : actions) {
    switch (a.kind) {
    case ActionKind::start_buffering:
      if (!m_recorder->recording()) m_recorder->start_capture(now);
      break;
    case ActionKind::stop_buffering:
      if (!m_recorder->recording()) m_recorder->stop_capture();
      break;
    case ActionKind::start_recording: {
      if (!m_recorder->capturing()) m_recorder->start_capture(now);
      const std::string trigger = cause.kind == EventKind::double_press ? "double_press"
                                  : m_trigger_detail == 2                ? "vehicle"
                                                                         : "holster";
      BWV_CHECK(m_recorder->start_clip(next_meta(trigger), now));
      log("recording started by " + trigger);
      break;
    }
    case ActionKind::split_clip:
      m_recorder->split_at_next_gop();
      break;
    case ActionKind::stop_recording:
      if (m_recorder->recording()) (void)BWV_TRY(m_recorder->stop_clip());
      break;
    case ActionKind::collect_receipts:
      BWV_CHECK(collect_receipts());
      break;
    case ActionKind::power_down:
      m_recorder->stop_capture();
      log("power down");
      break;
    default:
      m_hal->indicate(a.kind, now);
      break;
    }
  }
  // Capture runs only while recording, or while buffering for a pre-event.
  if (!m_recorder->recording() && (m_state.mode != Mode::ready || m_config.machine.pre_event_seconds == 0))
    m_recorder->stop_capture();
  return {};
}

Result<void> Daemon::handle(const Event& e) {
  const Millis now = m_hal->now();
  if (e.kind == EventKind::power_cut) {
    m_recorder->power_cut();
    m_state = step(m_config.machine, m_state, e, now).state;
    log("power cut: memory lost, files left as they lie");
    return {};
  }
  // The process starting is the first boot; a power-on after a cut or a power-off boots again,
  // which is when recovery finishes what the cut left.
  if (e.kind == EventKind::power_on && m_state.mode == Mode::off) {
    if (m_first_power_on) m_first_power_on = false;
    else BWV_CHECK(boot());
  }
  if (e.kind == EventKind::trigger) m_trigger_detail = e.value;
  const Step s = step(m_config.machine, m_state, e, now);
  m_state = s.state;
  BWV_CHECK(perform(s.actions, e));
  if (e.kind == EventKind::dock && m_state.mode == Mode::docked) {
    // The dock sets the clock (the next manifest records when), then the dock host pulls.
    m_internal->clock_set = m_hal->dock_time();
    BWV_CHECK(m_internal->save());
    m_state = step(m_config.machine, m_state, {EventKind::clock_set}, now).state;
    log("clock set by the dock to " + text::format_time(*m_internal->clock_set));
    m_hal->docked();
    BWV_CHECK(collect_receipts());
  }
  return {};
}

// One turn of the loop: an event, or the next tick and frame when they are due.
Result<void> Daemon::turn(Millis deadline, Millis& next_tick) {
  if (const auto e = m_hal->wait(deadline)) return handle(*e);
  const Millis now = m_hal->now();
  if (now >= next_tick) {
    next_tick += 1000;
    if (m_state.mode != Mode::off) {
      BWV_CHECK(check_storage());
      BWV_CHECK(handle({EventKind::tick}));
    }
  }
  // A dock host writes receipts when its pull is done, which may be long after the dock: while
  // docked the camera looks for them every minute, so a full camera empties overnight.
  if (m_state.mode == Mode::docked && now - m_last_collect >= 60'000) BWV_CHECK(collect_receipts());
  if (m_recorder->capturing() && now >= m_recorder->next_frame_time()) BWV_CHECK(m_recorder->capture_frame());
  return {};
}

Result<void> Daemon::run(const std::function<bool()>& stop) {
  BWV_CHECK(boot());
  if (m_config.power_on_at_start) BWV_CHECK(handle({EventKind::power_on}));
  Millis next_tick = (m_hal->now() / 1000 + 1) * 1000;
  for (;;) {
    Millis deadline = next_tick;
    if (m_recorder->capturing()) {
      // The sim knows when the next event comes: frames the buffer would drop before then are
      // never encoded. Same frames and GOPs (not the same bytes: rate control saw fewer frames),
      // and a shift runs in seconds.
      if (!m_recorder->recording())
        if (const auto next = m_hal->next_event_time()) {
          const Millis keep = (m_config.machine.pre_event_seconds + 2) * Millis{1000};
          if (*next - m_recorder->next_frame_time() > keep) m_recorder->skip_to(*next - keep);
        }
      deadline = std::min(deadline, m_recorder->next_frame_time());
    }
    if (auto r = turn(deadline, next_tick); !r) {
      // Whatever failed (capture, storage), keep what is recorded: finish the clip if that
      // still works, tell the officer, and stop; recovery finishes it at the next boot if not.
      if (m_recorder->recording()) {
        auto stopped = m_recorder->stop_clip();
        log(stopped ? "error: clip " + stopped->id + " finished early" : "error: clip left for recovery");
      }
      m_hal->indicate(ActionKind::alert_refused, m_hal->now());
      return r;
    }
    if (m_hal->finished() || (stop && stop())) break;
  }
  // The end of a simulation is a clean power-off, unless the power was cut.
  if (m_state.mode != Mode::off) BWV_CHECK(handle({EventKind::power_off}));
  return {};
}

} // namespace bwv::camd
