#!/usr/bin/env bash
# groupnorm4j SASS report: what each kernel compiles to on sm_90, counted from the machine code, no GPU needed.
#
#   bash native/sass-report.sh [--check] [OUT_DIR]  tables on stdout, cubins and full listings in OUT_DIR
#                                                  (default target/sass); --check: exit 1 if an inner streaming loop
#                                                  calls a division slow path or touches local memory
#   NVDISASM=/path/to/nvdisasm bash native/sass-report.sh
#
# Not part of the Maven build: it needs nvdisasm, which the CUDA toolkit on this project's machines does not ship.
# Any nvdisasm that knows sm_90 works (CUDA >= 11.8); native/fetch-nvdisasm.sh finds one or fetches Debian
# bookworm's. CI runs `--check` with it.
# Cubins from nvcc >= 12.8 carry a newer ELF header (OS/ABI 0x41, ABI version 8, new e_flags) that older
# disassemblers refuse with "does not contain Cuda architecture information"; the script then rewrites those three
# header fields to the older encoding of the same target (sm_90) in a copy and disassembles that. The machine code
# is not touched.
#
# Columns (static counts, not per element, not a timing):
#   insns     instructions (NOPs and the trailing self-branch left out)
#   mufu      special-function-unit instructions (MUFU.EX2, .RCP, .RSQ ...): 16 per clock per SM on Hopper
#             against 128 FP32 FMAs, so they bound SiLU-heavy loops
#   slow_call call sites of nvcc's IEEE division / reciprocal slow paths: each guards a short fast path with a
#             range test, a branch and a convergence region (BSSY/BSYNC)
#   bssy      convergence regions opened
#   ldg128 / ldg  global loads that are 16 bytes wide / all global loads (likewise stg)
#   local     local-memory instructions (LDL/STL): spills or indexed arrays, 0 expected
# The second table lists the streaming loops: a backward branch whose body has 16-byte global loads.
set -euo pipefail

root=$(cd "$(dirname -- "$0")/.." && pwd)
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
out=${1:-$root/target/sass}
nvcc=${NVCC:-nvcc}
command -v "$nvcc" > /dev/null 2>&1 || nvcc=/usr/local/bin/nvcc
nvdisasm=${NVDISASM:-}
if [ -z "$nvdisasm" ]; then
    for c in nvdisasm "${CUDA_HOME:-/nonexistent}/bin/nvdisasm" /usr/local/cuda/bin/nvdisasm; do
        if command -v "$c" > /dev/null 2>&1; then nvdisasm=$(command -v "$c"); break; fi
    done
fi
if [ -z "$nvdisasm" ]; then
    echo "groupnorm4j: nvdisasm not found; set NVDISASM=/path/to/nvdisasm (see the comment at the top of $0)" >&2
    exit 1
fi

mkdir -p -- "$out"
# Rewrites the CUDA ELF header of $1 into $2 in the pre-12.8 encoding (sm_90: EI_OSABI 0x33, ABI version 7,
# e_flags 0x005a055a = sm_90 | 64-bit addresses | unified texture mode | virtual sm_90).
old_header() {
    python3 - "$1" "$2" << 'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
if b[:4] != b'\x7fELF' or b[4] != 2:
    sys.exit('not a 64-bit ELF file: ' + sys.argv[1])
b[7], b[8] = 0x33, 7
struct.pack_into('<I', b, 0x30, 0x005a055a)
open(sys.argv[2], 'wb').write(b)
PY
}

for src in "$root"/cuda/*.cu; do
    name=$(basename -- "$src" .cu)
    "$nvcc" -cubin -O3 -std=c++17 -lineinfo -I "$root/cuda" -arch=sm_90 -o "$out/$name.sm_90.cubin" "$src"
    if ! "$nvdisasm" -c "$out/$name.sm_90.cubin" > "$out/$name.sm_90.sass" 2> "$out/$name.err"; then
        old_header "$out/$name.sm_90.cubin" "$out/$name.sm_90.old-header.cubin"
        "$nvdisasm" -c "$out/$name.sm_90.old-header.cubin" > "$out/$name.sm_90.sass"
    fi
    rm -f -- "$out/$name.err"
done

python3 - "$check" "$out"/*.sm_90.sass << 'PY'
import re, sys

check = sys.argv[1] == '1'
del sys.argv[1]

kernels = {}  # name -> (instruction texts, label -> index of the instruction after it)
for path in sys.argv[1:]:
    name = None
    for line in open(path):
        if line.startswith('\t.section\t.text.'):
            name = line.split()[1].split(',')[0][len('.text.'):]
            kernels[name] = ([], {})
            continue
        if name is None:
            continue
        insns, labels = kernels[name]
        m = re.match(r'^(\.L_x_\d+):', line)
        if m:
            labels[m.group(1)] = len(insns)
            continue
        m = re.match(r'\s+/\*[0-9a-f]+\*/\s+(.*?)\s*;\s*$', line)
        if m:
            insns.append(m.group(1))


def op(text):
    return re.sub(r'^@!?U?P[T0-9]+\s+', '', text).split()[0]


def counts(insns):
    ops = [op(t) for t in insns]
    return dict(insns=len(ops), mufu=sum(o.startswith('MUFU') for o in ops),
                slow=sum(o.startswith('CALL') and 'slowpath' in t for o, t in zip(ops, insns)),
                bssy=sum(o == 'BSSY' for o in ops),
                ldg128=sum(o.startswith('LDG') and '.128' in o for o in ops), ldg=sum(o.startswith('LDG') for o in ops),
                stg128=sum(o.startswith('STG') and '.128' in o for o in ops), stg=sum(o.startswith('STG') for o in ops),
                local=sum(o.startswith(('LDL', 'STL')) for o in ops))


def self_branch(insns, labels, i):
    return any(insns[i] == f'BRA `({label})' and at == i for label, at in labels.items())


print(f"{'kernel':48} {'insns':>6} {'mufu':>5} {'slow_call':>9} {'bssy':>5} {'ldg128':>7} {'ldg':>4} "
      f"{'stg128':>7} {'stg':>4} {'local':>5}")
for name in sorted(kernels):
    insns, labels = kernels[name]
    body = [t for i, t in enumerate(insns) if op(t) != 'NOP' and not self_branch(insns, labels, i)]
    c = counts(body)
    print(f"{name:48} {c['insns']:6} {c['mufu']:5} {c['slow']:9} {c['bssy']:5} {c['ldg128']:7} {c['ldg']:4} "
          f"{c['stg128']:7} {c['stg']:4} {c['local']:5}")

print()
print('Streaming loops: static counts of the body, every path in it (both activations where it has both); inner:')
print('no loop inside it.')
print(f"{'kernel':48} {'loop':>12} {'inner':>5} {'insns':>6} {'ldg128':>7} {'mufu':>5} {'bssy':>5} {'slow_call':>9} "
      f"{'local':>5}")
problems = []
for name in sorted(kernels):
    insns, labels = kernels[name]
    loops = []  # (first, last) instruction of each backward branch's body
    for i, t in enumerate(insns):
        m = re.search(r'BRA `\((\.L_x_\d+)\)', t)
        if m and m.group(1) in labels and labels[m.group(1)] < i:
            loops.append((labels[m.group(1)], i, m.group(1)))
    for first, last, label in loops:
        c = counts(insns[first:last + 1])
        if not c['ldg128']:
            continue
        inner = not any(f >= first and l <= last and (f, l) != (first, last) for f, l, _ in loops)
        print(f"{name:48} {label:>12} {'yes' if inner else 'no':>5} {c['insns']:6} {c['ldg128']:7} {c['mufu']:5} "
              f"{c['bssy']:5} {c['slow']:9} {c['local']:5}")
        if inner and (c['slow'] or c['local']):
            problems.append(f"{name} loop {label}: {c['slow']} slow-path call(s), {c['local']} local-memory access(es)")
if check:
    print()
    if problems:
        print('sass check: FAILED, inner streaming loops must not call a slow path or touch local memory:')
        for p in problems:
            print('  ' + p)
        sys.exit(1)
    print('sass check: no inner streaming loop calls a slow path or touches local memory')
PY
