// The dashboard's data: answers to GET requests on /api/..., as JSON, from a results database
// opened read-only for each request (so a sweep may write it meanwhile and every answer is one
// consistent snapshot). The HTTP server (dashboard/http.h) and the page (web/) sit on top; this
// part has no network code and is unit-tested on its own.
//
//   GET /api/experiments                     experiments with run counts per state
//   GET /api/experiments/NAME/runs           runs: config, summaries, state (the runs table)
//   GET /api/experiments/NAME/progress       the sweeps: grid size and runs per state
//   GET /api/experiments/NAME/figures        the stored figures of the experiment
//   GET /api/runs/ID                         a run's full record
//   GET /api/runs/ID/metrics[?key=K]         learning curves: {key: {steps, values}}
//   GET /api/artifacts/ID                    a stored figure's file (SVG or PNG), if unchanged
//
// Non-finite numbers are the strings "nan", "inf" and "-inf" (as in `benchtop export`).
// Unknown routes, runs, experiments and artifacts are 404, malformed ids and parameters 400,
// each with {"error": "..."} naming what is wrong.
#pragma once

#include <map>
#include <string>

namespace benchtop {

struct ApiResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

ApiResponse dashboard_api(const std::string& db_path, const std::string& path,
                          const std::map<std::string, std::string>& query);

}  // namespace benchtop
