#include "benchtop/dashboard/http.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <thread>

#include "benchtop/dashboard/api.h"
#include "benchtop/dashboard/web_assets.h"
#include "benchtop/experiments/schema.h"
#include "benchtop/store/store.h"

namespace benchtop {

namespace {

// Headers of every answer: no caching of live data, no sniffing, and a page that may load
// only what this server serves.
void secure(httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                   "object-src 'none'; frame-ancestors 'none'");
}

void error_page(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(Json{{"error", message}}.dump(), "application/json");
    secure(res);
}

volatile std::sig_atomic_t g_stop_serving = 0;

extern "C" void on_stop_signal(int) { g_stop_serving = 1; }

}  // namespace

int serve_dashboard(const ServeOptions& o) {
    // Checked once before serving: a missing or foreign file is a usage error now, not a 500 later.
    { const Store check(o.db, Store::Mode::ReadOnly); }

    httplib::Server server;
    const std::string db = o.db;
    server.Get(R"(/api/.*)", [db](const httplib::Request& req, httplib::Response& res) {
        std::map<std::string, std::string> query;
        for (const auto& [k, v] : req.params) {
            if (query.count(k)) return error_page(res, 400, "query parameter '" + k + "' given twice");
            query[k] = v;
        }
        ApiResponse a = dashboard_api(db, req.path, query);
        res.status = a.status;
        res.set_content(std::move(a.body), a.content_type);
        secure(res);
    });
    for (const WebAsset& asset : web_assets()) {
        const std::string content(reinterpret_cast<const char*>(asset.data), asset.size);
        std::string type = asset.content_type;
        if (type.rfind("text/", 0) == 0) type += "; charset=utf-8";
        auto handler = [content, type](const httplib::Request&, httplib::Response& res) {
            res.set_content(content, type);
            secure(res);
        };
        server.Get(asset.path, handler);
        if (std::string(asset.path) == "/index.html") server.Get("/", handler);
    }
    auto refuse = [](const httplib::Request& req, httplib::Response& res) {
        error_page(res, 405, req.method + " " + req.path + ": the dashboard is read-only; only GET is served");
    };
    server.Post(R"(/.*)", refuse);
    server.Put(R"(/.*)", refuse);
    server.Delete(R"(/.*)", refuse);
    server.Patch(R"(/.*)", refuse);
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404 && res.body.empty()) error_page(res, 404, "no such page: " + req.path);
    });

    int port = o.port;
    if (port == 0) {
        port = server.bind_to_any_port(o.host);
    } else if (!server.bind_to_port(o.host, port)) {
        port = -1;
    }
    if (port < 0) {
        std::fprintf(stderr, "benchtop: cannot listen on %s:%d (in use? try --port 0 for any free port)\n",
                     o.host.c_str(), o.port);
        return 1;
    }

    // Ctrl-C and SIGTERM set a flag (whichever thread they reach: the BLAS library starts its own
    // threads); a watcher thread stops the server.
    g_stop_serving = 0;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    std::atomic<bool> done{false};
    std::thread watcher([&] {
        while (!done.load() && !g_stop_serving) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        server.stop();
    });
    std::printf("serving %s (read-only) at http://%s:%d/  (Ctrl-C stops)\n", o.db.c_str(), o.host.c_str(), port);
    std::fflush(stdout);
    server.listen_after_bind();
    done = true;
    watcher.join();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return 0;
}

}  // namespace benchtop
