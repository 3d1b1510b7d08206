#include "benchtop/sweep/executor.h"

namespace benchtop {

PackResult run_pack_here(const Experiment& exp, size_t pack, const std::vector<Json>& configs,
                         const std::function<void(int64_t)>& advance, const std::atomic<bool>& stop,
                         int threads) {
    using Clock = std::chrono::steady_clock;
    PackResult res;
    res.pack = pack;
    const auto t0 = Clock::now();
    try {
        RunContext ctx;
        ctx.stop = &stop;
        ctx.advance = advance;
        ctx.threads = std::max(1, threads);
        ctx.check_stop();
        res.outcomes = exp.run_pack(configs, ctx);
        BENCHTOP_CHECK(res.outcomes.size() == configs.size(), exp.name(), ": run_pack returned ",
                       res.outcomes.size(), " outcomes for ", configs.size(), " runs");
    } catch (const Interrupted&) {
        res.outcomes.clear();
        res.interrupted = true;
    } catch (const std::exception& e) {
        res.outcomes.clear();
        res.error = e.what();
    }
    res.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return res;
}

ThreadExecutor::ThreadExecutor(const Experiment& exp, int jobs, const std::atomic<bool>& stop, std::string worker,
                               int pack_threads)
    : exp_(exp), jobs_(std::max(1, jobs)), pack_threads_(std::max(1, pack_threads)), stop_(stop), worker_(std::move(worker)) {
    for (int j = 0; j < jobs_; ++j) threads_.emplace_back([this] { work(); });
}

ThreadExecutor::~ThreadExecutor() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        closing_ = true;
        tasks_.clear();
    }
    cv_tasks_.notify_all();
    for (std::thread& t : threads_) t.join();
}

void ThreadExecutor::submit(size_t pack, std::vector<Json> configs, std::function<void(int64_t)> advance) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        tasks_.push_back(Task{pack, std::move(configs), std::move(advance)});
    }
    cv_tasks_.notify_one();
}

std::vector<PackResult> ThreadExecutor::wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_done_.wait_for(lock, timeout, [&] { return !done_.empty(); });
    std::vector<PackResult> out(std::make_move_iterator(done_.begin()), std::make_move_iterator(done_.end()));
    done_.clear();
    return out;
}

void ThreadExecutor::work() {
    while (true) {
        Task task;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_tasks_.wait(lock, [&] { return closing_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        PackResult res = run_pack_here(exp_, task.pack, task.configs, task.advance, stop_, pack_threads_);
        {
            std::lock_guard<std::mutex> lock(mu_);
            done_.push_back(std::move(res));
        }
        cv_done_.notify_one();
    }
}

}  // namespace benchtop
