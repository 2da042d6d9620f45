// bwv-camd's main loop: events from the hardware layer go through the state machine, and the
// daemon carries out its actions: capture and the recorder, indicators, the clock, receipts.
#pragma once

#include "camd/recorder.hpp"
#include "core/machine.hpp"

#include <set>

namespace bwv::camd {

struct DaemonConfig {
  Config machine;
  RecorderConfig recorder;
  std::string device;
  std::string officer;
  fs::Path storage;  // what a dock reads
  fs::Path internal; // the camera's own: device key and chain, never exposed
  crypto::SealPublicKey seal;
  crypto::PublicKey store_key;
  std::uint64_t storage_reserve = 256ull << 20; // below this much free space, recording is refused
  bool power_on_at_start = false; // a real camera: the daemon starts when the camera is switched on
};

// Reads the configuration file (bwv-camd(8), CONFIGURATION); paths in it are relative to it.
Result<DaemonConfig> load_config(const fs::Path& path);

class Daemon {
public:
  Daemon(DaemonConfig config, hal::Hal& hal) : m_config(std::move(config)), m_hal(&hal) {}
  // Runs until the hardware layer has no more events (sim) or stop() says so (a signal), then
  // powers off cleanly: a clip being recorded is finished.
  Result<void> run(const std::function<bool()>& stop = {});

private:
  Result<void> boot();
  Result<void> turn(Millis deadline, Millis& next_tick);
  Result<void> handle(const Event& e);
  Result<void> perform(const std::vector<Action>& actions, const Event& cause);
  Result<void> collect_receipts();
  Result<void> check_storage();
  Result<std::uint64_t> used_bytes() const;
  manifest::Manifest next_meta(const std::string& trigger) const;
  std::time_t wall(Millis ms) const;
  void log(const std::string& line) { m_hal->log(m_hal->now(), line); }

  DaemonConfig m_config;
  hal::Hal* m_hal;
  std::optional<Internal> m_internal;
  std::optional<camera::Storage> m_storage;
  std::optional<Recorder> m_recorder;
  State m_state;
  int m_trigger_detail = 0;
  bool m_first_power_on = true;
  Millis m_last_collect = 0;
  std::set<std::string> m_refused; // receipt refusals already logged
};

} // namespace bwv::camd
