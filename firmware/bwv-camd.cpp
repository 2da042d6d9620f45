// bwv-camd: the camera's recorder daemon (bwv-camd(8)). `sim` runs it on the simulated hardware
// layer, as tests and the demo do; `run` on the linux layer of a real camera.
#include "camd/daemon.hpp"
#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "core/json.hpp"
#include "hal/linux.hpp"
#include "hal/sim.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>

using namespace bwv;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

// The "linux" object of the configuration: which devices the camera's hardware is.
Result<hal::LinuxConfig> linux_config(const fs::Path& path, const camd::DaemonConfig& c) {
  const json::Value v = BWV_TRY(json::parse(BWV_TRY(fs::read_file(path, 1 << 20)), path.string()));
  json::Reader r(v, path.string());
  if (!r.has("linux")) return fail(Errc::usage, path, "no \"linux\" object: which devices is this camera?");
  json::Reader l(*BWV_TRY(r.object("linux")), path.string(), "linux.");
  hal::LinuxConfig h;
  auto opt = [&](const char* key, std::string& out) -> Result<void> {
    if (l.has(key)) out = BWV_TRY(l.str(key));
    return {};
  };
  BWV_CHECK(opt("button_device", h.button_device));
  BWV_CHECK(opt("led", h.led));
  BWV_CHECK(opt("beeper_device", h.beeper_device));
  BWV_CHECK(opt("haptic_device", h.haptic_device));
  BWV_CHECK(opt("video_device", h.video_device));
  BWV_CHECK(opt("battery", h.battery));
  BWV_CHECK(opt("dock", h.dock_gpio_or_extcon));
  if (l.has("record_key")) h.record_key = static_cast<int>(BWV_TRY(l.integer("record_key", 1, 767)));
  if (l.has("trigger_key")) h.trigger_key = static_cast<int>(BWV_TRY(l.integer("trigger_key", 1, 767)));
  h.width = c.recorder.video.width;
  h.height = c.recorder.video.height;
  h.fps = c.recorder.video.fps;
  h.storage_dir = c.storage.string();
  return h;
}

// The device key must never sit where a dock can read it.
Result<void> check_internal_outside(const fs::Path& storage, const fs::Path& internal) {
  const auto s = std::filesystem::weakly_canonical(storage).lexically_normal();
  const auto i = std::filesystem::weakly_canonical(internal).lexically_normal();
  const auto rel = i.lexically_relative(s);
  if (rel.empty() || *rel.begin() != "..")
    return fail(Errc::usage, internal, "the internal directory must be outside the storage a dock reads");
  return {};
}

int report(const Result<void>& r) {
  if (r) return 0;
  std::fprintf(stderr, "bwv-camd: error: %s: %s\n", text::printable(r.error().subject).c_str(),
               text::printable(r.error().message, 400).c_str());
  return static_cast<int>(r.error().code);
}

} // namespace

int main(int argc, char** argv) {
  if (!crypto::init()) return 7;
  CLI::App app("The camera's recorder daemon: records, signs and seals clips, and hands them over at the dock.",
               "bwv-camd");
  app.set_version_flag("--version", "bwv-camd (bwv) " BWV_VERSION);
  app.require_subcommand(1);

  std::string storage, config_path, internal, script_path, log_path, start_text, on_dock, capacity_text;
  auto* sim = app.add_subcommand("sim", "Run on the simulated hardware layer, from a script");
  sim->add_option("--storage", storage, "The camera's storage directory (what a dock reads)")->required();
  sim->add_option("--script", script_path, "The events to simulate (see bwv-camd(8), SCRIPT)")->required();
  sim->add_option("--config", config_path, "Configuration file (default: camd.json beside --storage)");
  sim->add_option("--internal", internal, "The camera's internal state: device key and chain (default: STORAGE.internal)");
  sim->add_option("--log", log_path, "Write the indicator and event log here (- for standard output)");
  sim->add_option("--start", start_text, "The true time at the start of the script (default: now)");
  sim->add_option("--on-dock", on_dock, "A shell command the dock host runs when the camera docks");
  sim->add_option("--capacity", capacity_text, "Size of the simulated storage in bytes, or with K, M or G (default 32G)");

  auto* run = app.add_subcommand("run", "Run on a real camera's hardware (the linux layer)");
  run->add_option("--storage", storage, "The camera's storage directory")->required();
  run->add_option("--config", config_path, "Configuration file")->required();
  run->add_option("--internal", internal, "The camera's internal state directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as for every bwv command.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*run)
    return report([&]() -> Result<void> {
      auto config = BWV_TRY(camd::load_config(config_path));
      config.storage = storage;
      config.internal = internal;
      config.power_on_at_start = true;
      BWV_CHECK(check_internal_outside(config.storage, config.internal));
      auto hal = BWV_TRY(hal::LinuxHal::open(BWV_TRY(linux_config(config_path, config))));
      std::signal(SIGTERM, on_signal);
      std::signal(SIGINT, on_signal);
      camd::Daemon daemon(std::move(config), *hal);
      return daemon.run([] { return g_stop.load(); });
    }());

  return report([&]() -> Result<void> {
    const fs::Path storage_dir = storage;
    if (config_path.empty()) config_path = (storage_dir.parent_path() / "camd.json").string();
    auto config = BWV_TRY(camd::load_config(config_path));
    config.storage = storage_dir;
    fs::Path base = storage_dir.lexically_normal();
    if (base.filename().empty()) base = base.parent_path(); // "cam/" is "cam"
    config.internal = internal.empty() ? fs::Path(base.string() + ".internal") : fs::Path(internal);
    BWV_CHECK(check_internal_outside(config.storage, config.internal));
    const auto script = BWV_TRY(hal::parse_script(BWV_TRY(fs::read_file(script_path, 1 << 20)), script_path));
    hal::SimConfig sc;
    sc.start = start_text.empty() ? std::time(nullptr) : BWV_TRY(text::parse_time(start_text));
    sc.on_dock = on_dock;
    if (!capacity_text.empty()) {
      const auto parsed = hal::parse_script("0:00:00 storage_free " + capacity_text, "--capacity");
      if (!parsed) return std::unexpected(parsed.error());
      sc.capacity = parsed->front().bytes;
    }
    std::FILE* log = nullptr;
    if (log_path == "-") log = stdout;
    else if (!log_path.empty() && !(log = std::fopen(log_path.c_str(), "we"))) return fail_errno(log_path, "open", errno);
    sc.log = log;
    hal::SimHal hal(sc, script);
    camd::Daemon daemon(std::move(config), hal);
    auto r = daemon.run();
    if (log && log != stdout) std::fclose(log);
    return r;
  }());
}
