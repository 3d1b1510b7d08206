#!/usr/bin/env bash
# `benchtop run --mpi` under mpirun: three ranks (rank 0 stores, ranks 1-2 train) store what one
# process stores, bit for bit; a rank killed mid-sweep ends the job, and the same command run
# again redoes the killed rank's packs and finishes the sweep with the same results.
#   tests/cluster/mpi_test.sh path/to/benchtop
set -uo pipefail
BT=$(realpath "$1")
command -v mpirun >/dev/null || { echo "mpirun not found (Debian package openmpi-bin)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0
check() {
    local what=$1
    shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
MPIRUN=(mpirun --oversubscribe -np 3)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
# Shared-memory transport without cross-process memory access, which containers often forbid.
export OMPI_MCA_btl_vader_single_copy_mechanism=none

# Summaries and every metric of every run, by run key: what must not depend on who computed it.
q_sum="select run_key, group_concat(key || '=' || quote(value), ';') from (select r.run_key, s.key, s.value from runs r join summaries s using(run_id) order by r.run_key, s.key) group by run_key"
q_met="select r.run_key, m.key, m.step, quote(m.value), m.kind from runs r join metrics m using(run_id) order by r.run_key, m.key, m.step"
same_as_one() { test "$(sqlite3 "$1" "$q_sum")" = "$(sqlite3 one.db "$q_sum")" && test "$(sqlite3 "$1" "$q_met")" = "$(sqlite3 one.db "$q_met")"; }

SW=(mnist1d-baselines model=logistic,mlp shuffle_features=false steps=300 eval_every=50 seed=0..5 --max-pack 2 --quiet --no-figures)
"$BT" run "${SW[@]}" --db one.db
n=$(sqlite3 one.db "select count(*) from runs where state = 'complete'")
check "single process: $n runs complete" test "$n" -eq 12

"${MPIRUN[@]}" "$BT" run "${SW[@]}" --db mpi.db --mpi
check "mpirun -np 3 --mpi exits 0" test $? -eq 0
check "mpi: the same summaries and curves as one process" same_as_one mpi.db
check "mpi: runs computed by ranks 1 and 2" test "$(sqlite3 mpi.db "select count(distinct worker) from runs where worker like 'mpi rank %'")" -eq 2
check "mpi: rank 0 stored nothing as its own" test "$(sqlite3 mpi.db "select count(*) from runs where worker like 'mpi rank 0%'")" -eq 0

# Kill rank 2 once rank 0 has stored a first run; mpirun then ends the job.
SW2=(mnist1d-baselines model=mlp shuffle_features=false steps=1500 eval_every=100 seed=0..7 --max-pack 1 --quiet --no-figures)
"$BT" run "${SW2[@]}" --db one.db
"${MPIRUN[@]}" "$BT" run "${SW2[@]}" --db killed.db --mpi >mpi.log 2>&1 &
job=$!
killed=""
for _ in $(seq 1 600); do
    if [ -s killed.db ] && [ "$(sqlite3 killed.db "select count(*) from runs where state = 'complete'" 2>/dev/null || echo 0)" -ge 1 ]; then
        for p in $(pgrep -f "$BT run mnist1d-baselines model=mlp shuffle_features=false steps=1500"); do
            if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=2"; then
                kill -9 "$p" && killed=$p
            fi
        done
        break
    fi
    sleep 0.1
done
wait "$job"
rc=$?
check "rank 2 was killed mid-sweep (pid ${killed:-none})" test -n "$killed"
check "the killed job exits non-zero (rc $rc)" test "$rc" -ne 0
done1=$(sqlite3 killed.db "select count(*) from runs where state = 'complete'")
left=$(sqlite3 killed.db "select count(*) from runs where state in ('running', 'interrupted')")
check "killed job kept $done1 finished runs, left $left unfinished" bash -c "test $done1 -ge 1 && test $left -ge 1"
"${MPIRUN[@]}" "$BT" run "${SW2[@]}" --db killed.db --mpi
check "resume under mpirun exits 0" test $? -eq 0
check "resume: all 8 runs of the second sweep complete" test "$(sqlite3 killed.db "select count(*) from runs where state = 'complete'")" -eq 8
q2="select run_key, group_concat(key || '=' || quote(value), ';') from (select r.run_key, s.key, s.value from runs r join summaries s using(run_id) where r.config_json like '%\"steps\":1500%' order by r.run_key, s.key) group by run_key"
check "resume: the redone packs equal the single-process runs" test "$(sqlite3 killed.db "$q2")" = "$(sqlite3 one.db "$q2")"

if [ "$fails" -gt 0 ]; then
    echo "$fails checks failed"
    cat mpi.log
    exit 1
fi
echo "all MPI checks passed"
