// Directed rounding (.rz/.rm/.rp) of add/mul/fma for the PTX emulator tests, in a module of
// its own so that an instruction the emulator cannot load yet does not hide the results of the
// other families (emu_families.cu).
// Built by native/build-ptx.sh (no report) into <name>.compute_75.ptx and <name>.compute_90.ptx.

// Directed rounding (.rz/.rm/.rp) of add/mul/fma for f32 and add for f64.
// Launch: grid (ceil(n/64)), block (64). of: float[n * 6], od: double[n].
extern "C" __global__ void ext_directed_rounding(const float* __restrict__ a, const float* __restrict__ b,
                                                 const float* __restrict__ c, const double* __restrict__ da,
                                                 const double* __restrict__ db, float* __restrict__ of,
                                                 double* __restrict__ od, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = a[i], y = b[i], z = c[i];
    float* o = of + i * 6;
    o[0] = __fadd_rz(x, y);                         // add.rz.f32
    o[1] = __fadd_rd(x, y);                         // add.rm.f32
    o[2] = __fmul_ru(x, y);                         // mul.rp.f32
    o[3] = __fmul_rz(x, y);                         // mul.rz.f32
    o[4] = __fmaf_rd(x, y, z);                      // fma.rm.f32
    o[5] = __fmaf_ru(x, y, z);                      // fma.rp.f32
    od[i] = __dadd_rz(da[i], db[i]);                // add.rz.f64
}
