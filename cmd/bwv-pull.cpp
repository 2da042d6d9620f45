// bwv-pull: ingest clips from docked cameras.
#include "common/command.hpp"

#include "core/text.hpp"
#include "store/pull.hpp"

namespace {

class Output : public bwv::store::PullEvents {
public:
  explicit Output(const bwv::cli::Command& cmd) : m_cmd(cmd), m_progress("bwv-pull") {}
  void ingested(const bwv::manifest::Manifest& m) override {
    m_progress.finish();
    if (m_cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "ingested";
      v["clip"] = m.clip_id;
      v["device"] = m.device;
      v["seq"] = m.seq;
      v["size"] = m.video.size;
      v["sha256"] = m.video.sha256;
      m_cmd.print_json(v);
    } else {
      m_cmd.print_id(m.clip_id);
    }
    std::fflush(stdout);
  }
  void receipted(const std::string& id) override {
    if (m_cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "receipted";
      v["clip"] = id;
      m_cmd.print_json(v);
    }
    m_cmd.info(id + ": already in the store; receipt written again");
  }
  void problem(const std::string& subject, const std::string& message) override {
    m_progress.finish();
    m_cmd.error(subject, message);
    if (m_cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "problem";
      v["subject"] = subject;
      v["message"] = message;
      m_cmd.print_json(v);
    }
  }
  void gap(const std::string& device, std::uint64_t after, std::uint64_t before) override {
    m_progress.finish();
    const std::string range = before - after == 2 ? "seq " + std::to_string(after + 1)
                                                  : "seq " + std::to_string(after + 1) + " to " +
                                                        std::to_string(before - 1);
    m_cmd.error(device, "chain gap: clips " + range +
                            " are neither on this camera nor in the store (the clips around the gap are ingested)");
    if (m_cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "gap";
      v["device"] = device;
      v["after_seq"] = after;
      v["before_seq"] = before;
      m_cmd.print_json(v);
    }
  }
  void progress(std::uint64_t done, std::uint64_t total) override { m_progress.update(done, total); }

private:
  const bwv::cli::Command& m_cmd;
  bwv::cli::Progress m_progress;
};

} // namespace

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-pull", "Ingest the clips of docked cameras into the store, and receipt them.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  cmd.add_verbose_option();
  bwv::store::PullOptions options;
  app.add_option("--wait", options.wait_seconds, "Seconds to wait for a lock before exiting 4")
      ->type_name("SECONDS")
      ->check(CLI::Range(0, 86400));
  std::vector<std::string> cameras;
  app.add_option("camera", cameras, "A docked camera's storage directory")->type_name("CAMERA_DIR")->required();

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    const auto actor = BWV_TRY(bwv::custody::current_actor());
    Output out(cmd);
    int status = 0;
    for (const auto& camera : cameras) {
      auto summary = bwv::store::pull(store, camera, actor, options, out);
      if (!summary) {
        // A camera that cannot be read is one problem; the next camera is still pulled.
        if (summary.error().code != bwv::Errc::check_failed && summary.error().code != bwv::Errc::usage)
          return std::unexpected(summary.error());
        out.problem(summary.error().subject, summary.error().message);
        status = 1;
        continue;
      }
      cmd.info(camera + ": " + std::to_string(summary->ingested) + " ingested, " +
               std::to_string(summary->receipted) + " already stored, " +
               std::to_string(summary->refused) + " refused, " + std::to_string(summary->gaps) + " gaps");
      if (!summary->ok()) status = 1;
    }
    return status;
  });
}
