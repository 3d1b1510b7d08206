#include "benchtop/sweep/grid.h"

#include <cmath>
#include <set>

namespace benchtop {
namespace {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(sep, start);
        out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

std::vector<Json> parse_range(const ParamSpec& spec, const std::string& item, size_t dots) {
    std::string lo_text = item.substr(0, dots);
    std::vector<std::string> rest = split(std::string_view(item).substr(dots + 2), ':');
    auto bad = [&](const std::string& why) -> std::vector<Json> {
        throw UsageError("parameter " + spec.name + ": bad range '" + item + "': " + why +
                         " (write a..b for integers, or a..b:lin|log|geom:n)");
    };
    if (spec.type != ParamType::Int && spec.type != ParamType::Real)
        return bad("ranges need a numeric parameter; " + spec.name + " is " + to_string(spec.type));
    Json lo = Schema::parse_scalar(spec, lo_text);
    Json hi = Schema::parse_scalar(spec, rest[0]);
    double a = lo.get<double>(), b = hi.get<double>();
    if (b < a) return bad("the upper end is below the lower end");
    std::vector<Json> values;
    if (rest.size() == 1) {
        if (spec.type != ParamType::Int) return bad("a real range needs a spacing and a count");
        int64_t ia = lo.get<int64_t>(), ib = hi.get<int64_t>();
        if (ib - ia > 1000000) return bad("more than a million values");
        for (int64_t v = ia; v <= ib; ++v) values.emplace_back(v);
        return values;
    }
    if (rest.size() != 3) return bad("expected a..b:spacing:n");
    const std::string& kind = rest[1];
    char* end = nullptr;
    long n = std::strtol(rest[2].c_str(), &end, 10);
    if (!end || *end != '\0' || n < 1 || n > 1000000) return bad("the count must be an integer in [1, 1000000]");
    bool geometric = kind == "log" || kind == "geom";
    if (!geometric && kind != "lin") return bad("unknown spacing '" + kind + "'");
    if (geometric && a <= 0) return bad("log/geom spacing needs a positive lower end");
    std::set<int64_t> seen;
    for (long i = 0; i < n; ++i) {
        double f = n == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(n - 1);
        double v = geometric ? std::exp(std::log(a) + f * (std::log(b) - std::log(a))) : a + f * (b - a);
        if (i == 0) v = a;
        if (i == n - 1) v = b;
        if (spec.type == ParamType::Int) {
            auto iv = static_cast<int64_t>(std::llround(v));
            if (seen.insert(iv).second) values.emplace_back(iv);
        } else {
            values.emplace_back(v);
        }
    }
    for (const Json& v : values) Schema::validate(spec, v);
    return values;
}

}  // namespace

std::vector<Json> parse_values(const ParamSpec& spec, std::string_view text) {
    if (text.empty()) throw UsageError("parameter " + spec.name + ": empty value; expected " + Schema::allowed(spec));
    // Text parameters are taken whole (paths may contain commas or dots).
    if (spec.type == ParamType::Text) return {Json(std::string(text))};
    std::vector<Json> values;
    for (const std::string& item : split(text, ',')) {
        size_t dots = item.find("..");
        if (dots != std::string::npos) {
            for (Json& v : parse_range(spec, item, dots)) values.push_back(std::move(v));
        } else {
            values.push_back(Schema::parse_scalar(spec, item));
        }
    }
    return values;
}

std::vector<Axis> parse_overrides(const Schema& schema, const std::vector<std::string>& tokens) {
    std::vector<Axis> axes;
    for (const std::string& tok : tokens) {
        size_t eq = tok.find('=');
        if (eq == std::string::npos || eq == 0)
            throw UsageError("expected key=value, got '" + tok + "'");
        std::string key = tok.substr(0, eq);
        const ParamSpec& spec = schema.find(key);
        for (const Axis& a : axes)
            if (a.key == key) throw UsageError("parameter " + key + " given twice");
        axes.push_back({key, parse_values(spec, std::string_view(tok).substr(eq + 1))});
    }
    return axes;
}

namespace {
std::vector<Json> values_for(const ParamSpec& p, const std::vector<Axis>& overrides) {
    for (const Axis& a : overrides)
        if (a.key == p.name) return a.values;
    if (p.default_value.is_array()) return p.default_value.get<std::vector<Json>>();
    return {p.default_value};
}
}  // namespace

std::vector<Json> expand_grid(const Schema& schema, const std::vector<Axis>& overrides) {
    std::vector<Json> grid{Json::object()};
    for (const ParamSpec& p : schema.params()) {
        std::vector<Json> values = values_for(p, overrides);
        std::vector<Json> next;
        next.reserve(grid.size() * values.size());
        for (const Json& cfg : grid)
            for (const Json& v : values) {
                Json c = cfg;
                c[p.name] = v;
                next.push_back(std::move(c));
            }
        grid = std::move(next);
    }
    return grid;
}

std::vector<std::string> swept_keys(const Schema& schema, const std::vector<Axis>& overrides) {
    std::vector<std::string> keys;
    for (const ParamSpec& p : schema.params())
        if (values_for(p, overrides).size() > 1) keys.push_back(p.name);
    return keys;
}

}  // namespace benchtop
