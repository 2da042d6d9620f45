// bwv-verify: signatures, hashes, chains and custody of the store or of some clips.
#include "common/command.hpp"

#include "store/verify.hpp"

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-verify", "Verify clips: signatures, video hashes, device chains and custody.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  cmd.add_verbose_option();
  bwv::store::VerifyOptions options;
  app.add_option("--jobs", options.jobs, "Hashing threads (default: one per core)")
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  std::vector<std::string> operands;
  app.add_option("id", operands, "Clip ids, or - to read them from stdin (default: the whole store)")
      ->type_name("ID...|-");

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    options.ids = BWV_TRY(cmd.clip_ids(operands));
    if (!operands.empty() && options.ids.empty()) return 0; // an empty list from stdin
    bwv::cli::Progress progress("bwv-verify", /*bytes=*/false);
    const auto report = BWV_TRY(bwv::store::verify(store, options, [&](std::size_t done, std::size_t total) {
      progress.update(done, total);
    }));
    progress.finish();
    for (const auto& c : report.clips) {
      for (const auto& p : c.problems) cmd.error(c.id, p);
      if (cmd.json()) {
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "clip";
        v["clip"] = c.id;
        v["ok"] = c.problems.empty();
        v["bytes"] = c.bytes;
        v["problems"] = c.problems;
        cmd.print_json(v);
      } else if (!c.problems.empty()) {
        cmd.print_id(c.id);
      } else {
        cmd.info("ok " + c.id);
      }
    }
    for (const auto& p : report.others) {
      cmd.error(p.subject, p.message);
      if (cmd.json()) {
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "problem";
        v["subject"] = p.subject;
        v["message"] = p.message;
        cmd.print_json(v);
      }
    }
    if (cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "summary";
      v["clips"] = report.clips.size();
      v["bytes"] = report.bytes;
      v["problems"] = report.problem_count();
      cmd.print_json(v);
    }
    cmd.info(std::to_string(report.clips.size()) + " clips, " + bwv::cli::human_bytes(report.bytes) + ", " +
             std::to_string(report.problem_count()) + " problems");
    return report.problem_count() == 0 ? 0 : 1;
  });
}
