// The custody log (bwv-custody(5)): append-only JSON lines, each naming the SHA-256 of the line
// before it, one file per host so that hosts never wait on each other.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"

#include <cstdint>
#include <ctime>
#include <optional>
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

// Reads and checks one log: every line parses, seq counts up from 1, prev chains.
Result<ReadResult> read(const fs::Path& log);

} // namespace bwv::custody
