// bwv-fakecam: a test tool (built, not installed) that writes a docked camera's storage with the
// library's own writer, from MP4 files made by ffmpeg. It stands in for bwv-camd in tests.
#include "camera/storage.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "media/probe.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <cstdio>

using namespace bwv;

namespace {

struct State {
  std::uint64_t seq = 0;
  std::optional<std::string> prev;
};

Result<State> load_state(const fs::Path& path) {
  State s;
  if (BWV_TRY(fs::kind_of(path)) == fs::Kind::none) return s;
  const json::Value v = BWV_TRY(json::parse(BWV_TRY(fs::read_file(path, 65536)), path.string()));
  json::Reader r(v, path.string());
  s.seq = static_cast<std::uint64_t>(BWV_TRY(r.integer("seq", 0, json::k_max_int)));
  s.prev = BWV_TRY(r.str_or_null("prev_manifest_sha256"));
  return s;
}

Result<void> save_state(const fs::Path& path, const State& s) {
  json::Value v = json::Value::object();
  v["seq"] = s.seq;
  v["prev_manifest_sha256"] = s.prev ? json::Value(*s.prev) : json::Value(nullptr);
  return fs::write_file_atomic(path, json::write_pretty(v));
}

int report(const Result<int>& r) {
  if (r) return *r;
  std::fprintf(stderr, "bwv-fakecam: error: %s: %s\n", r.error().subject.c_str(), r.error().message.c_str());
  return static_cast<int>(r.error().code);
}

} // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 7;
  CLI::App app("Test tool: writes a docked camera's storage as bwv-camd would.", "bwv-fakecam");
  app.require_subcommand(1);

  std::string device, key_path, pub_path, camera, seal_path, state_path, officer = "PC0000",
              start_text, trigger = "double_press", store_pub;
  int duration = 0, gap = 60, pre_event = 0, skip = 0;
  std::vector<std::string> videos;

  auto* keygen = app.add_subcommand("keygen", "Make a device key pair");
  keygen->add_option("--device", device)->required();
  keygen->add_option("--key", key_path)->required();
  keygen->add_option("--pub", pub_path)->required();

  auto* record = app.add_subcommand("record", "Seal and sign MP4 files as clips on the camera");
  record->add_option("--camera", camera)->required();
  record->add_option("--device", device)->required();
  record->add_option("--officer", officer);
  record->add_option("--key", key_path)->required();
  record->add_option("--seal", seal_path, "The store's keys/seal.pub")->required();
  record->add_option("--state", state_path, "The camera's chain state (seq, previous manifest)")->required();
  record->add_option("--start", start_text, "Start of the first clip (default: now)");
  record->add_option("--duration", duration, "Seconds per clip (default: the media's own duration)");
  record->add_option("--gap", gap, "Seconds between clips");
  record->add_option("--pre-event", pre_event);
  record->add_option("--trigger", trigger);
  record->add_option("--skip", skip, "Skip this many sequence numbers first (a lost clip)");
  record->add_option("video", videos)->required();

  auto* collect = app.add_subcommand("collect", "Delete the clips the store has receipted, as the camera does");
  collect->add_option("--camera", camera)->required();
  collect->add_option("--store-pub", store_pub, "The store's keys/store.pub the camera was given")->required();

  CLI11_PARSE(app, argc, argv);

  if (*keygen) return report([&]() -> Result<int> {
      const auto sk = crypto::SecretKey::generate();
      BWV_CHECK(fs::write_file_atomic(key_path, BWV_TRY(sk.to_file(std::nullopt)).view(), 0600));
      BWV_CHECK(fs::write_file_atomic(pub_path, sk.public_key().to_file("bwv device " + device + " public key " +
                                                                         crypto::key_id_string(sk.id()))));
      return 0;
    }());

  if (*record) return report([&]() -> Result<int> {
      const auto sk =
          BWV_TRY(crypto::SecretKey::parse(BWV_TRY(crypto::read_secret_file(key_path)).view(), key_path, std::nullopt));
      const auto seal = BWV_TRY(crypto::SealPublicKey::parse(BWV_TRY(fs::read_file(seal_path, 4096)), seal_path));
      auto cam = BWV_TRY(camera::Storage::create(camera, sk.public_key()));
      State state = BWV_TRY(load_state(state_path));
      std::time_t start = start_text.empty() ? std::time(nullptr) : BWV_TRY(text::parse_time(start_text));
      if (skip > 0) {
        state.seq += static_cast<std::uint64_t>(skip);
        state.prev = std::string(64, '0'); // the lost clip's manifest is unknown
      }
      for (const auto& video : videos) {
        manifest::Manifest m;
        m.seq = state.seq + 1;
        m.device = device;
        m.clip_id = text::make_clip_id(start, device, m.seq);
        m.key_id = crypto::key_id_string(sk.id());
        m.officer = officer;
        m.prev_manifest_sha256 = m.seq == 1 ? std::nullopt : state.prev;
        m.start = start;
        int secs = duration;
        if (secs == 0) {
          // Real media gives its own duration; anything else (bench data) counts as one second.
          const auto info = media::probe(video);
          secs = info ? static_cast<int>((info->duration_ms + 500) / 1000) : 1;
        }
        m.end = start + secs;
        m.pre_event_seconds = pre_event;
        m.trigger = trigger;
        m.firmware = "bwv-fakecam " BWV_VERSION;
        const std::string sha = BWV_TRY(cam.add_clip_from_file(m, video, sk, seal));
        state.seq = m.seq;
        state.prev = sha;
        BWV_CHECK(save_state(state_path, state));
        std::printf("%s\n", m.clip_id.c_str());
        start += (m.end - m.start) + gap;
      }
      return 0;
    }());

  return report([&]() -> Result<int> {
    const auto key = BWV_TRY(crypto::PublicKey::parse(BWV_TRY(fs::read_file(store_pub, 4096)), store_pub));
    auto cam = BWV_TRY(camera::Storage::open(camera));
    std::vector<camera::Problem> problems;
    for (const auto& id : BWV_TRY(cam.delete_receipted(key, problems))) std::printf("%s\n", id.c_str());
    for (const auto& p : problems) std::fprintf(stderr, "bwv-fakecam: error: %s: %s\n", p.subject.c_str(), p.message.c_str());
    return problems.empty() ? 0 : 1;
  }());
}
