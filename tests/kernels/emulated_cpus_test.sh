#!/usr/bin/env bash
# Runs benchtop on emulated processors (qemu-user): one without AVX (Westmere: the generic path,
# and glibc's functions without FMA) and one with AVX2 and FMA but no AVX-512 (Haswell). On each,
# the path chosen by CPUID must be the expected one, a path the CPU lacks must be refused, and
# the committed fingerprints of short trainings must hold: the same bits as on the machine that
# wrote them, whatever this host's own CPU.
#   tests/kernels/emulated_cpus_test.sh path/to/benchtop path/to/benchtop_tests
set -u
unset BENCHTOP_ISA  # each check chooses its own path
BT=$(realpath "$1")
TESTS=$(realpath "$2")
if ! command -v qemu-x86_64 >/dev/null; then
    echo "skipped: qemu-x86_64 is not installed (Debian package qemu-user; scripts/setup installs it)"
    exit 0
fi
fails=0
check() {  # check "what" condition...
    local what=$1; shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
emulate() {  # emulate CPU command...: the command on an emulated CPU, qemu's warnings dropped
    local cpu=$1; shift
    qemu-x86_64 -cpu "$cpu" "$@" 2>&1 | grep -v "^qemu-x86_64: warning"
    return "${PIPESTATUS[0]}"
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for spec in "Westmere generic" "Haswell-v4 avx2"; do
    read -r cpu path <<<"$spec"
    emulate "$cpu" "$BT" info >"$T/info.txt"
    check "$cpu: benchtop info runs" test $? -eq 0
    check "$cpu: the $path path is chosen" grep -q "^kernel path in use: $path," "$T/info.txt"
    BENCHTOP_ISA=avx512 emulate "$cpu" "$BT" list >"$T/err.txt"
    check "$cpu: BENCHTOP_ISA=avx512 exits 2" test $? -eq 2
    check "$cpu: and says what is missing" grep -q "has no .*AVX-512F" "$T/err.txt"
    emulate "$cpu" "$TESTS" --gtest_brief=1 \
        --gtest_filter='KernelPaths.FingerprintsOfShortTrainingsMatchTheCommittedOnes' >"$T/fp.txt"
    check "$cpu: the committed fingerprints hold" test $? -eq 0
    grep -E "Failure|Which is|FAILED" "$T/fp.txt" | head -8
done
echo "$fails failed"
test "$fails" -eq 0
