// match.sync, redux.sync (sm_80+; compute_75 falls back to shuffles) and prmt for the PTX emulator tests, in a module of
// its own so that an instruction the emulator cannot load yet does not hide the results of the
// other families (emu_families.cu).
// Built by native/build-ptx.sh (no report) into <name>.compute_75.ptx and <name>.compute_90.ptx.

#define FULL 0xffffffffu

// Launch: grid (1), block (64). in: int[64] (values 0..7 in the low bits), out: int[64 * EXT_OPS].
#define EXT_OPS 6
extern "C" __global__ void ext_warp_match_redux(const int* __restrict__ in, int* __restrict__ out)
{
    int t = threadIdx.x;
    int v = in[t];
    int* o = out + t * EXT_OPS;
    o[0] = (int)__match_any_sync(FULL, v & 7);              // match.any.sync.b32
    int pred;
    o[1] = (int)__match_all_sync(FULL, t >> 5, &pred);      // match.all.sync.b32: all equal within a warp
    o[2] = pred;
#if __CUDA_ARCH__ >= 800
    o[3] = (int)__reduce_add_sync(FULL, (unsigned)v);       // redux.sync.add.u32
    o[4] = __reduce_max_sync(FULL, v);                      // redux.sync.max.s32
#else
    int s = v, m = v;
    for (int off = 16; off > 0; off >>= 1) {
        s += __shfl_xor_sync(FULL, s, off);
        m = max(m, __shfl_xor_sync(FULL, m, off));
    }
    o[3] = s;
    o[4] = m;
#endif
    o[5] = (int)__byte_perm((unsigned)v, (unsigned)(v * 0x01010101), 0x5140u ^ (unsigned)(t & 0x3333));  // prmt.b32
}
