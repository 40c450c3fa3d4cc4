#!/usr/bin/env bash
# Prints the path of an nvdisasm for native/sass-report.sh: one on PATH or under CUDA_HOME, else the one in Debian
# bookworm's non-free nvidia-cuda-toolkit package (CUDA 11.8, knows sm_90), downloaded once into DIR (default
# target/tools) with apt's own signature checks, through a private sources list and state directory: nothing on
# the machine is installed or reconfigured. On failure: one line on stderr saying why, exit 1.
set -euo pipefail

root=$(cd "$(dirname -- "$0")/.." && pwd)
dir=${1:-$root/target/tools}

for c in nvdisasm "${CUDA_HOME:-/nonexistent}/bin/nvdisasm" /usr/local/cuda/bin/nvdisasm; do
    if command -v "$c" > /dev/null 2>&1; then command -v "$c"; exit 0; fi
done
found=$(find "$dir/nvidia-cuda-toolkit" -name nvdisasm -type f 2> /dev/null | head -n 1 || true)
if [ -n "$found" ]; then echo "$found"; exit 0; fi

fail() { echo "groupnorm4j: no nvdisasm: $*" >&2; exit 1; }
command -v apt-get > /dev/null 2>&1 || fail "not on PATH, and no apt-get to fetch Debian's"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || fail "not on PATH, and no Debian archive keyring ($keyring) to check Debian's package with"

apt_dir="$dir/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dir/nvidia-cuda-toolkit"
cat > "$apt_dir/sources.list" << EOF
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm non-free
EOF
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/nonexistent
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
          -o APT::Sandbox::User=root -q)
apt-get "${apt_opts[@]}" update > "$apt_dir/update.log" 2>&1 \
    || fail "apt-get update of Debian's non-free list failed (see $apt_dir/update.log)"
(cd "$apt_dir" && apt-get "${apt_opts[@]}" download nvidia-cuda-toolkit > download.log 2>&1) \
    || fail "apt-get download nvidia-cuda-toolkit failed (see $apt_dir/download.log)"
deb=$(ls "$apt_dir"/nvidia-cuda-toolkit_*.deb 2> /dev/null | head -n 1)
[ -n "$deb" ] || fail "apt-get download left no nvidia-cuda-toolkit_*.deb in $apt_dir"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/nvidia-cuda-toolkit" ./usr/bin/nvdisasm \
    || fail "could not unpack nvdisasm from $deb"
rm -f -- "$deb"
found=$(find "$dir/nvidia-cuda-toolkit" -name nvdisasm -type f | head -n 1)
[ -n "$found" ] || fail "Debian's nvidia-cuda-toolkit package holds no nvdisasm"
echo "$found"
