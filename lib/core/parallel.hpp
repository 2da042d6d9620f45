#pragma once
// Work spread over threads, for loops whose iterations are independent.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace bwv {

// Calls f(i) for every i in [0, n) on up to `jobs` threads, the caller's among them, taking i in
// order; returns once every call has returned. f must be safe to call from several threads at once.
// If a call throws, no further calls start, and the first exception is rethrown here once the
// other threads are done; threads the system refuses to start are done without.
template <class F> void parallel_for(std::size_t n, unsigned jobs, F&& f) {
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::exception_ptr first;
  auto work = [&] {
    for (std::size_t i; (i = next++) < n;) {
      try {
        f(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first) first = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < std::min<std::size_t>(jobs, n); ++t) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
  for (auto& t : threads)
    t.join();
  if (first) std::rethrow_exception(first);
}

} // namespace bwv
