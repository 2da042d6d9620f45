#include "core/fs.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::names;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("core::fs");

namespace {

unsigned mode_of(const fs::Path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}


} // namespace

TEST_CASE("kind_of tells what is at a path without following a final symlink") {
  TmpDir tmp;
  put_file(tmp / "file", "x");
  std::filesystem::create_directory(tmp / "dir");
  std::filesystem::create_symlink(tmp / "file", tmp / "link");
  REQUIRE(::mkfifo((tmp / "fifo").c_str(), 0600) == 0);
  CHECK(fs::kind_of(tmp / "file") == fs::Kind::regular);
  CHECK(fs::kind_of(tmp / "dir") == fs::Kind::directory);
  CHECK(fs::kind_of(tmp / "link") == fs::Kind::symlink);
  CHECK(fs::kind_of(tmp / "fifo") == fs::Kind::other);
  CHECK(fs::kind_of(tmp / "absent") == fs::Kind::none);
  CHECK(fs::kind_of(tmp / "file" / "below") == fs::Kind::none); // ENOTDIR
}

TEST_CASE("write_file_atomic writes the bytes, sets the mode and leaves no temp file") {
  TmpDir tmp;
  const fs::Path p = tmp / "secret";
  const auto w = fs::write_file_atomic(p, "first", 0600);
  REQUIRE_MESSAGE(w, why(w));
  CHECK(get_file(p) == "first");
  CHECK(mode_of(p) == 0600);
  CHECK(names(tmp.path()) == std::vector<std::string>{"secret"});

  // Replacing keeps one file, with the new bytes and the new mode (not limited by the umask).
  const mode_t old_umask = ::umask(022);
  const auto w2 = fs::write_file_atomic(p, std::string("second\0bytes", 12), 0664);
  ::umask(old_umask);
  REQUIRE_MESSAGE(w2, why(w2));
  CHECK(get_file(p) == std::string("second\0bytes", 12));
  CHECK(mode_of(p) == 0664);
  CHECK(names(tmp.path()) == std::vector<std::string>{"secret"});

  REQUIRE(fs::write_file_atomic(tmp / "default", ""));
  CHECK(mode_of(tmp / "default") == 0644);
  CHECK(get_file(tmp / "default").empty());
}

TEST_CASE("write_file_atomic replaces a symlink instead of writing through it") {
  TmpDir tmp;
  put_file(tmp / "target", "untouched");
  std::filesystem::create_symlink(tmp / "target", tmp / "name");
  REQUIRE(fs::write_file_atomic(tmp / "name", "new"));
  CHECK(fs::kind_of(tmp / "name") == fs::Kind::regular);
  CHECK(get_file(tmp / "name") == "new");
  CHECK(get_file(tmp / "target") == "untouched");
}

TEST_CASE("write_file_atomic onto a directory fails and leaves no temp file") {
  TmpDir tmp;
  std::filesystem::create_directory(tmp / "dir");
  put_file(tmp / "dir/inside", "x");
  CHECK_FALSE(fs::write_file_atomic(tmp / "dir", "data"));
  CHECK(names(tmp.path()) == std::vector<std::string>{"dir"});
  CHECK(get_file(tmp / "dir/inside") == "x");
}

TEST_CASE("write_file_atomic into a missing directory fails cleanly") {
  TmpDir tmp;
  const auto w = fs::write_file_atomic(tmp / "absent" / "f", "x");
  REQUIRE_FALSE(w);
  CHECK(w.error().code == Errc::io);
  CHECK(names(tmp.path()).empty());
}

TEST_CASE("read_file reads regular files only, within max_bytes") {
  TmpDir tmp;
  put_file(tmp / "ten", "0123456789");
  CHECK(fs::read_file(tmp / "ten", 10) == "0123456789");
  CHECK(fs::read_file(tmp / "ten", 1000) == "0123456789");
  put_file(tmp / "empty", "");
  CHECK(fs::read_file(tmp / "empty", 0) == "");

  const auto big = fs::read_file(tmp / "ten", 9);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Errc::check_failed);
  CHECK(contains(big.error().message, "too large"));

  std::filesystem::create_symlink(tmp / "ten", tmp / "link");
  const auto link = fs::read_file(tmp / "link", 100);
  REQUIRE_FALSE(link);
  CHECK(link.error().code == Errc::check_failed);
  CHECK(contains(link.error().message, "symbolic link"));

  std::filesystem::create_directory(tmp / "dir");
  const auto dir = fs::read_file(tmp / "dir", 100);
  REQUIRE_FALSE(dir);
  CHECK(contains(dir.error().message, "not a regular file"));

  // A FIFO is refused, not waited on.
  REQUIRE(::mkfifo((tmp / "fifo").c_str(), 0600) == 0);
  const auto fifo = fs::read_file(tmp / "fifo", 100);
  REQUIRE_FALSE(fifo);
  CHECK(contains(fifo.error().message, "not a regular file"));

  const auto absent = fs::read_file(tmp / "absent", 100);
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code == Errc::io);
  CHECK(absent.error().subject == (tmp / "absent").string());
}

TEST_CASE("write_all and read_full") {
  TmpDir tmp;
  const fs::Path p = tmp / "f";
  const std::string data = test::random_bytes(300000);
  {
    fs::Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
    REQUIRE(fd);
    REQUIRE(fs::write_all(fd.get(), data.data(), data.size(), p));
  }
  fs::Fd fd(::open(p.c_str(), O_RDONLY));
  REQUIRE(fd);
  CHECK(fs::file_size(fd.get(), p) == data.size());
  std::string buf(200000, '\0');
  CHECK(fs::read_full(fd.get(), buf.data(), buf.size(), p) == 200000u);
  CHECK((buf == data.substr(0, 200000))); // no dump of the bytes on failure
  CHECK(fs::read_full(fd.get(), buf.data(), buf.size(), p) == 100000u); // short only at the end
  CHECK((buf.substr(0, 100000) == data.substr(200000))); // no dump of the bytes on failure
  CHECK(fs::read_full(fd.get(), buf.data(), buf.size(), p) == 0u);
}

TEST_CASE("Fd closes once and moves") {
  TmpDir tmp;
  put_file(tmp / "f", "x");
  fs::Fd a(::open((tmp / "f").c_str(), O_RDONLY));
  REQUIRE(a);
  const int raw = a.get();
  fs::Fd b(std::move(a));
  CHECK_FALSE(a);
  CHECK(b.get() == raw);
  fs::Fd c;
  c = std::move(b);
  CHECK(c.get() == raw);
  c.close();
  CHECK_FALSE(c);
  CHECK(::fcntl(raw, F_GETFD) == -1); // really closed
}

TEST_CASE("create_exclusive: the first writer wins and keeps its content") {
  TmpDir tmp;
  const fs::Path p = tmp / "entry";
  const auto first = fs::create_exclusive(p, "first\n", 0640);
  REQUIRE_MESSAGE(first, why(first));
  CHECK(*first == true);
  CHECK(mode_of(p) == 0640);
  const auto second = fs::create_exclusive(p, "second\n");
  REQUIRE_MESSAGE(second, why(second));
  CHECK(*second == false);
  CHECK(get_file(p) == "first\n");
  CHECK(names(tmp.path()) == std::vector<std::string>{"entry"}); // no temp files left
}

TEST_CASE("make_dirs creates each level and refuses links and ..") {
  TmpDir tmp;
  REQUIRE(fs::make_dirs(tmp.path(), "a/b/c"));
  CHECK(fs::kind_of(tmp / "a/b/c") == fs::Kind::directory);
  REQUIRE(fs::make_dirs(tmp.path(), "a/b/c")); // already there
  REQUIRE(fs::make_dirs(tmp.path(), "a/./b/d", 0700));
  CHECK(mode_of(tmp / "a/b/d") == 0700);

  std::filesystem::create_directory(tmp / "elsewhere");
  std::filesystem::create_symlink(tmp / "elsewhere", tmp / "a/link");
  const auto via_link = fs::make_dirs(tmp.path(), "a/link/sub");
  REQUIRE_FALSE(via_link);
  CHECK(via_link.error().code == Errc::check_failed);
  CHECK(names(tmp / "elsewhere").empty());

  const auto dotdot = fs::make_dirs(tmp.path(), "a/../escape");
  REQUIRE_FALSE(dotdot);
  CHECK(fs::kind_of(tmp / "escape") == fs::Kind::none);
  CHECK_FALSE(fs::make_dirs(tmp / "a", "../escape2"));
  CHECK(fs::kind_of(tmp / "escape2") == fs::Kind::none);
  CHECK_FALSE(fs::make_dirs(tmp.path(), "/abs"));

  put_file(tmp / "a/file", "x");
  const auto through_file = fs::make_dirs(tmp.path(), "a/file/sub");
  REQUIRE_FALSE(through_file);
  CHECK(contains(through_file.error().message, "not a directory"));

  // A base below a symlinked directory is the caller's business.
  std::filesystem::create_directory(tmp / "elsewhere/base");
  std::filesystem::create_symlink(tmp / "elsewhere", tmp / "up-link");
  const auto below_link = fs::make_dirs(tmp / "up-link/base", "x/y");
  CHECK_MESSAGE(below_link, why(below_link));
  CHECK(fs::kind_of(tmp / "elsewhere/base/x/y") == fs::Kind::directory);
}

TEST_CASE("make_dirs and write_file_atomic accept a base that is itself a symlink") {
  TmpDir tmp;
  std::filesystem::create_directory(tmp / "real");
  std::filesystem::create_symlink(tmp / "real", tmp / "base-link");
  const auto made = fs::make_dirs(tmp / "base-link", "x/y");
  CHECK_MESSAGE(made, why(made));
  CHECK(fs::kind_of(tmp / "real/x/y") == fs::Kind::directory);
  const auto written = fs::write_file_atomic(tmp / "base-link" / "f", "data");
  CHECK_MESSAGE(written, why(written));
  CHECK(get_file(tmp / "real/f") == "data");
}

TEST_CASE("list_dir is sorted, without . and .., and empty for a missing directory") {
  TmpDir tmp;
  for (const char* n : {"b", "a", ".hidden", "c"}) put_file(tmp / n, "");
  CHECK(names(tmp.path()) == std::vector<std::string>{".hidden", "a", "b", "c"});
  CHECK(names(tmp / "absent").empty());
  put_file(tmp / "file", "");
  CHECK_FALSE(fs::list_dir(tmp / "file"));
}

TEST_CASE("remove_file, remove_tree, rename") {
  TmpDir tmp;
  put_file(tmp / "f", "x");
  REQUIRE(fs::remove_file(tmp / "f"));
  CHECK(fs::kind_of(tmp / "f") == fs::Kind::none);
  CHECK(fs::remove_file(tmp / "f")); // absent is fine

  REQUIRE(fs::make_dirs(tmp.path(), "t/u/v"));
  put_file(tmp / "t/u/v/w", "x");
  REQUIRE(fs::remove_tree(tmp / "t"));
  CHECK(fs::kind_of(tmp / "t") == fs::Kind::none);

  put_file(tmp / "g", "1");
  put_file(tmp / "h", "2");
  REQUIRE(fs::rename(tmp / "g", tmp / "h"));
  CHECK(get_file(tmp / "h") == "1");
  CHECK_FALSE(fs::rename(tmp / "absent", tmp / "h"));
}

TEST_CASE("rename_noreplace claims a free name and refuses an existing non-empty directory") {
  TmpDir tmp;
  REQUIRE(fs::make_dirs(tmp.path(), "stage1"));
  put_file(tmp / "stage1/file", "one");
  const auto claimed = fs::rename_noreplace(tmp / "stage1", tmp / "final");
  REQUIRE_MESSAGE(claimed, why(claimed));
  CHECK(*claimed == true);
  CHECK(get_file(tmp / "final/file") == "one");
  CHECK(fs::kind_of(tmp / "stage1") == fs::Kind::none);

  REQUIRE(fs::make_dirs(tmp.path(), "stage2"));
  put_file(tmp / "stage2/file", "two");
  const auto lost = fs::rename_noreplace(tmp / "stage2", tmp / "final");
  REQUIRE_MESSAGE(lost, why(lost));
  CHECK(*lost == false);
  CHECK(get_file(tmp / "final/file") == "one");
  CHECK(get_file(tmp / "stage2/file") == "two");

  CHECK_FALSE(fs::rename_noreplace(tmp / "absent", tmp / "other"));
}

TEST_CASE("write_staged creates a new file and refuses an existing one") {
  TmpDir tmp;
  const auto w = fs::write_staged(tmp / "staged", "bytes", 0640);
  REQUIRE_MESSAGE(w, why(w));
  CHECK(get_file(tmp / "staged") == "bytes");
  CHECK(mode_of(tmp / "staged") == 0640);

  const auto again = fs::write_staged(tmp / "staged", "other");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::io);
  CHECK(get_file(tmp / "staged") == "bytes");

  // Nor through a symlink, dangling or not.
  std::filesystem::create_symlink(tmp / "target", tmp / "link");
  CHECK_FALSE(fs::write_staged(tmp / "link", "x"));
  CHECK(fs::kind_of(tmp / "target") == fs::Kind::none);
  CHECK(names(tmp.path()) == std::vector<std::string>{"link", "staged"});
}

// Pieces of every awkward size: empty, under a block, across blocks, whole blocks, then bigger
// ones, which grow the buffer with a partial block held in it. The directory under test decides
// whether the writes go direct (ext4, xfs) or through the page cache (tmpfs here); the bytes must
// come out the same either way. One writer writes every file, each starting from the buffer the
// last one left.
TEST_CASE("DirectWriter writes pieces of any size, direct or not, file after file") {
  TmpDir tmp;
  std::vector<fs::Path> dirs = {tmp.path()};
  if (fs::kind_of("/dev/shm") == fs::Kind::directory) dirs.push_back("/dev/shm");
  fs::DirectWriter w;
  const std::vector<std::size_t> pieces = {0,    1,    4095, 4096,  4097,    10, 8192, 3 * 4096 + 100, 3,
                                           5000, 4091, 100,  70001, 1 << 20, 0,  7,    (1 << 20) + 5};
  for (int round = 0; round < 2; ++round)
    for (const auto& dir : dirs) {
      CAPTURE(dir);
      CAPTURE(round);
      const fs::Path path = dir / ("bwv-direct-" + fs::random_hex(8));
      const auto created = w.create(path, 0640);
      REQUIRE_MESSAGE(created, why(created));
      const std::string how = dir.string() + (w.direct() ? ": direct" : ": through the page cache");
      MESSAGE(how);
      std::string expected;
      for (std::size_t n : pieces) {
        const std::string piece = test::random_bytes(n);
        const auto room = w.space(n);
        REQUIRE_MESSAGE(room, why(room));
        std::memcpy(*room, piece.data(), n);
        REQUIRE(w.commit(n));
        expected += piece;
      }
      REQUIRE(w.finish());
      REQUIRE(fs::fsync_path(path));
      CHECK(get_file(path) == expected);
      CHECK(mode_of(path) == 0640);
      std::filesystem::remove(path);
    }

  // Nothing at all, and one piece that fills only part of a block.
  for (std::size_t n : {std::size_t(0), std::size_t(100)}) {
    REQUIRE(w.create(tmp / ("small" + std::to_string(n))));
    const std::string piece(n, 'x');
    std::memcpy(*w.space(n), piece.data(), n);
    REQUIRE(w.commit(n));
    REQUIRE(w.finish());
    CHECK(get_file(tmp / ("small" + std::to_string(n))) == piece);
  }
}

TEST_CASE("DirectWriter creates a new file only, never through a symlink; an abandoned file stays as it was") {
  TmpDir tmp;
  fs::DirectWriter w;
  put_file(tmp / "exists", "old");
  const auto again = w.create(tmp / "exists");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::io);
  CHECK(get_file(tmp / "exists") == "old");
  std::filesystem::create_symlink(tmp / "target", tmp / "link");
  CHECK_FALSE(w.create(tmp / "link"));
  CHECK(fs::kind_of(tmp / "target") == fs::Kind::none);
  CHECK_FALSE(w.create(tmp / "missing" / "file"));

  // Abandoned part-way: whole blocks written directly are there, the held-back end is not.
  REQUIRE(w.create(tmp / "abandoned"));
  const std::string piece = test::random_bytes(3 * 4096 + 10);
  std::memcpy(*w.space(piece.size()), piece.data(), piece.size());
  REQUIRE(w.commit(piece.size()));
  const bool direct = w.direct();
  w.abandon();
  CHECK(get_file(tmp / "abandoned") == (direct ? piece.substr(0, 3 * 4096) : piece));

  // And after all that it still writes the next file.
  REQUIRE(w.create(tmp / "next"));
  std::memcpy(*w.space(3), "abc", 3);
  REQUIRE(w.commit(3));
  REQUIRE(w.finish());
  CHECK(get_file(tmp / "next") == "abc");
}

TEST_CASE("Batch: several files committed together, no temp file left") {
  TmpDir tmp;
  REQUIRE(fs::make_dirs(tmp.path(), "sub"));
  put_file(tmp / "replaced", "old");
  fs::Batch batch;
  CHECK(batch.empty());
  REQUIRE(batch.add(tmp / "a", "alpha"));
  REQUIRE(batch.add(tmp / "sub/b", std::string("be\0ta", 5), 0600));
  REQUIRE(batch.add(tmp / "replaced", "new"));
  REQUIRE(batch.add(tmp / "sub/c", "", 0644, /*exclusive=*/true));
  CHECK_FALSE(batch.empty());
  // Nothing under a final name before the commit.
  CHECK(fs::kind_of(tmp / "a") == fs::Kind::none);
  CHECK(get_file(tmp / "replaced") == "old");

  const auto existed = batch.commit();
  REQUIRE_MESSAGE(existed, why(existed));
  CHECK(existed->empty());
  CHECK(batch.empty());
  CHECK(get_file(tmp / "a") == "alpha");
  CHECK(get_file(tmp / "sub/b") == std::string("be\0ta", 5));
  CHECK(mode_of(tmp / "sub/b") == 0600);
  CHECK(mode_of(tmp / "a") == 0644);
  CHECK(get_file(tmp / "replaced") == "new");
  CHECK(get_file(tmp / "sub/c").empty());
  CHECK(names(tmp.path()) == std::vector<std::string>{"a", "replaced", "sub"});
  CHECK(names(tmp / "sub") == std::vector<std::string>{"b", "c"});

  // A commit of nothing does nothing.
  const auto none = batch.commit();
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("Batch: an exclusive file that exists is returned and keeps its content") {
  TmpDir tmp;
  put_file(tmp / "taken", "first\n");
  fs::Batch batch;
  REQUIRE(batch.add(tmp / "taken", "second\n", 0644, /*exclusive=*/true));
  REQUIRE(batch.add(tmp / "free", "mine\n", 0644, /*exclusive=*/true));
  const auto existed = batch.commit();
  REQUIRE_MESSAGE(existed, why(existed));
  CHECK(*existed == std::vector<fs::Path>{tmp / "taken"});
  CHECK(get_file(tmp / "taken") == "first\n");
  CHECK(get_file(tmp / "free") == "mine\n");
  CHECK(names(tmp.path()) == std::vector<std::string>{"free", "taken"});
}

TEST_CASE("Batch: destroyed without a commit, it leaves nothing") {
  TmpDir tmp;
  put_file(tmp / "kept", "old");
  {
    fs::Batch batch;
    REQUIRE(batch.add(tmp / "new", "data"));
    REQUIRE(batch.add(tmp / "kept", "replacement"));
    REQUIRE(batch.add(tmp / "entry", "", 0644, /*exclusive=*/true));
    // Two temp files beside "kept"; the empty exclusive entry waits for the commit to exist.
    CHECK(names(tmp.path()).size() == 3);
  }
  CHECK(names(tmp.path()) == std::vector<std::string>{"kept"});
  CHECK(get_file(tmp / "kept") == "old");

  // A moved batch is committed, or cleaned up, once.
  std::optional<fs::Batch> moved;
  {
    fs::Batch batch;
    REQUIRE(batch.add(tmp / "moved", "m"));
    moved.emplace(std::move(batch));
  }
  CHECK(names(tmp.path()).size() == 2);
  const auto c = moved->commit();
  REQUIRE_MESSAGE(c, why(c));
  CHECK(get_file(tmp / "moved") == "m");
  moved.reset();
  CHECK(names(tmp.path()) == std::vector<std::string>{"kept", "moved"});
}

TEST_CASE("Batch: assigning over a batch with pending files leaves no temp file") {
  TmpDir tmp;
  {
    fs::Batch target;
    REQUIRE(target.add(tmp / "dropped", "d"));
    fs::Batch source;
    REQUIRE(source.add(tmp / "kept", "k"));
    target = std::move(source);
    REQUIRE(target.commit());
  }
  CHECK(names(tmp.path()) == std::vector<std::string>{"kept"});
}

TEST_CASE("Batch: an empty exclusive file is created in place at commit, with its mode") {
  TmpDir tmp;
  put_file(tmp / "taken", "first\n");
  std::filesystem::create_symlink(tmp / "elsewhere", tmp / "linked");
  fs::Batch batch;
  REQUIRE(batch.add(tmp / "entry", "", 0640, /*exclusive=*/true));
  REQUIRE(batch.add(tmp / "taken", "", 0644, /*exclusive=*/true));
  REQUIRE(batch.add(tmp / "linked", "", 0644, /*exclusive=*/true));
  CHECK(names(tmp.path()) == std::vector<std::string>{"linked", "taken"}); // no temp file
  const auto existed = batch.commit();
  REQUIRE_MESSAGE(existed, why(existed));
  CHECK(*existed == std::vector<fs::Path>{tmp / "taken", tmp / "linked"});
  CHECK(get_file(tmp / "entry").empty());
  CHECK(mode_of(tmp / "entry") == 0640);
  CHECK(get_file(tmp / "taken") == "first\n");
  CHECK(fs::kind_of(tmp / "elsewhere") == fs::Kind::none); // the link was not followed
  CHECK(names(tmp.path()) == std::vector<std::string>{"entry", "linked", "taken"});

  // In a missing directory it fails at the commit, naming the directory or the path.
  fs::Batch later;
  REQUIRE(later.add(tmp / "absent/entry", "", 0644, /*exclusive=*/true));
  const auto failed = later.commit();
  REQUIRE_FALSE(failed);
  CHECK(failed.error().subject.starts_with((tmp / "absent").string()));
}

TEST_CASE("Batch: a file in a missing directory is refused at add") {
  TmpDir tmp;
  fs::Batch batch;
  CHECK_FALSE(batch.add(tmp / "absent/f", "x"));
  REQUIRE(batch.add(tmp / "f", "x"));
  REQUIRE(batch.commit());
  CHECK(names(tmp.path()) == std::vector<std::string>{"f"});
}

TEST_CASE("fsync_path and sync_filesystem") {
  TmpDir tmp;
  put_file(tmp / "f", "x");
  CHECK(fs::fsync_path(tmp / "f"));
  CHECK(fs::fsync_path(tmp.path()));
  CHECK_FALSE(fs::fsync_path(tmp / "absent"));
  CHECK(fs::sync_filesystem(tmp.path()));
}

TEST_CASE("Lock: exclusive excludes, also within one process, until released") {
  TmpDir tmp;
  const fs::Path p = tmp / "lock";
  std::optional<fs::Lock> first;
  {
    auto l = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
    REQUIRE_MESSAGE(l, why(l));
    first.emplace(std::move(*l));
  }
  CHECK(fs::kind_of(p) == fs::Kind::regular); // created on first use

  const auto second = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::locked);
  CHECK(second.error().subject == p.string());
  const auto shared = fs::Lock::acquire(p, fs::Lock::Mode::shared, 0);
  REQUIRE_FALSE(shared);
  CHECK(shared.error().code == Errc::locked);

  // Moving the lock keeps it held.
  fs::Lock moved = std::move(*first);
  first.reset();
  CHECK_FALSE(fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0));

  moved = fs::Lock();
  const auto third = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
  CHECK_MESSAGE(third, why(third));
}

TEST_CASE("Lock: released when its holder is destroyed") {
  TmpDir tmp;
  const fs::Path p = tmp / "lock";
  {
    const auto held = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
    REQUIRE_MESSAGE(held, why(held));
    const auto blocked = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
    REQUIRE_FALSE(blocked);
    CHECK(blocked.error().code == Errc::locked);
  }
  const auto after = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
  CHECK_MESSAGE(after, why(after));
}

TEST_CASE("Lock: shared locks coexist and keep an exclusive one out") {
  TmpDir tmp;
  const fs::Path p = tmp / "lock";
  auto a = fs::Lock::acquire(p, fs::Lock::Mode::shared, 0);
  auto b = fs::Lock::acquire(p, fs::Lock::Mode::shared, 0);
  REQUIRE_MESSAGE(a, why(a));
  REQUIRE_MESSAGE(b, why(b));
  const auto ex = fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0);
  REQUIRE_FALSE(ex);
  CHECK(ex.error().code == Errc::locked);
  *a = fs::Lock();
  CHECK_FALSE(fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0));
  *b = fs::Lock();
  CHECK(fs::Lock::acquire(p, fs::Lock::Mode::exclusive, 0));
}

TEST_CASE("Lock refuses a symlink as its file") {
  TmpDir tmp;
  put_file(tmp / "target", "");
  std::filesystem::create_symlink(tmp / "target", tmp / "lock");
  const auto l = fs::Lock::acquire(tmp / "lock", fs::Lock::Mode::exclusive, 0);
  REQUIRE_FALSE(l);
  // Refused like any link where bwv expects its own file (exit 1, not an I/O error).
  CHECK(l.error().code == Errc::check_failed);
  CHECK(l.error().message == "is a symbolic link; refused");
}

TEST_CASE("random_hex") {
  const std::string a = fs::random_hex(6), b = fs::random_hex(6);
  CHECK(a.size() == 12);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
  CHECK(fs::random_hex(0).empty());
}

TEST_SUITE_END();
