// bwv-log: the custody of clips, from every host's log.
#include "common/command.hpp"

#include "core/text.hpp"
#include "custody/log.hpp"
#include "store/checkpoint.hpp"

#include <algorithm>
#include <set>

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-log", "Show the custody log: who did what to which clip, and when.");
  auto& app = cmd.app();
  cmd.add_store_option();
  bool json = false;
  app.add_flag("--json", json, "JSON lines, each with a \"type\" field");
  bool checkpoint = false;
  app.add_flag("--checkpoint", checkpoint,
               "Sign a checkpoint of every host's log as it is now, keep it in the store, and print it");
  std::vector<std::string> operands;
  app.add_option("id", operands, "Clip ids, or - to read them from stdin (default: every entry)")
      ->type_name("ID...|-");

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    if (checkpoint) {
      if (!operands.empty()) return bwv::fail(bwv::Errc::usage, "--checkpoint", "takes no clip ids");
      const auto pub = BWV_TRY(store.public_key());
      const std::string vkey = bwv::custody::verifier_key(bwv::custody::note_key_name(store.config().store_id), pub);
      for (const auto& c : BWV_TRY(bwv::store::write_checkpoints(store))) {
        if (!json) {
          std::fputs(c.note.c_str(), stdout);
          continue;
        }
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "checkpoint";
        v["host"] = c.host;
        v["size"] = c.checkpoint.size;
        v["root"] = bwv::text::to_hex(c.checkpoint.root);
        v["file"] = c.file.string();
        v["verifier_key"] = vkey;
        v["note"] = c.note;
        std::printf("%s\n", bwv::json::write_line(v).c_str());
      }
      return 0;
    }
    const auto ids_list = BWV_TRY(cmd.clip_ids(operands));
    const std::set<std::string> ids(ids_list.begin(), ids_list.end());
    std::vector<bwv::custody::Entry> entries;
    int status = 0;
    for (const auto& log : BWV_TRY(store.custody_logs())) {
      auto res = BWV_TRY(bwv::custody::read(log));
      for (const auto& p : res.problems) {
        cmd.error("custody", p);
        status = 1;
      }
      for (auto& e : res.entries)
        if (operands.empty() || (e.clip && ids.count(*e.clip))) entries.push_back(std::move(e));
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.host != b.host) return a.host < b.host;
      return a.seq < b.seq;
    });
    for (const auto& e : entries) {
      if (json) {
        // The stored line, with type and log in front: the rest is byte-for-byte what was hashed.
        std::printf("{\"type\":\"custody\",\"log\":%s,%s\n",
                    bwv::json::write_line(bwv::json::Value(e.source)).c_str(), e.line.c_str() + 1);
        continue;
      }
      std::string details;
      for (const auto& [k, v] : e.details.items())
        details += " " + k + "=" + (v.is_string() ? v.get<std::string>() : bwv::json::write_line(v));
      std::printf("%s %s %llu %s %s %s%s\n", bwv::text::format_time(e.time).c_str(), e.host.c_str(),
                  static_cast<unsigned long long>(e.seq), e.user.c_str(), e.action.c_str(),
                  e.clip ? e.clip->c_str() : "-", bwv::text::printable(details, 2000).c_str());
    }
    return status;
  });
}
