// `benchtop serve`: the dashboard over a results database, on a local HTTP server
// (cpp-httplib). It serves the page (web/, with uPlot, compiled into the binary: no network
// access at run time) and the read-only JSON API of dashboard/api.h; every other method than
// GET is refused, and nothing it serves can write the database.
//
//   ServeOptions o; o.db = "benchtop.db"; o.port = 8050;
//   return serve_dashboard(o);   // until Ctrl-C or SIGTERM
#pragma once

#include <string>

namespace benchtop {

struct ServeOptions {
    std::string db = "benchtop.db";
    std::string host = "127.0.0.1";
    int port = 8050;  // 0: any free port (the one chosen is printed)
};

// Serves until SIGINT or SIGTERM; the exit status (0, or 1 when the port cannot be bound).
int serve_dashboard(const ServeOptions& options);

}  // namespace benchtop
