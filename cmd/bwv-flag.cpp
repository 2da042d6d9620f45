// bwv-flag: evidence categories and holds, each change recorded with who, when and why.
#include "common/command.hpp"

#include "core/text.hpp"
#include "store/retain.hpp"

#include <optional>

namespace {

bwv::json::Value marks_json(const std::map<std::string, bwv::store::Mark>& marks, bool with_case) {
  bwv::json::Value a = bwv::json::Value::array();
  for (const auto& [name, m] : marks) {
    bwv::json::Value v = bwv::json::Value::object();
    v["name"] = name;
    v["by"] = m.by;
    v["at"] = bwv::text::format_time(m.at);
    v["reason"] = m.reason;
    if (with_case) v["case"] = m.case_ref;
    a.push_back(std::move(v));
  }
  return a;
}

} // namespace

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-flag", "Flag clips: evidence categories and holds that keep them from deletion.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  cmd.add_verbose_option();
  std::optional<std::string> category, uncategorise, hold, release;
  std::string case_ref, reason;
  bool list = false;
  int wait_seconds = 300;
  auto* g = app.add_option_group("action", "Exactly one of these");
  g->add_option("--category", category, "Put the clips in this evidence category")->type_name("NAME");
  g->add_option("--uncategorise", uncategorise, "Take the clips out of this category")->type_name("NAME");
  g->add_option("--hold", hold, "Place a hold (foi:REF, sar:REF, complaint:REF, legal:REF)")->type_name("KIND:REF");
  g->add_option("--release", release, "Release a hold")->type_name("KIND:REF");
  g->add_flag("--list", list, "Show the clips' categories, holds and when their video expires");
  g->require_option(1);
  app.add_option("--case", case_ref, "Case reference recorded with a category")->type_name("REF");
  app.add_option("--reason", reason, "Why (required for every change; recorded in the custody log)")->type_name("TEXT");
  app.add_option("--wait", wait_seconds, "Seconds to wait for a running bwv-retain before exiting 4")
      ->type_name("SECONDS")
      ->check(CLI::Range(0, 86400));
  std::vector<std::string> operands;
  app.add_option("id", operands, "Clip ids, or - to read them from stdin")->type_name("ID...|-");

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    const auto policy = BWV_TRY(bwv::store::Policy::load(store));
    auto ids = BWV_TRY(cmd.clip_ids(operands));
    int status = 0;
    if (!case_ref.empty() && !category) return bwv::fail(bwv::Errc::usage, "--case", "goes with --category");

    if (list) {
      if (operands.empty()) ids = BWV_TRY(store.clip_ids());
      for (const auto& id : ids) {
        auto clip = store.load_clip(id);
        if (!clip) {
          cmd.error(id, clip.error().message);
          status = 1;
          continue;
        }
        const auto flags = BWV_TRY(bwv::store::load_flags(store, id));
        const auto tomb = BWV_TRY(bwv::store::Tombstone::load(*clip));
        const auto r = BWV_TRY(bwv::store::retention_in(store, policy, *clip, flags));
        const std::string expires = tomb ? "deleted " + bwv::text::format_time(tomb->deleted)
                                    : r.expires ? bwv::text::format_time(*r.expires) : "never";
        if (cmd.json()) {
          bwv::json::Value v = bwv::json::Value::object();
          v["type"] = "flags";
          v["clip"] = id;
          v["categories"] = marks_json(flags.categories, true);
          v["holds"] = marks_json(flags.holds, false);
          v["rule"] = r.rule;
          v["holds_in_effect"] = r.holds; // a derivative's include its original's
          v["expires"] = r.expires ? bwv::json::Value(bwv::text::format_time(*r.expires)) : bwv::json::Value(nullptr);
          v["deleted"] = tomb ? bwv::json::Value(bwv::text::format_time(tomb->deleted)) : bwv::json::Value(nullptr);
          cmd.print_json(v);
          continue;
        }
        std::string cats, holds;
        for (const auto& [name, m] : flags.categories) cats += (cats.empty() ? "" : ",") + name;
        for (const auto& [ref, m] : flags.holds) holds += (holds.empty() ? "" : ",") + ref;
        std::printf("%s %s %s %s\n", id.c_str(), cats.empty() ? "-" : cats.c_str(),
                    holds.empty() ? "-" : holds.c_str(), expires.c_str());
      }
      return status;
    }

    bwv::store::FlagRequest req;
    if (category) req = {bwv::store::FlagAction::category, *category, case_ref, reason};
    if (uncategorise) req = {bwv::store::FlagAction::uncategorise, *uncategorise, "", reason};
    if (hold) req = {bwv::store::FlagAction::hold, *hold, "", reason};
    if (release) req = {bwv::store::FlagAction::release, *release, "", reason};
    BWV_CHECK(bwv::store::check_flag_request(policy, req));
    if (operands.empty()) return bwv::fail(bwv::Errc::usage, "", "no clip ids given (use - to read them from stdin)");
    const auto actor = BWV_TRY(bwv::custody::current_actor());
    // A hold and a deletion never cross: bwv-retain holds this lock while it decides and deletes.
    auto lock = BWV_TRY(bwv::fs::Lock::acquire(store.root() / "locks/policy", bwv::fs::Lock::Mode::exclusive, wait_seconds));
    // Expiry entries move through the day directories: a linked one is refused before anything
    // is recorded, not after a change that could then not be completed.
    BWV_CHECK(bwv::store::expiry_days(store));
    for (const auto& id : ids) {
      auto changed = bwv::store::apply_flag(store, policy, actor, id, req);
      if (!changed) {
        if (changed.error().code != bwv::Errc::check_failed) return std::unexpected(changed.error());
        cmd.error(changed.error().subject, changed.error().message);
        status = 1;
        continue;
      }
      if (cmd.json()) {
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "flagged";
        v["clip"] = id;
        v["changed"] = *changed;
        cmd.print_json(v);
      } else {
        cmd.print_id(id);
      }
      if (!*changed) cmd.info(id + ": already so; nothing changed");
    }
    return status;
  });
}
