// bwv-foi-export: a BagIt bag of redacted clips for a requester or a court, checkable with stock tools.
#include "bag/write.hpp"
#include "common/command.hpp"

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-foi-export",
                        "Export clips for an FOI request or a court: a BagIt bag anyone can check with stock tools.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  cmd.add_verbose_option();
  bwv::bag::ExportOptions options;
  options.wait_seconds = 300;
  std::string out;
  app.add_option("--request", options.request, "The request's reference (the REF of its hold KIND:REF)")
      ->type_name("REF")
      ->required();
  app.add_option("--out", out, "The bag to make (a new directory)")->type_name("DIR")->required();
  app.add_flag("--court", options.court, "For a court: the originals too, and originals with no redacted copy");
  app.add_option("--reason", options.reason,
                 "Why (required for clips not held for the request, and for originals without a redacted copy)")
      ->type_name("TEXT");
  app.add_option("--recipient", options.recipient, "Who receives the bag (recorded in custody and bag-info.txt)")
      ->type_name("TEXT");
  app.add_option("--wait", options.wait_seconds, "Seconds to wait for a lock before exiting 4 (default 300)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0, 86400));
  std::vector<std::string> operands;
  app.add_option("id", operands, "Clip ids (originals or redacted copies), or - to read them from stdin")
      ->type_name("ID...|-")
      ->required();

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    options.ids = BWV_TRY(cmd.clip_ids(operands));
    options.out = out;
    const auto actor = BWV_TRY(bwv::custody::current_actor());
    bwv::cli::Progress progress("bwv-foi-export");
    const auto r = BWV_TRY(bwv::bag::export_bag(
        store, actor, options, [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); }));
    progress.finish();
    if (!r.refused.empty()) {
      // One line per refused clip; nothing was exported or recorded.
      for (const auto& [id, why] : r.refused)
        cmd.error(id, why + "; nothing exported");
      return 1;
    }
    for (const auto& c : r.clips) {
      if (cmd.json()) {
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "exported";
        v["clip"] = c.id;
        v["role"] = c.role;
        v["size"] = c.size;
        v["bag"] = out;
        cmd.print_json(v);
      } else {
        cmd.print_id(c.id);
      }
    }
    cmd.info(out + ": " + std::to_string(r.clips.size()) + " clips, " + bwv::cli::human_bytes(r.payload_bytes) + ", " +
             std::to_string(r.custody_entries) + " custody entries with proofs");
    return 0;
  });
}
