# Theoretical occupancy of every kernel on sm_90 at its launch bound, for the ptxas report (native/build-ptx.sh).
# Input, in this order: the module's compute_90 PTX (for .maxntid, .minnctapersm, clusters and whether the body
# uses dynamic shared memory), then `ptxas -v` output of the same source for sm_90 (registers, static shared memory).
# Limits per SM (sm_90, CUDA occupancy calculator): 65,536 registers (4 sub-partitions of 16,384) allocated per
# warp in units of 256, 64 warps, 32 blocks, 228 KiB shared memory with 1 KiB reserved per block. Static only: no
# timing, no measurement.
# Usage: awk -f occupancy.awk module.compute_90.ptx ptxas.log
FNR == 1 { file++ }

# ---- the PTX
file == 1 && /^\.visible \.entry|^\.entry/ {
    name = $0
    sub(/^.*\.entry[ \t]+/, "", name)
    sub(/\(.*$/, "", name)
    order[++entries] = name
    bound[name] = 0; min_blocks[name] = 0; cluster[name] = 1; dynamic[name] = 0
    in_body = 1
    next
}
file == 1 && in_body && /\.maxntid/ { v = $0; sub(/^.*\.maxntid[ \t]+/, "", v); sub(/,.*$/, "", v); bound[name] = v + 0 }
file == 1 && in_body && /\.minnctapersm/ { v = $0; sub(/^.*\.minnctapersm[ \t]+/, "", v); min_blocks[name] = v + 0 }
file == 1 && in_body && /\.reqnctapercluster/ { v = $0; sub(/^.*\.reqnctapercluster[ \t]+/, "", v); sub(/,.*$/, "", v); cluster[name] = v + 0 }
file == 1 && in_body && /dynamic_smem/ { dynamic[name] = 1 }
file == 1 && /^}/ { in_body = 0 }

# ---- ptxas -v
file == 2 && /Compiling entry function/ {
    current = $0
    sub(/^.*Compiling entry function '/, "", current)
    sub(/'.*$/, "", current)
}
file == 2 && /Used [0-9]+ registers/ {
    r = $0; sub(/^.*Used /, "", r); sub(/ registers.*$/, "", r); regs[current] = r + 0
    s = 0
    if ($0 ~ /bytes smem/) { s = $0; sub(/ bytes smem.*$/, "", s); sub(/^.*, /, "", s) }
    smem[current] = s + 0
}

function floor_div(a, b) { return int(a / b) }

END {
    print "== theoretical occupancy on sm_90 at each kernel's launch bound (.maxntid) =="
    print "# Limits per SM: 65,536 registers (per warp, in units of 256), 64 warps, 32 blocks, 228 KiB shared memory"
    print "# (1 KiB reserved per block). Static shared memory only: a kernel with dynamic = yes stages data in dynamic"
    print "# shared memory sized per shape at launch, which can lower its blocks per SM further."
    printf "%-44s %7s %9s %11s %8s %9s %9s  %s\n", "kernel", "threads", "registers", "static smem", "dynamic", \
        "blocks/SM", "occupancy", "limited by"
    for (i = 1; i <= entries; i++) {
        k = order[i]
        if (!(k in regs)) continue
        threads = bound[k] > 0 ? bound[k] : 1024
        warps = int((threads + 31) / 32)
        per_warp = int((regs[k] * 32 + 255) / 256) * 256
        # Warps get registers from 4 sub-partitions of 16,384 each (cuda_occupancy.h); the same formula as the
        # emulator's KernelResources.blocksPerSmByRegisters.
        by_regs = per_warp > 0 ? floor_div(floor_div(16384, per_warp) * 4, warps) : 32
        if (per_warp * int((warps + 3) / 4) * 4 > 65536) by_regs = 0
        by_warps = floor_div(64, warps)
        by_smem = floor_div(233472, smem[k] + 1024)
        blocks = 32
        if (by_warps < blocks) blocks = by_warps
        if (by_regs < blocks) blocks = by_regs
        if (by_smem < blocks) blocks = by_smem
        why = ""
        if (blocks == 32) why = why "/blocks"
        if (by_warps == blocks) why = why "/threads"
        if (by_regs == blocks) why = why "/registers"
        if (by_smem == blocks) why = why "/static smem"
        why = substr(why, 2)
        note = ""
        if (min_blocks[k] > 0) note = note sprintf(", bound asks %d/SM", min_blocks[k])
        if (cluster[k] > 1) note = note sprintf(", cluster of %d", cluster[k])
        printf "%-44s %7d %9d %9d B %8s %9d %8.0f%%  %s%s\n", k, threads, regs[k], smem[k], \
            dynamic[k] ? "yes" : "no", blocks, 100 * blocks * warps / 64, why, note
    }
}
