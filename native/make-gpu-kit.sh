#!/usr/bin/env bash
# Builds target/gpu-kit: everything the lent GPU machine needs to run the checks, which has no Maven, no network
# and maybe no Java. Contents: a jlink'd JRE, target/groupnorm4j.jar, the test classes with their jars (JUnit
# console launcher, JMH), the ptxas report and the scripts that run there. The PTX travels inside the jar only: a
# second copy took 8 of the 64 MiB the device tool carries.
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

# A small JRE: the modules jdeps reports for the jar, JUnit and JMH, plus logging and XML for the reports.
jlink --add-modules java.base,java.logging,java.management,java.xml,java.sql,jdk.unsupported,jdk.management \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output "$kit/jre"

size=$(du -sm "$kit" | cut -f1)
echo "groupnorm4j: GPU kit in $kit (${size} MiB; the device tool carries at most 64 MiB)"
if [ "$size" -ge 64 ]; then
  echo "groupnorm4j: the kit is too large to carry" >&2
  exit 1
fi
