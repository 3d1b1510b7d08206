// Getting results out of the store: CSV and JSON Lines exports of an experiment's runs (one row
// or object per run: identity, configuration, seed, state, wall time and summaries) for analysis
// in other tools, and the aligned text table printed by `benchtop show`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// Header: run_id,experiment,run_key,<config keys: union over runs, sorted>,seed,state,wall_s,
// <summary keys: union, sorted>. RFC-4180 quoting (fields with , " CR or LF are quoted, quotes
// doubled), lines end in "\n". Numbers in shortest round-trip form, non-finite as nan/inf/-inf,
// missing values (and wall_s of unfinished runs) empty. Config strings appear unquoted, other
// non-numbers as JSON. experiment "" exports every run.
void export_csv(const Store& store, const std::string& experiment, std::ostream& out);

// One JSON object per line and run: {"run_id","experiment","run_key","config":{...},"seed",
// "state","wall_s","started_at","finished_at","version","summaries":{...}}. Non-finite summaries,
// and times/wall_s not yet set, are null.
void export_jsonl(const Store& store, const std::string& experiment, std::ostream& out);

// The aligned table of `benchtop show`: id, state, one column per config key (`config_keys`, or
// when empty the keys whose value differs between runs), the summaries (union, sorted) with 4
// significant digits, and wall_s. Missing cells show "-", numeric columns are right-aligned.
// "no runs stored ..." when there are none.
std::string format_runs_table(const Store& store,
                              const std::string& experiment,
                              const std::vector<std::string>& config_keys = {});

}  // namespace benchtop
