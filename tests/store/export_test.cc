// Tests of the exports and the `benchtop show` table, checked literally on a tiny store: three
// runs of one experiment (complete, diverged with non-finite summaries, still running) with
// differing config keys and values that need CSV quoting, plus one run of another experiment.
#include "benchtop/store/export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "benchtop/core/version.h"
#include "benchtop/kernels/dispatch.h"
#include "benchtop/store/sqlite.h"
#include "store/temp_dir.h"

namespace benchtop {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

RunSpec spec(const std::string& experiment,
             const std::string& key,
             int64_t seed,
             const std::string& config) {
    RunSpec s;
    s.experiment = experiment;
    s.run_key = key;
    s.seed = seed;
    s.config_json = config;
    return s;
}

RunOutcome outcome(RunState state, double wall_s, std::vector<Summary> summaries) {
    RunOutcome o;
    o.state = state;
    o.wall_s = wall_s;
    o.summaries = std::move(summaries);
    return o;
}

// The provenance every run records: this CPU's model and the active kernel path.
std::string cpu() {
    return cpu_info().model;
}
std::string path_name() {
    return isa_name(kernels::active_isa());
}

// Fills `path` with the tiny store and pins its times (start 1000, finish 1010).
void make_tiny_store(const std::string& path) {
    {
        Store store(path);
        store.finish_run(
            store.start_run(spec("exp", "a", 1, R"({"lr":0.001,"model":"mlp, wide"})")),
            outcome(RunState::Complete, 1.5, {{"loss", 0.25}, {"acc", kNaN}}));
        store.finish_run(
            store.start_run(spec("exp", "b", 2, R"({"lr":0.01,"depth":2,"note":"say \"hi\""})")),
            outcome(RunState::Diverged, 2, {{"loss", kInf}}));
        store.start_run(spec("exp", "c", 3, R"({"lr":0.1,"model":"cnn"})"));
        store.finish_run(store.start_run(spec("other", "z", 9, R"({"k":1})")),
                         outcome(RunState::Complete, 1, {{"q", 1.0}}));
    }
    sql::Db db(path, sql::Db::Open::ReadWriteCreate);
    db.exec(
        "UPDATE runs SET started_at = 1000; "
        "UPDATE runs SET finished_at = 1010 WHERE finished_at IS NOT NULL");
}

TEST(ExportCsv, TinyStoreLiterally) {
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    make_tiny_store(path);
    Store store(path, Store::Mode::ReadOnly);
    std::ostringstream os;
    export_csv(store, "exp", os);
    ASSERT_EQ(cpu().find_first_of(",\"\r\n"), std::string::npos) << "the test assumes no quoting";
    std::string p = ",";  // appended step by step: GCC 12 warns (-Wrestrict) on "," + string
    p.append(cpu()).append(",").append(path_name()).append(",");
    EXPECT_EQ(os.str(),
              "run_id,experiment,run_key,depth,lr,model,note,seed,state,wall_s,cpu,kernel_path,acc,"
              "loss\n"
              "1,exp,a,,0.001,\"mlp, wide\",,1,complete,1.5" +
                  p +
                  "nan,0.25\n"
                  "2,exp,b,2,0.01,,\"say \"\"hi\"\"\",2,diverged,2" +
                  p +
                  ",inf\n"
                  "3,exp,c,,0.1,cnn,,3,running," +
                  p + ",\n");

    std::ostringstream other;
    export_csv(store, "other", other);
    EXPECT_EQ(other.str(),
              "run_id,experiment,run_key,k,seed,state,wall_s,cpu,kernel_path,q\n"
              "4,other,z,1,9,complete,1" +
                  p + "1\n");

    std::ostringstream none;
    export_csv(store, "nothing", none);
    EXPECT_EQ(none.str(), "run_id,experiment,run_key,seed,state,wall_s,cpu,kernel_path\n");
}

TEST(ExportJsonl, TinyStoreLiterally) {
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    make_tiny_store(path);
    Store store(path, Store::Mode::ReadOnly);
    std::ostringstream os;
    export_jsonl(store, "exp", os);
    const std::string v = std::string("\"version\":\"") + kVersion + "\",\"cpu\":\"" + cpu() +
                          "\",\"kernel_path\":\"" + path_name() + "\"";
    EXPECT_EQ(
        os.str(),
        R"({"run_id":1,"experiment":"exp","run_key":"a","config":{"lr":0.001,"model":"mlp, wide"},)"
        R"("seed":1,"state":"complete","wall_s":1.5,"started_at":1000,"finished_at":1010,)" +
            v + R"(,"summaries":{"acc":null,"loss":0.25}})" + "\n" +
            R"({"run_id":2,"experiment":"exp","run_key":"b",)"
            R"("config":{"lr":0.01,"depth":2,"note":"say \"hi\""},)"
            R"("seed":2,"state":"diverged","wall_s":2.0,"started_at":1000,"finished_at":1010,)" +
            v + R"(,"summaries":{"loss":null}})" + "\n" +
            R"({"run_id":3,"experiment":"exp","run_key":"c","config":{"lr":0.1,"model":"cnn"},)"
            R"("seed":3,"state":"running","wall_s":null,"started_at":1000,"finished_at":null,)" +
            v + R"(,"summaries":{}})" + "\n");

    std::ostringstream all;
    export_jsonl(store, "", all);
    const std::string text = all.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
}

TEST(ExportTable, TinyStoreLiterally) {
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    make_tiny_store(path);
    Store store(path, Store::Mode::ReadOnly);
    // Varying keys: all four differ between the runs (or are missing from some).
    EXPECT_EQ(format_runs_table(store, "exp"),
              "id  state     depth     lr  model      note      acc  loss  wall_s\n"
              "--  --------  -----  -----  ---------  --------  ---  ----  ------\n"
              " 1  complete      -  0.001  mlp, wide  -         nan  0.25     1.5\n"
              " 2  diverged      2   0.01  -          say \"hi\"    -   inf     2.0\n"
              " 3  running       -    0.1  cnn        -           -     -       -\n"
              "ran on: " +
                  cpu() + ", kernel path " + path_name() + ": 3 runs\n");
    EXPECT_EQ(format_runs_table(store, "exp", {"lr"}),
              "id  state        lr  acc  loss  wall_s\n"
              "--  --------  -----  ---  ----  ------\n"
              " 1  complete  0.001  nan  0.25     1.5\n"
              " 2  diverged   0.01    -   inf     2.0\n"
              " 3  running     0.1    -     -       -\n"
              "ran on: " +
                  cpu() + ", kernel path " + path_name() + ": 3 runs\n");
    // One run: nothing varies; 4 significant digits for summaries.
    EXPECT_EQ(format_runs_table(store, "other"),
              "id  state     q  wall_s\n"
              "--  --------  -  ------\n"
              " 4  complete  1     1.0\n"
              "ran on: " +
                  cpu() + ", kernel path " + path_name() + ": 1 run\n");
    EXPECT_EQ(format_runs_table(store, "nothing"), "no runs stored for experiment nothing\n");
}

TEST(ExportTable, SignificantDigitsAndEmptyStore) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    EXPECT_EQ(format_runs_table(store, ""), "no runs stored\n");
    store.finish_run(store.start_run(spec("e", "a", 0, "{}")),
                     outcome(RunState::Complete, 123.456,
                             {{"loss", 0.123456789}, {"n", 123456.0}, {"x", 123456.5}}));
    // Integral values (counts) print in full, others to 4 significant digits.
    EXPECT_EQ(format_runs_table(store, "e"),
              "id  state       loss       n          x  wall_s\n"
              "--  --------  ------  ------  ---------  ------\n"
              " 1  complete  0.1235  123456  1.235e+05   123.5\n"
              "ran on: " +
                  cpu() + ", kernel path " + path_name() + ": 1 run\n");
}

}  // namespace
}  // namespace benchtop
