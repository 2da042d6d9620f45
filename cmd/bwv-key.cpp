// bwv-key: trust, revoke and list device keys.
#include "common/command.hpp"

#include "core/fs.hpp"
#include "core/text.hpp"

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-key", "Trust, revoke and list the device keys a store accepts.");
  auto& app = cmd.app();
  cmd.add_store_option();
  app.require_subcommand(1);
  app.fallthrough(); // bwv-key list --store S as well as bwv-key --store S list

  std::string device, reason, key_source;
  auto* trust = app.add_subcommand("trust", "Trust a device's public key (a key file or a docked camera's storage)");
  trust->add_option("--device", device, "The device id the key belongs to")->type_name("ID")->required();
  trust->add_option("--reason", reason, "Why (recorded in the custody log)")->type_name("TEXT");
  trust->add_option("key", key_source, "Public key file, or a camera's storage directory")
      ->type_name("FILE|CAMERA_DIR")
      ->required();

  std::vector<std::string> targets;
  std::string revoke_reason;
  auto* revoke = app.add_subcommand("revoke", "Revoke a device (all its keys) or one key");
  revoke->add_option("--reason", revoke_reason, "Why (recorded in the custody log)")->type_name("TEXT")->required();
  revoke->add_option("target", targets, "Device id or key id")->type_name("DEVICE|KEYID")->required();

  bool json = false;
  auto* list = app.add_subcommand("list", "List trusted and revoked keys");
  list->add_flag("--json", json, "JSON lines, each with a \"type\" field");

  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    auto store = BWV_TRY(cmd.open_store());
    if (*trust) {
      const auto actor = BWV_TRY(bwv::custody::current_actor());
      bwv::fs::Path path = key_source;
      if (BWV_TRY(bwv::fs::kind_of(path)) == bwv::fs::Kind::directory) path /= "device.pub";
      const std::string path_text = BWV_TRY(bwv::fs::read_file(path, 4096));
      const auto key = BWV_TRY(bwv::crypto::PublicKey::parse(path_text, path.string()));
      if (reason.empty()) reason = "trusted with bwv-key";
      BWV_CHECK(store.trust(device, key, actor, reason));
      return 0;
    }
    if (*revoke) {
      if (revoke_reason.empty()) return bwv::fail(bwv::Errc::usage, "--reason", "a reason is required");
      const auto actor = BWV_TRY(bwv::custody::current_actor());
      int status = 0;
      for (const auto& t : targets) {
        auto r = store.revoke(t, actor, revoke_reason);
        if (!r) {
          if (r.error().code != bwv::Errc::check_failed) return std::unexpected(r.error());
          cmd.error(r.error().subject, r.error().message);
          status = 1;
        }
      }
      return status;
    }
    for (const auto& d : BWV_TRY(store.devices())) {
      if (json) {
        bwv::json::Value v = bwv::json::Value::object();
        v["type"] = "device_key";
        v["device"] = d.device;
        v["key_id"] = d.key_id();
        v["public_key"] = d.key.base64();
        v["trusted"] = bwv::text::format_time(d.trusted);
        v["trusted_by"] = d.trusted_by;
        v["revoked"] = d.revoked ? bwv::json::Value(bwv::text::format_time(*d.revoked)) : bwv::json::Value(nullptr);
        v["revoke_reason"] = d.revoke_reason;
        cmd.print_json(v);
      } else {
        std::printf("%-16s %s %-7s %s%s%s\n", d.device.c_str(), d.key_id().c_str(),
                    d.revoked ? "revoked" : "trusted", bwv::text::format_time(d.trusted).c_str(),
                    d.revoked ? " " : "", d.revoked ? bwv::text::format_time(*d.revoked).c_str() : "");
      }
    }
    return 0;
  });
}
