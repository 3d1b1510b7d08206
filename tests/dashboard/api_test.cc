// The dashboard's JSON API on a small store: experiments with counts per state, the runs table
// (varying keys, non-finite summaries as strings), a run's record and curves, sweeps' progress,
// figures served only when unchanged since stored, and 4xx answers naming what is wrong. The
// page and the HTTP server on top are tested in a browser (tests/dashboard/dashboard_test.mjs).
#include "benchtop/dashboard/api.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "benchtop/experiments/schema.h"
#include "benchtop/store/store.h"
#include "store/temp_dir.h"

namespace benchtop {
namespace {

Json api_get(const std::string& db, const std::string& path, int status = 200,
         const std::map<std::string, std::string>& query = {}) {
    const ApiResponse r = dashboard_api(db, path, query);
    EXPECT_EQ(r.status, status) << path << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    return Json::parse(r.body);
}

class DashboardApi : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = dir_.file("d.db");
        Store store(db_);
        const int64_t sweep = store.upsert_sweep("s1", "mnist1d-baselines", R"({"seed":[0,1]})", "benchtop run ...");
        auto start = [&](const std::string& key, const std::string& config, int64_t seed) {
            RunSpec s;
            s.experiment = "mnist1d-baselines";
            s.run_key = key;
            s.group_key = "g-" + config;
            s.seed = seed;
            s.config_json = config;
            s.sweep_id = sweep;
            s.worker = "local";
            return store.start_run(s);
        };
        const int64_t a = start("a", R"({"model":"mlp","lr":0.01,"seed":0})", 0);
        const int64_t b = start("b", R"({"model":"cnn","lr":0.01,"seed":1})", 1);
        start("c", R"({"model":"cnn","lr":0.01,"seed":2})", 2);  // stays running
        RunOutcome ok;
        ok.summaries = {{"test_acc", 0.75, 100}};
        ok.metrics = {{"test_acc", 0, 0.1}, {"test_acc", 50, 0.5}, {"loss", 0, 2.0}};
        store.finish_run(a, ok);
        RunOutcome nan;
        nan.state = RunState::Diverged;
        nan.summaries = {{"test_acc", std::numeric_limits<double>::quiet_NaN(), 10}};
        nan.metrics = {{"loss", 10, std::numeric_limits<double>::infinity()}};
        store.finish_run(b, nan);
        figure_ = dir_.file("fig.svg");
        std::ofstream(figure_) << "<svg xmlns='http://www.w3.org/2000/svg'/>";
        store.add_artifact(std::nullopt, "mnist1d-baselines", "fig.svg", "svg", figure_);
        a_ = a;
    }
    test::TempDir dir_;
    std::string db_, figure_;
    int64_t a_ = 0;
};

TEST_F(DashboardApi, ExperimentsWithCountsPerState) {
    const Json j = api_get(db_, "/api/experiments");
    ASSERT_EQ(j["experiments"].size(), 1u);
    const Json& e = j["experiments"][0];
    EXPECT_EQ(e["name"], "mnist1d-baselines");
    EXPECT_EQ(e["runs"], 3);
    EXPECT_EQ(e["states"]["complete"], 1);
    EXPECT_EQ(e["states"]["diverged"], 1);
    EXPECT_EQ(e["states"]["running"], 1);
    EXPECT_FALSE(e["claim"].get<std::string>().empty());
}

TEST_F(DashboardApi, RunsTable) {
    const Json j = api_get(db_, "/api/experiments/mnist1d-baselines/runs");
    ASSERT_EQ(j["runs"].size(), 3u);
    EXPECT_EQ(j["config_keys"], Json({"lr", "model", "seed"}));
    EXPECT_EQ(j["varying"], Json({"model", "seed"}));  // lr is the same everywhere
    EXPECT_EQ(j["summary_keys"], Json({"test_acc"}));
    EXPECT_EQ(j["runs"][0]["summaries"]["test_acc"], 0.75);
    EXPECT_EQ(j["runs"][1]["summaries"]["test_acc"], "nan");
    EXPECT_EQ(j["runs"][1]["state"], "diverged");
    EXPECT_TRUE(j["runs"][2]["wall_s"].is_null());  // still running
    EXPECT_EQ(j["runs"][0]["config"]["model"], "mlp");
}

TEST_F(DashboardApi, RunRecordAndCurves) {
    const Json r = api_get(db_, "/api/runs/" + std::to_string(a_));
    EXPECT_EQ(r["run"]["experiment"], "mnist1d-baselines");
    EXPECT_EQ(r["run"]["worker"], "local");
    EXPECT_FALSE(r["run"]["cpu"].get<std::string>().empty());
    EXPECT_FALSE(r["run"]["kernel_path"].get<std::string>().empty());
    EXPECT_EQ(r["sweep"]["command"], "benchtop run ...");
    EXPECT_EQ(r["metric_keys"], Json({"loss", "test_acc"}));
    const Json m = api_get(db_, "/api/runs/" + std::to_string(a_) + "/metrics", 200, {{"key", "test_acc"}});
    EXPECT_EQ(m["metrics"]["test_acc"]["steps"], Json({0, 50}));
    EXPECT_EQ(m["metrics"]["test_acc"]["values"], Json({0.1, 0.5}));
    EXPECT_FALSE(m["metrics"].contains("loss"));
    const Json inf = api_get(db_, "/api/runs/2/metrics");
    EXPECT_EQ(inf["metrics"]["loss"]["values"][0], "inf");
}

TEST_F(DashboardApi, ProgressOfSweeps) {
    const Json p = api_get(db_, "/api/experiments/mnist1d-baselines/progress");
    ASSERT_EQ(p["sweeps"].size(), 1u);
    const Json& s = p["sweeps"][0];
    EXPECT_EQ(s["stored"], 3);
    EXPECT_EQ(s["states"]["running"], 1);
    // The grid of seed=0,1 with the experiment's defaults (4 models x 2 feature orders), as
    // `benchtop run mnist1d-baselines seed=0,1 --dry-run` counts it: 16 runs.
    EXPECT_EQ(s["grid"], 16);
}

TEST_F(DashboardApi, FiguresOnlyWhileUnchanged) {
    const Json f = api_get(db_, "/api/experiments/mnist1d-baselines/figures");
    ASSERT_EQ(f["figures"].size(), 1u);
    const std::string url = f["figures"][0]["url"];
    ApiResponse r = dashboard_api(db_, url, {});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "image/svg+xml");
    EXPECT_EQ(r.body, "<svg xmlns='http://www.w3.org/2000/svg'/>");
    std::ofstream(figure_) << "<svg>replaced</svg>";
    r = dashboard_api(db_, url, {});
    EXPECT_EQ(r.status, 410);
    EXPECT_NE(r.body.find("changed since it was stored"), std::string::npos) << r.body;
}

TEST_F(DashboardApi, BadRequestsNameWhatIsWrong) {
    auto error = [&](const std::string& path, int status, const std::map<std::string, std::string>& q = {}) {
        return api_get(db_, path, status, q)["error"].get<std::string>();
    };
    EXPECT_EQ(error("/api/runs/999", 404), "no run with id 999");
    EXPECT_EQ(error("/api/runs/x1", 400), "run id 'x1' is not a positive integer");
    EXPECT_EQ(error("/api/runs/-3", 400), "run id '-3' is not a positive integer");
    EXPECT_EQ(error("/api/experiments/nope/runs", 404), "no experiment 'nope' in this database");
    EXPECT_NE(error("/api/runs/1/metrics", 404, {{"key", "nope"}}).find("no metric 'nope'"), std::string::npos);
    EXPECT_NE(error("/api/runs/1", 400, {{"key", "loss"}}).find("belongs to /api/runs/ID/metrics"), std::string::npos);
    EXPECT_NE(error("/api/runs/1", 400, {{"sort", "x"}}).find("unknown query parameter 'sort'"), std::string::npos);
    EXPECT_NE(error("/api/whatever", 404).find("no such API route"), std::string::npos);
    EXPECT_EQ(error("/api/artifacts/77", 404), "no artifact with id 77");
}

TEST(DashboardApiStore, MissingOrForeignDatabaseIsAnError) {
    test::TempDir dir;
    const ApiResponse r = dashboard_api(dir.file("none.db"), "/api/experiments", {});
    EXPECT_EQ(r.status, 500);
    EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));  // read-only: never created
}

}  // namespace
}  // namespace benchtop
