#include "common/command.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace bwv::cli {

Command::Command(std::string name, std::string description)
    : m_name(std::move(name)), m_app(std::move(description), m_name) {
  m_app.set_version_flag("--version", m_name + " (bwv) " BWV_VERSION);
  m_app.set_help_flag("-h,--help", "Print this help and exit");
  m_app.get_formatter()->column_width(28);
}

void Command::add_store_option() {
  m_app.add_option("--store", m_store, "The store (default: $BWV_STORE, else the current directory)")
      ->type_name("DIR");
}

void Command::add_output_options() {
  m_app.add_flag("--json", m_json, "JSON lines, each with a \"type\" field");
  m_app.add_flag("-z", m_nul, "End each clip id with NUL instead of a newline");
}

void Command::add_verbose_option() {
  m_app.add_flag("-v,--verbose", m_verbose, "Say what is done, not only what went wrong");
}

int Command::run(int argc, char** argv, const std::function<Result<int>()>& body) {
  if (!crypto::init()) {
    std::fprintf(stderr, "%s: error: libsodium failed to initialise\n", m_name.c_str());
    return static_cast<int>(Errc::internal);
  }
  try {
    m_app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return m_app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return m_app.exit(e);
  } catch (const CLI::ParseError& e) {
    error("", std::string(e.what()) + " (see --help)");
    return static_cast<int>(Errc::usage);
  }
  try {
    auto r = body();
    if (r) return *r;
    error(r.error().subject, r.error().message);
    return static_cast<int>(r.error().code);
  } catch (const std::bad_alloc&) {
    error("", "out of memory");
  } catch (const std::exception& e) {
    error("", std::string("internal error: ") + e.what());
  }
  return static_cast<int>(Errc::internal);
}

Result<store::Store> Command::open_store() const {
  const fs::Path path = BWV_TRY(store::Store::locate(m_store));
  return store::Store::open(path);
}

Result<std::vector<std::string>> Command::clip_ids(const std::vector<std::string>& operands) const {
  std::vector<std::string> ids;
  auto add = [&](const std::string& id) -> Result<void> {
    if (!text::is_clip_id(id)) return fail(Errc::usage, text::printable(id), "not a clip id");
    ids.push_back(id);
    return {};
  };
  for (const auto& op : operands) {
    if (op != "-") {
      BWV_CHECK(add(op));
      continue;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      BWV_CHECK(add(line));
    }
  }
  return ids;
}

void Command::print_id(const std::string& id) const {
  std::fwrite(id.data(), 1, id.size(), stdout);
  std::fputc(m_nul ? '\0' : '\n', stdout);
}

void Command::print_json(const json::Value& v) const { std::printf("%s\n", json::write_line(v).c_str()); }

void Command::error(const std::string& subject, const std::string& message) const {
  std::fflush(stdout);
  if (subject.empty())
    std::fprintf(stderr, "%s: error: %s\n", m_name.c_str(), text::printable(message, 400).c_str());
  else
    std::fprintf(stderr, "%s: error: %s: %s\n", m_name.c_str(), text::printable(subject, 200).c_str(),
                 text::printable(message, 400).c_str());
}

void Command::warn(const std::string& subject, const std::string& message) const {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: warning: %s: %s\n", m_name.c_str(), text::printable(subject, 200).c_str(),
               text::printable(message, 400).c_str());
}

void Command::info(const std::string& message) const {
  if (!m_verbose) return;
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s\n", m_name.c_str(), message.c_str());
}

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

Progress::Progress(std::string label, bool bytes)
    : m_label(std::move(label)), m_bytes(bytes), m_enabled(::isatty(2) == 1) {}
Progress::~Progress() { finish(); }

void Progress::update(std::uint64_t done, std::uint64_t total) {
  if (!m_enabled || total == 0) return;
  const int permille = static_cast<int>(std::min<std::uint64_t>(1000, done * 1000 / total));
  if (permille == m_last_permille) return;
  m_last_permille = permille;
  const int width = 30, filled = permille * width / 1000;
  const std::string counts = m_bytes ? human_bytes(done) + " / " + human_bytes(total)
                                     : std::to_string(done) + " / " + std::to_string(total);
  std::fprintf(stderr, "\r%s [%s%s] %3d%% %s", m_label.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), permille / 10, counts.c_str());
  m_drawn = true;
}

void Progress::finish() {
  if (m_drawn) std::fprintf(stderr, "\r\033[K");
  m_drawn = false;
}

} // namespace bwv::cli
