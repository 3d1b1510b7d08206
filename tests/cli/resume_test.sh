#!/usr/bin/env bash
# A sweep killed with SIGKILL midway and re-run stores every run exactly once, with summaries
# equal to those of an uninterrupted sweep; Ctrl-C (SIGINT) stops cleanly with exit 130,
# keeping finished runs and marking the ones in flight as interrupted.
#   tests/cli/resume_test.sh path/to/benchtop
set -u
BT=$(realpath "$1")
T=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
fails=0
check() {
    local what=$1; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
# Runs long enough (about 0.25 s each in a Release build) that the kill and the Ctrl-C below
# land while later runs are still to come, even when the polling lags on a loaded machine.
SWEEP=(run double-descent num_samples=1000 train_examples=500 batch=50 epochs=3000 eval_every=500
       width=6,12 seed=0..3 --jobs 1 --max-pack 1 --no-figures --quiet)
N=8
summaries() {  # every run's summaries, bit-exact, ordered by run key
    sqlite3 "$1" "select r.run_key, s.key, printf('%!.17g', s.value) from runs r join summaries s
                  on s.run_id = r.run_id order by r.run_key, s.key"
}
wait_complete() {  # wait_complete DB N: until at least N runs are complete (10 s at most)
    for _ in $(seq 1 1000); do
        c=$(sqlite3 "$1" "select count(*) from runs where state='complete'" 2>/dev/null || echo 0)
        [ "${c:-0}" -ge "$2" ] && return 0
        sleep 0.01
    done
    return 1
}

"$BT" "${SWEEP[@]}" --db clean.db
check "uninterrupted sweep stores $N runs" test "$(sqlite3 clean.db "select count(*) from runs where state='complete'")" -eq $N

"$BT" "${SWEEP[@]}" --db killed.db &
pid=$!
check "sweep makes progress" wait_complete killed.db 2
kill -9 $pid
wait $pid 2>/dev/null
done_before=$(sqlite3 killed.db "select count(*) from runs where state='complete'")
check "killed midway (some but not all runs complete: $done_before)" test "$done_before" -lt $N
left=$(sqlite3 killed.db "select count(*) from runs where state='running'")
echo "     left running by the kill: $left"
"$BT" "${SWEEP[@]}" --db killed.db
check "resumed sweep exits 0" test $? -eq 0
check "every run stored exactly once" test "$(sqlite3 killed.db "select count(*), count(distinct run_key) from runs")" = "$N|$N"
check "all runs complete" test "$(sqlite3 killed.db "select count(*) from runs where state='complete'")" -eq $N
check "summaries equal those of the uninterrupted sweep" test "$(summaries killed.db)" = "$(summaries clean.db)"
check "no orphan metrics" test "$(sqlite3 killed.db "select count(*) from metrics where run_id not in (select run_id from runs)")" -eq 0

"$BT" "${SWEEP[@]}" --db int.db &
pid=$!
check "second sweep makes progress" wait_complete int.db 1
kill -INT $pid
wait $pid
rc=$?
check "Ctrl-C exits 130 (got $rc)" test $rc -eq 130
n_int=$(sqlite3 int.db "select count(*) from runs where state='interrupted'")
n_run=$(sqlite3 int.db "select count(*) from runs where state='running'")
check "no run left 'running' after Ctrl-C" test "$n_run" -eq 0
check "finished runs kept after Ctrl-C" test "$(sqlite3 int.db "select count(*) from runs where state='complete'")" -ge 1
echo "     interrupted: $n_int"
"$BT" "${SWEEP[@]}" --db int.db
check "sweep after Ctrl-C completes" test "$(summaries int.db)" = "$(summaries clean.db)"

if [ "$fails" -ne 0 ]; then echo "$fails checks failed"; exit 1; fi
echo "all checks passed"
