package io.github.groupnorm4j.emu;

/**
 * One sanitizer report: what went wrong, in which kernel, block and thread, at which PTX line and instruction.
 */
public record Finding(Category category, String kernel, Dim3 block, Dim3 thread, int line, String instruction,
                      String message) {

    /** Kinds of findings. */
    public enum Category {
        /** A load or store outside every allocation (global), or outside the window (shared, local, param). */
        OUT_OF_BOUNDS,
        /** An access whose address is not a multiple of its size. */
        MISALIGNED,
        /** A read of global or shared memory that nothing wrote. */
        UNINITIALIZED_READ,
        /** Two threads touched the same shared-memory bytes, one writing, with no barrier ordering them. */
        SHARED_RACE,
        /**
         * Global memory handed from one CTA (or warp) to another within a launch with nothing ordering the two
         * accesses: a read of another CTA's write without a release and acquire (fences and a strong write and
         * read) between them, or of another warp's write without a barrier, may see stale data on a GPU; two
         * such writes of the same bytes leave whichever ran last; a read-only ({@code ld.global.nc}) load of bytes
         * written in the same launch may see the old value whatever the fences.
         */
        GLOBAL_ORDER,
        /**
         * Two operations on different streams (kernels, memsets, copies) touch the same global bytes, one writing,
         * and no event, stream wait or synchronisation orders them: on a GPU they may run in either order, or
         * overlap. Such a finding has no block, thread or PTX line; {@code kernel} names the later operation.
         */
        STREAM_RACE,
        /** Threads of one block met at a barrier from different instructions (barrier in divergent code). */
        BARRIER_DIVERGENCE,
        /** No thread can move: some wait at a barrier or warp-synchronous instruction that can never complete. */
        DEADLOCK,
        /** A warp-synchronous instruction whose caller is not in its own mask, or whose lanes named different masks. */
        SYNC_MASK,
        /** A shuffle read from a lane that has exited or is not in the mask. */
        SHUFFLE_SOURCE,
        /** The instruction budget ran out; every still-running or waiting thread is listed. */
        HANG
    }

    /** A finding about a whole operation, not a thread: no block, thread or PTX line. */
    public static Finding ofOperation(Category category, String operation, String message) {
        return new Finding(category, operation, null, null, 0, "", message);
    }

    @Override
    public String toString() {
        if (block == null) {
            return category + " in " + kernel + ": " + message;
        }
        return category + " in " + kernel + " block " + block + " thread " + thread + " at PTX line " + line
                + " `" + instruction + "`: " + message;
    }
}
