#include "core/parallel.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace bwv;

TEST_CASE("parallel_for calls f once for every index, on as many threads as asked and no more") {
  for (const unsigned jobs : {1u, 2u, 3u, 8u}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{1000}}) {
      CAPTURE(jobs);
      CAPTURE(n);
      std::vector<std::atomic<int>> calls(n);
      std::mutex mutex;
      std::set<std::thread::id> threads;
      parallel_for(n, jobs, [&](std::size_t i) {
        ++calls[i];
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
      });
      for (std::size_t i = 0; i < n; ++i)
        CHECK(calls[i] == 1);
      CHECK(threads.size() <= std::max<std::size_t>(1, std::min<std::size_t>(jobs, n)));
      if (jobs == 1 && n > 0) CHECK(threads == std::set{std::this_thread::get_id()}); // the caller's alone
    }
  }
}

TEST_CASE("parallel_for returns only once every call has returned") {
  std::atomic<int> finished{0};
  parallel_for(4, 4, [&](std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++finished;
  });
  CHECK(finished == 4);
}

TEST_CASE("parallel_for: a call that throws stops the others starting, and its exception reaches the caller") {
  for (const unsigned jobs : {1u, 4u}) {
    CAPTURE(jobs);
    std::atomic<int> started{0};
    CHECK_THROWS_WITH_AS(parallel_for(10000, jobs,
                                      [&](std::size_t i) {
                                        ++started;
                                        if (i == 3) throw std::runtime_error("clip 3");
                                      }),
                         "clip 3", std::runtime_error);
    CHECK(started < 10000); // the rest were not started
  }
}
