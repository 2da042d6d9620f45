// Signed checkpoints of the store's custody logs (bwv-custody(5) "CHECKPOINTS"): one per host log,
// kept as custody/checkpoints/HOST/SIZE, each a C2SP signed note by the store key. bwv-verify
// checks every one against its log, so a log rewritten since shows.
#pragma once

#include "core/error.hpp"
#include "custody/checkpoint.hpp"
#include "store/store.hpp"

#include <string>
#include <vector>

namespace bwv::store {

struct LogCheckpoint {
  std::string host;
  fs::Path file;
  custody::Checkpoint checkpoint;
  std::string note;
  std::vector<custody::merkle::Hash> leaves; // the log's, checkpoint.size of them: for proofs
};

std::string checkpoint_origin(const Store& store, const std::string& host);
// The leaf hashes of a custody log: one per complete line, in order.
Result<std::vector<custody::merkle::Hash>> log_leaves(const fs::Path& log);
// A checkpoint of every host's log as it is now, written (unless one of that size exists) and returned.
Result<std::vector<LogCheckpoint>> write_checkpoints(const Store& store);
// Every stored checkpoint: signed by the store, naming its log, and the root of that log's first
// SIZE lines. Each problem is (file, message).
Result<std::vector<std::pair<std::string, std::string>>> check_checkpoints(const Store& store);

} // namespace bwv::store
