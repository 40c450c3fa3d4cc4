// __ffs (brev + bfind.shiftamt), bfind.u32/.s32 and WARP_SZ for the PTX emulator tests, in a module of
// its own so that an instruction the emulator cannot load yet does not hide the results of the
// other families (emu_families.cu).
// Built by native/build-ptx.sh (no report) into <name>.compute_75.ptx and <name>.compute_90.ptx.

// Bits and constants: __ffs (brev + bfind.shiftamt), bfind, WARP_SZ.
// Launch: grid (1), block (64). in: int[64], out: int[64 * 4].
extern "C" __global__ void ext_bits(const int* __restrict__ in, int* __restrict__ out)
{
    int t = threadIdx.x;
    int x = in[t];
    unsigned r, ws;
    int* o = out + t * 4;
    o[0] = __ffs(x);                                        // 1 + index of the lowest set bit, 0 for 0
    asm("bfind.u32 %0, %1;" : "=r"(r) : "r"((unsigned)x));  // index of the highest set bit, 0xffffffff for 0
    o[1] = (int)r;
    asm("bfind.s32 %0, %1;" : "=r"(r) : "r"(x));            // highest bit that differs from the sign
    o[2] = (int)r;
    asm volatile("mov.u32 %0, WARP_SZ;" : "=r"(ws));
    o[3] = (int)ws;
}
