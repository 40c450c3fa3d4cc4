// Blocks that pass data to each other through global memory, for the sanitizer's check of the release/acquire
// patterns that order it (emu/GlobalOrder). One kernel, a variant per way to get it right or wrong. Built by
// native/build-ptx.sh (no report).

// The variants; the planted bugs are the ones after CORRECT_RELEASE_ACQUIRE_OPS.
enum Variant {
    CORRECT_FENCES = 0,               // __syncthreads; fence; atomic arrive; volatile spin; fence; __syncthreads
    CORRECT_RELEASE_ACQUIRE_OPS = 1,  // red.release.gpu to arrive, ld.acquire.gpu to spin, no fences
    NO_RELEASE_FENCE = 2,
    NO_ACQUIRE_FENCE = 3,
    BLOCK_SCOPE_FENCES = 4,           // __threadfence_block: orders nothing for other blocks
    STORE_AFTER_RELEASE_FENCE = 5,    // thread 0 writes its word between the fence and the arrival
    NO_BARRIER_BEFORE_ARRIVAL = 6,    // thread 0's fence does not cover the other threads' writes
    NO_BARRIER_AFTER_ACQUIRE = 7,     // the other threads read without waiting for thread 0's acquire
    RELAXED_OPS_ONLY = 8,             // red.relaxed / ld.relaxed: strong, but they order nothing else
    NO_SYNC = 9,                      // no arrival at all
    CORRECT_EVERY_THREAD_FENCES = 10, // thread 0 arrives and spins, then every thread fences after __syncthreads
    FENCED_BUT_READ_ONLY_LOAD = 11,   // CORRECT_FENCES, then __ldg: the read-only path ignores the fences
};

// Launch: grid (blocks), block (threads), cooperative (the blocks wait for each other); count[0] zero before the
// launch. Thread i of block b writes record[b * threads + i], all blocks meet, then it reads the word of block
// (b + 1) % blocks and writes it to out[b * threads + i]. Moves 3 ints per thread.
extern "C" __global__ void exchange_records(int* record, unsigned* count, int* __restrict__ out, int variant) {
    const unsigned b = blockIdx.x;
    const unsigned i = threadIdx.x;
    const unsigned blocks = gridDim.x;
    const bool late = variant == STORE_AFTER_RELEASE_FENCE && i == 0;
    if (!late) record[b * blockDim.x + i] = static_cast<int>(b * 1000 + i);
    if (variant != NO_BARRIER_BEFORE_ARRIVAL) __syncthreads();
    if (i == 0 && variant != NO_SYNC) {
        if (variant == CORRECT_RELEASE_ACQUIRE_OPS || variant == RELAXED_OPS_ONLY) {
            unsigned seen;
            if (variant == CORRECT_RELEASE_ACQUIRE_OPS) {
                asm volatile("red.release.gpu.global.add.u32 [%0], 1;" ::"l"(count) : "memory");
                do {
                    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(seen) : "l"(count) : "memory");
                } while (seen < blocks);
            } else {
                asm volatile("red.relaxed.gpu.global.add.u32 [%0], 1;" ::"l"(count) : "memory");
                do {
                    asm volatile("ld.relaxed.gpu.global.u32 %0, [%1];" : "=r"(seen) : "l"(count) : "memory");
                } while (seen < blocks);
            }
        } else {
            if (variant == BLOCK_SCOPE_FENCES) {
                __threadfence_block();
            } else if (variant != NO_RELEASE_FENCE) {
                __threadfence();
            }
            if (late) record[b * blockDim.x] = static_cast<int>(b * 1000);
            atomicAdd(count, 1u);
            while (*static_cast<volatile unsigned*>(count) < blocks) {
            }
            if (variant == BLOCK_SCOPE_FENCES) {
                __threadfence_block();
            } else if (variant != NO_ACQUIRE_FENCE && variant != CORRECT_EVERY_THREAD_FENCES) {
                __threadfence();
            }
        }
    }
    if (variant != NO_BARRIER_AFTER_ACQUIRE) __syncthreads();
    // Thread 0 saw the arrivals; after the barrier each thread's own fence acquires what it saw (as the last block
    // of a split reduction does).
    if (variant == CORRECT_EVERY_THREAD_FENCES) __threadfence();
    const unsigned from = (b + 1) % blocks;
    const int* word = record + from * blockDim.x + i;
    out[b * blockDim.x + i] = variant == FENCED_BUT_READ_ONLY_LOAD ? __ldg(word) : __ldcg(word);
}

// Launch: grid (3), block (32), cooperative; flags[0..1] zero before the launch. Block 0 writes record[0..32)
// and releases it through flags[0]; block 1 waits for flags[0] and, after its own fence (skipped with
// `relay_without_fence`: the planted bug), sets flags[1]; block 2 waits for flags[1] and copies record into out.
// Block 1 writes none of the data: block 2 is ordered after block 0's writes only because a fence passes on what
// its thread acquired (cumulativity).
extern "C" __global__ void relay_record(int* record, unsigned* flags, int* __restrict__ out, int relay_without_fence) {
    const unsigned i = threadIdx.x;
    if (blockIdx.x == 0) {
        record[i] = static_cast<int>(100 + i);
        __syncthreads();
        if (i == 0) {
            __threadfence();
            atomicExch(flags, 1u);
        }
    } else if (blockIdx.x == 1) {
        if (i == 0) {
            while (*static_cast<volatile unsigned*>(flags) == 0) {
            }
            if (!relay_without_fence) __threadfence();
            atomicExch(flags + 1, 1u);
        }
    } else {
        if (i == 0) {
            while (*static_cast<volatile unsigned*>(flags + 1) == 0) {
            }
            __threadfence();
        }
        __syncthreads();
        out[i] = __ldcg(record + i);
    }
}

// Launch: grid (2), block (64); data zero before the launch. Warp 0 writes data[32 * blockIdx.x + lane]; after
// __syncthreads (skipped with `skip_barrier`: the planted bug) every lane of warp 1 adds up all 32 words. A
// barrier orders global memory inside the block as it does shared memory.
extern "C" __global__ void block_handover(int* data, int* __restrict__ out, int skip_barrier) {
    const unsigned i = threadIdx.x;
    int* mine = data + 32 * blockIdx.x;
    if (i < 32) mine[i] = static_cast<int>(7 * i + 1);
    if (!skip_barrier) __syncthreads();
    if (i >= 32) {
        int total = 0;
        for (unsigned k = 0; k < 32; ++k) total += __ldcg(mine + (i + k) % 32);
        out[32 * blockIdx.x + i - 32] = total;
    }
}

// Launch: grid (2), block (64). CTA b writes 64 words of `words` from b * (64 - overlap), and 64 halves of
// `halves` from the same index + 1, so that without overlap the two CTAs' halves meet inside a 32-bit word (not a
// conflict: different bytes). With `overlap` = 1 (the planted bug) both CTAs write one word and one half.
extern "C" __global__ void overlapping_writes(int* words, unsigned short* halves, int overlap) {
    const unsigned at = blockIdx.x * (blockDim.x - overlap) + threadIdx.x;
    words[at] = static_cast<int>(blockIdx.x);
    halves[at + 1] = static_cast<unsigned short>(blockIdx.x);
}
