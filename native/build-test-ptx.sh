#!/usr/bin/env bash
# Compiles every TEST_CUDA_DIR/*.cu (the PTX emulator's test kernels) to PTX for compute_75 and
# compute_90, with the same flags as native/build-ptx.sh. No ptxas report: the PTX is only emulated.
#
# Usage: native/build-test-ptx.sh NVCC TEST_CUDA_DIR OUT_DIR
#
# Outputs OUT_DIR/<name>.compute_75.ptx and OUT_DIR/<name>.compute_90.ptx. Exits 1 with a single line
# on stderr when nvcc cannot be found.
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: $0 NVCC TEST_CUDA_DIR OUT_DIR" >&2
    exit 2
fi

nvcc_arg=$1
src_dir=$2
out_dir=$3

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
    echo "groupnorm4j: test CUDA source directory '${src_dir}' does not exist." >&2
    exit 1
fi

shopt -s nullglob
sources=("$src_dir"/*.cu)
if [ "${#sources[@]}" -eq 0 ]; then
    echo "groupnorm4j: no .cu files in '${src_dir}'." >&2
    exit 1
fi

mkdir -p -- "$out_dir"

common_flags=(-O3 -std=c++17 -lineinfo -I "$src_dir")
tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/groupnorm4j-test-ptx.XXXXXX")
trap 'rm -rf -- "$tmp_dir"' EXIT

for src in "${sources[@]}"; do
    name=$(basename -- "$src" .cu)
    for arch in compute_75 compute_90; do
        # Write to a temporary file first so a failed compile never leaves a stale/partial PTX.
        "$nvcc_bin" -ptx "${common_flags[@]}" -arch="$arch" -o "$tmp_dir/$name.$arch.ptx" "$src"
        mv -f -- "$tmp_dir/$name.$arch.ptx" "$out_dir/$name.$arch.ptx"
    done
done

echo "groupnorm4j: wrote test PTX for ${#sources[@]} source file(s) to $out_dir"
