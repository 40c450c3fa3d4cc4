#!/usr/bin/env bash
# Runs on the lent GPU machine (no Maven, no network), from the kit that native/make-gpu-kit.sh built:
#   bash target/gpu-kit/gpu-run.sh            logs go to $OUT (the device tool's output folder) or ./gpu-out
#   KIT_SECONDS=500 (default) bounds the whole run: each step gets its own limit, never past that deadline, and a
#   step that no longer fits is skipped and listed, so a lent machine's minutes end in a log, not a kill.
# The device tool brings back at most 8 files from $OUT, so the kit writes exactly these (a run on 2026-11-28 wrote
# 19 and lost PyTorch's timings): kit.log (each step's limit, exit status and time), timings.txt (every bench),
# torch.txt (PyTorch beside them, with the copy bandwidth), jmh.txt, checks.txt (check on the device), tests.txt
# (JUnit gpu tests, accuracy against torch float64), sanitizer.txt, profile.txt (Nsight Compute).
# Order, what the open goals need most first: a quick check (and the kernel-parameter fallback); timings (bench of
# fp32 NCHW beside PyTorch, the kernel versions that are off by default, eight layout/dtype/SiLU variants beside
# PyTorch, five of them again with the baseline build's kernels, channels-last at 16 rows per lane, JMH host
# overhead); then the correctness steps all at once (check in every variant and with the cluster
# and cooperative kernels, the gpu-tagged JUnit tests, accuracy against torch float64, compute-sanitizer on both
# kernel paths, two variants and the cluster and cooperative kernels), since they need no quiet GPU; then the
# older kernel-version timings and an advisory Nsight Compute pass. Every step runs even if an earlier one failed
# (each under `timeout`, so a hung kernel costs its step's limit); the exit status says whether any failed.
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
java="$kit/jre/bin/java"
[ -x "$java" ] || java=$(command -v java)
jar="$kit/groupnorm4j.jar"
cp="$kit/test-classes:$jar:$(ls "$kit"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
tmp=$(mktemp -d)
raw="$tmp/raw"  # one file per step, appended to its $out file when the step ends (parallel ones: after the phase)
mkdir -p "$raw"
log="$out/kit.log"
deadline=$((SECONDS + ${KIT_SECONDS:-500}))
failed=()
skipped=()

slug() { echo "$1" | tr -c 'A-Za-z0-9\n' '_'; }
step() {  # step NAME LIMIT_S OUTFILE cmd...   raw output in $raw/<slug NAME>.txt, then appended to OUTFILE
  local name=$1 limit=$2 file=$3; shift 3
  local left=$((deadline - SECONDS)) r="$raw/$(slug "$name").txt"
  [ $left -lt $limit ] && limit=$left
  if [ $limit -lt 10 ]; then
    echo "=== $name: skipped, $left s left ===" | tee -a "$log"
    skipped+=("$name"); return 0
  fi
  echo "=== $name (limit $limit s): $* ===" | tee -a "$log"
  local t0=$SECONDS
  { echo "=== $name ==="; timeout -k 5 $limit "$@"; } > "$r" 2>&1
  local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - t0)) s$([ $rc -eq 124 ] && echo ', TIMED OUT') ===" | tee -a "$log"
  if [ -n "${PARALLEL_PHASE:-}" ]; then echo "$file" > "$r.dest"; else cat "$r" >> "$file"; rm -f "$r"; fi
  [ $rc -eq 0 ] || failed+=("$name")
  return $rc
}

collect() {  # the parallel steps' output, in name order, into their files (also on exit, if the run is cut short)
  local r
  for r in "$raw"/*.txt; do
    [ -f "$r.dest" ] && cat "$r" >> "$(cat "$r.dest")" && rm -f "$r" "$r.dest"
  done
  return 0
}
trap 'collect; rm -rf "$tmp"' EXIT
trap 'exit 143' TERM

echo "groupnorm4j GPU kit, $(date -u +%FT%TZ), kit $kit, deadline ${KIT_SECONDS:-500} s" | tee "$log"
step nvidia-smi 20 "$log" nvidia-smi
# The first CUDA call also fills the driver's PTX JIT cache for the later ones. Kernel parameters go through a
# pinned block (JCudaGpuDriver); if the fp32 check fails with it and passes with per-parameter arrays, the rest of
# the kit runs with arrays (and says so) rather than losing every timing to one host-side bug.
step check-fp32 120 "$out/checks.txt" "$java" -jar "$jar" check --device cuda
if [ "${failed[*]}" = "check-fp32" ] && timeout 120 "$java" -Dgroupnorm4j.launchParams=arrays -jar "$jar" check \
    --device cuda >> "$out/checks.txt" 2>&1; then
  echo "=== launch parameters: pinned FAILED, arrays passed: the rest of the kit uses arrays ===" | tee -a "$log"
  export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dgroupnorm4j.launchParams=arrays"
fi

# --- timings (a quiet GPU: one step at a time)
step bench 60 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda
grep -h '' "$out/timings.txt" > "$tmp/bench.txt"
step torch-bench 90 "$out/torch.txt" python3 "$kit/torch_compare.py" bench "$tmp/bench.txt"
# Kernel versions off by default until timed: the sm_90 cluster kernels (a slice, or x and dy of a slice, shared by
# 8 CTAs through distributed shared memory); the cooperative one-pass kernels wherever the slices split over the
# SMs (by default only tensors up to 2 MiB); the second passes in the first pass's order (default: reverse).
step "bench --cluster on" 60 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda --cluster on
step "bench --cooperative on" 60 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda \
  --cooperative on
# The channels-last cooperative forward (x read once) is off above 2 MiB until these time it against the column
# kernels (the cluster kernels, which stage the same runs of Cg channels, were faster at N = 2 fp32); in 16 bits,
# x and dy of [1,256,128x128] fit the SMs, so these also time the cooperative backward (off above 2 MiB).
for v in "nhwc fp32" "nhwc bf16" "nchw bf16"; do
  set -- $v
  step "bench --cooperative on $v" 45 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda --cooperative on \
    --layout $1 --dtype $2
done
step "bench rereadOrder=forward" 60 "$out/timings.txt" "$java" -Dgroupnorm4j.rereadOrder=forward -jar "$jar" \
  bench --device cuda
# The second pass loading x and dy evict-first (off until timed): does more of the re-read hit L2 at N = 1 and 2?
step "bench rereadLoads=last-use" 60 "$out/timings.txt" "$java" -Dgroupnorm4j.rereadLoads=last-use -jar "$jar" \
  bench --device cuda
# The channels-first two-pass paths in one cooperative launch each (statistics or channel sums, a barrier per slice
# or channel group, then the map or dx re-reading from L2 what the same CTA just read; large shapes in waves that
# fit the L2; off until timed): the backward is 1.5-1.7x PyTorch at N = 1 and 2, and the two-pass paths reach
# 52-57% of the copy bandwidth on the large shapes.
step "bench cooperativeRereads=on" 60 "$out/timings.txt" "$java" -Dgroupnorm4j.cooperativeRereads=on -jar "$jar" \
  bench --device cuda
# At N = 1 and 2 the cooperative one-pass forward comes first; without it the one-launch forward takes them.
step "bench cooperativeRereads=on cooperative=off" 60 "$out/timings.txt" "$java" -Dgroupnorm4j.cooperativeRereads=on \
  -jar "$jar" bench --device cuda --cooperative off
for v in "nhwc fp32 none" "nchw fp16 none" "nchw bf16 none" "nhwc fp16 none" "nhwc bf16 none" "nchw fp32 silu" \
         "nchw bf16 silu" "nhwc bf16 silu"; do
  set -- $v
  step "bench $v" 45 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda --layout $1 --dtype $2 \
    --activation $3
done
awk '/^=== /{keep = ($0 ~ /^=== bench n[a-z]+ [a-z0-9]+ [a-z]+ ===$/)} keep' "$out/timings.txt" > "$tmp/variants.txt"
step torch-variants 150 "$out/torch.txt" python3 "$kit/torch_compare.py" variants "$tmp/variants.txt"
# A/B in the same run: the baseline build's kernels (make-gpu-kit.sh; same entry points and arguments, checked on
# the emulator when the kit was built) on the variants the last kernel change should move most; the same variants
# with this build's kernels are "bench" and "bench <variant>" above. The bench header names the PTX directory.
if [ -f "$kit/baseline-ptx.tar.gz" ] && mkdir -p "$tmp/baseline" \
    && tar -xzf "$kit/baseline-ptx.tar.gz" -C "$tmp/baseline"; then
  base_rev=$(cat "$tmp/baseline/REVISION")
  for v in "nchw fp32 none" "nchw fp32 silu" "nchw bf16 silu" "nhwc bf16 silu" "nhwc bf16 none"; do
    set -- $v
    step "bench baseline $base_rev $v" 45 "$out/timings.txt" "$java" -Dgroupnorm4j.ptxDir="$tmp/baseline" \
      -jar "$jar" bench --device cuda --layout $1 --dtype $2 --activation $3
  done
else
  echo "=== bench baseline: none in the kit ===" | tee -a "$log"
fi
# Fewer, longer channels-last blocks (off until timed): at the default 4 rows per lane, N = 1 and 2 get 512-1024 row
# chunks, each thread loads one batch of rows, and the backward's per-(channel, chunk) sums add 2-4 MiB each way
# beside a 16 MiB tensor (the emulator's count, bench --device emu); 16 rows per lane quarter both.
for v in "nhwc fp32" "nhwc bf16"; do
  set -- $v
  step "bench nhwcRowsPerLane=16 $v" 45 "$out/timings.txt" "$java" -Dgroupnorm4j.nhwcRowsPerLane=16 -jar "$jar" \
    bench --device cuda --layout $1 --dtype $2 --shapes 1,2,3
done
# The channels-last two-pass paths in one cooperative launch each (nhwc_stats_apply, nhwc_sums_dx: statistics or
# channel sums, a barrier per sample, each CTA folding its groups' partials, y or dx re-read from L2; off until timed)
# against the three launches each above: at N = 1 and 2, channels-last took 2-2.5x channels-first's time (H200,
# 2026-11-28).
for v in "nhwc fp32" "nhwc bf16"; do
  set -- $v
  step "bench cooperativeRereads=on $v" 45 "$out/timings.txt" "$java" -Dgroupnorm4j.cooperativeRereads=on -jar "$jar" \
    bench --device cuda --layout $1 --dtype $2 --shapes 1,2,3
done
# Host time per call, kernel parameters passed from a pinned block (default) and as JCuda arrays (before); *Call
# includes draining the stream (the larger of host and GPU time), *Enqueue is the host alone.
step jmh 110 "$out/jmh.txt" "$java" -cp "$cp" io.github.groupnorm4j.bench.BenchmarksMain CudaHostOverhead \
  -f 1 -wi 2 -i 3 -w 1s -r 1s

# --- correctness, all at once (each step writes its own file; the summary lines go to kit.log)
par=()
export PARALLEL_PHASE=1
parallel() { ( step "$@" ) & par+=($!); }
parallel check 150 "$out/checks.txt" "$java" -jar "$jar" check --device cuda --layout all --dtype all \
  --activation all
# The cooperative kernels on every shape they can take (their per-slice barrier and exchange under the GPU's memory
# model), and the cluster kernels.
parallel "check --cooperative on" 150 "$out/checks.txt" "$java" -jar "$jar" check --device cuda \
  --fused-limit-kib 0 --cooperative on --layout all --dtype fp32,bf16 --activation all
parallel "check --cluster on" 150 "$out/checks.txt" "$java" -jar "$jar" check --device cuda \
  --fused-limit-kib 0 --cluster on --layout all --dtype fp32,bf16 --activation all
parallel "check cooperativeRereads=on" 150 "$out/checks.txt" "$java" -Dgroupnorm4j.cooperativeRereads=on -jar "$jar" \
  check --device cuda --fused-limit-kib 0 --cooperative off --layout all --dtype all --activation all
# Random shapes (check --random: N, C, G, spatial dims, variant, inputs drawn from a seed), the fuzzing counterpart
# of the fixed suite, with the default kernels and with the one-launch two-pass kernels.
parallel "check --random" 150 "$out/checks.txt" "$java" -jar "$jar" check --device cuda --random 1000 \
  --layout all --dtype all --activation all
parallel "check --random cooperativeRereads=on" 150 "$out/checks.txt" "$java" -Dgroupnorm4j.cooperativeRereads=on \
  -jar "$jar" check --device cuda --random 500 --random-seed 2 --fused-limit-kib 0 --cooperative off --layout all \
  --dtype all --activation all
parallel junit 150 "$out/tests.txt" "$java" -jar "$kit"/lib/junit-platform-console-standalone-*.jar execute \
  --class-path "$cp" --scan-class-path "$kit/test-classes" --include-tag gpu --disable-banner --details=tree
mkdir -p "$tmp/acc" "$tmp/accv"
parallel torch-accuracy 150 "$out/tests.txt" python3 "$kit/torch_compare.py" accuracy "$java" "$jar" \
  "$tmp/acc"
parallel torch-accuracy-variants 150 "$out/tests.txt" python3 "$kit/torch_compare.py" accuracy-variants \
  "$java" "$jar" "$tmp/accv"
# compute-sanitizer, forward+backward: a small shape (one-block kernels) and one with a 1.4 MB slice at N*G = 2
# (split statistics, elementwise map, two-launch backward); two variants; the cluster and cooperative kernels
# (one-block kernels off, so the small shape takes them) in two variants each; the one-launch two-pass
# kernels (stats_apply, sums_dx; nhwc_stats_apply, nhwc_sums_dx).
# Four at a time.
sanitize() {  # sanitize LABEL TOOL N C H W G LAYOUT DTYPE ACT [kernel flags, -Dproperty=value for java...]
  local label=$1 tool=$2 n=$3 c=$4 h=$5 w=$6 g=$7 layout=$8 dtype=$9 act=${10}; shift 10
  local props=() flags=() f
  for f in "$@"; do case $f in -D*) props+=("$f") ;; *) flags+=("$f") ;; esac; done
  local dir="$tmp/san-${label// /_}-$tool"; mkdir -p "$dir"
  python3 "$kit/torch_compare.py" inputs "$dir" $n $c $h $w $g $layout
  local extra=(); [ $tool = memcheck ] && extra=(--leak-check full)
  local beta=(); [ $act = silu ] && beta=(--beta "$dir/beta.npy")  # backward takes beta only to undo SiLU
  step "sanitize-$tool [$label]" 150 "$out/sanitizer.txt" compute-sanitizer --tool $tool "${extra[@]}" \
    --error-exitcode 3 "$java" "${props[@]}" -jar "$jar" backward --x "$dir/x.npy" --dy "$dir/dy.npy" \
    --gamma "$dir/gamma.npy" "${beta[@]}" --groups $g --layout $layout --dtype $dtype --activation $act \
    "${flags[@]}" --device cuda \
    --out "$dir/out"
}
cases=("2 24 7 9 6 nchw fp32 none|one-block" "1 8 300 300 2 nchw fp32 none|split" "2 24 7 9 6 nhwc bf16 silu|nhwc bf16 silu"
       "2 24 7 9 6 nchw fp16 silu|nchw fp16 silu"
       "2 24 7 9 6 nchw fp32 none --fused-limit-kib 0 --cluster on|cluster nchw"
       "2 24 7 9 6 nhwc bf16 silu --fused-limit-kib 0 --cluster on|cluster nhwc bf16 silu"
       "2 24 7 9 6 nchw fp32 none --fused-limit-kib 0 --cooperative on|cooperative nchw"
       "2 24 7 9 6 nhwc bf16 silu --fused-limit-kib 0 --cooperative on|cooperative nhwc bf16 silu"
       "2 24 7 9 6 nchw fp32 silu --fused-limit-kib 0 --cooperative off -Dgroupnorm4j.cooperativeRereads=on|stats_apply sums_dx"
       "2 24 7 9 6 nhwc bf16 silu --fused-limit-kib 0 --cooperative off -Dgroupnorm4j.cooperativeRereads=on|nhwc_stats_apply nhwc_sums_dx")
(
  running=0
  for tool in memcheck racecheck synccheck initcheck; do
    for c in "${cases[@]}"; do
      args=${c%|*} label=${c#*|}
      set -- $args
      ( sanitize "$label" $tool "$@" ) &
      running=$((running + 1))
      if [ $running -ge 4 ]; then wait -n; running=$((running - 1)); fi
    done
  done
  wait
) &
par+=($!)
wait "${par[@]}"
unset PARALLEL_PHASE
collect
# The parallel steps ran in subshells: their failures are in kit.log, gathered here.
while read -r line; do failed+=("$line"); done < <(grep -E '^=== .*: exit [1-9]' "$log" | sed -E 's/^=== (.*): exit.*/\1/' \
  | grep -v -x -F -f <(printf '%s\n' "${failed[@]:-}"))
while read -r line; do skipped+=("$line"); done < <(grep -E '^=== .*: skipped' "$log" | sed -E 's/^=== (.*): skipped.*/\1/' \
  | grep -v -x -F -f <(printf '%s\n' "${skipped[@]:-}"))

# --- older kernel versions, then profiles (quiet GPU again)
for v in "nchw bf16" "nhwc fp32" "nhwc fp16"; do
  set -- $v
  step "bench --cluster on $v" 45 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda --cluster on \
    --layout $1 --dtype $2
done
step "bench rereadOrder=forward nhwc bf16" 45 "$out/timings.txt" "$java" -Dgroupnorm4j.rereadOrder=forward \
  -jar "$jar" bench --device cuda --layout nhwc --dtype bf16
step "bench rereadLoads=last-use nhwc bf16" 45 "$out/timings.txt" "$java" -Dgroupnorm4j.rereadLoads=last-use \
  -jar "$jar" bench --device cuda --layout nhwc --dtype bf16
step "bench cooperativeRereads=on nchw bf16" 45 "$out/timings.txt" "$java" -Dgroupnorm4j.cooperativeRereads=on \
  -jar "$jar" bench --device cuda --layout nchw --dtype bf16
# One-pass kernels off; allowed up to 200 KiB (one block per SM).
for variant in "--fused-limit-kib 0" "--fused-limit-kib 200"; do
  step "bench $variant" 45 "$out/timings.txt" "$java" -jar "$jar" bench --device cuda $variant
done
# Nsight Compute speed of light of the first kernels of one bench pass (each suite shape's forward and backward
# kernels in order), to see which kernel is far from the memory roofline. Advisory: a failure here (no counter
# access) does not fail the kit.
if command -v ncu >/dev/null 2>&1; then
  step ncu 120 "$out/profile.txt" ncu --section SpeedOfLight --kernel-name regex:groupnorm --launch-count 24 \
    --target-processes all "$java" -jar "$jar" bench --device cuda --warmup 0 --repeat 1
  # The backward at N = 1 and 2 (channel sums, then dx re-reading x and dy, 32 MiB, which fit the 60 MiB L2): the
  # goal is 2x PyTorch and it stands at 1.5-1.7x; whether dx's re-read hits L2, and what its warps wait on.
  step "ncu backward N=1,2" 90 "$out/profile.txt" ncu --section SpeedOfLight --section MemoryWorkloadAnalysis \
    --section WarpStateStats --kernel-name regex:'backward_(channel_sums|dx)_f32' --launch-count 4 \
    --target-processes all "$java" -jar "$jar" bench --device cuda --warmup 0 --repeat 1
  # The one-launch two-pass kernels (off by default) at N = 1 and 2: does the re-read hit L2? DRAM bytes against the
  # minimal 32 MiB forward and 48 MiB backward of these 16 MiB fp32 tensors, and the L2 hit rate.
  for layout in nchw nhwc; do
    step "ncu cooperativeRereads $layout" 60 "$out/profile.txt" ncu --metrics \
      gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sector_hit_rate.pct \
      --kernel-name regex:'stats_apply|sums_dx' --launch-count 4 --target-processes all "$java" \
      -Dgroupnorm4j.cooperativeRereads=on -jar "$jar" bench --device cuda --cooperative off --layout $layout \
      --shapes 1,2 --warmup 0 --repeat 1
  done
  # The cooperative forward at N = 1 and 2 (the default since 2026-11-28): where its 1.5 TB/s goes.
  step "ncu cooperative" 90 "$out/profile.txt" ncu --section SpeedOfLight --section Occupancy \
    --section WarpStateStats --kernel-name regex:cooperative --launch-count 4 --target-processes all "$java" -jar \
    "$jar" bench --device cuda --warmup 0 --repeat 1
  step "ncu nhwc bf16" 90 "$out/profile.txt" ncu --section SpeedOfLight --section Occupancy \
    --kernel-name regex:groupnorm --launch-count 24 --target-processes all "$java" -jar "$jar" bench --device cuda \
    --layout nhwc --dtype bf16 --warmup 0 --repeat 1
  mapfile -t failed < <(printf '%s\n' "${failed[@]}" | grep -v '^ncu')
fi
mapfile -t failed < <(printf '%s\n' "${failed[@]:-}" | grep -v '^$')
files=$(find "$out" -type f | wc -l)
[ "$files" -le 8 ] || echo "gpu kit: $files files in $out; the device tool brings back 8" | tee -a "$log"
echo "gpu kit: $(date -u +%FT%TZ), $SECONDS s; skipped (out of time): ${skipped[*]:-none}" | tee -a "$log"
if [ ${#failed[@]} -eq 0 ]; then echo "gpu kit: all steps that ran passed" | tee -a "$log"; exit 0; fi
echo "gpu kit: FAILED steps: $(printf '%s; ' "${failed[@]}")" | tee -a "$log"
exit 1
