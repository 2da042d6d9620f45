#include "core/fs.hpp"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace bwv::fs {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    close();
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

Fd::~Fd() { close(); }

void Fd::close() {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

Result<Kind> kind_of(const Path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Kind::none;
    return fail_errno(path, "stat", errno);
  }
  if (S_ISREG(st.st_mode)) return Kind::regular;
  if (S_ISDIR(st.st_mode)) return Kind::directory;
  if (S_ISLNK(st.st_mode)) return Kind::symlink;
  return Kind::other;
}

Result<Fd> open_regular(const Path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ELOOP) return fail(Errc::check_failed, path, "is a symbolic link");
    return fail_errno(path, "", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(path, "stat", errno);
  if (!S_ISREG(st.st_mode)) return fail(Errc::check_failed, path, "not a regular file");
  return fd;
}

Result<std::uint64_t> file_size(int fd, const Path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail_errno(path, "stat", errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Result<std::string> read_file(const Path& path, std::uint64_t max_bytes) {
  Fd fd = BWV_TRY(open_regular(path));
  const std::uint64_t size = BWV_TRY(file_size(fd.get(), path));
  if (size > max_bytes)
    return fail(Errc::check_failed, path,
                "too large (" + std::to_string(size) + " bytes, limit " +
                    std::to_string(max_bytes) + ")");
  std::string data(size, '\0');
  const std::size_t got = BWV_TRY(read_full(fd.get(), data.data(), data.size(), path));
  data.resize(got);
  return data;
}

Result<void> write_all(int fd, const void* data, std::size_t size, const Path& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(path, "write", errno);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::size_t> read_full(int fd, void* data, std::size_t size, const Path& path) {
  char* p = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(path, "read", errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Result<void> fsync_path(const Path& path) {
  // Following a link is harmless here: nothing is read, and a base directory may be a link.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(path, "open for fsync", errno);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return fail_errno(path, "fsync", errno);
  return {};
}

static Path parent_of(const Path& path) {
  Path parent = path.parent_path();
  return parent.empty() ? Path(".") : parent;
}

std::string random_hex(std::size_t n) {
  std::string bytes(n, '\0');
  randombytes_buf(bytes.data(), n);
  std::string hex(2 * n + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()), n);
  hex.pop_back();
  return hex;
}

std::string staging_name(std::string_view prefix, std::string_view host, std::string_view what) {
  return std::string(prefix) + std::string(host) + "@" + std::to_string(::getpid()) + "." + std::string(what) +
         (what.empty() ? "" : ".") + random_hex(4);
}

void remove_stale_staging(const Path& dir, std::string_view prefix, std::string_view host) {
  const auto names = list_dir(dir);
  if (!names) return;
  const std::string mine = std::string(prefix) + std::string(host) + "@";
  for (const auto& name : *names) {
    if (!name.starts_with(mine)) continue;
    const std::string_view rest = std::string_view(name).substr(mine.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 9 ||
        rest.substr(0, dot).find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    const long pid = std::strtol(std::string(rest.substr(0, dot)).c_str(), nullptr, 10);
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;
    (void)remove_tree(dir / name);
  }
}

static Result<Fd> create_temp(const Path& path, unsigned mode, Path& tmp) {
  tmp = parent_of(path) / ("." + path.filename().string() + ".tmp-" + random_hex(6));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return fail_errno(tmp, "create", errno);
  if (::fchmod(fd.get(), mode) != 0) return fail_errno(tmp, "chmod", errno);
  return fd;
}

Result<void> write_file_atomic(const Path& path, std::string_view data, unsigned mode) {
  Path tmp;
  Fd fd = BWV_TRY(create_temp(path, mode, tmp));
  auto written = [&]() -> Result<void> {
    BWV_CHECK(write_all(fd.get(), data.data(), data.size(), tmp));
    if (::fsync(fd.get()) != 0) return fail_errno(tmp, "fsync", errno);
    fd.close();
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail_errno(path, "rename", errno);
    return {};
  }();
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  return fsync_path(parent_of(path));
}

Result<void> write_staged(const Path& path, std::string_view data, unsigned mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return fail_errno(path, "create", errno);
  return write_all(fd.get(), data.data(), data.size(), path);
}

Result<bool> create_exclusive(const Path& path, std::string_view data, unsigned mode) {
  // Written under a temp name and linked into place: link(2) fails if the name exists, so the
  // final name never holds a partial file and only one writer wins.
  Path tmp;
  Fd fd = BWV_TRY(create_temp(path, mode, tmp));
  auto linked = [&]() -> Result<bool> {
    BWV_CHECK(write_all(fd.get(), data.data(), data.size(), tmp));
    if (::fsync(fd.get()) != 0) return fail_errno(tmp, "fsync", errno);
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) return false;
      return fail_errno(path, "link", errno);
    }
    return true;
  }();
  ::unlink(tmp.c_str());
  if (!linked) return linked;
  if (*linked) BWV_CHECK(fsync_path(parent_of(path)));
  return linked;
}

Result<void> make_dirs(const Path& base, const Path& rel, unsigned mode) {
  Path so_far = base;
  for (const auto& part : rel) {
    if (part.empty() || part == ".") continue;
    if (part == ".." || part == "/") return fail(Errc::internal, rel, "not a relative path");
    so_far /= part;
    const Kind kind = BWV_TRY(kind_of(so_far));
    if (kind == Kind::directory) continue;
    if (kind != Kind::none) return fail(Errc::check_failed, so_far, "exists and is not a directory");
    if (::mkdir(so_far.c_str(), mode) != 0 && errno != EEXIST)
      return fail_errno(so_far, "mkdir", errno);
    BWV_CHECK(fsync_path(parent_of(so_far)));
  }
  return {};
}

Result<std::vector<std::string>> list_dir(const Path& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    if (errno == ENOENT) return names;
    return fail_errno(path, "open directory", errno);
  }
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return fail_errno(path, "read directory", err);
  std::sort(names.begin(), names.end());
  return names;
}

ScratchDir::~ScratchDir() {
  if (!m_keep) (void)remove_tree(m_path);
}

Result<void> remove_tree(const Path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return fail_errno(path, "remove", ec.value());
  return {};
}

Result<void> remove_file(const Path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno(path, "remove", errno);
  return {};
}

Result<void> rename(const Path& from, const Path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return fail_errno(to, "rename", errno);
  return {};
}

// Filesystems (by device) seen refusing RENAME_NOREPLACE in this process. CephFS's clients answer
// EINVAL only after a round trip that looks up the target in its (maybe shared, contended)
// directory: asking once per filesystem halves the cost of each claim there.
static std::mutex g_no_noreplace_mutex;
static std::vector<dev_t> g_no_noreplace;

Result<bool> rename_noreplace(const Path& from, const Path& to) {
  // renameat2(RENAME_NOREPLACE) is not on every filesystem (NFS, CephFS, some FUSE); rename(2) of
  // a directory onto a non-empty directory fails with ENOTEMPTY/EEXIST, which is the same claim
  // for bwv's staged clip directories, which are never empty.
  struct stat st {};
  if (::lstat(from.c_str(), &st) != 0) return fail_errno(from, "rename", errno);
  bool unsupported;
  {
    const std::lock_guard lock(g_no_noreplace_mutex);
    unsupported = std::find(g_no_noreplace.begin(), g_no_noreplace.end(), st.st_dev) != g_no_noreplace.end();
  }
  if (!unsupported) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
    if (errno == EEXIST || errno == ENOTEMPTY) return false;
    if (errno != EINVAL && errno != ENOSYS) return fail_errno(to, "rename", errno);
    const std::lock_guard lock(g_no_noreplace_mutex);
    g_no_noreplace.push_back(st.st_dev);
  }
  // Only a directory: rename(2) would replace a file at `to`.
  if (!S_ISDIR(st.st_mode)) return fail(Errc::internal, to, "cannot rename without replacing on this filesystem");
  if (::rename(from.c_str(), to.c_str()) == 0) return true;
  if (errno == EEXIST || errno == ENOTEMPTY) return false;
  return fail_errno(to, "rename", errno);
}

Result<void> sync_filesystem(const Path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(path, "open for sync", errno);
  if (::syncfs(fd.get()) != 0) return fail_errno(path, "syncfs", errno);
  return {};
}

Result<void> start_writeback(int fd, std::uint64_t offset, std::uint64_t length, const Path& path) {
  if (length == 0) return {};
  // WRITE alone neither waits nor collects a write error: fsync still reports it, on any
  // descriptor of the file.
  if (::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(length), SYNC_FILE_RANGE_WRITE) == 0)
    return {};
  if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == ESPIPE) return {};
  return fail_errno(path, "start writing", errno);
}

Result<void> DirectWriter::create(const Path& path, unsigned mode) {
  abandon();
  m_path = path;
  m_fd = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!m_fd) return fail_errno(path, "create", errno);
  // Filesystems that cannot write directly report no alignment (both 0), and kernels before 6.1
  // do not know the question: either way, through the page cache.
  struct statx sx {};
  if (::statx(m_fd.get(), "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN) &&
      sx.stx_dio_mem_align != 0 && sx.stx_dio_offset_align != 0) {
    const std::size_t block = std::max<std::size_t>({sx.stx_dio_mem_align, sx.stx_dio_offset_align, 4096});
    const int flags = ::fcntl(m_fd.get(), F_GETFL);
    if (block <= (1u << 20) && flags >= 0 && ::fcntl(m_fd.get(), F_SETFL, flags | O_DIRECT) == 0) m_block = block;
  }
  return {};
}

void DirectWriter::abandon() {
  m_fd.close();
  m_block = m_held = 0;
  m_written = m_started = 0;
}

Result<unsigned char*> DirectWriter::space(std::size_t n) {
  // Room for n after a held-back partial block, in whole blocks. A bigger buffer replaces the old
  // one, and is then kept: fresh memory is what costs.
  const std::size_t align = std::max<std::size_t>(m_block, 4096);
  const std::size_t size = (m_held + n + 2 * align - 1) / align * align;
  if (!m_buf || m_size < size || m_align < align) {
    std::unique_ptr<unsigned char, Free> bigger(static_cast<unsigned char*>(std::aligned_alloc(align, size)));
    if (!bigger) return fail(Errc::io, m_path, "out of memory for a write buffer");
    if (m_held) std::memcpy(bigger.get(), m_buf.get(), m_held);
    m_buf = std::move(bigger);
    m_size = size;
    m_align = align;
  }
  return m_buf.get() + m_held;
}

// Through the page cache a slice at a time: filling a megabyte folio costs several times as much
// on some virtual machines.
Result<void> DirectWriter::write_through() {
  constexpr std::size_t slice = 256 << 10;
  constexpr std::uint64_t writeback_every = 8 << 20;
  for (std::size_t at = 0; at < m_held; at += slice)
    BWV_CHECK(write_all(m_fd.get(), m_buf.get() + at, std::min(slice, m_held - at), m_path));
  m_written += m_held;
  m_held = 0;
  if (m_written - m_started >= writeback_every) {
    BWV_CHECK(start_writeback(m_fd.get(), m_started, m_written - m_started, m_path));
    m_started = m_written;
  }
  return {};
}

Result<void> DirectWriter::to_page_cache() {
  const int flags = ::fcntl(m_fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(m_fd.get(), F_SETFL, flags & ~O_DIRECT) != 0) return fail_errno(m_path, "write", errno);
  m_block = 0;
  return {};
}

Result<void> DirectWriter::commit(std::size_t n) {
  m_held += n;
  if (!m_block) return write_through();
  const std::size_t whole = m_held - m_held % m_block;
  std::size_t done = 0;
  while (done < whole) {
    const ssize_t w = ::write(m_fd.get(), m_buf.get() + done, whole - done);
    if (w > 0) done += static_cast<std::size_t>(w);
    if (w > 0 && done % m_block == 0) continue;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EINVAL) return fail_errno(m_path, "write", errno);
    // Refused after all (a filesystem that promised more than it does), or cut off mid-block:
    // the rest goes through the page cache, which reports any error there is.
    break;
  }
  m_written += done;
  m_started = m_written; // written directly: nothing to start
  std::memmove(m_buf.get(), m_buf.get() + done, m_held - done);
  m_held -= done;
  if (done < whole) {
    BWV_CHECK(to_page_cache());
    return write_through();
  }
  return {};
}

Result<void> DirectWriter::finish() {
  // The odd end cannot be written directly: the descriptor goes back to the page cache for it.
  if (m_block && m_held) BWV_CHECK(to_page_cache());
  if (!m_block) {
    if (m_held) BWV_CHECK(write_through());
    BWV_CHECK(start_writeback(m_fd.get(), m_started, m_written - m_started, m_path));
  }
  // Some filesystems (NFS) report a failed write only at close.
  const int fd = m_fd.release();
  abandon();
  if (::close(fd) != 0 && errno != EINTR) return fail_errno(m_path, "close", errno);
  return {};
}

Batch::~Batch() {
  for (const auto& item : m_items)
    if (!item.tmp.empty()) ::unlink(item.tmp.c_str());
}

Batch& Batch::operator=(Batch&& other) noexcept {
  if (this != &other) {
    for (const auto& item : m_items)
      if (!item.tmp.empty()) ::unlink(item.tmp.c_str());
    m_items = std::move(other.m_items);
    other.m_items.clear();
  }
  return *this;
}

Result<void> Batch::add(const Path& path, std::string_view data, unsigned mode, bool exclusive) {
  if (exclusive && data.empty()) {
    // An empty file has no content to tear: created in place with O_EXCL at commit, it is one
    // operation in its directory instead of three (temp, link, unlink), which matters where many
    // hosts add entries to one directory (expiry/DAY on a shared filesystem).
    m_items.push_back({Path(), path, true, mode});
    return {};
  }
  Path tmp;
  Fd fd = BWV_TRY(create_temp(path, mode, tmp));
  m_items.push_back({tmp, path, exclusive, mode});
  return write_all(fd.get(), data.data(), data.size(), tmp);
}

Result<std::vector<Path>> Batch::commit() {
  std::vector<Path> existed;
  if (m_items.empty()) return existed;
  std::vector<Path> dirs;
  for (const auto& item : m_items) {
    const Path dir = parent_of(item.path);
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  BWV_CHECK(sync_filesystem(dirs.front()));
  for (const auto& item : m_items)
    if (!item.tmp.empty()) BWV_CHECK(fsync_path(item.tmp));
  for (const auto& item : m_items) {
    if (item.tmp.empty()) {
      Fd fd(::open(item.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, item.mode));
      if (!fd) {
        if (errno != EEXIST) return fail_errno(item.path, "create", errno);
        existed.push_back(item.path);
      } else if (::fchmod(fd.get(), item.mode) != 0) {
        return fail_errno(item.path, "chmod", errno);
      }
    } else if (!item.exclusive) {
      BWV_CHECK(fs::rename(item.tmp, item.path));
    } else if (::link(item.tmp.c_str(), item.path.c_str()) != 0) {
      if (errno != EEXIST) return fail_errno(item.path, "link", errno);
      existed.push_back(item.path);
    }
  }
  for (const auto& dir : dirs) BWV_CHECK(fsync_path(dir));
  for (const auto& item : m_items)
    if (!item.tmp.empty()) ::unlink(item.tmp.c_str());
  m_items.clear();
  return existed;
}

Result<Lock> Lock::acquire(const Path& path, Mode mode, int wait_seconds) {
  Lock lock;
  lock.m_fd = Fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  // A shared lock needs only reading: on a read-only store (a snapshot, a replica) the commands
  // that only read still run, and those that write fail at their first write.
  if (!lock.m_fd && errno == EROFS && mode == Mode::shared)
    lock.m_fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!lock.m_fd && errno == ELOOP) return fail(Errc::check_failed, path, "is a symbolic link; refused");
  if (!lock.m_fd) return fail_errno(path, "open lock", errno);
  struct flock fl {};
  fl.l_type = mode == Mode::exclusive ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  for (int waited_ms = 0;; waited_ms += 100) {
    if (::fcntl(lock.m_fd.get(), F_OFD_SETLK, &fl) == 0) return lock;
    if (errno != EAGAIN && errno != EACCES && errno != EINTR)
      return fail_errno(path, "lock", errno);
    if (waited_ms >= wait_seconds * 1000)
      return fail(Errc::locked, path, "locked by another bwv process; try again later");
    ::usleep(100 * 1000);
  }
}

} // namespace bwv::fs
