#include "benchtop/experiments/schema.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace benchtop {

const char* to_string(ParamType t) {
    switch (t) {
        case ParamType::Int: return "int";
        case ParamType::Real: return "real";
        case ParamType::Bool: return "bool";
        case ParamType::Choice: return "choice";
        case ParamType::Text: return "text";
    }
    return "?";
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string format_value(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_number()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.10g", v.get<double>());
        return buf;
    }
    return v.dump();
}

Schema& Schema::add(ParamSpec spec) {
    BENCHTOP_CHECK(!contains(spec.name), "schema: parameter ", spec.name, " declared twice");
    if (spec.default_value.is_array()) {
        for (const Json& v : spec.default_value) validate(spec, v);
    } else {
        validate(spec, spec.default_value);
    }
    params_.push_back(std::move(spec));
    return *this;
}

Schema& Schema::integer(std::string name, int64_t def, std::optional<double> min,
                        std::optional<double> max, std::string help) {
    return add({.name = std::move(name), .type = ParamType::Int, .default_value = def, .min = min,
                .max = max, .help = std::move(help)});
}

Schema& Schema::real(std::string name, double def, std::optional<double> min, std::optional<double> max,
                     std::string help, bool min_exclusive) {
    return add({.name = std::move(name), .type = ParamType::Real, .default_value = def, .min = min,
                .max = max, .min_exclusive = min_exclusive, .help = std::move(help)});
}

Schema& Schema::boolean(std::string name, Json def, std::string help) {
    return add({.name = std::move(name), .type = ParamType::Bool, .default_value = std::move(def),
                .help = std::move(help)});
}

Schema& Schema::choice(std::string name, std::vector<std::string> choices, Json def, std::string help) {
    return add({.name = std::move(name), .type = ParamType::Choice, .default_value = std::move(def),
                .choices = std::move(choices), .help = std::move(help)});
}

Schema& Schema::text(std::string name, std::string def, std::string help) {
    return add({.name = std::move(name), .type = ParamType::Text, .default_value = std::move(def),
                .help = std::move(help)});
}

bool Schema::contains(std::string_view key) const {
    return std::any_of(params_.begin(), params_.end(), [&](const ParamSpec& p) { return p.name == key; });
}

const ParamSpec& Schema::find(std::string_view key) const {
    for (const ParamSpec& p : params_)
        if (p.name == key) return p;
    std::string names, nearest;
    size_t best = std::numeric_limits<size_t>::max();
    for (const ParamSpec& p : params_) {
        names += (names.empty() ? "" : ", ") + p.name;
        size_t d = edit_distance(key, p.name);
        if (d < best) best = d, nearest = p.name;
    }
    std::string hint = best <= std::max<size_t>(2, key.size() / 3) ? " (did you mean " + nearest + "?)" : "";
    throw UsageError("unknown parameter '" + std::string(key) + "'" + hint + "; valid parameters: " + names);
}

std::string Schema::allowed(const ParamSpec& spec) {
    auto num = [](double v) { return format_value(Json(v)); };
    switch (spec.type) {
        case ParamType::Bool: return "true or false";
        case ParamType::Text: return "any text";
        case ParamType::Choice: {
            std::string s = "one of ";
            for (size_t i = 0; i < spec.choices.size(); ++i) s += (i ? ", " : "") + spec.choices[i];
            return s;
        }
        case ParamType::Int:
        case ParamType::Real: {
            std::string s = spec.type == ParamType::Int ? "an integer" : "a real number";
            if (spec.min && spec.max)
                s += std::string(" in ") + (spec.min_exclusive ? "(" : "[") + num(*spec.min) + ", " +
                     num(*spec.max) + "]";
            else if (spec.min)
                s += (spec.min_exclusive ? " > " : " >= ") + num(*spec.min);
            else if (spec.max)
                s += " <= " + num(*spec.max);
            return s;
        }
    }
    return "";
}

void Schema::validate(const ParamSpec& spec, const Json& value) {
    auto bad = [&]() {
        throw UsageError("parameter " + spec.name + ": " + format_value(value) + " is not allowed; expected " +
                         allowed(spec));
    };
    switch (spec.type) {
        case ParamType::Bool:
            if (!value.is_boolean()) bad();
            return;
        case ParamType::Text:
            if (!value.is_string()) bad();
            return;
        case ParamType::Choice:
            if (!value.is_string() ||
                std::find(spec.choices.begin(), spec.choices.end(), value.get<std::string>()) ==
                    spec.choices.end())
                bad();
            return;
        case ParamType::Int:
        case ParamType::Real: {
            if (spec.type == ParamType::Int ? !value.is_number_integer() : !value.is_number()) bad();
            double v = value.get<double>();
            if (!std::isfinite(v)) bad();
            if (spec.min && (spec.min_exclusive ? v <= *spec.min : v < *spec.min)) bad();
            if (spec.max && v > *spec.max) bad();
            return;
        }
    }
}

Json Schema::parse_scalar(const ParamSpec& spec, std::string_view text) {
    std::string s(text);
    auto bad = [&]() -> Json {
        throw UsageError("parameter " + spec.name + ": cannot read '" + s + "'; expected " + allowed(spec));
    };
    Json v;
    switch (spec.type) {
        case ParamType::Bool:
            if (s == "true" || s == "1" || s == "yes" || s == "on") v = true;
            else if (s == "false" || s == "0" || s == "no" || s == "off") v = false;
            else return bad();
            break;
        case ParamType::Text:
        case ParamType::Choice:
            v = s;
            break;
        case ParamType::Int: {
            if (s.empty()) return bad();
            errno = 0;
            char* end = nullptr;
            long long x = std::strtoll(s.c_str(), &end, 10);
            if (errno == 0 && end && *end == '\0') {
                v = static_cast<int64_t>(x);
            } else {
                // Accept integral reals written like 1e3.
                double d = std::strtod(s.c_str(), &end);
                if (!end || *end != '\0' || d != std::floor(d) || std::abs(d) > 9e15) return bad();
                v = static_cast<int64_t>(d);
            }
            break;
        }
        case ParamType::Real: {
            if (s.empty()) return bad();
            char* end = nullptr;
            double d = std::strtod(s.c_str(), &end);
            if (!end || *end != '\0') return bad();
            v = d;
            break;
        }
    }
    validate(spec, v);
    return v;
}

}  // namespace benchtop
