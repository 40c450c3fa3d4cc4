package io.github.groupnorm4j.emu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** Shared helpers of the emulator tests: PTX resources, device buffers, reference rounding. */
final class EmuTestSupport {
    static final String[] ARCHES = {"compute_75", "compute_90"};

    private EmuTestSupport() {
    }

    /** Every (arch, schedule) pair, for {@code @MethodSource}. */
    static Stream<Arguments> archAndSchedule() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : ARCHES) {
            for (Schedule s : Schedule.values()) {
                out.add(Arguments.of(arch, s));
            }
        }
        return out.stream();
    }

    /** The text of test resource {@code /io/github/groupnorm4j/emu/ptx/<name>.<arch>.ptx}. */
    static String ptx(String name, String arch) {
        String path = "/io/github/groupnorm4j/emu/ptx/" + name + "." + arch + ".ptx";
        try (InputStream in = EmuTestSupport.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + path
                        + " is missing: it is built from src/test/cuda by native/build-ptx.sh (no report)"
                        + " in the generate-test-resources phase");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Emulator emulator(Schedule schedule) {
        return new Emulator(EmuOptions.builder().schedule(schedule).seed(12345).build());
    }

    static PtxModule load(Emulator emu, String name, String arch) {
        return emu.load(name + "." + arch, ptx(name, arch));
    }

    // ---- device buffers ----

    static long upload(Emulator emu, int[] a) {
        long p = emu.malloc(4L * Math.max(1, a.length));
        emu.write(p, a, 0, a.length);
        return p;
    }

    static long upload(Emulator emu, float[] a) {
        long p = emu.malloc(4L * Math.max(1, a.length));
        emu.write(p, a, 0, a.length);
        return p;
    }

    static long upload(Emulator emu, long[] a) {
        ByteBuffer b = ByteBuffer.allocate(8 * a.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : a) {
            b.putLong(v);
        }
        long p = emu.malloc(8L * Math.max(1, a.length));
        emu.write(p, b.array(), 0, b.capacity());
        return p;
    }

    static long upload(Emulator emu, double[] a) {
        ByteBuffer b = ByteBuffer.allocate(8 * a.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : a) {
            b.putDouble(v);
        }
        long p = emu.malloc(8L * Math.max(1, a.length));
        emu.write(p, b.array(), 0, b.capacity());
        return p;
    }

    /** An allocation of {@code count} 32-bit words, all set to {@code fill} (so none reads as uninitialised). */
    static long words(Emulator emu, int count, int fill) {
        long p = emu.malloc(4L * count);
        emu.memset32(p, fill, count);
        return p;
    }

    static int[] readInts(Emulator emu, long p, int count) {
        int[] a = new int[count];
        emu.read(p, a, 0, count);
        return a;
    }

    static float[] readFloats(Emulator emu, long p, int count) {
        float[] a = new float[count];
        emu.read(p, a, 0, count);
        return a;
    }

    static long[] readLongs(Emulator emu, long p, int count) {
        byte[] raw = new byte[8 * count];
        emu.read(p, raw, 0, raw.length);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long[] a = new long[count];
        for (int i = 0; i < count; i++) {
            a[i] = b.getLong();
        }
        return a;
    }

    static double[] readDoubles(Emulator emu, long p, int count) {
        byte[] raw = new byte[8 * count];
        emu.read(p, raw, 0, raw.length);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        double[] a = new double[count];
        for (int i = 0; i < count; i++) {
            a[i] = b.getDouble();
        }
        return a;
    }

    // ---- reference rounding (IEEE 754 directed modes, no flush-to-zero) ----

    /** Rounding modes of PTX: .rn, .rz, .rm (down), .rp (up). */
    enum Rnd { RN, RZ, RM, RP }

    /** The float nearest to / toward the exact finite value {@code v} in mode {@code r}; zero results carry v's sign. */
    static float roundFloat(BigDecimal v, Rnd r, boolean negativeZero) {
        if (v.signum() == 0) {
            return negativeZero ? -0.0f : 0.0f;
        }
        BigDecimal max = new BigDecimal(Float.MAX_VALUE);
        if (v.abs().compareTo(max) > 0) {
            boolean pos = v.signum() > 0;
            // Overflow: RN goes to infinity at or past MAX + half an ulp, directed modes per direction.
            BigDecimal halfUlp = new BigDecimal(Math.ulp(Float.MAX_VALUE)).divide(BigDecimal.valueOf(2));
            switch (r) {
                case RN:
                    return v.abs().compareTo(max.add(halfUlp)) >= 0 ? (pos ? Float.POSITIVE_INFINITY
                            : Float.NEGATIVE_INFINITY) : (pos ? Float.MAX_VALUE : -Float.MAX_VALUE);
                case RZ:
                    return pos ? Float.MAX_VALUE : -Float.MAX_VALUE;
                case RM:
                    return pos ? Float.MAX_VALUE : Float.NEGATIVE_INFINITY;
                default:
                    return pos ? Float.POSITIVE_INFINITY : -Float.MAX_VALUE;
            }
        }
        float c = v.floatValue();
        if (Float.isInfinite(c)) {
            c = Math.copySign(Float.MAX_VALUE, c);
        }
        int cmp = new BigDecimal(c).compareTo(v);
        float lo;
        float hi;
        if (cmp == 0) {
            return c;
        } else if (cmp < 0) {
            lo = c;
            hi = Math.nextUp(c);
        } else {
            hi = c;
            lo = Math.nextDown(c);
        }
        float res;
        switch (r) {
            case RZ:
                res = v.signum() > 0 ? lo : hi;
                break;
            case RM:
                res = lo;
                break;
            case RP:
                res = hi;
                break;
            default: {
                int d = v.subtract(new BigDecimal(lo)).compareTo(new BigDecimal(hi).subtract(v));
                if (d < 0) {
                    res = lo;
                } else if (d > 0) {
                    res = hi;
                } else {
                    res = (Float.floatToRawIntBits(lo) & 1) == 0 ? lo : hi;
                }
            }
        }
        if (res == 0.0f) {
            res = v.signum() < 0 ? -0.0f : 0.0f;
        }
        return res;
    }

    /** Same as {@link #roundFloat} for doubles. */
    static double roundDouble(BigDecimal v, Rnd r, boolean negativeZero) {
        if (v.signum() == 0) {
            return negativeZero ? -0.0 : 0.0;
        }
        BigDecimal max = new BigDecimal(Double.MAX_VALUE);
        if (v.abs().compareTo(max) > 0) {
            boolean pos = v.signum() > 0;
            BigDecimal halfUlp = new BigDecimal(Math.ulp(Double.MAX_VALUE)).divide(BigDecimal.valueOf(2));
            switch (r) {
                case RN:
                    return v.abs().compareTo(max.add(halfUlp)) >= 0 ? (pos ? Double.POSITIVE_INFINITY
                            : Double.NEGATIVE_INFINITY) : (pos ? Double.MAX_VALUE : -Double.MAX_VALUE);
                case RZ:
                    return pos ? Double.MAX_VALUE : -Double.MAX_VALUE;
                case RM:
                    return pos ? Double.MAX_VALUE : Double.NEGATIVE_INFINITY;
                default:
                    return pos ? Double.POSITIVE_INFINITY : -Double.MAX_VALUE;
            }
        }
        double c = v.doubleValue();
        if (Double.isInfinite(c)) {
            c = Math.copySign(Double.MAX_VALUE, c);
        }
        int cmp = new BigDecimal(c).compareTo(v);
        double lo;
        double hi;
        if (cmp == 0) {
            return c;
        } else if (cmp < 0) {
            lo = c;
            hi = Math.nextUp(c);
        } else {
            hi = c;
            lo = Math.nextDown(c);
        }
        double res;
        switch (r) {
            case RZ:
                res = v.signum() > 0 ? lo : hi;
                break;
            case RM:
                res = lo;
                break;
            case RP:
                res = hi;
                break;
            default: {
                int d = v.subtract(new BigDecimal(lo)).compareTo(new BigDecimal(hi).subtract(v));
                if (d < 0) {
                    res = lo;
                } else if (d > 0) {
                    res = hi;
                } else {
                    res = (Double.doubleToRawLongBits(lo) & 1) == 0 ? lo : hi;
                }
            }
        }
        if (res == 0.0) {
            res = v.signum() < 0 ? -0.0 : 0.0;
        }
        return res;
    }

    /** x + y rounded in mode r (IEEE: an exact zero sum is -0 only in RM, or when both addends are -0). */
    static float addF(float x, float y, Rnd r) {
        if (!Float.isFinite(x) || !Float.isFinite(y)) {
            return x + y;
        }
        BigDecimal v = new BigDecimal(x).add(new BigDecimal(y));
        boolean negZero = isNegZero(x) && isNegZero(y) || (r == Rnd.RM && !(isPosZero(x) && isPosZero(y)));
        return roundFloat(v, r, negZero);
    }

    static float mulF(float x, float y, Rnd r) {
        if (!Float.isFinite(x) || !Float.isFinite(y)) {
            return x * y;
        }
        BigDecimal v = new BigDecimal(x).multiply(new BigDecimal(y));
        boolean negZero = (Float.floatToRawIntBits(x) ^ Float.floatToRawIntBits(y)) < 0;
        return roundFloat(v, r, negZero);
    }

    static float fmaF(float x, float y, float z, Rnd r) {
        if (!Float.isFinite(x) || !Float.isFinite(y) || !Float.isFinite(z)) {
            return Math.fma(x, y, z);
        }
        BigDecimal p = new BigDecimal(x).multiply(new BigDecimal(y));
        BigDecimal v = p.add(new BigDecimal(z));
        boolean pNeg = (Float.floatToRawIntBits(x) ^ Float.floatToRawIntBits(y)) < 0;
        boolean pZero = p.signum() == 0;
        boolean negZero = pZero && pNeg && isNegZero(z)
                || (r == Rnd.RM && !(pZero && !pNeg && isPosZero(z)));
        return roundFloat(v, r, negZero);
    }

    static double addD(double x, double y, Rnd r) {
        if (!Double.isFinite(x) || !Double.isFinite(y)) {
            return x + y;
        }
        BigDecimal v = new BigDecimal(x).add(new BigDecimal(y));
        boolean negZero = isNegZero(x) && isNegZero(y) || (r == Rnd.RM && !(isPosZero(x) && isPosZero(y)));
        return roundDouble(v, r, negZero);
    }

    /** Conversion of a finite or non-finite double to float in mode r. */
    static float d2f(double d, Rnd r) {
        if (!Double.isFinite(d)) {
            return (float) d;
        }
        return roundFloat(new BigDecimal(d), r, isNegZero(d));
    }

    static float i2f(long v, Rnd r) {
        return roundFloat(BigDecimal.valueOf(v), r, false);
    }

    static boolean isNegZero(float f) {
        return Float.floatToRawIntBits(f) == 0x80000000;
    }

    static boolean isPosZero(float f) {
        return Float.floatToRawIntBits(f) == 0;
    }

    static boolean isNegZero(double d) {
        return Double.doubleToRawLongBits(d) == 0x8000000000000000L;
    }

    static boolean isPosZero(double d) {
        return Double.doubleToRawLongBits(d) == 0L;
    }

    /** PTX min.f32 / max.f32: a NaN operand is ignored; two NaNs give NaN. */
    static float minF(float a, float b) {
        if (Float.isNaN(a)) {
            return b;
        }
        if (Float.isNaN(b)) {
            return a;
        }
        return Math.min(a, b);
    }

    static float maxF(float a, float b) {
        if (Float.isNaN(a)) {
            return b;
        }
        if (Float.isNaN(b)) {
            return a;
        }
        return Math.max(a, b);
    }

    static double minD(double a, double b) {
        if (Double.isNaN(a)) {
            return b;
        }
        if (Double.isNaN(b)) {
            return a;
        }
        return Math.min(a, b);
    }

    static double maxD(double a, double b) {
        if (Double.isNaN(a)) {
            return b;
        }
        if (Double.isNaN(b)) {
            return a;
        }
        return Math.max(a, b);
    }

    /** Bitwise-equal floats, except that any NaN equals any NaN (PTX produces the canonical NaN). */
    static boolean sameFloat(float expected, float actual) {
        if (Float.isNaN(expected)) {
            return Float.isNaN(actual);
        }
        return Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(actual);
    }

    static boolean sameDouble(double expected, double actual) {
        if (Double.isNaN(expected)) {
            return Double.isNaN(actual);
        }
        return Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(actual);
    }

    static String fmt(float f) {
        return f + " (0x" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")";
    }

    static String fmt(double d) {
        return d + " (0x" + Long.toHexString(Double.doubleToRawLongBits(d)) + ")";
    }
}
