#!/usr/bin/env bash
# Runs on the lent GPU machine (no Maven, no network), from the kit that native/make-gpu-kit.sh built:
#   bash target/gpu-kit/gpu-run.sh            logs go to $OUT (the device tool's output folder) or ./gpu-out
# Steps, timings first (a lent machine has minutes; what a cut-off run loses should be the slow checks): bench
# of fp32 NCHW and of eight layout/dtype/SiLU variants, PyTorch timed beside them, kernel versions, JMH host
# overhead; then check (all variants), the gpu-tagged JUnit tests, accuracy against torch float64,
# compute-sanitizer memcheck/racecheck/synccheck/initcheck on two forward+backward shapes, two variants, and the
# cluster and cooperative kernels in two variants each, and an advisory Nsight Compute pass. Every step runs even
# if an earlier one failed; the exit status says whether any failed.
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
java="$kit/jre/bin/java"
[ -x "$java" ] || java=$(command -v java)
jar="$kit/groupnorm4j.jar"
cp="$kit/test-classes:$jar:$(ls "$kit"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
tmp=$(mktemp -d)
log="$out/kit.log"
failed=()

step() {  # step NAME LOGFILE cmd...
  local name=$1 file=$2; shift 2
  echo "=== $name: $* ===" | tee -a "$log"
  local t0=$SECONDS
  "$@" > >(tee -a "$file") 2>&1
  local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - t0)) s ===" | tee -a "$log"
  [ $rc -eq 0 ] || failed+=("$name")
}

echo "groupnorm4j GPU kit, $(date -u +%FT%TZ), kit $kit" | tee "$log"
step nvidia-smi "$log" nvidia-smi
# Kernel parameters go through a pinned block (JCudaGpuDriver) since a commit that no GPU had run when this kit
# was written: if the fp32 check fails with it and passes with the older per-parameter arrays, the rest of the
# kit runs with arrays (and says so) rather than losing every timing to one host-side bug.
step check-fp32 "$out/check.txt" "$java" -jar "$jar" check --device cuda
if [ "${failed[*]}" = "check-fp32" ] && "$java" -Dgroupnorm4j.launchParams=arrays -jar "$jar" check --device cuda \
    > "$out/check-arrays.txt" 2>&1; then
  echo "=== launch parameters: pinned FAILED, arrays passed: the rest of the kit uses arrays ===" | tee -a "$log"
  export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dgroupnorm4j.launchParams=arrays"
fi

# --- timings, in the order of what the open goals need most: ours and torch's on the suite, the kernel versions
# that are off by default or new (cluster kernels; second passes in the first pass's order, as before), then the
# layout/dtype/SiLU variants beside torch, then the older one-pass limits.
step bench "$out/bench.txt" "$java" -jar "$jar" bench --device cuda
step torch-bench "$out/torch.txt" python3 "$kit/torch_compare.py" bench "$out/bench.txt"
# The sm_90 cluster kernels (a slice, or x and dy of a slice, shared by 8 CTAs through distributed shared
# memory): off by default until this line has timed them against the default above.
step "bench --cluster on" "$out/bench-cluster.txt" "$java" -jar "$jar" bench --device cuda --cluster on
# The cooperative one-pass kernels (any GPU: a slice shared by CTAs that exchange partials through global memory in
# one cooperative launch) wherever the slices split over the SMs; by default they only take tensors up to 2 MiB.
step "bench --cooperative on" "$out/bench-cooperative.txt" "$java" -jar "$jar" bench --device cuda --cooperative on
# The second passes in the first pass's order (before) against the default reverse order (bench above).
step "bench rereadOrder=forward" "$out/bench-variants.txt" "$java" -Dgroupnorm4j.rereadOrder=forward -jar "$jar" \
  bench --device cuda
for v in "nchw bf16" "nhwc fp32" "nhwc fp16"; do
  set -- $v
  step "bench --cluster on $v" "$out/bench-cluster.txt" "$java" -jar "$jar" bench --device cuda --cluster on \
    --layout $1 --dtype $2
done
for v in "nhwc fp32 none" "nchw fp16 none" "nchw bf16 none" "nhwc fp16 none" "nhwc bf16 none" "nchw fp32 silu" \
         "nchw bf16 silu" "nhwc bf16 silu"; do
  set -- $v
  step "bench $v" "$out/bench-variants-5.txt" "$java" -jar "$jar" bench --device cuda --layout $1 --dtype $2 \
    --activation $3
done
step torch-variants "$out/torch-variants.txt" python3 "$kit/torch_compare.py" variants "$out/bench-variants-5.txt"
step "bench rereadOrder=forward nhwc bf16" "$out/bench-variants.txt" "$java" -Dgroupnorm4j.rereadOrder=forward \
  -jar "$jar" bench --device cuda --layout nhwc --dtype bf16
# Kernel versions side by side: one-pass kernels off; allowed up to 200 KiB (one block per SM).
for variant in "--fused-limit-kib 0" "--fused-limit-kib 200"; do
  step "bench $variant" "$out/bench-variants.txt" "$java" -jar "$jar" bench --device cuda $variant
done
# Host time per call, with kernel parameters passed from a pinned block (default) and as JCuda arrays (before).
step jmh "$out/jmh.txt" "$java" -cp "$cp" io.github.groupnorm4j.bench.BenchmarksMain CudaHostOverhead \
  -f 1 -wi 2 -i 3 -w 1s -r 1s

# --- correctness on the device
step check "$out/check.txt" "$java" -jar "$jar" check --device cuda --layout all --dtype all --activation all
# The cooperative kernels on every shape they can take (their per-slice barrier and exchange under the GPU's memory
# model, which the emulator does not model), and the cluster kernels.
step "check --cooperative on" "$out/check.txt" "$java" -jar "$jar" check --device cuda --fused-limit-kib 0 \
  --cooperative on --layout all --dtype fp32,bf16 --activation all
step "check --cluster on" "$out/check.txt" "$java" -jar "$jar" check --device cuda --fused-limit-kib 0 \
  --cluster on --layout all --dtype fp32,bf16 --activation all
step junit "$out/junit.txt" "$java" -jar "$kit"/lib/junit-platform-console-standalone-*.jar execute \
  --class-path "$cp" --scan-class-path "$kit/test-classes" --include-tag gpu --disable-banner --details=tree
python3 "$kit/torch_compare.py" inputs "$tmp"
step torch-accuracy "$out/torch.txt" python3 "$kit/torch_compare.py" accuracy "$java" "$jar" "$tmp"
step torch-accuracy-variants "$out/torch-variants.txt" python3 "$kit/torch_compare.py" accuracy-variants "$java" \
  "$jar" "$tmp"
# Sanitize both kernel paths: a small shape (fused kernels) and one with a 1.4 MB slice at N*G = 2 (split
# statistics, elementwise map, three-launch backward).
for shape in "2 24 7 9 6" "1 8 300 300 2"; do
  set -- $shape
  dir="$tmp/in-$1-$2-$3-$4-$5"; mkdir -p "$dir"
  python3 "$kit/torch_compare.py" inputs "$dir" $shape
  for tool in memcheck racecheck synccheck initcheck; do
    extra=(); [ $tool = memcheck ] && extra=(--leak-check full)
    step "sanitize-$tool [$shape]" "$out/sanitizer.txt" compute-sanitizer --tool $tool "${extra[@]}" \
      --error-exitcode 3 "$java" -jar "$jar" backward --x "$dir/x.npy" --dy "$dir/dy.npy" --gamma "$dir/gamma.npy" \
      --groups $5 --device cuda --out "$dir/san-$tool"
  done
done
# Channels-last, 16-bit storage and SiLU (issue 5): compute-sanitizer on forward+backward of two variants.
for v in "nhwc bf16 silu" "nchw fp16 silu"; do
  set -- $v
  dir="$tmp/in-$1-$2-$3"; mkdir -p "$dir"
  python3 "$kit/torch_compare.py" inputs "$dir" 2 24 7 9 6 $1
  for tool in memcheck racecheck initcheck; do
    step "sanitize-$tool [$v]" "$out/sanitizer.txt" compute-sanitizer --tool $tool --error-exitcode 3 \
      "$java" -jar "$jar" backward --x "$dir/x.npy" --dy "$dir/dy.npy" --gamma "$dir/gamma.npy" --beta "$dir/beta.npy" \
      --groups 6 --layout $1 --dtype $2 --activation $3 --device cuda --out "$dir/san-$tool"
  done
done
# The sm_90 cluster kernels and the cooperative kernels (one-block kernels off, so the small shape takes them):
# both layouts, bf16 with SiLU.
for kernels in "--cluster on" "--cooperative on"; do
  for v in "nchw fp32 none" "nhwc bf16 silu"; do
    set -- $v
    dir="$tmp/in-${kernels#--}-$1-$2-$3"; dir=${dir// /-}; mkdir -p "$dir"
    python3 "$kit/torch_compare.py" inputs "$dir" 2 24 7 9 6 $1
    for tool in memcheck racecheck synccheck initcheck; do
      step "sanitize-$tool [$kernels $v]" "$out/sanitizer.txt" compute-sanitizer --tool $tool --error-exitcode 3 \
        "$java" -jar "$jar" backward --x "$dir/x.npy" --dy "$dir/dy.npy" --gamma "$dir/gamma.npy" \
        --beta "$dir/beta.npy" --groups 6 --layout $1 --dtype $2 --activation $3 --fused-limit-kib 0 $kernels \
        --device cuda --out "$dir/san-$tool"
    done
  done
done
# Nsight Compute speed-of-light of the first kernels of one bench pass (each suite shape's forward and backward
# kernels in order), to see which kernel is far from the memory roofline. Advisory: a failure here (no counter
# access) does not fail the kit.
if command -v ncu >/dev/null 2>&1; then
  echo "=== ncu (advisory) ===" | tee -a "$log"
  timeout 240 ncu --section SpeedOfLight --kernel-name regex:groupnorm --launch-count 24 --target-processes all \
    "$java" -jar "$jar" bench --device cuda --warmup 0 --repeat 1 > "$out/profile.txt" 2>&1
  echo "=== ncu: exit $? ===" | tee -a "$log"
  # The channels-last column kernels (bf16: the most registers per thread), to see whether they reach DRAM speed.
  timeout 150 ncu --section SpeedOfLight --section Occupancy --kernel-name regex:groupnorm --launch-count 24 \
    --target-processes all "$java" -jar "$jar" bench --device cuda --layout nhwc --dtype bf16 --warmup 0 \
    --repeat 1 > "$out/profile-nhwc-bf16.txt" 2>&1
  echo "=== ncu nhwc bf16: exit $? ===" | tee -a "$log"
fi
if [ ${#failed[@]} -eq 0 ]; then echo "gpu kit: all steps passed" | tee -a "$log"; exit 0; fi
echo "gpu kit: FAILED steps: ${failed[*]}" | tee -a "$log"
exit 1
