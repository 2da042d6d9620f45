// bwv-retain: deletes the video of clips whose retention has run out; run nightly by cron.
#include "common/command.hpp"

#include "core/text.hpp"
#include "store/retain.hpp"

namespace {

class Output : public bwv::store::RetainEvents {
public:
  Output(const bwv::cli::Command& cmd, bool dry_run) : m_cmd(cmd), m_dry_run(dry_run) {}
  void deleted(const std::string& id, std::time_t expires, const std::string& rule, std::uint64_t size) override {
    if (m_cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = m_dry_run ? "would_delete" : "deleted";
      v["clip"] = id;
      v["expired"] = bwv::text::format_time(expires);
      v["rule"] = rule;
      v["size"] = size;
      m_cmd.print_json(v);
    } else {
      m_cmd.print_id(id);
    }
  }
  void expiring(const std::string& id, std::time_t expires, const std::string& rule) override {
    if (m_cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "expiring";
      v["clip"] = id;
      v["expires"] = bwv::text::format_time(expires);
      v["rule"] = rule;
      m_cmd.print_json(v);
    } else {
      std::printf("%s %s %s\n", id.c_str(), bwv::text::format_time(expires).c_str(), rule.c_str());
    }
  }
  void held(const std::string& id, const std::vector<std::string>& holds) override {
    std::string all;
    for (const auto& h : holds) all += (all.empty() ? "" : ", ") + h;
    m_cmd.info(id + ": retention has run out but it is held (" + all + "); kept");
  }
  void problem(const std::string& subject, const std::string& message) override { m_cmd.error(subject, message); }

private:
  const bwv::cli::Command& m_cmd;
  bool m_dry_run;
};

} // namespace

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-retain", "Delete the video of clips whose retention has run out, keeping their signed manifests.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  cmd.add_verbose_option();
  bwv::store::RetainOptions options;
  app.add_flag("--dry-run", options.dry_run, "Change nothing; print what would be deleted");
  app.add_option("--report", options.report_days, "List what will be deleted in the coming DAYS; change nothing")
      ->type_name("DAYS")
      ->check(CLI::Range(0, 36500));
  bool reindex = false;
  app.add_flag("--reindex", reindex, "Rebuild the expiry index from every clip's flags and the policy (after the policy changes)");
  app.add_option("--wait", options.wait_seconds, "Seconds to wait for a lock before exiting 4 (default 0)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0, 86400));

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    if (options.dry_run && options.report_days)
      return bwv::fail(bwv::Errc::usage, "", "--dry-run and --report do not go together");
    if (reindex && (options.dry_run || options.report_days))
      return bwv::fail(bwv::Errc::usage, "", "--reindex goes alone");
    const auto store = BWV_TRY(cmd.open_store());
    if (reindex) {
      const auto moved = BWV_TRY(bwv::store::reindex(store, options.wait_seconds));
      cmd.info("expiry index rebuilt; " + std::to_string(moved) + " stale entries removed");
      return 0;
    }
    const auto actor = BWV_TRY(bwv::custody::current_actor());
    options.details = cmd.json() || options.report_days.has_value(); // the report prints each expiry
    Output out(cmd, options.dry_run);
    const auto s = BWV_TRY(bwv::store::retain(store, actor, options, out));
    if (!options.report_days)
      cmd.info(std::string(options.dry_run ? "would delete " : "deleted ") + std::to_string(s.deleted) +
               " videos (" + bwv::cli::human_bytes(s.bytes) + "); " + std::to_string(s.held) +
               " expired but held");
    return s.problems == 0 ? 0 : 1;
  });
}
