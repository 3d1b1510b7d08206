#include "benchtop/cluster/mpi.h"

#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "benchtop/kernels/cpu.h"
#include "benchtop/kernels/dispatch.h"
#include "benchtop/sweep/pack_codec.h"

namespace benchtop {

namespace {

// Message tags. Rank 0 sends kTask and kDone; the other ranks send the rest.
enum Tag : int { kTask = 1, kDone = 2, kHello = 3, kProgress = 4, kResult = 5 };

struct Message {
    int source = 0, tag = 0;
    std::string bytes;
};

void check(int rc, const char* what) {
    if (rc != MPI_SUCCESS) fail("MPI: ", what, " failed (error ", rc, ")");
}

void send(int dest, Tag tag, const std::string& bytes) {
    check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD), "MPI_Send");
}

// The next message from `source` (MPI_ANY_SOURCE for any), or none by the deadline. Polls with
// short sleeps rather than a blocking receive: Open MPI busy-waits in MPI_Recv, which would take
// a core from the ranks that train when several ranks share a machine.
std::optional<Message> poll(int source, std::chrono::steady_clock::time_point deadline) {
    while (true) {
        int flag = 0;
        MPI_Status st;
        check(MPI_Iprobe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
        if (flag) {
            int n = 0;
            check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count");
            Message m{st.MPI_SOURCE, st.MPI_TAG, std::string(static_cast<size_t>(n), '\0')};
            check(MPI_Recv(m.bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                  "MPI_Recv");
            return m;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

Message receive(int source) {
    return *poll(source, std::chrono::steady_clock::time_point::max());
}

std::string int64_bytes(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

int64_t bytes_int64(const std::string& b) {
    BENCHTOP_CHECK(b.size() == sizeof(int64_t), "MPI: a progress message of ", b.size(), " bytes");
    int64_t v = 0;
    std::memcpy(&v, b.data(), sizeof v);
    return v;
}

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    host_.assign(name, static_cast<size_t>(len));
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::abort(const std::string& error) const {
    std::fprintf(stderr, "benchtop: error on MPI rank %d (%s): %s\n", rank_, host_.c_str(), error.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);
}

MpiExecutor::MpiExecutor(const MpiSession& session) : session_(session) {
    BENCHTOP_CHECK(session.rank() == 0, "MpiExecutor on rank ", session.rank(), "; only rank 0 schedules");
    for (int r = session.size() - 1; r >= 1; --r) idle_.push_back(r);
    for (int i = 1; i < session.size(); ++i) {
        Message m = receive(MPI_ANY_SOURCE);
        BENCHTOP_CHECK(m.tag == kHello, "MPI: rank ", m.source, " sent message ", m.tag, " before its hello");
        hosts_[m.source] = m.bytes;
    }
}

MpiExecutor::~MpiExecutor() {
    // Normal end: no pack in flight, every rank waits for its next message. (After an error the
    // session aborts the job instead.)
    if (std::uncaught_exceptions() == 0)
        for (int r = 1; r < session_.size(); ++r) send(r, kDone, "");
}

std::string MpiExecutor::next_worker() const {
    if (idle_.empty()) return "mpi";
    const int r = idle_.back();
    return "mpi rank " + std::to_string(r) + "@" + hosts_.at(r);
}

void MpiExecutor::submit(size_t pack, std::vector<Json> configs, std::function<void(int64_t)> advance) {
    BENCHTOP_CHECK(!idle_.empty(), "MPI: a pack submitted with every rank busy");
    const int r = idle_.back();
    idle_.pop_back();
    Json task = {{"pack", pack}, {"configs", std::move(configs)}};
    send(r, kTask, task.dump());
    busy_[r] = Busy{pack, std::move(advance)};
}

std::vector<PackResult> MpiExecutor::wait(std::chrono::milliseconds timeout) {
    std::vector<PackResult> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.empty()) {
        std::optional<Message> m = poll(MPI_ANY_SOURCE, deadline);
        if (!m) break;
        auto it = busy_.find(m->source);
        BENCHTOP_CHECK(it != busy_.end(), "MPI: rank ", m->source, " sent message ", m->tag, " without a pack");
        if (m->tag == kProgress) {
            if (it->second.advance) it->second.advance(bytes_int64(m->bytes));
        } else if (m->tag == kResult) {
            PackResult res = decode_pack_result(m->bytes);
            BENCHTOP_CHECK(res.pack == it->second.pack, "MPI: rank ", m->source, " returned pack ", res.pack,
                           ", sent pack ", it->second.pack);
            busy_.erase(it);
            idle_.push_back(m->source);
            out.push_back(std::move(res));
        } else {
            fail("MPI: unexpected message ", m->tag, " from rank ", m->source);
        }
    }
    return out;
}

void serve_packs(const MpiSession& session, const Experiment& exp, const std::atomic<bool>& stop) {
    send(0, kHello, session.host());
    const std::string cpu = cpu_info().model;
    const std::string path = isa_name(kernels::active_isa());
    const std::thread::id main_thread = std::this_thread::get_id();
    while (true) {
        Message m = receive(0);
        if (m.tag == kDone) return;
        BENCHTOP_CHECK(m.tag == kTask, "MPI: unexpected message ", m.tag, " from rank 0");
        const Json task = Json::parse(m.bytes);
        const size_t pack = task.at("pack").get<size_t>();
        std::vector<Json> configs = task.at("configs").get<std::vector<Json>>();
        // Progress goes to rank 0 at most every 0.2 s (and from this thread only: MPI is initialised
        // for the main thread's calls); what is left is sent before the result.
        std::atomic<int64_t> pending{0};
        auto last = std::chrono::steady_clock::now();
        auto flush = [&]() {
            const int64_t n = pending.exchange(0);
            if (n > 0) send(0, kProgress, int64_bytes(n));
        };
        auto advance = [&](int64_t n) {
            pending += n;
            if (std::this_thread::get_id() != main_thread) return;
            const auto now = std::chrono::steady_clock::now();
            if (now - last > std::chrono::milliseconds(200)) {
                flush();
                last = now;
            }
        };
        PackResult res = run_pack_here(exp, pack, configs, advance, stop);
        for (RunOutcome& o : res.outcomes) {
            o.cpu = cpu;
            o.kernel_path = path;
        }
        flush();
        send(0, kResult, encode_pack_result(res));
    }
}

}  // namespace benchtop
