#!/usr/bin/env bash
# Runs native/gpu-run.sh here, with every program it calls (java, python3, nvidia-smi, ncu, compute-sanitizer)
# replaced by a stub that prints its arguments: the script's own logic (steps, deadlines, parallel phase, failure
# list, the 8 files the device tool brings back) is checked in seconds, so a bug there does not cost a lent GPU's
# minutes. Twice: every stub succeeding (the kit must pass and write at most 8 files), then java failing (the kit
# must fail and name the failed steps). CI runs it. Usage: bash native/kit-dry-run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kit=$tmp/kit
mkdir -p "$kit/jre/bin" "$kit/lib" "$kit/test-classes" "$tmp/bin"
cp "$root/native/gpu-run.sh" "$root/native/torch_compare.py" "$kit/"
touch "$kit/groupnorm4j.jar" "$kit/lib/junit-platform-console-standalone-0.jar" "$kit/lib/jmh-core-0.jar"
# A stub exits with $DRY_RUN_FAIL_<name> (0 unless set).
cat > "$tmp/bin/stub" <<'EOF'
#!/usr/bin/env bash
name=$(basename "$0"); name=${name//-/_}
echo "stub $(basename "$0") $*"
code_var=DRY_RUN_FAIL_$name
exit "${!code_var:-0}"
EOF
chmod +x "$tmp/bin/stub"
for c in python3 nvidia-smi ncu compute-sanitizer; do ln -s "$tmp/bin/stub" "$tmp/bin/$c"; done
ln -s "$tmp/bin/stub" "$kit/jre/bin/java"

run() {  # run LABEL: gpu-run.sh into $tmp/out-LABEL, its exit status in $rc
  mkdir -p "$tmp/out-$1"
  rc=0
  OUT=$tmp/out-$1 PATH=$tmp/bin:$PATH bash "$kit/gpu-run.sh" > "$tmp/$1.log" 2>&1 || rc=$?
}
fail() { echo "kit dry run: $*" >&2; tail -n 20 "$tmp/$label.log" >&2; exit 1; }

label=pass
run $label
[ $rc -eq 0 ] || fail "every stub succeeded, but gpu-run.sh exited $rc"
files=$(find "$tmp/out-$label" -type f | wc -l)
[ "$files" -le 8 ] || fail "$files files in \$OUT; the device tool brings back 8"
grep -q '^gpu kit: all steps that ran passed$' "$tmp/out-$label/kit.log" || fail "no pass line in kit.log"
grep -q 'skipped (out of time): none$' "$tmp/out-$label/kit.log" || fail "steps skipped with stubs that take no time"
steps=$(grep -c '^=== .*: exit 0 after' "$tmp/out-$label/kit.log")

label=java-fails
DRY_RUN_FAIL_java=1 run $label
[ $rc -eq 1 ] || fail "java failed everywhere, but gpu-run.sh exited $rc"
grep -q '^gpu kit: FAILED steps: check-fp32; bench; ' "$tmp/out-$label/kit.log" || fail "failed steps not listed"
grep -q '; check; ' "$tmp/out-$label/kit.log" || fail "a failed step of the parallel phase is not listed"
echo "kit dry run: gpu-run.sh ran $steps steps with stubs and wrote $files files; with java failing it failed and named the steps"
