// parallel_for(n, threads, fn): calls fn(i) for i in [0, n) on up to `threads` threads (this one
// included), handing out indices in order. Callers write results into slot i, so what they
// compute does not depend on the thread count. The first exception thrown by fn is rethrown
// here after every thread has stopped.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace benchtop {

template <class Fn>
void parallel_for(int64_t n, int threads, Fn&& fn) {
    const int t = int(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
    if (t <= 1) {
        for (int64_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex mu;
    auto work = [&] {
        for (int64_t i; !failed.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < n;) {
            try {
                fn(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu);
                if (!error) error = std::current_exception();
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int k = 1; k < t; ++k) pool.emplace_back(work);
    work();
    for (std::thread& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace benchtop
