// Sweeps over the ranks of an MPI job: `mpirun -np N benchtop run EXP ... --mpi`.
//
// Rank 0 is the single writer of the results store and the scheduler: it plans the grid
// exactly as a single process would (same packs, same resume), hands each pack's
// configurations to an idle rank, and stores the outcomes the ranks send back (bit-exact, see
// sweep/pack_codec.h). Ranks 1..N-1 only train. A rank that dies takes the job with it (Open MPI
// ends every rank); its packs stay 'running' in the store and are redone by the next run of the
// same command, like any killed sweep.
//
//   MpiSession mpi(argc, argv);
//   if (mpi.rank() == 0) { MpiExecutor ex(mpi); run_grid(exp, grid, store, opt, stop, &ex); }
//   else serve_packs(mpi, exp, stop);
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "benchtop/sweep/executor.h"

namespace benchtop {

// MPI_Init_thread / MPI_Finalize.
class MpiSession {
public:
    MpiSession(int* argc, char*** argv);
    ~MpiSession();
    // Prints the error, naming this rank, and ends every rank of the job (none may wait forever
    // for one that is gone).
    [[noreturn]] void abort(const std::string& error) const;
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    const std::string& host() const { return host_; }

private:
    int rank_ = 0, size_ = 1;
    std::string host_;
};

// On rank 0: packs go to ranks 1..N-1, one pack each at a time. Destroying it tells the ranks
// that the sweep is over.
class MpiExecutor final : public PackExecutor {
public:
    explicit MpiExecutor(const MpiSession& session);
    ~MpiExecutor() override;
    MpiExecutor(const MpiExecutor&) = delete;
    MpiExecutor& operator=(const MpiExecutor&) = delete;

    int slots() const override { return static_cast<int>(idle_.size() + busy_.size()); }
    std::string next_worker() const override;
    void submit(size_t pack, std::vector<Json> configs, std::function<void(int64_t)> advance) override;
    std::vector<PackResult> wait(std::chrono::milliseconds timeout) override;

private:
    struct Busy {
        size_t pack;
        std::function<void(int64_t)> advance;
    };
    const MpiSession& session_;
    std::vector<int> idle_;       // ranks without a pack, next one last
    std::map<int, Busy> busy_;    // rank -> its pack
    std::map<int, std::string> hosts_;
};

// On ranks 1..N-1: trains the packs rank 0 sends until it says the sweep is over.
void serve_packs(const MpiSession& session, const Experiment& exp, const std::atomic<bool>& stop);

}  // namespace benchtop
