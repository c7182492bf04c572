#!/bin/sh
# Runs every Check suite given as an argument, then every end-to-end script in
# tests/e2e/, and closes with one line "N passed, N failed".
# Environment: PE_BIN (the binary under test), PE_BUILD (build folder).
set -u
passed=0
failed=0
failures=""
for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed "s|^|$(basename "$t"): |"
    # the summary line may follow other output on the same line (a child's stderr)
    line=$(printf '%s\n' "$out" | grep -oE '[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' |
        tail -n 1)
    n=$(printf '%s' "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
    e=$(printf '%s' "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
    if [ -z "$n" ]; then
        failed=$((failed + 1))
        failures="$failures $(basename "$t")(crashed:rc=$rc)"
        continue
    fi
    passed=$((passed + n - f - e))
    failed=$((failed + f + e))
    if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
        failed=$((failed + 1))
        failures="$failures $(basename "$t")(rc=$rc)"
    elif [ $((f + e)) -ne 0 ]; then
        failures="$failures $(basename "$t")"
    fi
done
for s in tests/e2e/*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    if out=$(sh "$s" 2>&1); then
        passed=$((passed + 1))
        echo "e2e $name: ok"
    else
        failed=$((failed + 1))
        failures="$failures e2e:$name"
        printf '%s\n' "$out" | tail -n 30 | sed "s|^|e2e $name: |"
        echo "e2e $name: FAILED"
    fi
done
[ -n "$failures" ] && echo "failing:$failures"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
