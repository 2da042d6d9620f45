// bwv-verify: signatures, hashes, chains and custody of the store or of some clips.
#include "bag/check.hpp"
#include "common/command.hpp"
#include "core/text.hpp"
#include "store/verify.hpp"

#include <cctype>

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
  std::optional<std::string> bag;
  app.add_option("--bag", bag, "Check a disclosure bag made by bwv-foi-export instead of the store")->type_name("DIR");
  std::optional<std::string> key_id;
  app.add_option("--key-id", key_id, "The store key id as published outside the store: fail unless it signed")
      ->type_name("KEYID");
  std::vector<std::string> operands;
  app.add_option("id", operands, "Clip ids, or - to read them from stdin (default: the whole store)")
      ->type_name("ID...|-");

  // A problem: one error line, and with --json one "problem" line.
  auto report_problem = [&cmd](const std::string& subject, const std::string& message) {
    cmd.error(subject, message);
    if (!cmd.json()) return;
    bwv::json::Value v = bwv::json::Value::object();
    v["type"] = "problem";
    v["subject"] = subject;
    v["message"] = message;
    cmd.print_json(v);
  };

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    // A store or bag checks only against the key it carries, which whoever rewrote it could have
    // replaced: --key-id ties it to a key id known from elsewhere. As minisign prints it, or as
    // 0.11 does (leading zeros dropped); either case.
    if (key_id) {
      std::string& k = *key_id;
      for (char& c : k) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (k.empty() || k.size() > 16 || k.find_first_not_of("0123456789ABCDEF") != std::string::npos)
        return bwv::fail(bwv::Errc::usage, "--key-id " + bwv::text::printable(k), "not a key id (16 hex digits)");
      k.insert(0, 16 - k.size(), '0');
    }
    if (bag) {
      if (!operands.empty()) return bwv::fail(bwv::Errc::usage, "--bag", "takes no clip ids");
      auto r = BWV_TRY(bwv::bag::check_bag(*bag));
      if (key_id && r.store_key_id != *key_id)
        r.problems.push_back({(bwv::fs::Path(*bag) / "keys/store.pub").string(),
                              "holds store key " + (r.store_key_id.empty() ? "(none)" : r.store_key_id) +
                                  ", not the key " + *key_id + " given with --key-id: not signed by that store"});
      for (const auto& p : r.problems)
        report_problem(p.subject, p.message);
      if (cmd.json()) {
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "bag";
        v["bag"] = *bag;
        v["ok"] = r.problems.empty();
        v["store_key_id"] = r.store_key_id;
        v["clips"] = r.clips;
        v["files"] = r.files;
        v["bytes"] = r.bytes;
        v["custody_entries"] = r.custody_entries;
        v["problems"] = r.problems.size();
        cmd.print_json(v);
      }
      cmd.info(*bag + ": " + std::to_string(r.clips) + " clips, " + bwv::cli::human_bytes(r.bytes) + ", " +
               std::to_string(r.custody_entries) + " custody entries proven, signed by store key " + r.store_key_id +
               ", " + std::to_string(r.problems.size()) + " problems");
      return r.problems.empty() ? 0 : 1;
    }
    const auto store = BWV_TRY(cmd.open_store());
    options.ids = BWV_TRY(cmd.clip_ids(operands));
    // verify() holds keys/store.pub to config.json; this holds config.json to the key given.
    std::optional<bwv::store::StoreProblem> key_problem;
    if (key_id && store.config().store_key_id != *key_id)
      key_problem = bwv::store::StoreProblem{(store.root() / "config.json").string(),
                                             "names store key " + store.config().store_key_id + ", not the key " +
                                                 *key_id + " given with --key-id"};
    if (!operands.empty() && options.ids.empty()) { // an empty list from stdin
      if (key_problem) report_problem(key_problem->subject, key_problem->message);
      return key_problem ? 1 : 0;
    }
    bwv::cli::Progress progress("bwv-verify", /*bytes=*/false);
    auto report = BWV_TRY(
        bwv::store::verify(store, options, [&](std::size_t done, std::size_t total) { progress.update(done, total); }));
    progress.finish();
    if (key_problem) report.others.insert(report.others.begin(), *key_problem);
    for (const auto& c : report.clips) {
      for (const auto& p : c.problems)
        cmd.error(c.id, p);
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
    for (const auto& p : report.others)
      report_problem(p.subject, p.message);
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
