// bwv-ls: find clips.
#include "common/command.hpp"

#include "core/text.hpp"
#include "store/policy.hpp"

#include <algorithm>
#include <map>

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-ls", "List clips in the store, newest first.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  std::optional<std::string> device, officer, since, until;
  app.add_option("--device", device, "Only clips of this device")->type_name("D");
  app.add_option("--officer", officer, "Only clips of this officer")->type_name("O");
  app.add_option("--since", since, "Only clips that started at or after T (time, date or age such as 31d)")
      ->type_name("T");
  app.add_option("--until", until, "Only clips that started before T (time, date or age such as 31d)")
      ->type_name("T");
  std::optional<std::string> older_than;
  app.add_option("--older-than", older_than, "Only clips that started more than AGE ago (31d, 12h)")
      ->type_name("AGE");
  bool unflagged = false;
  app.add_flag("--unflagged", unflagged, "Only clips with no category and no hold whose video is still kept");

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    const std::time_t now = std::time(nullptr);
    std::optional<std::time_t> from, to;
    if (since) from = BWV_TRY(bwv::map_error(bwv::text::parse_time_or_age(*since, now), [](bwv::Error e) {
      e.code = bwv::Errc::usage;
      e.subject = "--since " + e.subject;
      return e;
    }));
    if (until) to = BWV_TRY(bwv::map_error(bwv::text::parse_time_or_age(*until, now), [](bwv::Error e) {
      e.code = bwv::Errc::usage;
      e.subject = "--until " + e.subject;
      return e;
    }));
    if (older_than) {
      const std::int64_t age = BWV_TRY(bwv::map_error(bwv::text::parse_duration(*older_than), [](bwv::Error e) {
        e.subject = "--older-than " + e.subject;
        return e;
      }));
      if (!to || now - age < *to) to = now - age;
    }
    if (device && !bwv::text::is_device_id(*device))
      return bwv::fail(bwv::Errc::usage, "--device " + bwv::text::printable(*device), "not a device id");
    // Date directories outside [from, to] are never opened.
    std::vector<bwv::store::StoredClip> clips;
    std::map<std::string, bwv::store::ClipFlags> flags_of;
    int status = 0;
    for (const auto& id : BWV_TRY(store.clip_ids(from, to))) {
      if (device && id.compare(9, device->size() + 1, *device + "-") != 0) continue;
      auto clip = store.load_clip(id);
      if (!clip) {
        cmd.error(clip.error().subject, clip.error().message);
        status = 1;
        continue;
      }
      const auto& m = clip->manifest;
      if (officer && m.officer != *officer) continue;
      if (from && m.start < *from) continue;
      if (to && m.start >= *to) continue;
      auto flags = BWV_TRY(bwv::store::load_flags(store, id));
      // Unflagged: what retention will delete; a video already deleted is past flagging. A
      // derivative follows its original's flags.
      if (unflagged && (!flags.empty() || BWV_TRY(bwv::store::Tombstone::load(*clip)) ||
                        (m.derived_from && !BWV_TRY(bwv::store::load_flags(store, m.derived_from->clip_id)).empty())))
        continue;
      flags_of[id] = std::move(flags);
      clips.push_back(std::move(*clip));
    }
    std::sort(clips.begin(), clips.end(), [](const auto& a, const auto& b) {
      return a.manifest.start != b.manifest.start ? a.manifest.start > b.manifest.start : a.id > b.id;
    });
    for (const auto& c : clips) {
      if (!cmd.json()) {
        cmd.print_id(c.id);
        continue;
      }
      const auto& m = c.manifest;
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "clip";
      v["clip"] = c.id;
      v["device"] = m.device;
      v["officer"] = m.officer;
      v["seq"] = m.seq;
      v["start"] = bwv::text::format_time(m.start);
      v["end"] = bwv::text::format_time(m.end);
      v["size"] = m.video.size;
      v["sha256"] = m.video.sha256;
      v["derived_from"] = m.derived_from ? bwv::json::Value(m.derived_from->clip_id) : bwv::json::Value(nullptr);
      v["manifest"] = (c.dir / "manifest.json").string();
      v["video"] = c.video().string();
      bwv::json::Value cats = bwv::json::Value::array(), holds = bwv::json::Value::array();
      for (const auto& [name, mark] : flags_of[c.id].categories) cats.push_back(name);
      for (const auto& [ref, mark] : flags_of[c.id].holds) holds.push_back(ref);
      v["categories"] = std::move(cats);
      v["holds"] = std::move(holds);
      const auto tomb = BWV_TRY(bwv::store::Tombstone::load(c));
      v["deleted"] = tomb ? bwv::json::Value(bwv::text::format_time(tomb->deleted)) : bwv::json::Value(nullptr);
      cmd.print_json(v);
    }
    return status;
  });
}
