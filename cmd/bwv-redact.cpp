// bwv-redact: a redacted copy of a clip, made in the store, signed by it and linked to the original.
#include "common/command.hpp"
#include "core/text.hpp"
#include "redact/derive.hpp"

#include <iostream>
#include <iterator>

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-redact", "Make a redacted copy of a clip: a derivative signed by the store.");
  auto& app = cmd.app();
  cmd.add_store_option();
  cmd.add_output_options();
  cmd.add_verbose_option();
  std::string spec_path;
  bwv::redact::DeriveOptions options;
  options.wait_seconds = 300;
  app.add_option("--spec", spec_path, "The redaction spec (bwv-redact-spec(5)), or - for stdin")
      ->type_name("FILE")
      ->required();
  app.add_option("--reason", options.reason, "Why the copy is made (recorded in its manifest and the custody log)")
      ->type_name("TEXT");
  app.add_flag("--full", options.full, "Re-encode every GOP, not only those the spec touches");
  app.add_option("--wait", options.wait_seconds, "Seconds to wait for a lock before exiting 4 (default 300)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0, 86400));
  std::string operand;
  app.add_option("id", operand, "The clip to redact")->type_name("ID")->required();

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(cmd.open_store());
    const auto ids = BWV_TRY(cmd.clip_ids({operand}));
    if (ids.size() != 1) return bwv::fail(bwv::Errc::usage, "ID", "give exactly one clip id");
    std::string spec;
    if (spec_path == "-") {
      spec.assign(std::istreambuf_iterator<char>(std::cin), {});
      if (spec.size() > bwv::redact::k_max_bytes)
        return bwv::fail(bwv::Errc::usage, "--spec -",
                         "larger than " + std::to_string(bwv::redact::k_max_bytes) + " bytes");
    } else {
      spec = BWV_TRY(bwv::map_error(bwv::fs::read_file(spec_path, bwv::redact::k_max_bytes), [](bwv::Error e) {
        if (e.code == bwv::Errc::io || e.code == bwv::Errc::check_failed) e.code = bwv::Errc::usage;
        return e;
      }));
    }
    const auto actor = BWV_TRY(bwv::custody::current_actor());
    bwv::cli::Progress progress("bwv-redact", /*bytes=*/false);
    const auto d = BWV_TRY(bwv::redact::derive(store, actor, ids[0], spec, spec_path == "-" ? "stdin" : spec_path,
                                               options, [&](int done, int total) { progress.update(done, total); }));
    progress.finish();
    const auto& f = *d.manifest.derived_from;
    if (d.existing)
      cmd.info(d.id + ": already made from " + d.original + " with this spec on " + bwv::text::format_time(f.created) +
               "; the same bytes, not made again");
    if (cmd.json()) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "derivative";
      v["clip"] = d.id;
      v["original"] = d.original;
      v["existing"] = d.existing;
      v["render"] = f.render;
      v["gops"] = f.gops;
      v["reencoded_gops"] = f.reencoded_gops;
      v["size"] = d.manifest.video.size;
      v["sha256"] = d.manifest.video.sha256;
      v["manifest_sha256"] = d.manifest_sha256;
      v["spec_sha256"] = f.spec_sha256;
      cmd.print_json(v);
    } else {
      cmd.print_id(d.id);
    }
    cmd.info(d.id + ": " + f.render + " render of " + d.original + ", " + std::to_string(f.reencoded_gops) + " of " +
             std::to_string(f.gops) + " GOPs re-encoded, " + bwv::cli::human_bytes(d.manifest.video.size));
    return 0;
  });
}
