// The Python module `benchtop` (pybind11): MNIST-1D as NumPy arrays, the experiments and their
// parameters, running an experiment into a results store (the same grid grammar, store, resume and
// bit-identical results as `benchtop run`), and reading the store back as lists of dicts.
//
//   import benchtop
//   d = benchtop.mnist1d(num_samples=4000, seed=42)           # dict of NumPy arrays
//   benchtop.run("double-descent", db="dd.db", width=[8, 32, 100], seed="0..2")
//   rows = benchtop.runs("dd.db", "double-descent")           # list of dicts (pandas.DataFrame(rows))
//   steps, values = benchtop.metrics("dd.db", rows[0]["run_id"])["test_error"]
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "benchtop/core/version.h"
#include "benchtop/data/mnist1d.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/store/store.h"
#include "benchtop/sweep/grid.h"
#include "benchtop/sweep/runner.h"
#include "benchtop/sweep/shard.h"

namespace py = pybind11;
using namespace benchtop;

namespace {

py::array to_numpy(const Tensor& t) {
    std::vector<py::ssize_t> shape;
    for (int i = 0; i < t.rank(); ++i) shape.push_back(static_cast<py::ssize_t>(t.size(i)));
    switch (t.dtype()) {
        case DType::F64: {
            py::array_t<double> a(shape);
            std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
            return std::move(a);
        }
        case DType::F32: {
            py::array_t<float> a(shape);
            std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
            return std::move(a);
        }
        case DType::I32: {
            py::array_t<int32_t> a(shape);
            std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
            return std::move(a);
        }
    }
    throw Error("to_numpy: unsupported dtype");
}

py::object json_to_py(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

// A keyword value as the `key=value` text of the command line: lists become a,b,c.
std::string override_text(const py::handle& v) {
    if (py::isinstance<py::bool_>(v)) return v.cast<bool>() ? "true" : "false";
    if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        std::string s;
        for (const py::handle& x : v) s += (s.empty() ? "" : ",") + override_text(x);
        return s;
    }
    return py::str(v).cast<std::string>();
}

py::dict mnist1d(const py::kwargs& kw) {
    Mnist1dArgs a;
    for (const auto& [k, v] : kw) {
        const std::string key = k.cast<std::string>();
        if (key == "num_samples") a.num_samples = v.cast<int64_t>();
        else if (key == "train_split") a.train_split = v.cast<double>();
        else if (key == "template_len") a.template_len = v.cast<int64_t>();
        else if (key == "padding") {
            auto p = v.cast<std::pair<int64_t, int64_t>>();
            a.padding_lo = p.first;
            a.padding_hi = p.second;
        } else if (key == "scale_coeff") a.scale_coeff = v.cast<double>();
        else if (key == "max_translation") a.max_translation = v.cast<int64_t>();
        else if (key == "corr_noise_scale") a.corr_noise_scale = v.cast<double>();
        else if (key == "iid_noise_scale") a.iid_noise_scale = v.cast<double>();
        else if (key == "shear_scale") a.shear_scale = v.cast<double>();
        else if (key == "shuffle_seq") a.shuffle_seq = v.cast<bool>();
        else if (key == "final_seq_length") a.final_seq_length = v.cast<int64_t>();
        else if (key == "seed") a.seed = v.cast<uint32_t>();
        else
            throw py::type_error("mnist1d: unknown argument '" + key +
                                 "'; valid: num_samples, train_split, template_len, padding, scale_coeff, "
                                 "max_translation, corr_noise_scale, iid_noise_scale, shear_scale, shuffle_seq, "
                                 "final_seq_length, seed");
    }
    Mnist1dData d;
    {
        py::gil_scoped_release release;
        d = make_mnist1d(a);
    }
    py::dict out;
    out["x"] = to_numpy(d.x_train);
    out["y"] = to_numpy(d.y_train);
    out["x_test"] = to_numpy(d.x_test);
    out["y_test"] = to_numpy(d.y_test);
    out["t"] = to_numpy(d.t);
    return out;
}

py::list experiments() {
    py::list out;
    for (const Experiment* e : all_experiments()) {
        py::dict d;
        d["name"] = e->name();
        d["claim"] = e->claim();
        d["reference"] = e->reference();
        out.append(d);
    }
    return out;
}

py::list describe(const std::string& name) {
    py::list out;
    for (const ParamSpec& p : find_experiment(name).schema().params()) {
        py::dict d;
        d["name"] = p.name;
        d["type"] = to_string(p.type);
        d["default"] = json_to_py(p.default_value.dump());
        d["allowed"] = Schema::allowed(p);
        d["help"] = p.help;
        out.append(d);
    }
    return out;
}

py::dict run(const std::string& name, const std::string& db, int jobs, int64_t max_pack, const std::string& shard,
             bool figures, const std::string& out, const py::kwargs& params) {
    const Experiment& exp = find_experiment(name);
    std::vector<std::string> overrides;
    for (const auto& [k, v] : params) overrides.push_back(k.cast<std::string>() + "=" + override_text(v));
    std::vector<Axis> axes = parse_overrides(exp.schema(), overrides);
    std::vector<Json> grid = expand_grid(exp.schema(), axes);
    for (const Json& c : grid) exp.check(c);
    if (!shard.empty()) grid = shard_grid(exp, grid, parse_shard(shard), max_pack);
    RunnerOptions opt;
    opt.jobs = jobs > 0 ? jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    opt.max_pack = max_pack;
    opt.progress = Progress::Mode::Quiet;
    opt.command_line = "python: benchtop.run(" + name + ")";
    Json spec = Json::object();
    for (const Axis& ax : axes) spec[ax.key] = ax.values;
    opt.sweep_spec = spec.dump();
    Store store(db);
    std::atomic<bool> stop{false};
    RunnerReport rep;
    {
        py::gil_scoped_release release;
        rep = run_grid(exp, grid, store, opt, stop);
    }
    std::vector<std::string> files;
    if (figures) {
        const std::string dir = out.empty() ? "benchtop-out/" + exp.name() : out;
        files = draw_and_record(exp, store, dir);
    }
    py::dict r;
    r["total"] = rep.total;
    r["skipped"] = rep.skipped;
    r["complete"] = rep.complete;
    r["diverged"] = rep.diverged;
    r["failed"] = rep.failed;
    r["interrupted"] = rep.interrupted;
    r["wall_s"] = rep.wall_s;
    r["errors"] = rep.errors;
    r["figures"] = files;
    return r;
}

// The results database at `db`, read-only; a missing file is a UsageError (ValueError).
Store open_for_reading(const std::string& db) {
    if (!std::filesystem::exists(db)) throw UsageError("no results database at " + db);
    return Store(db, Store::Mode::ReadOnly);
}

py::list runs(const std::string& db, const std::string& experiment) {
    Store store = open_for_reading(db);
    py::list out;
    for (const RunRow& r : store.runs(experiment)) {
        py::dict d;
        d["run_id"] = r.run_id;
        d["run_key"] = r.run_key;
        d["group_key"] = r.group_key;
        d["experiment"] = r.experiment;
        d["seed"] = r.seed;
        d["state"] = std::string(to_string(r.state));
        d["config"] = json_to_py(r.config_json);
        d["summaries"] = r.summaries;
        d["version"] = r.version;
        d["wall_s"] = r.wall_s;
        d["cpu"] = r.cpu;
        d["kernel_path"] = r.kernel_path;
        out.append(d);
    }
    return out;
}

py::dict metrics(const std::string& db, int64_t run_id, const std::string& key) {
    Store store = open_for_reading(db);
    std::map<std::string, std::pair<std::vector<int64_t>, std::vector<double>>> by_key;
    for (const Metric& m : store.metrics(run_id, key)) {
        by_key[m.key].first.push_back(m.step);
        by_key[m.key].second.push_back(m.value);
    }
    py::dict out;
    for (auto& [k, sv] : by_key) out[py::str(k)] = py::make_tuple(py::array(py::cast(sv.first)), py::array(py::cast(sv.second)));
    return out;
}

}  // namespace

PYBIND11_MODULE(benchtop, m) {
    m.doc() = "benchtop: experiments on the science of deep learning, stored in SQLite";
    m.attr("__version__") = kVersion;
    // pybind11 tries translators newest first: the derived UsageError after its base Error.
    py::register_exception<Error>(m, "Error", PyExc_RuntimeError);
    py::register_exception<UsageError>(m, "UsageError", PyExc_ValueError);
    m.def("mnist1d", &mnist1d,
          "MNIST-1D from the reference recipe as NumPy arrays: dict with x, y (train), x_test, y_test, t. "
          "Keyword arguments as `benchtop data mnist1d` (num_samples, train_split, seed, ...).");
    m.def("experiments", &experiments, "The experiments: list of dicts with name, claim, reference.");
    m.def("describe", &describe, py::arg("experiment"),
          "An experiment's parameters: list of dicts with name, type, default, allowed, help.");
    m.def("run", &run, py::arg("experiment"), py::kw_only(), py::arg("db") = "benchtop.db", py::arg("jobs") = 0,
          py::arg("max_pack") = 0, py::arg("shard") = "", py::arg("figures") = true, py::arg("out") = "",
          "Runs an experiment like `benchtop run`: every other keyword is a parameter; a list or a range text "
          "('0..4', '2..300:geom:19') sweeps it. Finished runs in `db` are skipped (resume). Returns the counts, "
          "the wall time, the errors and the figure files.");
    m.def("runs", &runs, py::arg("db") = "benchtop.db", py::arg("experiment") = "",
          "Stored runs as a list of dicts (run_id, run_key, group_key, experiment, seed, state, config, summaries, "
          "version, wall_s, cpu, kernel_path); pandas.DataFrame(rows) makes a table.");
    m.def("metrics", &metrics, py::arg("db"), py::arg("run_id"), py::arg("key") = "",
          "A run's learning curves: dict key -> (steps, values) NumPy arrays.");
}
