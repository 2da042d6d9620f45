// bwv-init: a new store with its signing and sealing key pairs.
#include "common/command.hpp"

int main(int argc, char** argv) {
  bwv::cli::Command cmd("bwv-init", "Create a new bwv store with its signing and sealing keys.");
  auto& app = cmd.app();
  std::string dir;
  std::string organisation = "unnamed organisation";
  app.add_option("--store", dir, "Directory for the new store (empty or missing)")
      ->type_name("DIR")
      ->required();
  app.add_option("--organisation", organisation, "Organisation named in the store's configuration")
      ->type_name("NAME");
  cmd.add_verbose_option();
  bool json = false;
  app.add_flag("--json", json, "Print the new store's ids as a JSON line");
  return cmd.run(argc, argv, [&]() -> bwv::Result<int> {
    const auto store = BWV_TRY(bwv::store::Store::init(dir, organisation));
    const auto pub = BWV_TRY(store.public_key());
    const auto seal = BWV_TRY(store.seal_key());
    if (json) {
      bwv::json::Value v = bwv::json::Value::object();
      v["type"] = "store";
      v["path"] = dir;
      v["store_id"] = store.config().store_id;
      v["store_key_id"] = bwv::crypto::key_id_string(pub.id);
      v["seal_key_id"] = bwv::crypto::key_id_string(seal.public_key().id);
      cmd.print_json(v);
    }
    cmd.info("new store " + store.config().store_id + " in " + dir + ": signing key " +
             bwv::crypto::key_id_string(pub.id) + ", sealing key " +
             bwv::crypto::key_id_string(seal.public_key().id));
    return 0;
  });
}
