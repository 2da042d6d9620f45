#pragma once
// Work spread over threads, for loops whose iterations are independent.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace bwv {

// Calls f(i) for every i in [0, n) on up to `jobs` threads, the caller's among them, taking i in
// order; returns once every call has returned. f must be safe to call from several threads at once.
template <class F> void parallel_for(std::size_t n, unsigned jobs, F&& f) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < n;)
      f(i);
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < std::min<std::size_t>(jobs, n); ++t)
    threads.emplace_back(work);
  work();
  for (auto& t : threads)
    t.join();
}

} // namespace bwv
