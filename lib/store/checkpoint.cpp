#include "store/checkpoint.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <fstream>
#include <map>

namespace bwv::store {

namespace {

using custody::merkle::Hash;

// The tree heads of every prefix of a log, as its leaves stream by: the roots of the perfect
// subtrees so far, merged like a binary counter.
class TreeBuilder {
public:
  void add(const Hash& leaf) {
    Hash h = leaf;
    std::uint64_t n = m_size++;
    while (n & 1) {
      h = custody::merkle::node_hash(m_stack.back(), h);
      m_stack.pop_back();
      n >>= 1;
    }
    m_stack.push_back(h);
  }
  Hash root() const {
    if (m_stack.empty()) return custody::merkle::root({});
    Hash r = m_stack.back();
    for (auto it = m_stack.rbegin() + 1; it != m_stack.rend(); ++it)
      r = custody::merkle::node_hash(*it, r);
    return r;
  }
  std::uint64_t size() const { return m_size; }

private:
  std::vector<Hash> m_stack;
  std::uint64_t m_size = 0;
};

std::string host_of(const fs::Path& log) {
  const std::string name = log.filename().string();
  return name.substr(0, name.size() - 6); // .jsonl
}

} // namespace

std::string checkpoint_origin(const Store& store, const std::string& host) {
  return "bwv/" + store.config().store_id + "/custody/" + host;
}

Result<std::vector<Hash>> log_leaves(const fs::Path& log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return fail_errno(log, "open", errno);
  std::vector<Hash> leaves;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break; // a torn last line (no newline) is not yet part of the log
    leaves.push_back(custody::merkle::leaf_hash(line));
  }
  if (in.bad()) return fail(Errc::io, log, "read failed");
  return leaves;
}

Result<std::vector<LogCheckpoint>> write_checkpoints(const Store& store) {
  const auto key = BWV_TRY(store.secret_key());
  const std::string name = custody::note_key_name(store.config().store_id);
  std::vector<LogCheckpoint> out;
  auto logs = BWV_TRY(store.custody_logs());
  std::sort(logs.begin(), logs.end());
  for (const auto& log : logs) {
    const std::string host = host_of(log);
    auto leaves = BWV_TRY(log_leaves(log));
    LogCheckpoint c{host,
                    store.root() / "custody/checkpoints" / host / std::to_string(leaves.size()),
                    {checkpoint_origin(store, host), leaves.size(), custody::merkle::root(leaves)},
                    {},
                    {}};
    c.note = custody::sign_checkpoint(c.checkpoint, name, key);
    BWV_CHECK(fs::make_dirs(store.root(), fs::Path("custody/checkpoints") / host));
    // One of this size exists: it stands, and must be of this log as it is now.
    if (BWV_TRY(fs::kind_of(c.file)) == fs::Kind::none) {
      BWV_CHECK(fs::write_file_atomic(c.file, c.note));
    } else {
      const std::string kept = BWV_TRY(fs::read_file(c.file, 65536));
      const auto old = BWV_TRY(custody::open_checkpoint(kept, name, key.public_key(), c.file.string()));
      if (old.root != c.checkpoint.root || old.origin != c.checkpoint.origin)
        return fail(Errc::check_failed, log,
                    "its first " + std::to_string(leaves.size()) + " lines no longer hash to the signed checkpoint " +
                        c.file.string() + ": the log was changed after it; no checkpoint written");
      c.note = kept;
    }
    c.leaves = std::move(leaves);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> check_checkpoints(const Store& store) {
  std::vector<std::pair<std::string, std::string>> problems;
  const fs::Path dir = store.root() / "custody/checkpoints";
  if (BWV_TRY(fs::kind_of(dir)) == fs::Kind::none) return problems;
  const auto pub = BWV_TRY(store.public_key());
  const std::string name = custody::note_key_name(store.config().store_id);
  for (const auto& host : BWV_TRY(fs::list_dir(dir))) {
    if (host.starts_with(".")) continue;
    const fs::Path log = store.custody_log(host);
    if (BWV_TRY(fs::kind_of(dir / host)) != fs::Kind::directory) {
      problems.push_back({(dir / host).string(), "not a directory of checkpoints"});
      continue;
    }
    std::map<std::uint64_t, std::pair<std::string, Hash>> want; // size -> file, root
    for (const auto& file : BWV_TRY(fs::list_dir(dir / host))) {
      if (file.starts_with(".")) continue; // a write in progress, or left by a crash
      const std::string subject = (dir / host / file).string();
      auto note = fs::read_file(dir / host / file, 65536);
      auto c = note ? custody::open_checkpoint(*note, name, pub, subject)
                    : Result<custody::Checkpoint>(std::unexpected(note.error()));
      if (!c) {
        problems.push_back({subject, c.error().message});
      } else if (c->origin != checkpoint_origin(store, host) || std::to_string(c->size) != file) {
        problems.push_back(
            {subject, "names " + c->origin + " size " + std::to_string(c->size) + ", not its own log and size"});
      } else {
        want[c->size] = {subject, c->root};
      }
    }
    if (want.empty()) continue;
    if (!text::is_host_name(host) || BWV_TRY(fs::kind_of(log)) != fs::Kind::regular) {
      problems.push_back({log.string(), "missing, but checkpoints of it exist"});
      continue;
    }
    // One pass over the log gives the root at every checkpointed size.
    const auto leaves = BWV_TRY(log_leaves(log));
    TreeBuilder tree;
    auto it = want.begin();
    if (it->first == 0) {
      if (tree.root() != it->second.second) problems.push_back({it->second.first, "the empty log's root is wrong"});
      ++it;
    }
    for (const auto& leaf : leaves) {
      if (it == want.end()) break;
      tree.add(leaf);
      if (tree.size() == it->first) {
        if (tree.root() != it->second.second)
          problems.push_back({log.string(), "its first " + std::to_string(it->first) +
                                                " lines no longer hash to the signed checkpoint " + it->second.first +
                                                ": the log was changed after it"});
        ++it;
      }
    }
    for (; it != want.end(); ++it)
      problems.push_back({log.string(), "has " + std::to_string(leaves.size()) + " lines, fewer than the " +
                                            std::to_string(it->first) + " of the signed checkpoint " +
                                            it->second.first + ": lines were removed"});
  }
  return problems;
}

} // namespace bwv::store
