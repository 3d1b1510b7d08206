#!/usr/bin/env bash
# End-to-end checks of the benchtop command line: usage errors exit 2 with one clear line and
# leave the database untouched; a small run is stored, shown, exported and drawn; data export.
#   tests/cli/cli_test.sh path/to/benchtop
set -u
BT=$(realpath "$1")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
check() {  # check "what" condition...
    local what=$1; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
expect_usage() {  # expect_usage "needle" args...: exit 2, one line on stderr containing needle
    local needle=$1; shift
    "$BT" "$@" >out.txt 2>err.txt
    local rc=$?
    check "exit 2 for: $*" test "$rc" -eq 2
    check "stderr names '$needle' for: $*" grep -q -- "$needle" err.txt
    check "one line on stderr for: $*" test "$(wc -l <err.txt)" -eq 1
}

check "list names mnist1d-baselines" bash -c "'$BT' list | grep -q '^mnist1d-baselines '"
check "describe prints parameters" bash -c "'$BT' describe mnist1d-baselines | grep -q 'shuffle_features'"

# The CPU and the kernel paths; a path forced by BENCHTOP_ISA, and bad requests.
"$BT" info >info.txt
check "info names the cpu and the path in use" bash -c "grep -q '^cpu: ' info.txt && grep -q '^kernel path in use: ' info.txt"
check "--version names the kernel path" bash -c "'$BT' --version | grep -q '^kernel path: '"
check "BENCHTOP_ISA=generic is used" bash -c "BENCHTOP_ISA=generic '$BT' info | grep -q 'in use: generic.*set by BENCHTOP_ISA'"
BENCHTOP_ISA=avx1024 "$BT" list >out.txt 2>err.txt
check "a bad BENCHTOP_ISA exits 2" test $? -eq 2
check "a bad BENCHTOP_ISA names the allowed paths" grep -q "generic, avx2 or avx512" err.txt
for isa in avx2 avx512; do
    if grep -q "^  $isa .*unavailable" info.txt; then
        BENCHTOP_ISA=$isa "$BT" list >out.txt 2>err.txt
        check "an unavailable $isa exits 2" test $? -eq 2
        check "an unavailable $isa says why" grep -q "this CPU .* has no" err.txt
    else
        echo "skip an unavailable $isa: this CPU executes it"
    fi
done

# A tiny real run to create the database.
"$BT" run mnist1d-baselines model=logistic,mlp shuffle_features=false steps=40 eval_every=20 seed=42 --db r.db \
    --out figs --quiet
check "small run exits 0" test $? -eq 0
check "database created" test -s r.db
check "figure svg written" test -s figs/mnist1d-baselines.svg
check "figure png written" test -s figs/mnist1d-baselines.png
sum_before=$(sqlite3 r.db "select count(*), group_concat(run_key) from runs; select count(*) from metrics;")

expect_usage "unknown experiment" run no-such-exp --db r.db
expect_usage "did you mean steps" run mnist1d-baselines stpes=3 --db r.db
expect_usage "steps" run mnist1d-baselines steps=abc --db r.db
expect_usage "one of logistic, mlp, cnn, gru" run mnist1d-baselines model=resnet --db r.db
expect_usage "lr" run mnist1d-baselines lr=-1 --db r.db
expect_usage "key=value" run mnist1d-baselines steps --db r.db
expect_usage "batch" run mnist1d-baselines batch=0 --db fresh.db
check "no database created by a usage error" test ! -e fresh.db
sum_after=$(sqlite3 r.db "select count(*), group_concat(run_key) from runs; select count(*) from metrics;")
check "database untouched by usage errors" test "$sum_before" = "$sum_after"

# Resume: the same command runs nothing new.
"$BT" run mnist1d-baselines model=logistic,mlp shuffle_features=false steps=40 eval_every=20 seed=42 --db r.db \
    --out figs >resume.txt 2>&1
check "re-run skips stored runs" grep -q "2 stored before, 0 complete" resume.txt
check "still two runs" test "$(sqlite3 r.db 'select count(*) from runs')" -eq 2

"$BT" show --db r.db mnist1d-baselines >show.txt
check "show lists both models" bash -c "grep -q logistic show.txt && grep -q mlp show.txt"
check "show has test_acc column" grep -q test_acc show.txt
"$BT" export mnist1d-baselines --db r.db --format csv >runs.csv
check "csv has header + 2 rows" test "$(wc -l <runs.csv)" -eq 3
check "csv header has config and summaries" bash -c "head -1 runs.csv | grep -q 'model' && head -1 runs.csv | grep -q 'test_acc'"
check "show says where the runs ran" grep -q "^ran on: .*, kernel path .*: 2 runs" show.txt
check "csv records the cpu and the kernel path" bash -c "head -1 runs.csv | grep -q ',cpu,kernel_path'"
"$BT" export mnist1d-baselines --db r.db --format jsonl >runs.jsonl
check "jsonl has 2 objects" test "$(wc -l <runs.jsonl)" -eq 2
check "jsonl has summaries" grep -q '"summaries"' runs.jsonl
check "dry run prints the grid" bash -c "'$BT' run mnist1d-baselines seed=0..4 --dry-run --db r.db | grep -q '40 runs in the grid'"

# Weights out and back in: save_to writes PyTorch-layout safetensors, init_from reads them; a
# run of 0 steps from them reproduces the saved model's test accuracy.
"$BT" run mnist1d-baselines model=mlp shuffle_features=false steps=60 eval_every=60 seed=42 save_to='w/{model}-{seed}.safetensors' \
    --db w.db --quiet --no-figures
check "save_to wrote the weights" test -s w/mlp-42.safetensors
check "safetensors header names linear1.weight" grep -q "linear1.weight" w/mlp-42.safetensors
"$BT" run mnist1d-baselines model=mlp shuffle_features=false steps=0 eval_every=1 seed=42 init_from=w/mlp-42.safetensors \
    lr=1e-12 --db w.db --quiet --no-figures
acc_saved=$(sqlite3 w.db "select s.value from summaries s join runs r using(run_id) where s.key='test_acc' and json_extract(r.config_json,'$.steps')=60")
acc_loaded=$(sqlite3 w.db "select s.value from summaries s join runs r using(run_id) where s.key='test_acc' and json_extract(r.config_json,'$.steps')=0")
check "init_from restores the trained model ($acc_saved vs $acc_loaded)" test "$acc_saved" = "$acc_loaded"
# The adversarial experiment attacks a saved baseline as it is.
"$BT" run adversarial model=mlp adv_train=false seed=42 init_from='w/{model}-{seed}.safetensors' attack_examples=20 \
    pgd_steps=2 bisections=2 boundary_examples=5 boundary_steps=5 --db adv.db --quiet --no-figures
acc_attacked=$(sqlite3 adv.db "select value from summaries where key = 'test_acc'")
check "adversarial attacks the loaded baseline ($acc_saved vs $acc_attacked)" test "$acc_saved" = "$acc_attacked"
expect_usage "adv_train must be false" run adversarial model=mlp adv_train=true init_from=w/mlp-42.safetensors --db x.db
"$BT" run mnist1d-baselines model=cnn seed=42 init_from=w/mlp-42.safetensors steps=1 --db w.db --quiet --no-figures 2>err.txt
check "init_from with the wrong model fails with a message naming a tensor" grep -q "conv1" err.txt

echo "not a database" >bad.db
"$BT" show --db bad.db >/dev/null 2>err.txt
check "non-database file is a clear error" bash -c "grep -q 'not a benchtop results database' err.txt"
check "non-database file untouched" test "$(cat bad.db)" = "not a database"
expect_usage "no results database" show --db missing.db

"$BT" data mnist1d num_samples=200 --out gen >/dev/null
check "data writes raw files" bash -c "test -s gen/x_train.f64 && test -s gen/y_test.u8 && test -s gen/x_train.f32"
check "data sizes (160 x 40 float64)" test "$(stat -c %s gen/x_train.f64)" -eq $((160 * 40 * 8))
expect_usage "unknown key" data mnist1d colour=3 --out gen2

# Shards of a sweep, merged, hold what one process stores; merging twice adds nothing.
SW=(mnist1d-baselines model=logistic,mlp steps=30 eval_every=10 seed=0..2 --quiet --no-figures)
"$BT" run "${SW[@]}" --db one.db
"$BT" run "${SW[@]}" --shard 0/2 --db s0.db
"$BT" run "${SW[@]}" --shard 1/2 --db s1.db
n0=$(sqlite3 s0.db "select count(*) from runs"); n1=$(sqlite3 s1.db "select count(*) from runs")
n=$(sqlite3 one.db "select count(*) from runs")
check "two shards split the $n runs ($n0 + $n1)" bash -c "test $n0 -gt 0 && test $n1 -gt 0 && test $((n0 + n1)) -eq $n"
"$BT" merge all.db s0.db s1.db >merge.txt
check "merge reports the added runs" grep -q "s1.db: $n1 runs added" merge.txt
q="select run_key, group_concat(key || '=' || quote(value), ';') from (select r.run_key, s.key, s.value from runs r join summaries s using(run_id) order by r.run_key, s.key) group by run_key"
check "merged summaries equal the single-process ones" test "$(sqlite3 all.db "$q")" = "$(sqlite3 one.db "$q")"
"$BT" merge all.db s0.db >merge2.txt
check "merging again adds nothing" grep -q "s0.db: 0 runs added, $n0 already present" merge2.txt
expect_usage "--shard 2/2" run mnist1d-baselines --shard 2/2 --db x.db
expect_usage "no database at" merge all.db nothere.db
"$BT" merge all.db bad.db >/dev/null 2>err.txt
check "merging a non-database is a clear error" grep -q "not a benchtop results database" err.txt

if [ "$fails" -ne 0 ]; then echo "$fails checks failed"; exit 1; fi
echo "all checks passed"
