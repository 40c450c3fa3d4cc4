#!/usr/bin/env bash
# Builds target/gpu-kit: everything the lent GPU machine needs to run the checks, which has no Maven, no network
# and maybe no Java. Contents: a jlink'd JRE, target/groupnorm4j.jar, the test classes with their jars (JUnit
# console launcher, JMH), the ptxas report, the scripts that run there, and a baseline build's PTX (gzipped, for
# an A/B in the same run; see below). The shipped PTX travels inside the jar only: a second plain copy took 8 of the
# 64 MiB the device tool carries.
#   usage: native/make-gpu-kit.sh [extra mvn args, e.g. -Dnvcc=/usr/local/bin/nvcc]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kit=target/gpu-kit
junit_console=org.junit.platform:junit-platform-console-standalone:1.14.1

mvn -B -q -DskipTests "$@" package
rm -rf "$kit"
mkdir -p "$kit/lib"
cp target/groupnorm4j.jar target/ptxas-report-sm_90.txt "$kit/"
cp -r target/test-classes "$kit/test-classes"
cp native/gpu-run.sh native/torch_compare.py "$kit/"

# Test-only jars: the JUnit console launcher and JMH's runtime (not the annotation processor).
mvn -B -q dependency:copy -Dartifact="$junit_console" -DoutputDirectory="$kit/lib"
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
tr ':' '\n' < target/test-classpath.txt | grep -E '/(jmh-core|jopt-simple|commons-math3)-' | xargs -I{} cp {} "$kit/lib/"

# Baseline kernels, for an A/B in the same run on the same card (-Dgroupnorm4j.ptxDir): the compute_90 PTX of
# GROUPNORM4J_BASELINE (default 000f6da: the kernels before 72b6d88 took the divisions out of the hot loops, which
# no GPU has timed), gzipped (about 1 MiB; the plain PTX would take 9 of the 64 MiB the device tool carries). Only
# if its kernels take the same arguments as this build's: the emulator checks it against the CPU reference first.
baseline=${GROUPNORM4J_BASELINE:-000f6da}
nvcc_bin=nvcc
for a in "$@"; do case "$a" in -Dnvcc=*) nvcc_bin=${a#-Dnvcc=} ;; esac; done  # build-ptx.sh finds a bare nvcc
base_tmp=$(mktemp -d)
if git -C "$root" rev-parse -q --verify "$baseline^{commit}" > /dev/null \
    && git -C "$root" archive "$baseline" cuda | tar -x -C "$base_tmp" \
    && GROUPNORM4J_PTX_ARCHS=compute_90 bash native/build-ptx.sh "$nvcc_bin" "$base_tmp/cuda" "$base_tmp/ptx" \
        > /dev/null \
    && java -D"groupnorm4j.ptxDir=$base_tmp/ptx" -jar target/groupnorm4j.jar check --device emu --layout nchw,nhwc \
        --dtype fp32,bf16 --activation silu > "$base_tmp/check.txt" 2>&1; then
  git -C "$root" rev-parse --short "$baseline^{commit}" > "$base_tmp/ptx/REVISION"
  tar -czf "$kit/baseline-ptx.tar.gz" -C "$base_tmp/ptx" .
  echo "groupnorm4j: baseline kernels of $(cat "$base_tmp/ptx/REVISION") in the kit ($(tail -n 1 "$base_tmp/check.txt") on the emulator)"
else
  echo "groupnorm4j: no baseline kernels in the kit: $baseline could not be built or failed the emulator's check" \
       "($(tail -n 1 "$base_tmp/check.txt" 2> /dev/null || echo 'not reached'))" >&2
fi
rm -rf "$base_tmp"

# A small JRE: the modules jdeps reports for the jar, JUnit and JMH, plus logging and XML for the reports.
jlink --add-modules java.base,java.logging,java.management,java.xml,java.sql,jdk.unsupported,jdk.management \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output "$kit/jre"

size=$(du -sm "$kit" | cut -f1)
echo "groupnorm4j: GPU kit in $kit (${size} MiB; the device tool carries at most 64 MiB)"
if [ "$size" -ge 64 ]; then
  echo "groupnorm4j: the kit is too large to carry" >&2
  exit 1
fi
