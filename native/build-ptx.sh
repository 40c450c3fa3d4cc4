#!/usr/bin/env bash
# Compiles every CUDA_SRC_DIR/*.cu to PTX for compute_75 and compute_90 and records the
# sm_90 ptxas resource usage (registers, shared memory, spills) of every kernel, with its
# theoretical occupancy at its launch bound (native/occupancy.awk).
#
# Usage: native/build-ptx.sh NVCC CUDA_SRC_DIR OUT_DIR [REPORT_FILE]
#
# Outputs OUT_DIR/<name>.compute_75.ptx and OUT_DIR/<name>.compute_90.ptx. REPORT_FILE is
# rewritten on every run (one header line, then one section per .cu), so repeated builds
# give the same files; with it, OUT_DIR/<name>.sm_90.resources lists each kernel's sm_90
# registers (the PTX emulator's occupancy: KernelResources.java).
# Without it no ptxas runs (the emulator's test kernels).
# With GROUPNORM4J_PTX_STAMP set to a file path, a build whose inputs (nvcc's version, the flags,
# this script, the .cu/.cuh of CUDA_SRC_DIR and of cuda/, which test sources include) hash to
# what that file holds, and whose outputs are all there, is skipped: CI builds the jar and then
# runs `mvn test`, which would otherwise compile everything a second time.
# Exits 1 with a single line on stderr when nvcc cannot be found.
set -euo pipefail

if [ "$#" -ne 3 ] && [ "$#" -ne 4 ]; then
    echo "usage: $0 NVCC CUDA_SRC_DIR OUT_DIR [REPORT_FILE]" >&2
    exit 2
fi

nvcc_arg=$1
src_dir=$2
out_dir=$3
report_file=${4:-}

nvcc_not_found() {
    echo "groupnorm4j: nvcc not found at '${nvcc_arg}'. Install the CUDA toolkit (nvcc) or point the build at it with -Dnvcc=/path/to/nvcc." >&2
    exit 1
}

# A bare name is looked up on PATH, then in the usual CUDA install places; anything with a
# slash must be an executable file.
case "$nvcc_arg" in
    */*) nvcc_bin=$nvcc_arg ;;
    *)   nvcc_bin=$(command -v -- "$nvcc_arg" 2>/dev/null) || {
             for candidate in "${CUDA_HOME:-/nonexistent}/bin/$nvcc_arg" "/usr/local/cuda/bin/$nvcc_arg" \
                              "/usr/local/bin/$nvcc_arg"; do
                 if [ -x "$candidate" ]; then nvcc_bin=$candidate; break; fi
             done
             [ -n "${nvcc_bin:-}" ] || nvcc_not_found
         } ;;
esac
if [ -z "$nvcc_arg" ] || [ -d "$nvcc_bin" ] || [ ! -x "$nvcc_bin" ]; then
    nvcc_not_found
fi

if [ ! -d "$src_dir" ]; then
    echo "groupnorm4j: CUDA source directory '${src_dir}' does not exist." >&2
    exit 1
fi

shopt -s nullglob
sources=("$src_dir"/*.cu)
if [ "${#sources[@]}" -eq 0 ]; then
    echo "groupnorm4j: no .cu files in '${src_dir}'." >&2
    exit 1
fi

mkdir -p -- "$out_dir"
[ -z "$report_file" ] || mkdir -p -- "$(dirname -- "$report_file")"

common_flags=(-O3 -std=c++17 -lineinfo -I "$src_dir")
# GROUPNORM4J_PTX_ARCHS narrows the PTX builds (make-gpu-kit.sh's baseline needs compute_90 only).
read -r -a archs <<< "${GROUPNORM4J_PTX_ARCHS:-compute_75 compute_90}"
script_dir=$(cd "$(dirname -- "$0")" && pwd)

stamp_file=${GROUPNORM4J_PTX_STAMP:-}
stamp=
if [ -n "$stamp_file" ]; then
    project_cuda=$(cd "$(dirname -- "$0")/../cuda" && pwd)
    stamp=$({
        "$nvcc_bin" --version
        echo "${common_flags[*]} $report_file ${archs[*]}"
        cat -- "$0" "$script_dir/occupancy.awk"
        for f in "$src_dir"/*.cu "$src_dir"/*.cuh "$project_cuda"/*.cu "$project_cuda"/*.cuh; do
            echo "== $f"
            cat -- "$f"
        done
    } | sha256sum | cut -d' ' -f1)
    up_to_date=0
    if [ -f "$stamp_file" ] && [ "$(cat -- "$stamp_file")" = "$stamp" ]; then
        up_to_date=1
        [ -z "$report_file" ] || [ -f "$report_file" ] || up_to_date=0
        for src in "${sources[@]}"; do
            name=$(basename -- "$src" .cu)
            for arch in "${archs[@]}"; do
                [ -f "$out_dir/$name.$arch.ptx" ] || up_to_date=0
            done
            [ -z "$report_file" ] || [ -f "$out_dir/$name.sm_90.resources" ] || up_to_date=0
        done
    fi
    if [ "$up_to_date" -eq 1 ]; then
        echo "groupnorm4j: PTX for ${#sources[@]} source file(s) in $out_dir is up to date (sources unchanged)"
        exit 0
    fi
    rm -f -- "$stamp_file"
fi
tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/groupnorm4j-ptx.XXXXXX")
trap 'rm -rf -- "$tmp_dir"' EXIT

{
    echo "# groupnorm4j ptxas resource report (sm_90), $("$nvcc_bin" --version | tail -n 1)"
} > "$tmp_dir/report"

spill_warnings=0
for src in "${sources[@]}"; do
    name=$(basename -- "$src" .cu)
    for arch in "${archs[@]}"; do
        # Write to a temporary file first so a failed compile never leaves a stale/partial PTX.
        "$nvcc_bin" -ptx "${common_flags[@]}" -arch="$arch" -o "$tmp_dir/$name.$arch.ptx" "$src"
        mv -f -- "$tmp_dir/$name.$arch.ptx" "$out_dir/$name.$arch.ptx"
    done
    [ -n "$report_file" ] || continue

    # ptxas -v writes its resource report to stderr; the cubin itself is not needed.
    "$nvcc_bin" -cubin "${common_flags[@]}" -arch=sm_90 -Xptxas -v -o /dev/null "$src" \
        > "$tmp_dir/$name.ptxas.log" 2>&1
    {
        echo "== $name.cu (sm_90) =="
        grep -E 'Compiling entry function|bytes stack frame|Used [0-9]+ registers' "$tmp_dir/$name.ptxas.log" \
            | sed -e 's/^ptxas info *: *//' -e 's/^ *//' || true
        awk -f "$script_dir/occupancy.awk" "$out_dir/$name.compute_90.ptx" "$tmp_dir/$name.ptxas.log"
    } >> "$tmp_dir/report"
    # Beside the PTX, for the emulator: a GPU reads each kernel's registers from the code it JIT-compiles, the
    # emulator has only the PTX, so without this it could not bound blocks per SM by registers.
    {
        echo "# ptxas -v for sm_90, $("$nvcc_bin" --version | tail -n 1): kernel, registers per thread"
        awk '/Compiling entry function/ { k = $0; sub(/^.*entry function \047/, "", k); sub(/\047.*$/, "", k) }
             /Used [0-9]+ registers/ { r = $0; sub(/^.*Used /, "", r); sub(/ registers.*$/, "", r); print k, r + 0 }' \
            "$tmp_dir/$name.ptxas.log"
    } > "$tmp_dir/$name.sm_90.resources"
    mv -f -- "$tmp_dir/$name.sm_90.resources" "$out_dir/$name.sm_90.resources"

    while IFS= read -r line; do
        echo "groupnorm4j: WARNING: register spills in $name.cu (sm_90): $line" >&2
        spill_warnings=$((spill_warnings + 1))
    done < <(grep -E '(^|[^0-9])[1-9][0-9]* bytes spill (stores|loads)' "$tmp_dir/$name.ptxas.log" || true)
done

if [ -n "$report_file" ]; then
    mv -f -- "$tmp_dir/report" "$report_file"
fi
[ -z "$stamp_file" ] || echo "$stamp" > "$stamp_file"
if [ -z "$report_file" ]; then
    echo "groupnorm4j: wrote PTX for ${#sources[@]} source file(s) to $out_dir"
    exit 0
fi
echo "groupnorm4j: wrote PTX for ${#sources[@]} source file(s) to $out_dir; ptxas report in $report_file (spill warnings: $spill_warnings)"
