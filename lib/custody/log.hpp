// The custody log (bwv-custody(5)): append-only JSON lines, each naming the SHA-256 of the line
// before it, one file per host so that hosts never wait on each other.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bwv::custody {

struct Actor {
  std::string user;
  std::string host;
};

// The user running this process and the host identity ($BWV_HOST, else the host name).
Result<Actor> current_actor();

struct NewEntry {
  std::string action;
  std::optional<std::string> clip;
  json::Value details = json::Value::object();
};

struct Entry {
  std::uint64_t seq = 0;
  std::time_t time = 0;
  std::string user;
  std::string host;
  std::string action;
  std::optional<std::string> clip;
  json::Value details;
  std::optional<std::string> prev;
  std::string line;    // the exact bytes, without the newline
  std::string source;  // the log file it came from
  std::uint64_t line_no = 0;
};

// Appends entries in one write and one fsync, under the log's lock. A torn final line (a crash
// mid-append, never acknowledged) is cut off first. Returns the entries as written.
Result<std::vector<Entry>> append(const fs::Path& log, const Actor& actor,
                                  const std::vector<NewEntry>& entries);

struct ReadResult {
  std::vector<Entry> entries;
  std::vector<std::string> problems; // chain breaks, bad lines, a torn tail
};

// The last complete entry of a log, read from its tail (none for an empty or missing log).
Result<std::optional<Entry>> last_entry(const fs::Path& log);

// Whether any of the logs has an entry with this action for this clip whose details[key] is value.
Result<bool> has_entry(const std::vector<fs::Path>& logs, const std::string& clip, const std::string& action,
                       const std::string& key, const std::string& value);

// The clips that have an entry with an action in any of the logs; the logs are listed and read
// once, on the first question (the crash-recovery paths that need this are rare), so that logs
// other hosts wrote while this process waited for a lock are seen.
class ClipIndex {
public:
  using Lister = std::function<Result<std::vector<fs::Path>>()>;
  ClipIndex(Lister logs, std::string action) : m_logs(std::move(logs)), m_action(std::move(action)) {}
  Result<bool> has(const std::string& clip);

private:
  Lister m_logs;
  std::string m_action;
  bool m_loaded = false;
  std::set<std::string> m_clips;
};

// Reads and checks one log: every line parses, seq counts up from 1, prev chains.
Result<ReadResult> read(const fs::Path& log);

} // namespace bwv::custody
