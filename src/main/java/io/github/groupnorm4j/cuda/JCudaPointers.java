package io.github.groupnorm4j.cuda;

import java.lang.reflect.Method;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Converts between JCuda handle objects and the {@code long} addresses {@link GpuDriver} works with. JCuda keeps the
 * native value in a protected method ({@code NativePointerObject.getNativePointer()}) and, for pointers, adds a byte
 * offset; both are read by reflection here, in one place, so a JCuda change fails with one clear message.
 */
final class JCudaPointers {
    private static final Method NATIVE_POINTER;
    private static final Method BYTE_OFFSET;
    private static final String FAILURE;

    static {
        Method nativePointer = null;
        Method byteOffset = null;
        String failure = null;
        try {
            nativePointer = NativePointerObject.class.getDeclaredMethod("getNativePointer");
            nativePointer.setAccessible(true);
            byteOffset = Pointer.class.getDeclaredMethod("getByteOffset");
            byteOffset.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            failure = e.toString();
        }
        NATIVE_POINTER = nativePointer;
        BYTE_OFFSET = byteOffset;
        FAILURE = failure;
    }

    private JCudaPointers() {
    }

    /** The native value of a JCuda handle or pointer (native pointer + byte offset); 0 for null. */
    static long address(NativePointerObject p) {
        if (p == null) {
            return 0;
        }
        if (FAILURE != null) {
            throw new IllegalStateException("cannot read the address of a JCuda " + p.getClass().getSimpleName()
                    + ": reflection on jcuda.NativePointerObject failed (" + FAILURE + "); use DeviceBuffer");
        }
        try {
            long address = (Long) NATIVE_POINTER.invoke(p);
            if (p instanceof Pointer) {
                address += (Long) BYTE_OFFSET.invoke(p);
            }
            return address;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot read the address of a JCuda " + p.getClass().getSimpleName()
                    + " by reflection (" + e + "); use DeviceBuffer", e);
        }
    }

    /** A CUdeviceptr whose native address is {@code address} (JCuda adds the byte offset to a null base). */
    static CUdeviceptr devicePointer(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }
}
