// What every bwv command shares: options, operands, output, and the one place where errors
// become exit codes and `bwv-<name>: error: ...` lines.
#pragma once

#include "core/error.hpp"
#include "core/json.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bwv::cli {

class Command {
public:
  Command(std::string name, std::string description);
  CLI::App& app() { return m_app; }
  const std::string& name() const { return m_name; }

  // Adds --store DIR.
  void add_store_option();
  // Adds --json and -z (ids NUL-terminated).
  void add_output_options();
  void add_verbose_option();

  // Parses, runs body, prints the error if any; returns the exit status.
  int run(int argc, char** argv, const std::function<Result<int>()>& body);

  // The store from --store, $BWV_STORE or the current directory.
  Result<store::Store> open_store() const;

  // Operands as clip ids; "-" reads ids from stdin, one per line. Malformed ids are usage errors.
  Result<std::vector<std::string>> clip_ids(const std::vector<std::string>& operands) const;

  // Output: an id (newline or NUL), a JSON line, a diagnostic on stderr.
  void print_id(const std::string& id) const;
  void print_json(const json::Value& v) const;
  void error(const std::string& subject, const std::string& message) const;
  void warn(const std::string& subject, const std::string& message) const;
  void info(const std::string& message) const; // only with -v

  bool json() const { return m_json; }
  bool verbose() const { return m_verbose; }

private:
  std::string m_name;
  CLI::App m_app;
  std::optional<std::string> m_store;
  bool m_json = false;
  bool m_nul = false;
  bool m_verbose = false;
};

// A progress bar on stderr, drawn only when stderr is a terminal.
class Progress {
public:
  // Counts bytes, or items when bytes is false.
  explicit Progress(std::string label, bool bytes = true);
  ~Progress();
  void update(std::uint64_t done, std::uint64_t total);
  void finish();

private:
  std::string m_label;
  bool m_bytes;
  bool m_enabled;
  bool m_drawn = false;
  int m_last_permille = -1;
};

std::string human_bytes(std::uint64_t n);

} // namespace bwv::cli
