#include "custody/log.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bwv::custody {

namespace {

constexpr std::uint64_t k_max_line = 1 << 20; // bytes in a line, its newline included

Result<Entry> parse_line(const std::string& line, const std::string& subject) {
  const json::Value v = BWV_TRY(json::parse(line, subject));
  json::Reader r(v, subject);
  Entry e;
  e.seq = static_cast<std::uint64_t>(BWV_TRY(r.integer("seq", 1, json::k_max_int)));
  const std::string time = BWV_TRY(r.str("time"));
  e.time = BWV_TRY(map_error(text::parse_time(time), [&](Error err) {
    err.subject = subject;
    return err;
  }));
  e.host = BWV_TRY(r.str("host"));
  e.user = BWV_TRY(r.str("user"));
  e.action = BWV_TRY(r.str("action"));
  e.clip = BWV_TRY(r.str_or_null("clip"));
  e.details = *BWV_TRY(r.object("details"));
  e.prev = BWV_TRY(r.str_or_null("prev"));
  if (e.prev && !text::is_sha256_hex(*e.prev)) return r.bad("prev", "not a SHA-256");
  e.line = line;
  return e;
}

Result<std::string> read_at(int fd, std::uint64_t offset, std::uint64_t size, const fs::Path& path) {
  std::string buf(size, '\0');
  if (::pread(fd, buf.data(), size, static_cast<off_t>(offset)) != static_cast<ssize_t>(size))
    return fail_errno(path, "read", errno);
  return buf;
}

// Where the last complete line of a log of size bytes begins and ends (end just past its
// newline), whatever torn tail follows it; nullopt when there is no complete line.
Result<std::optional<std::pair<std::uint64_t, std::uint64_t>>> last_line(int fd, std::uint64_t size,
                                                                       const fs::Path& path) {
  using Span = std::pair<std::uint64_t, std::uint64_t>;
  if (size == 0) return std::optional<Span>();
  // A torn tail is shorter than a line, so the newline ending the last complete line is in the
  // final k_max_line + 1 bytes.
  std::uint64_t window = std::min<std::uint64_t>(size, k_max_line + 1);
  std::string tail = BWV_TRY(read_at(fd, size - window, window, path));
  const auto nl = tail.rfind('\n');
  // A line or torn tail over the limit is never written by append: damage, as read() reports it.
  if (nl == std::string::npos) {
    if (size > k_max_line) return fail(Errc::check_failed, path, "final line longer than the limit; log damaged");
    return std::optional<Span>();
  }
  const std::uint64_t end = size - window + nl + 1;
  window = std::min<std::uint64_t>(end, k_max_line + 1);
  tail = BWV_TRY(read_at(fd, end - window, window, path));
  const auto start = tail.size() >= 2 ? tail.rfind('\n', tail.size() - 2) : std::string::npos;
  const std::uint64_t begin = start == std::string::npos ? end - window : end - window + start + 1;
  if (end - begin > k_max_line) return fail(Errc::check_failed, path, "final line longer than the limit; log damaged");
  return std::optional<Span>(Span{begin, end});
}

} // namespace

Result<Actor> current_actor() {
  Actor a;
  if (const char* h = std::getenv("BWV_HOST"); h && *h) {
    a.host = h;
  } else {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return fail_errno("", "gethostname", errno);
    a.host = buf;
  }
  if (!text::is_host_name(a.host))
    return fail(Errc::usage, text::printable(a.host), "not a usable host name ([A-Za-z0-9._-]{1,64})");
  if (const passwd* pw = ::getpwuid(::geteuid()))
    a.user = pw->pw_name;
  else
    a.user = "uid:" + std::to_string(::geteuid());
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo && a.user == "root")
    a.user = std::string("root (sudo from ") + text::printable(sudo, 64) + ")";
  return a;
}

Result<std::vector<Entry>> append(const fs::Path& log, const Actor& actor,
                                  const std::vector<NewEntry>& entries) {
  if (entries.empty()) return std::vector<Entry>{};
  const std::string subject = log.string();
  auto lock = BWV_TRY(fs::Lock::acquire(log, fs::Lock::Mode::exclusive, 120));
  fs::Fd fd(::open(log.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd && errno == ELOOP) return fail(Errc::check_failed, subject, "is a symbolic link; refused");
  if (!fd) return fail_errno(subject, "open", errno);
  std::uint64_t size = BWV_TRY(fs::file_size(fd.get(), log));

  // Cut a torn tail (a crash mid-append, never acknowledged), then read the last complete line.
  std::uint64_t seq = 0;
  std::optional<std::string> prev;
  const auto last = BWV_TRY(last_line(fd.get(), size, log));
  const std::uint64_t complete = last ? last->second : 0;
  if (complete < size) {
    if (::ftruncate(fd.get(), static_cast<off_t>(complete)) != 0 || ::fsync(fd.get()) != 0)
      return fail_errno(subject, "cut torn final line", errno);
    size = complete;
  }
  if (last) {
    const std::string line = BWV_TRY(read_at(fd.get(), last->first, last->second - last->first, log));
    const Entry e = BWV_TRY(parse_line(line.substr(0, line.size() - 1), subject + ": last line"));
    seq = e.seq;
    prev = crypto::sha256_hex(line);
  }

  std::vector<Entry> written;
  std::string out;
  const std::time_t now = std::time(nullptr);
  for (const auto& ne : entries) {
    json::Value v = json::Value::object();
    v["seq"] = ++seq;
    v["time"] = text::format_time(now);
    v["host"] = actor.host;
    v["user"] = actor.user;
    v["action"] = ne.action;
    v["clip"] = ne.clip ? json::Value(*ne.clip) : json::Value(nullptr);
    v["details"] = ne.details;
    v["prev"] = prev ? json::Value(*prev) : json::Value(nullptr);
    std::string line = json::write_line(v);
    if (line.size() + 1 > k_max_line)
      return fail(Errc::check_failed, subject, "custody entry larger than " +
                                                   std::to_string(k_max_line) + " bytes; not written");
    Entry e{seq, now, actor.user, actor.host, ne.action, ne.clip, ne.details, prev, line, subject, 0};
    line += '\n';
    prev = crypto::sha256_hex(line);
    out += line;
    written.push_back(std::move(e));
  }
  if (::lseek(fd.get(), static_cast<off_t>(size), SEEK_SET) < 0) return fail_errno(subject, "seek", errno);
  // Entries that failed to go down whole (a full disk, an I/O error) were never acknowledged: they
  // are cut off again at once, so that the log still ends with a complete line.
  auto unwritten = [&](Error e) -> Result<std::vector<Entry>> {
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) == 0) (void)::fsync(fd.get());
    return std::unexpected(std::move(e));
  };
  if (auto w = fs::write_all(fd.get(), out.data(), out.size(), log); !w) return unwritten(w.error());
  if (::fsync(fd.get()) != 0) return unwritten(fail_errno(subject, "fsync", errno).error());
  return written;
}

Result<bool> has_entry(const std::vector<fs::Path>& logs, const std::string& clip, const std::string& action,
                       const std::string& key, const std::string& value) {
  for (const auto& log : logs)
    for (const auto& e : BWV_TRY(read(log)).entries)
      if (e.action == action && e.clip == clip && e.details.contains(key) && e.details[key] == value) return true;
  return false;
}

Result<bool> ClipIndex::has(const std::string& clip) {
  if (!m_loaded) {
    for (const auto& log : BWV_TRY(m_logs()))
      for (const auto& e : BWV_TRY(read(log)).entries)
        if (e.action == m_action && e.clip) m_clips.insert(*e.clip);
    m_loaded = true;
  }
  return m_clips.count(clip) > 0;
}

Result<std::optional<Entry>> last_entry(const fs::Path& log) {
  if (BWV_TRY(fs::kind_of(log)) == fs::Kind::none) return std::optional<Entry>();
  fs::Fd fd = BWV_TRY(fs::open_regular(log));
  const std::uint64_t size = BWV_TRY(fs::file_size(fd.get(), log));
  const auto last = BWV_TRY(last_line(fd.get(), size, log));
  if (!last) return std::optional<Entry>();
  const std::string line = BWV_TRY(read_at(fd.get(), last->first, last->second - last->first - 1, log));
  auto e = BWV_TRY(parse_line(line, log.string() + ": last line"));
  e.source = log.string();
  return std::optional<Entry>(std::move(e));
}

Result<ReadResult> read(const fs::Path& log) {
  ReadResult res;
  const std::string subject = log.string();
  std::string data = BWV_TRY(fs::read_file(log, std::uint64_t(1) << 40));
  std::optional<std::string> prev;
  std::uint64_t line_no = 0;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto nl = data.find('\n', pos);
    ++line_no;
    const std::string where = subject + ":" + std::to_string(line_no);
    // Longer than append ever writes: the tail reader (last_entry, append) refuses such a log.
    const bool too_long = (nl == std::string::npos ? data.size() : nl + 1) - pos > k_max_line;
    if (nl == std::string::npos) {
      res.problems.push_back(where + (too_long ? ": final line longer than the limit; log damaged"
                                               : ": torn final line (an interrupted append; the next write cuts it)"));
      break;
    }
    std::string line = data.substr(pos, nl - pos);
    const std::string with_nl = data.substr(pos, nl - pos + 1);
    pos = nl + 1;
    if (too_long) {
      res.problems.push_back(where + ": longer than the limit of " + std::to_string(k_max_line) + " bytes; log damaged");
      prev = crypto::sha256_hex(with_nl);
      continue;
    }
    auto e = parse_line(line, where);
    if (!e) {
      res.problems.push_back(where + ": " + e.error().message);
      prev = crypto::sha256_hex(with_nl);
      continue;
    }
    if (e->seq != line_no)
      res.problems.push_back(where + ": seq is " + std::to_string(e->seq) + ", expected " +
                             std::to_string(line_no));
    if (e->prev != prev)
      res.problems.push_back(where + ": prev does not match the SHA-256 of the line before it");
    prev = crypto::sha256_hex(with_nl);
    e->source = subject;
    e->line_no = line_no;
    res.entries.push_back(std::move(*e));
  }
  return res;
}

} // namespace bwv::custody
