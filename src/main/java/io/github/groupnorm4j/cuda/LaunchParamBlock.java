package io.github.groupnorm4j.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * The {@code kernelParams} of {@code cuLaunchKernel}, built once and refilled per launch, so a launch allocates
 * nothing and costs JCuda's JNI only field reads per parameter.
 *
 * <p>Why: the per-array way ({@code Pointer.to(new long[] {v})} per parameter) makes JCuda's JNI, for each parameter,
 * call back into Java three times ({@code Buffer.isDirect}, {@code hasArray}, {@code array}) and pin and unpin the
 * array ({@code GetPrimitiveArrayCritical}); with 10 to 15 parameters that is a large part of a launch's host time.
 * A {@link Pointer} with neither buffer nor pointer array is read by JCuda as its native pointer plus byte offset,
 * with no call back into Java. So each parameter gets a fixed 8-byte slot in a block of native host memory, its slot
 * pointer is such a plain {@code new Pointer().withByteOffset(address)} (the way {@link JCudaPointers#devicePointer}
 * builds device addresses), and for every parameter count there is one prebuilt {@code Pointer.to(slot pointers)}.
 *
 * <p>{@link #fill} writes each value at the start of its slot, only the parameter's own width (a kernel reads that
 * many bytes from each {@code kernelParams[i]}; CUDA copies the values when {@code cuLaunchKernel} is called, so the
 * block can be refilled for the next launch at once). Not thread-safe: the caller holds one lock over
 * {@code fill} and the {@code cuLaunchKernel} that reads the block.
 *
 * <p>This class does not own memory: it is given a view of it ({@code buffer}, writing through it) and its native
 * address ({@code baseAddress}, handed to JCuda), so its layout is testable with any buffer and a made-up address.
 * {@link JCudaGpuDriver} supplies pinned host memory and frees it.
 */
final class LaunchParamBlock {
    /** The most parameters one launch may have (the kernels in {@code cuda/} took at most 17 when this was written). */
    static final int MAX_PARAMS = 32;
    /** Bytes per parameter slot: the widest parameter (pointer, i64), which also keeps every slot 8-byte aligned. */
    static final int SLOT_BYTES = 8;
    /** The size of the block. */
    static final int BYTES = MAX_PARAMS * SLOT_BYTES;

    private final ByteBuffer slots;
    private final long baseAddress;
    private final Pointer[] slotPointers = new Pointer[MAX_PARAMS];
    /** {@code kernelParams[n]}: the pointer array of the first {@code n} slot pointers. */
    private final Pointer[] kernelParams = new Pointer[MAX_PARAMS + 1];

    /**
     * A block over {@code buffer}'s first {@link #BYTES} bytes, whose native address is {@code baseAddress}.
     * Writes go through a duplicate of {@code buffer} in native byte order (the buffer's own position, limit and
     * order are left alone).
     */
    LaunchParamBlock(ByteBuffer buffer, long baseAddress) {
        if (buffer == null) {
            throw new IllegalArgumentException("buffer must not be null");
        }
        if (buffer.isReadOnly()) {
            throw new IllegalArgumentException("buffer must be writable");
        }
        if (buffer.capacity() < BYTES) {
            throw new IllegalArgumentException("a launch parameter block needs " + BYTES + " bytes (" + MAX_PARAMS
                    + " slots of " + SLOT_BYTES + "), the buffer has " + buffer.capacity());
        }
        if (baseAddress == 0 || baseAddress % SLOT_BYTES != 0) {
            throw new IllegalArgumentException("the block's address must be non-zero and " + SLOT_BYTES
                    + "-byte aligned, got 0x" + Long.toHexString(baseAddress));
        }
        this.slots = buffer.duplicate().order(ByteOrder.nativeOrder());
        this.baseAddress = baseAddress;
        for (int i = 0; i < MAX_PARAMS; i++) {
            // No buffer, no pointer array: JCuda passes nativePointer (0) + byteOffset, nothing more.
            slotPointers[i] = new Pointer().withByteOffset(baseAddress + (long) SLOT_BYTES * i);
        }
        for (int n = 0; n <= MAX_PARAMS; n++) {
            NativePointerObject[] first = new NativePointerObject[n];
            System.arraycopy(slotPointers, 0, first, 0, n);
            kernelParams[n] = Pointer.to(first);
        }
    }

    /**
     * Writes {@code args} into the slots and returns the {@code kernelParams} pointer for {@code args.size()}
     * parameters (the same object for every launch with that many parameters).
     *
     * @throws IllegalArgumentException if there are more than {@link #MAX_PARAMS} parameters
     */
    Pointer fill(KernelArgs args) {
        int n = args.size();
        if (n > MAX_PARAMS) {
            throw new IllegalArgumentException("a kernel launch takes at most " + MAX_PARAMS + " parameters, got " + n
                    + " " + args);
        }
        for (int i = 0; i < n; i++) {
            int offset = SLOT_BYTES * i;
            long v = args.bits(i);
            switch (args.kind(i)) {
                case I32:
                case F32:
                    slots.putInt(offset, (int) v);  // F32: the float's raw bits
                    break;
                case POINTER:
                case I64:
                default:
                    slots.putLong(offset, v);
                    break;
            }
        }
        return kernelParams[n];
    }

    /** The native address of the block (slot {@code i} is at {@code baseAddress() + 8 * i}). */
    long baseAddress() {
        return baseAddress;
    }

    /** The pointer to slot {@code i} (for tests). */
    Pointer slotPointer(int i) {
        return slotPointers[i];
    }
}
