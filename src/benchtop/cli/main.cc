// benchtop: run experiments on the science of deep learning and store every result.
//
//   benchtop list | describe EXP | run EXP [key=value ...] | show [EXP] | export [EXP] | report EXP
//   benchtop data mnist1d [key=value ...] --out DIR
//   benchtop run EXP ... --shard I/N --db shard-I.db;  benchtop merge OUT.db shard-*.db
//   mpirun -np N benchtop run EXP ... --mpi;  benchtop serve [--db FILE] [--port N]
//
// Exit status: 0 success, 1 a run failed or an error occurred, 2 a usage error (nothing was
// written), 130 interrupted by Ctrl-C (finished runs are kept).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>

#include "benchtop/core/version.h"
#include "benchtop/kernels/dispatch.h"
#include "benchtop/dashboard/http.h"
#include "benchtop/data/mnist1d.h"
#include "benchtop/data/mnist1d_files.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/store/export.h"
#include "benchtop/sweep/grid.h"
#include "benchtop/sweep/runner.h"
#include "benchtop/sweep/shard.h"
#ifdef BENCHTOP_HAVE_MPI
#include "benchtop/cluster/mpi.h"
#endif

using namespace benchtop;

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_sigint(int) {
    if (g_stop.exchange(true)) std::_Exit(130);  // a second Ctrl-C leaves at once
    const char msg[] = "\nstopping: finishing the current step of runs in flight (Ctrl-C again to abort)\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
}

// Holds an exclusive advisory lock on the database file: one writing benchtop per database.
class WriterLock {
public:
    explicit WriterLock(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) fail("cannot open ", path, " to lock it");
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            fail("results database ", path, " is being written by another benchtop process; wait for it or use "
                 "another --db");
        }
    }
    ~WriterLock() { ::close(fd_); }
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

private:
    int fd_ = -1;
};

std::string describe(const Experiment& e) {
    std::string s = e.name() + ": " + e.claim() + "\nreference: " + e.reference() + "\n\nparameters:\n";
    size_t w = 4;
    for (const ParamSpec& p : e.schema().params()) w = std::max(w, p.name.size());
    for (const ParamSpec& p : e.schema().params()) {
        std::string def;
        if (p.default_value.is_array()) {
            for (const Json& v : p.default_value) def += (def.empty() ? "" : ",") + format_value(v);
        } else {
            def = format_value(p.default_value);
        }
        if (def.empty()) def = "(none)";
        char line[512];
        std::snprintf(line, sizeof line, "  %-*s  %-6s  default %s; %s\n", static_cast<int>(w), p.name.c_str(),
                      to_string(p.type), def.c_str(), Schema::allowed(p).c_str());
        s += line;
        s += std::string(w + 12, ' ') + p.help + "\n";
    }
    s += "\nvalues: a list (a,b,c) or a range (a..b integers, a..b:lin|log|geom:n) runs every value; several "
         "swept keys form the full grid.\n";
    return s;
}

std::string format_seconds(double s) {
    char buf[64];
    if (s < 60) std::snprintf(buf, sizeof buf, "%.0f s", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
    else std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
    return buf;
}

struct RunArgs {
    std::string experiment;
    std::vector<std::string> overrides;
    std::string db = "benchtop.db";
    std::string out;
    int jobs = 0;
    int64_t max_pack = 0;
    std::string shard;  // "I/N" or empty
    bool mpi = false;
    bool quiet = false, dry_run = false, retry_failed = false, no_figures = false;
};

// Runs the grid into a.db (packs on `executor`, or on `jobs` threads here), draws the figures
// and prints the outcome.
int run_and_report(const RunArgs& a, const Experiment& exp, const std::vector<Json>& grid,
                   const std::vector<Axis>& axes, const std::string& command_line, int jobs,
                   PackExecutor* executor) {
    std::vector<std::string> swept = swept_keys(exp.schema(), axes);
    Store store(a.db);
    WriterLock lock(a.db);
    RunnerOptions opt;
    opt.jobs = jobs;
    opt.max_pack = a.max_pack;
    opt.progress = a.quiet ? Progress::Mode::Quiet : Progress::Mode::Auto;
    opt.retry_failed = a.retry_failed;
    opt.command_line = command_line;
    Json spec = Json::object();
    for (const Axis& ax : axes) spec[ax.key] = ax.values;
    opt.sweep_spec = spec.dump();
    std::signal(SIGINT, on_sigint);
    RunnerReport rep = run_grid(exp, grid, store, opt, g_stop, executor);
    std::signal(SIGINT, SIG_DFL);
    for (const std::string& e : rep.errors) std::fprintf(stderr, "run failed: %s\n", e.c_str());

    std::string out_dir = a.out.empty() ? "benchtop-out/" + exp.name() : a.out;
    std::vector<std::string> files;
    if (!a.no_figures && !g_stop.load()) files = draw_and_record(exp, store, out_dir);
    if (!a.quiet) {
        std::printf("%s: %ld runs: %ld stored before, %ld complete, %ld diverged, %ld failed, %ld interrupted "
                    "(%s)\n",
                    exp.name().c_str(), static_cast<long>(rep.total), static_cast<long>(rep.skipped),
                    static_cast<long>(rep.complete), static_cast<long>(rep.diverged), static_cast<long>(rep.failed),
                    static_cast<long>(rep.interrupted), format_seconds(rep.wall_s).c_str());
        std::vector<std::string> keys = exp.show_keys();
        for (const std::string& k : swept)
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        std::printf("%s", format_runs_table(store, exp.name(), keys).c_str());
        for (const std::string& f : files) std::printf("figure: %s\n", f.c_str());
        std::printf("database: %s\n", a.db.c_str());
    }
    if (g_stop.load()) return 130;
    return rep.failed > 0 ? 1 : 0;
}

int cmd_run(const RunArgs& a, const std::string& command_line) {
    const Experiment& exp = find_experiment(a.experiment);
    std::vector<Axis> axes = parse_overrides(exp.schema(), a.overrides);
    std::vector<Json> grid = expand_grid(exp.schema(), axes);
    for (const Json& c : grid) exp.check(c);
    size_t full_grid = 0;
    if (!a.shard.empty()) {
        const Shard shard = parse_shard(a.shard);
        full_grid = plan_runs(exp, grid, nullptr, false).size();
        grid = shard_grid(exp, grid, shard, a.max_pack);
        if (!a.quiet)
            std::printf("shard %s: %zu of the grid's %zu runs\n", a.shard.c_str(), grid.size(), full_grid);
    }
    int jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::string> swept = swept_keys(exp.schema(), axes);

    if (a.dry_run) {
        std::optional<Store> store;
        if (std::filesystem::exists(a.db)) store.emplace(a.db, Store::Mode::ReadOnly);
        std::vector<PlannedRun> runs = plan_runs(exp, grid, store ? &*store : nullptr, a.retry_failed);
        auto packs = make_packs(exp, runs, a.max_pack);
        double work_s = 0;
        int64_t todo = 0;
        for (size_t i = 0; i < runs.size(); ++i) {
            if (runs[i].todo) ++todo, work_s += exp.seconds_per_unit(runs[i].config) * exp.work_units(runs[i].config);
            if (i < 50) {
                std::string line = "#" + std::to_string(i) + " :";
                for (const std::string& k : swept) line += " " + k + "=" + format_value(runs[i].config[k]);
                std::printf("%s%s\n", line.c_str(), runs[i].todo ? "" : "  (stored)");
            }
        }
        if (runs.size() > 50) std::printf("... %zu more\n", runs.size() - 50);
        double est = work_s / std::min<double>(jobs, std::max<size_t>(1, packs.size()));
        std::printf("%s: %zu runs in the grid, %ld to run in %zu packs on %d jobs; estimated %s (unpacked, "
                    "one core per job)\n",
                    exp.name().c_str(), runs.size(), static_cast<long>(todo), packs.size(), jobs,
                    format_seconds(est).c_str());
        return 0;
    }

#ifdef BENCHTOP_HAVE_MPI
    if (a.mpi) {
        // Every rank parsed the same command and checked the same grid above; from here on an
        // error on one rank ends them all.
        MpiSession mpi(nullptr, nullptr);
        try {
            if (mpi.rank() != 0) {
                serve_packs(mpi, exp, g_stop);
                return 0;
            }
            if (mpi.size() < 2 && !a.quiet)
                std::printf("--mpi with one rank: running the packs here (start it with mpirun -np N, N >= 2)\n");
            std::optional<MpiExecutor> ranks;
            if (mpi.size() > 1) ranks.emplace(mpi);
            return run_and_report(a, exp, grid, axes, command_line, jobs, ranks ? &*ranks : nullptr);
        } catch (const std::exception& e) {
            mpi.abort(e.what());
        }
    }
#else
    if (a.mpi)
        throw UsageError("--mpi: this benchtop was built without MPI; install Open MPI (libopenmpi-dev, as "
                         "scripts/setup does) and rebuild");
#endif
    return run_and_report(a, exp, grid, axes, command_line, jobs, nullptr);
}

Mnist1dArgs parse_mnist1d_args(const std::vector<std::string>& kvs) {
    Mnist1dArgs m;
    for (const std::string& kv : kvs) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos) throw UsageError("expected key=value, got '" + kv + "'");
        std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        auto num = [&]() {
            char* end = nullptr;
            double d = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0') throw UsageError("mnist1d: " + k + "=" + v + " is not a number");
            return d;
        };
        auto integer = [&]() {
            double d = num();
            if (d != std::floor(d) || d < 0) throw UsageError("mnist1d: " + k + " must be a non-negative integer");
            return static_cast<int64_t>(d);
        };
        if (k == "num_samples") m.num_samples = integer();
        else if (k == "train_split") m.train_split = num();
        else if (k == "template_len") m.template_len = integer();
        else if (k == "padding") {
            size_t c = v.find(',');
            if (c == std::string::npos) throw UsageError("mnist1d: padding=LO,HI (two integers)");
            m.padding_lo = std::stoll(v.substr(0, c));
            m.padding_hi = std::stoll(v.substr(c + 1));
        } else if (k == "scale_coeff") m.scale_coeff = num();
        else if (k == "max_translation") m.max_translation = integer();
        else if (k == "corr_noise_scale") m.corr_noise_scale = num();
        else if (k == "iid_noise_scale") m.iid_noise_scale = num();
        else if (k == "shear_scale") m.shear_scale = num();
        else if (k == "shuffle_seq") m.shuffle_seq = v == "true" || v == "1";
        else if (k == "final_seq_length") m.final_seq_length = integer();
        else if (k == "seed") m.seed = static_cast<uint32_t>(integer());
        else
            throw UsageError("mnist1d: unknown key '" + k + "'; valid: num_samples, train_split, template_len, "
                             "padding, scale_coeff, max_translation, corr_noise_scale, iid_noise_scale, "
                             "shear_scale, shuffle_seq, final_seq_length, seed");
    }
    return m;
}

// `benchtop info`: the version, this CPU and the kernel paths (which it can execute, which is in
// use and why).
void print_info() {
    const CpuInfo& cpu = cpu_info();
    std::printf("benchtop %s\n", kVersion);
    std::printf("cpu: %s (%s)\n", cpu.model.c_str(), cpu.vendor.c_str());
    std::string features;
    const auto add = [&](bool has, const char* name) {
        if (has) features += features.empty() ? name : std::string(" ") + name;
    };
    add(cpu.avx2, "avx2");
    add(cpu.fma, "fma");
    add(cpu.avx512f, "avx512f");
    add(cpu.avx512bw, "avx512bw");
    add(cpu.avx512vl, "avx512vl");
    add(cpu.avx512dq, "avx512dq");
    std::printf("cpu features used: %s\n", features.empty() ? "(none)" : features.c_str());
    std::printf("kernel paths (BENCHTOP_ISA):\n");
    for (Isa isa : kAllIsas) {
        const std::string why = isa_unsupported_reason(isa);
        std::printf("  %-8s %-20s %s\n", isa_name(isa), kernels::table_for(isa).name,
                    why.empty() ? "available" : ("unavailable: " + why).c_str());
    }
    const char* env = std::getenv("BENCHTOP_ISA");
    const kernels::KernelTable& active = kernels::active();
    std::printf("kernel path in use: %s, %s (%s)\n", isa_name(active.isa), active.name,
                env && *env ? "set by BENCHTOP_ISA" : "the fastest this CPU executes");
}

// The --version text: the version, the CPU and the kernel path.
std::string version_text() {
    std::string path;
    try {
        path = isa_name(kernels::active_isa());
    } catch (const std::exception& e) {
        path = std::string("none (") + e.what() + ")";
    }
    return std::string("benchtop ") + kVersion + "\ncpu: " + cpu_info().model + "\nkernel path: " + path;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"benchtop: experiments on the science of deep learning, stored in SQLite"};
    app.set_version_flag("--version", version_text);
    app.require_subcommand(1);

    app.add_subcommand("list", "list the experiments and the claim each tests");
    app.add_subcommand("info", "print the CPU and the kernel paths (BENCHTOP_ISA) in use");

    std::string exp_name;
    auto* describe_cmd = app.add_subcommand("describe", "print an experiment's parameters");
    describe_cmd->add_option("experiment", exp_name, "experiment name")->required();

    RunArgs ra;
    auto* run_cmd = app.add_subcommand("run", "run an experiment (lists and ranges of values run a sweep)");
    run_cmd->add_option("experiment", ra.experiment, "experiment name")->required();
    run_cmd->add_option("overrides", ra.overrides, "key=value parameter overrides");
    run_cmd->add_option("--db", ra.db, "results database (SQLite)")->capture_default_str();
    run_cmd->add_option("--out", ra.out, "directory for figures (default benchtop-out/EXP)");
    run_cmd->add_option("--jobs,-j", ra.jobs, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
    run_cmd->add_option("--max-pack", ra.max_pack, "most runs stacked in one training pass (1: no stacking)")
        ->check(CLI::Range(int64_t{1}, int64_t{4096}));
    run_cmd->add_option("--shard", ra.shard,
                        "I/N: run only slice I (0-based) of N of the grid, whole packs dealt round-robin; merge the "
                        "shards' databases with `benchtop merge`");
    run_cmd->add_flag("--mpi", ra.mpi,
                      "under mpirun: rank 0 stores the results, the other ranks train the packs (docs/cluster.md)");
    run_cmd->add_flag("--quiet,-q", ra.quiet, "print nothing but errors");
    run_cmd->add_flag("--dry-run", ra.dry_run, "print the grid and a time estimate, run nothing");
    run_cmd->add_flag("--retry-failed", ra.retry_failed, "run again the runs stored as failed");
    run_cmd->add_flag("--no-figures", ra.no_figures, "do not draw figures");

    std::string db = "benchtop.db", show_exp, format = "csv", output;
    auto* show_cmd = app.add_subcommand("show", "a table of stored runs and their summary metrics");
    show_cmd->add_option("experiment", show_exp, "only this experiment");
    show_cmd->add_option("--db", db, "results database")->capture_default_str();

    auto* export_cmd = app.add_subcommand("export", "export stored runs, one row or object per run");
    export_cmd->add_option("experiment", show_exp, "only this experiment");
    export_cmd->add_option("--db", db, "results database")->capture_default_str();
    export_cmd->add_option("--format", format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
    export_cmd->add_option("--output,-o", output, "file to write (default: standard output)");

    std::string report_out;
    auto* report_cmd = app.add_subcommand("report", "redraw an experiment's figures from the database");
    report_cmd->add_option("experiment", exp_name, "experiment name")->required();
    report_cmd->add_option("--db", db, "results database")->capture_default_str();
    report_cmd->add_option("--out", report_out, "directory for figures (default benchtop-out/EXP)");

    std::string merge_out;
    std::vector<std::string> merge_in;
    auto* merge_cmd = app.add_subcommand(
        "merge", "merge the finished runs of databases (e.g. the shards of a sweep) into one; merging twice adds nothing");
    merge_cmd->add_option("output", merge_out, "database to merge into (created when missing)")->required();
    merge_cmd->add_option("inputs", merge_in, "databases to merge from")->required();

    ServeOptions so;
    auto* serve_cmd = app.add_subcommand(
        "serve", "a dashboard of the database in the browser: runs, curves, figures, live progress (read-only)");
    serve_cmd->add_option("--db", so.db, "results database")->capture_default_str();
    serve_cmd->add_option("--host", so.host, "address to listen on (127.0.0.1: this machine only)")
        ->capture_default_str();
    serve_cmd->add_option("--port", so.port, "TCP port (0: any free port)")->capture_default_str()->check(
        CLI::Range(0, 65535));

    std::string dataset, data_out;
    std::vector<std::string> data_kv;
    auto* data_cmd = app.add_subcommand("data", "generate a dataset into raw files");
    data_cmd->add_option("dataset", dataset, "dataset name (mnist1d)")->required()->check(CLI::IsMember({"mnist1d"}));
    data_cmd->add_option("args", data_kv, "generator arguments key=value");
    data_cmd->add_option("--out", data_out, "output directory")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "benchtop: %s (see benchtop --help)\n", e.what());
        return 2;
    }

    std::string command_line;
    for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
    try {
        // A bad BENCHTOP_ISA is reported before any work (and before anything is stored).
        kernels::init_from_environment();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "benchtop: %s\n", e.what());
        return 2;
    }
    try {
        if (app.got_subcommand("info")) {
            print_info();
        } else if (app.got_subcommand("list")) {
            size_t w = 0;
            for (const Experiment* e : all_experiments()) w = std::max(w, e->name().size());
            for (const Experiment* e : all_experiments())
                std::printf("%-*s  %s\n", static_cast<int>(w), e->name().c_str(), e->claim().c_str());
        } else if (app.got_subcommand("describe")) {
            std::printf("%s", describe(find_experiment(exp_name)).c_str());
        } else if (app.got_subcommand("run")) {
            return cmd_run(ra, command_line);
        } else if (app.got_subcommand("show") || app.got_subcommand("export")) {
            if (!show_exp.empty()) show_exp = find_experiment(show_exp).name();
            if (!std::filesystem::exists(db)) throw UsageError("no results database at " + db + " (see --db)");
            Store store(db, Store::Mode::ReadOnly);
            if (app.got_subcommand("show")) {
                std::vector<std::string> exps = show_exp.empty() ? store.experiments() : std::vector{show_exp};
                if (exps.empty()) std::printf("no runs stored in %s\n", db.c_str());
                for (const std::string& e : exps) {
                    std::vector<std::string> keys;
                    for (const Experiment* x : all_experiments())
                        if (x->name() == e) keys = x->show_keys();
                    std::printf("%s\n%s\n", e.c_str(), format_runs_table(store, e, keys).c_str());
                }
            } else {
                std::ofstream file;
                if (!output.empty()) {
                    file.open(output);
                    if (!file) fail("cannot write ", output);
                }
                std::ostream& os = output.empty() ? std::cout : file;
                if (format == "csv") export_csv(store, show_exp, os);
                else export_jsonl(store, show_exp, os);
            }
        } else if (app.got_subcommand("report")) {
            const Experiment& e = find_experiment(exp_name);
            if (!std::filesystem::exists(db)) throw UsageError("no results database at " + db + " (see --db)");
            std::string out = report_out.empty() ? "benchtop-out/" + e.name() : report_out;
            std::filesystem::create_directories(out);
            std::vector<std::string> files = e.draw(Store(db, Store::Mode::ReadOnly), out);
            if (files.empty()) std::printf("no finished runs of %s in %s\n", e.name().c_str(), db.c_str());
            for (const std::string& f : files) std::printf("figure: %s\n", f.c_str());
        } else if (app.got_subcommand("merge")) {
            for (const std::string& in : merge_in)
                if (!std::filesystem::exists(in)) throw UsageError("merge: no database at " + in);
            Store store(merge_out);
            WriterLock lock(merge_out);
            for (const std::string& in : merge_in) {
                MergeReport r = store.merge_from(in);
                std::printf("%s: %ld runs added, %ld already present, %ld replaced unfinished ones\n", in.c_str(),
                            static_cast<long>(r.added), static_cast<long>(r.already_present),
                            static_cast<long>(r.replaced));
            }
            std::printf("database: %s\n", merge_out.c_str());
        } else if (app.got_subcommand("serve")) {
            if (!std::filesystem::exists(so.db)) throw UsageError("no results database at " + so.db + " (see --db)");
            return serve_dashboard(so);
        } else if (app.got_subcommand("data")) {
            Mnist1dArgs args = parse_mnist1d_args(data_kv);
            Mnist1dData d = make_mnist1d(args);
            save_mnist1d(d, data_out);
            std::printf("wrote MNIST-1D (%ld train, %ld test, seed %u) to %s\n", static_cast<long>(d.x_train.size(0)),
                        static_cast<long>(d.x_test.size(0)), args.seed, data_out.c_str());
        }
    } catch (const UsageError& e) {
        std::fprintf(stderr, "benchtop: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "benchtop: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
