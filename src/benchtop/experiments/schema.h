// The parameter schema of an experiment: each parameter's name, type, default, allowed range
// and one line of help. `benchtop describe EXP` prints it; the command line's `key=value`
// overrides are checked against it, so an unknown key or an out-of-range value is reported
// (naming the key and what is allowed) before anything runs or the database is opened.
//
// A resolved configuration is a JSON object holding one scalar per parameter.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "benchtop/core/error.h"

namespace benchtop {

using Json = nlohmann::json;

// A mistake in what the user typed (unknown experiment or key, bad value). The CLI prints it as
// one line and exits with status 2 without touching the database.
class UsageError : public Error {
public:
    using Error::Error;
};

enum class ParamType { Int, Real, Bool, Choice, Text };
const char* to_string(ParamType t);

struct ParamSpec {
    std::string name;
    ParamType type = ParamType::Real;
    // One value, or a JSON array: a default that runs each listed value (e.g. model=all four).
    Json default_value;
    std::optional<double> min, max;      // inclusive bounds for Int and Real
    bool min_exclusive = false;          // (min, max] instead of [min, max]
    std::vector<std::string> choices;    // for Choice
    std::string help;
};

class Schema {
public:
    Schema& add(ParamSpec spec);
    Schema& integer(std::string name, int64_t def, std::optional<double> min, std::optional<double> max,
                    std::string help);
    Schema& real(std::string name, double def, std::optional<double> min, std::optional<double> max,
                 std::string help, bool min_exclusive = false);
    Schema& boolean(std::string name, Json def, std::string help);
    Schema& choice(std::string name, std::vector<std::string> choices, Json def, std::string help);
    Schema& text(std::string name, std::string def, std::string help);

    const std::vector<ParamSpec>& params() const { return params_; }
    bool contains(std::string_view key) const;
    // Throws UsageError naming the key, the valid keys and the nearest one.
    const ParamSpec& find(std::string_view key) const;

    // Parses one scalar value written on the command line for `spec` (no lists or ranges).
    static Json parse_scalar(const ParamSpec& spec, std::string_view text);
    // Throws UsageError unless `value` is a valid scalar for `spec`.
    static void validate(const ParamSpec& spec, const Json& value);
    // "integer in [1, 1000]", "one of logistic, mlp", ...
    static std::string allowed(const ParamSpec& spec);

private:
    std::vector<ParamSpec> params_;
};

// Edit distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// Formats a scalar config value for tables and file names (2 -> "2", 0.01 -> "0.01").
std::string format_value(const Json& v);

}  // namespace benchtop
