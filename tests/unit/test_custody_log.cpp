#include "custody/log.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::EnvGuard;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("custody::log");

namespace {

const custody::Actor k_actor{"alice", "dock01"};

custody::NewEntry entry(const std::string& action, std::optional<std::string> clip = std::nullopt) {
  custody::NewEntry e;
  e.action = action;
  e.clip = std::move(clip);
  e.details["n"] = 1;
  e.details["text"] = "caf\xc3\xa9";
  return e;
}

std::vector<std::string> lines_of(const std::string& data) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto nl = data.find('\n', pos);
    lines.push_back(data.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return lines;
}

custody::ReadResult read_ok(const fs::Path& log) {
  auto r = custody::read(log);
  REQUIRE_MESSAGE(r, why(r));
  return std::move(*r);
}


} // namespace

TEST_CASE("append three entries, then read them back with an intact chain") {
  TmpDir tmp;
  const fs::Path log = tmp / "dock01.jsonl";
  const std::time_t before = std::time(nullptr);
  const auto written =
      custody::append(log, k_actor, {entry("ingest", "20261124-CAM0042-000001"), entry("key-trust"), entry("ingest", "20261124-CAM0042-000002")});
  const std::time_t after = std::time(nullptr);
  REQUIRE_MESSAGE(written, why(written));
  REQUIRE(written->size() == 3);

  const std::string data = get_file(log);
  const auto lines = lines_of(data);
  REQUIRE(lines.size() == 3);
  CHECK(data.back() == '\n');
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const custody::Entry& e = (*written)[i];
    CHECK(e.seq == i + 1);
    CHECK(e.line == lines[i]);
    CHECK(e.user == "alice");
    CHECK(e.host == "dock01");
    CHECK(e.time >= before);
    CHECK(e.time <= after);
    CHECK(e.time == (*written)[0].time); // one batch, one time
  }
  CHECK_FALSE((*written)[0].prev);
  CHECK((*written)[1].prev == crypto::sha256_hex(lines[0] + "\n"));
  CHECK((*written)[2].prev == crypto::sha256_hex(lines[1] + "\n"));

  // The documented line layout: keys in order, no spaces, ASCII.
  CHECK(lines[1] == "{\"seq\":2,\"time\":\"" + text::format_time((*written)[1].time) +
                        "\",\"host\":\"dock01\",\"user\":\"alice\",\"action\":\"key-trust\",\"clip\":null,"
                        "\"details\":{\"n\":1,\"text\":\"caf\\u00e9\"},\"prev\":\"" +
                        crypto::sha256_hex(lines[0] + "\n") + "\"}");
  CHECK(lines[0].starts_with("{\"seq\":1,"));
  CHECK(lines[0].ends_with(",\"prev\":null}"));

  const custody::ReadResult r = read_ok(log);
  CHECK(r.problems.empty());
  REQUIRE(r.entries.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(r.entries[i].seq == i + 1);
    CHECK(r.entries[i].line_no == i + 1);
    CHECK(r.entries[i].line == lines[i]);
    CHECK(r.entries[i].source == log.string());
    CHECK(r.entries[i].prev == (*written)[i].prev);
    CHECK(r.entries[i].action == (*written)[i].action);
    CHECK(r.entries[i].clip == (*written)[i].clip);
    CHECK(r.entries[i].time == (*written)[i].time);
    CHECK(r.entries[i].details == (*written)[i].details);
  }
  CHECK(r.entries[0].clip == std::optional<std::string>("20261124-CAM0042-000001"));
  CHECK(r.entries[0].details["text"] == "caf\xc3\xa9");
}

TEST_CASE("a second append continues seq and the chain") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a"), entry("b"), entry("c")}));
  const auto more = custody::append(log, k_actor, {entry("d")});
  REQUIRE_MESSAGE(more, why(more));
  REQUIRE(more->size() == 1);
  CHECK((*more)[0].seq == 4);
  const auto lines = lines_of(get_file(log));
  REQUIRE(lines.size() == 4);
  CHECK((*more)[0].prev == crypto::sha256_hex(lines[2] + "\n"));
  const auto two = custody::append(log, k_actor, {entry("e"), entry("f")});
  REQUIRE(two);
  CHECK((*two)[0].seq == 5);
  CHECK((*two)[1].seq == 6);

  const custody::ReadResult r = read_ok(log);
  CHECK(r.problems.empty());
  CHECK(r.entries.size() == 6);
  CHECK(r.entries.back().action == "f");
}

TEST_CASE("appending nothing writes nothing") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  const auto none = custody::append(log, k_actor, {});
  REQUIRE(none);
  CHECK(none->empty());
  CHECK(fs::kind_of(log) == fs::Kind::none);
}

TEST_CASE("a torn final line is reported, then cut by the next append") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a"), entry("b"), entry("c")}));
  const std::string intact = get_file(log);
  put_file(log, "{\"seq\":4,\"time\":\"2026-11-24T1", /*append=*/true);

  const custody::ReadResult torn = read_ok(log);
  CHECK(torn.entries.size() == 3);
  REQUIRE(torn.problems.size() == 1);
  CHECK(contains(torn.problems[0], "torn final line"));
  CHECK(contains(torn.problems[0], ":4"));

  const auto next = custody::append(log, k_actor, {entry("d")});
  REQUIRE_MESSAGE(next, why(next));
  CHECK((*next)[0].seq == 4);
  const auto lines = lines_of(intact);
  CHECK((*next)[0].prev == crypto::sha256_hex(lines[2] + "\n"));
  const std::string after = get_file(log);
  CHECK(after.starts_with(intact));
  CHECK(after == intact + (*next)[0].line + "\n");

  const custody::ReadResult r = read_ok(log);
  CHECK(r.problems.empty());
  CHECK(r.entries.size() == 4);
}

TEST_CASE("a log that is only a torn line starts again at seq 1") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  put_file(log, "{\"seq\":1,\"ti");
  const auto e = custody::append(log, k_actor, {entry("a")});
  REQUIRE_MESSAGE(e, why(e));
  CHECK((*e)[0].seq == 1);
  CHECK_FALSE((*e)[0].prev);
  CHECK(read_ok(log).problems.empty());
}

TEST_CASE("append refuses to chain onto a last line it cannot read") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a")}));
  put_file(log, "not json\n", /*append=*/true);
  const std::string before = get_file(log);
  const auto e = custody::append(log, k_actor, {entry("b")});
  REQUIRE_FALSE(e);
  CHECK(e.error().code == Errc::check_failed);
  CHECK((get_file(log) == before)); // no dump of the bytes on failure
}

TEST_CASE("a changed line breaks the chain at the next line") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("ingest"), entry("ingest"), entry("ingest")}));
  const std::string data = get_file(log);
  const auto lines = lines_of(data);

  // Still valid JSON: line 3's prev no longer matches.
  std::string changed = data;
  const std::size_t at = lines[0].size() + 1 + lines[1].find("alice");
  changed[at] = 'A';
  put_file(log, changed);
  const custody::ReadResult r = read_ok(log);
  CHECK(r.entries.size() == 3);
  REQUIRE(r.problems.size() == 1);
  CHECK(contains(r.problems[0], log.string() + ":3: prev does not match"));

  // Broken JSON: line 2 is reported, and line 3 still chains to line 2's bytes.
  std::string broken = data;
  broken[lines[0].size() + 1] = '[';
  put_file(log, broken);
  const custody::ReadResult b = read_ok(log);
  CHECK(b.entries.size() == 2);
  REQUIRE_FALSE(b.problems.empty());
  CHECK(contains(b.problems[0], ":2:"));
}

TEST_CASE("read reports a removed line, a wrong seq and a first line with prev") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a"), entry("b"), entry("c")}));
  const auto lines = lines_of(get_file(log));

  put_file(log, lines[0] + "\n" + lines[2] + "\n");
  const custody::ReadResult gap = read_ok(log);
  CHECK(gap.problems.size() == 2); // seq 3 on line 2, and its prev
  CHECK(contains(gap.problems[0], ":2: seq is 3, expected 2"));

  put_file(log, lines[1] + "\n" + lines[2] + "\n");
  const custody::ReadResult headless = read_ok(log);
  CHECK_FALSE(headless.problems.empty());
  CHECK(contains(headless.problems[0], ":1:"));

  put_file(log, "");
  const custody::ReadResult empty = read_ok(log);
  CHECK(empty.entries.empty());
  CHECK(empty.problems.empty());

  CHECK_FALSE(custody::read(tmp / "absent.jsonl"));
}

TEST_CASE("read ignores unknown keys in a line") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  put_file(log, "{\"seq\":1,\"time\":\"2026-11-24T10:00:00Z\",\"host\":\"h\",\"user\":\"u\",\"action\":\"x\","
                "\"clip\":null,\"details\":{},\"future\":[1],\"prev\":null}\n");
  const custody::ReadResult r = read_ok(log);
  CHECK(r.problems.empty());
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].time == 1795514400);
}

namespace {

custody::NewEntry blob_entry(std::size_t n) {
  custody::NewEntry e;
  e.action = "blob";
  e.details["blob"] = std::string(n, 'b');
  return e;
}

} // namespace

TEST_CASE("a long last line and a long torn tail, each under 1 MiB, are handled") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a")}));
  REQUIRE(custody::append(log, k_actor, {blob_entry(600 * 1024)}));
  const std::string intact = get_file(log);
  put_file(log, "{\"seq\":3," + std::string(600 * 1024, 'x'), /*append=*/true);
  const auto next = custody::append(log, k_actor, {entry("c")});
  REQUIRE_MESSAGE(next, why(next));
  CHECK((*next)[0].seq == 3);
  CHECK((get_file(log) == intact + (*next)[0].line + "\n")); // no dump of the bytes on failure
  CHECK(read_ok(log).problems.empty());
}

// A line is at most 1 MiB, its newline included (bwv-custody(5)).
TEST_CASE("a last line of exactly 1 MiB, newline included, can be appended to") {
  TmpDir tmp;
  // Measure a second line's length without its blob, then make it exactly 1 MiB.
  const fs::Path scratch = tmp / "scratch.jsonl";
  REQUIRE(custody::append(scratch, k_actor, {entry("a"), blob_entry(0)}));
  const std::size_t base = (*custody::read(scratch)).entries[1].line.size();
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a")}));
  const auto big = custody::append(log, k_actor, {blob_entry((1 << 20) - 1 - base)});
  REQUIRE_MESSAGE(big, why(big));
  REQUIRE((*big)[0].line.size() + 1 == std::size_t(1) << 20);
  const auto next = custody::append(log, k_actor, {entry("c")});
  CHECK_MESSAGE(next, why(next));
  CHECK(read_ok(log).entries.size() == 3);
}

TEST_CASE("append refuses a line over 1 MiB and leaves the log appendable") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a")}));
  const std::string before = get_file(log);
  const auto big = custody::append(log, k_actor, {blob_entry(2 << 20)});
  CHECK_FALSE(big);
  CHECK((get_file(log) == before)); // no dump of the bytes on failure
  const auto next = custody::append(log, k_actor, {entry("c")});
  CHECK_MESSAGE(next, why(next));
}

TEST_CASE("last_entry: none for a missing or empty log") {
  TmpDir tmp;
  const auto missing = custody::last_entry(tmp / "absent.jsonl");
  REQUIRE_MESSAGE(missing, why(missing));
  CHECK_FALSE(missing->has_value());
  put_file(tmp / "empty.jsonl", "");
  const auto empty = custody::last_entry(tmp / "empty.jsonl");
  REQUIRE_MESSAGE(empty, why(empty));
  CHECK_FALSE(empty->has_value());
  // Only a torn line: no entry either.
  put_file(tmp / "torn.jsonl", "{\"seq\":1,\"ti");
  const auto torn = custody::last_entry(tmp / "torn.jsonl");
  REQUIRE_MESSAGE(torn, why(torn));
  CHECK_FALSE(torn->has_value());
}

TEST_CASE("last_entry returns the last complete line") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("only", "20261124-CAM0042-000001")}));
  const auto one = custody::last_entry(log);
  REQUIRE_MESSAGE(one, why(one));
  REQUIRE(one->has_value());
  CHECK((*one)->seq == 1);
  CHECK((*one)->action == "only");
  CHECK_FALSE((*one)->prev);

  const auto written = custody::append(log, k_actor, {entry("a"), entry("b"), entry("c", "20261124-CAM0042-000002")});
  REQUIRE(written);
  const auto last = custody::last_entry(log);
  REQUIRE_MESSAGE(last, why(last));
  REQUIRE(last->has_value());
  const custody::Entry& e = **last;
  CHECK(e.seq == 4);
  CHECK(e.action == "c");
  CHECK(e.clip == "20261124-CAM0042-000002");
  CHECK(e.time == written->back().time);
  CHECK(e.host == "dock01");
  CHECK(e.user == "alice");
  CHECK(e.line == written->back().line);
  CHECK(e.prev == written->back().prev);
  CHECK(e.details["n"] == 1);
  CHECK(e.source == log.string());

  // A last line that is not an entry is an error, not silence.
  put_file(log, "not json\n", /*append=*/true);
  CHECK_FALSE(custody::last_entry(log));
}

TEST_CASE("last_entry ignores a torn tail") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a"), entry("b"), entry("c")}));
  const std::string intact = get_file(log);
  put_file(log, "{\"seq\":4,\"time\":\"2026-11-24T1", /*append=*/true);
  const auto last = custody::last_entry(log);
  REQUIRE_MESSAGE(last, why(last));
  REQUIRE(last->has_value());
  CHECK((*last)->seq == 3);
  CHECK((*last)->action == "c");
  CHECK((*last)->line == lines_of(intact)[2]);
  CHECK(get_file(log).size() > intact.size()); // only read: the tail is append's to cut
}

TEST_CASE("last_entry: a long last line is read whole") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a")}));
  REQUIRE(custody::append(log, k_actor, {blob_entry(900 * 1024)}));
  const auto last = custody::last_entry(log);
  REQUIRE_MESSAGE(last, why(last));
  REQUIRE(last->has_value());
  CHECK((*last)->seq == 2);
  CHECK((*last)->details["blob"].get<std::string>().size() == 900 * 1024);
}

TEST_CASE("last_entry: a long last line and a long torn tail, each under 1 MiB") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  REQUIRE(custody::append(log, k_actor, {entry("a")}));
  REQUIRE(custody::append(log, k_actor, {blob_entry(600 * 1024)}));
  put_file(log, "{\"seq\":3," + std::string(600 * 1024, 'x'), /*append=*/true);
  const auto last = custody::last_entry(log);
  REQUIRE_MESSAGE(last, why(last));
  REQUIRE(last->has_value());
  CHECK((*last)->seq == 2);
  CHECK((*last)->action == "blob");
}

TEST_CASE("concurrent appends stay one chain") {
  TmpDir tmp;
  const fs::Path log = tmp / "h.jsonl";
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      bool all = true;
      for (int i = 0; i < 5; ++i) all = all && custody::append(log, k_actor, {entry("t" + std::to_string(t))}).has_value();
      ok[static_cast<std::size_t>(t)] = all ? 1 : 0;
    });
  for (auto& th : threads) th.join();
  for (int b : ok) CHECK(b == 1);
  const custody::ReadResult r = read_ok(log);
  CHECK(r.problems.empty());
  CHECK(r.entries.size() == 20);
}

TEST_CASE("current_actor takes the host from BWV_HOST and refuses a bad one") {
  EnvGuard guard("BWV_HOST");
  ::setenv("BWV_HOST", "ingest-01.example", 1);
  const auto a = custody::current_actor();
  REQUIRE_MESSAGE(a, why(a));
  CHECK(a->host == "ingest-01.example");
  CHECK_FALSE(a->user.empty());

  for (const char* bad : {"bad/host", "../x", ".hidden", "a b", "host\n"}) {
    CAPTURE(bad);
    ::setenv("BWV_HOST", bad, 1);
    const auto r = custody::current_actor();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::usage);
  }
  ::setenv("BWV_HOST", std::string(65, 'h').c_str(), 1);
  CHECK_FALSE(custody::current_actor());

  // Unset or empty: the machine's host name.
  ::unsetenv("BWV_HOST");
  const auto h = custody::current_actor();
  REQUIRE_MESSAGE(h, why(h));
  CHECK(text::is_host_name(h->host));
  ::setenv("BWV_HOST", "", 1);
  const auto e = custody::current_actor();
  REQUIRE(e);
  CHECK(e->host == h->host);
}

TEST_SUITE_END();
