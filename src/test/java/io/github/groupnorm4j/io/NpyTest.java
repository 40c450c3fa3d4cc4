package io.github.groupnorm4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.HalfFloats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------------ helpers

    /** Builds a .npy file by hand: magic, version, header length, header text, data. */
    private static byte[] npy(int major, int minor, String header, byte[] data) {
        byte[] h = header.getBytes(major >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int lenBytes = major == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + lenBytes + h.length + data.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, (byte) minor});
        if (lenBytes == 2) {
            b.putShort((short) h.length);
        } else {
            b.putInt(h.length);
        }
        return b.put(h).put(data).array();
    }

    private static byte[] f4(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static byte[] f8(double... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return b.array();
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 0.5f - 7f;
        }
        return v;
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static String dict(String descr, String fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape
                + ", }\n";
    }

    /** Reads {@code bytes} as a .npy file and asserts it is rejected for the given reason. */
    private NpyFormatException assertRejected(String name, byte[] bytes, String... words)
            throws IOException {
        Path p = file(name, bytes);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(p));
        String msg = e.getMessage();
        assertTrue(msg.contains(name), () -> "message lacks file name: " + msg);
        for (String w : words) {
            assertTrue(msg.toLowerCase(Locale.ROOT).contains(w.toLowerCase(Locale.ROOT)),
                    () -> "message lacks '" + w + "': " + msg);
        }
        assertEquals(p, e.file());
        return e;
    }

    // ------------------------------------------------------------------ NpyArray

    @Test
    void npyArrayBasics() {
        float[] data = ramp(6);
        NpyArray a = NpyArray.of(data, 2, 3);
        assertSame(data, a.data());
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals(6, a.size());
        assertEquals(2, a.rank());
        assertEquals("NpyArray[2, 3]", a.toString());
        a.shape()[0] = 99;
        assertArrayEquals(new long[] {2, 3}, a.shape());

        long[] shape = {3, 2};
        NpyArray b = NpyArray.of(data, shape);
        shape[0] = 1;
        assertArrayEquals(new long[] {3, 2}, b.shape());
        assertNotEquals(a, b);
        assertEquals(a, NpyArray.of(data.clone(), 2, 3));
        assertEquals(a.hashCode(), NpyArray.of(data.clone(), 2, 3).hashCode());

        NpyArray scalar = NpyArray.of(new float[] {4f});
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.size());
        assertEquals("NpyArray[]", scalar.toString());
        assertEquals("NpyArray[0, 3]", NpyArray.of(new float[0], 0, 3).toString());
    }

    @Test
    void npyArrayRejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NpyArray.of(new float[5], 2, 3));
        assertEquals("shape [2, 3] holds 6 values but data has 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NpyArray.of(new float[0], 2, -3));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NpyArray.of(new float[0]));
        assertTrue(e.getMessage().contains("holds 1 values but data has 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NpyArray.of(new float[1], Long.MAX_VALUE, 4));
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
        assertThrows(NullPointerException.class, () -> NpyArray.of(null, 1));
        assertThrows(NullPointerException.class, () -> NpyArray.of(new float[1], (long[]) null));
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void roundTripsSeveralShapes() throws IOException {
        long[][] shapes = {{}, {1}, {7}, {2, 3, 4, 5}, {0, 3}, {3, 0}, {0}, {1, 1, 1, 1, 1, 1, 2}};
        for (long[] shape : shapes) {
            int n = (int) NpyArray.product(shape);
            NpyArray a = NpyArray.of(ramp(n), shape);
            Path p = dir.resolve("rt" + Arrays.toString(shape).replaceAll("\\W", "_") + ".npy");
            Npy.write(p, a);
            NpyArray b = Npy.read(p);
            assertArrayEquals(shape, b.shape(), () -> "shape " + Arrays.toString(shape));
            assertArrayEquals(a.data(), b.data());
            assertEquals(a, b);
            assertHeaderAligned(p, shape);
        }
    }

    @Test
    void roundTripsSpecialValuesBitExactly() throws IOException {
        float[] v = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.MIN_VALUE, Float.MAX_VALUE, 1e-40f, 3.14159f};
        Path p = dir.resolve("special.npy");
        Npy.write(p, NpyArray.of(v, v.length));
        float[] r = Npy.read(p).data();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(r[i]), "index " + i);
        }
    }

    @Test
    void roundTripsArraysLargerThanOneChunk() throws IOException {
        int n = (3 << 20) / 4 + 12345; // spans several 1 MiB chunks with a ragged tail
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i);
        }
        Path p = dir.resolve("big.npy");
        Npy.write(p, NpyArray.of(v, n));
        assertEquals(128 + 4L * n, Files.size(p));
        assertArrayEquals(v, Npy.read(p).data());
    }

    @Test
    void writeOverwritesExistingFile() throws IOException {
        Path p = dir.resolve("over.npy");
        Npy.write(p, NpyArray.of(ramp(1000), 10, 100));
        Npy.write(p, NpyArray.of(ramp(4), 2, 2));
        assertEquals(NpyArray.of(ramp(4), 2, 2), Npy.read(p));
        assertEquals(128 + 16, Files.size(p));
    }

    private static void assertHeaderAligned(Path p, long[] shape) throws IOException {
        assertHeaderAligned(p, shape, "<f4", 4);
    }

    private static void assertHeaderAligned(Path p, long[] shape, String descr, int itemSize)
            throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        assertEquals((byte) 0x93, bytes[0]);
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.ISO_8859_1));
        assertEquals(1, bytes[6]);
        assertEquals(0, bytes[7]);
        int headerLen = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
        int dataOffset = 10 + headerLen;
        assertEquals(0, dataOffset % 64, "data offset " + dataOffset);
        assertEquals('\n', bytes[dataOffset - 1]);
        String header = new String(bytes, 10, headerLen, StandardCharsets.ISO_8859_1);
        String shapeText = shape.length == 0 ? "()"
                : shape.length == 1 ? "(" + shape[0] + ",)"
                : Arrays.toString(shape).replace('[', '(').replace(']', ')');
        assertEquals("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText
                + ", }", header.stripTrailing());
        assertEquals(itemSize * NpyArray.product(shape), bytes.length - dataOffset);
    }

    // ------------------------------------------------------------------ accepted variants

    @Test
    void readsFloat64AsFloat32() throws IOException {
        double[] v = {1.5, -2.25, 1e-3, 123456789.123, Double.NaN, Double.NEGATIVE_INFINITY,
            1e300, 0.1};
        Path p = file("f8.npy", npy(1, 0, dict("<f8", "False", "(2, 4)"), f8(v)));
        NpyArray a = Npy.read(p);
        assertArrayEquals(new long[] {2, 4}, a.shape());
        for (int i = 0; i < v.length; i++) {
            assertEquals((float) v[i], a.data()[i], "index " + i);
        }
    }

    @Test
    void readsFloat64LargerThanOneChunk() throws IOException {
        int n = (1 << 20) / 8 * 2 + 77;
        double[] v = new double[n];
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = Math.cos(i) * 1000.0;
            expected[i] = (float) v[i];
        }
        Path p = file("f8big.npy", npy(1, 0, dict("<f8", "False", "(" + n + ",)"), f8(v)));
        assertArrayEquals(expected, Npy.read(p).data());
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        float[] v = ramp(6);
        Path p2 = file("v2.npy", npy(2, 0, dict("<f4", "False", "(3, 2)"), f4(v)));
        assertEquals(NpyArray.of(v, 3, 2), Npy.read(p2));
        Path p3 = file("v3.npy",
                npy(3, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'n\u00e4me': 'x'}\n",
                        f4(v)));
        assertEquals(NpyArray.of(v, 6), Npy.read(p3));
    }

    @Test
    void readsReorderedKeysDoubleQuotesAndOddSpacing() throws IOException {
        float[] v = ramp(6);
        String[] headers = {
            "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f4\"}\n",
            "{ 'fortran_order':False,'shape':(2,3,),'descr':'<f4' , }      \n",
            "{'descr':'<f4','fortran_order':False,'shape':(2L, 3L)}",
            "{'shape': [2, 3], 'descr': u'<f4', 'fortran_order': False, 'extra': None}\n",
            "\t{\n'descr' : '<f4' ,\n'fortran_order' : False ,\n'shape' : ( 2 , 3 , ) ,\n}\n",
        };
        for (int i = 0; i < headers.length; i++) {
            Path p = file("h" + i + ".npy", npy(1, 0, headers[i], f4(v)));
            assertEquals(NpyArray.of(v, 2, 3), Npy.read(p), headers[i]);
        }
    }

    @Test
    void readsScalarAndEmptyShapes() throws IOException {
        Path scalar = file("scalar.npy", npy(1, 0, dict("<f4", "False", "()"), f4(42f)));
        NpyArray s = Npy.read(scalar);
        assertEquals(0, s.rank());
        assertArrayEquals(new float[] {42f}, s.data());

        Path empty = file("empty.npy", npy(1, 0, dict("<f8", "False", "(0, 5)"), new byte[0]));
        NpyArray e = Npy.read(empty);
        assertArrayEquals(new long[] {0, 5}, e.shape());
        assertEquals(0, e.data().length);
    }

    @Test
    void missingFilePropagatesNoSuchFileException() {
        assertThrows(NoSuchFileException.class, () -> Npy.read(dir.resolve("absent.npy")));
    }

    // ------------------------------------------------------------------ rejected files

    @Test
    void rejectsBadMagic() throws IOException {
        assertRejected("empty_file.npy", new byte[0], "magic");
        assertRejected("short.npy", new byte[] {(byte) 0x93, 'N', 'U'}, "magic");
        byte[] good = npy(1, 0, dict("<f4", "False", "(1,)"), f4(1f));
        good[1] = 'X';
        assertRejected("magic.npy", good, "magic");
        assertRejected("text.npy", "hello, world, this is not numpy".getBytes(StandardCharsets.US_ASCII),
                "magic");
    }

    @Test
    void rejectsUnsupportedVersion() throws IOException {
        assertRejected("v4.npy", npy(4, 0, dict("<f4", "False", "(1,)"), f4(1f)), "version", "4.0");
        assertRejected("v11.npy", npy(1, 1, dict("<f4", "False", "(1,)"), f4(1f)), "version", "1.1");
    }

    @Test
    void rejectsTruncatedHeader() throws IOException {
        byte[] full = npy(1, 0, dict("<f4", "False", "(1,)"), new byte[0]);
        assertRejected("trunc1.npy", Arrays.copyOf(full, full.length - 5), "truncated");
        assertRejected("trunc2.npy", Arrays.copyOf(full, 7), "truncated");
        assertRejected("trunc3.npy", Arrays.copyOf(full, 9), "truncated");
        byte[] v2 = npy(2, 0, dict("<f4", "False", "(1,)"), new byte[0]);
        assertRejected("trunc4.npy", Arrays.copyOf(v2, 11), "truncated");
        // Header length claims ~4 GiB.
        byte[] huge = npy(2, 0, dict("<f4", "False", "(1,)"), f4(1f));
        huge[8] = huge[9] = huge[10] = huge[11] = (byte) 0xFF;
        assertRejected("trunc5.npy", huge, "truncated");
    }

    @Test
    void rejectsHeaderThatIsNotADict() throws IOException {
        assertRejected("list.npy", npy(1, 0, "['<f4', False, (1,)]\n", f4(1f)), "dict");
        assertRejected("garbage.npy", npy(1, 0, "descr=<f4 shape=1\n", f4(1f)), "dict");
        assertRejected("unclosed.npy", npy(1, 0, "{'descr': '<f4', 'fortran_order': False\n",
                f4(1f)), "dict");
        assertRejected("junk_after.npy", npy(1, 0, dict("<f4", "False", "(1,)") + "x", f4(1f)),
                "dict");
        assertRejected("unterminated.npy", npy(1, 0, "{'descr: '<f4'}", f4(1f)), "dict");
        assertRejected("blank.npy", npy(1, 0, "   \n", f4(1f)), "dict");
    }

    @Test
    void rejectsMissingKeys() throws IOException {
        assertRejected("nodescr.npy", npy(1, 0, "{'fortran_order': False, 'shape': (1,)}\n",
                f4(1f)), "missing", "descr");
        assertRejected("noshape.npy", npy(1, 0, "{'descr': '<f4', 'fortran_order': False}\n",
                f4(1f)), "missing", "shape");
        assertRejected("noorder.npy", npy(1, 0, "{'descr': '<f4', 'shape': (1,)}\n",
                f4(1f)), "missing", "fortran_order");
    }

    @Test
    void rejectsUnsupportedDtypes() throws IOException {
        NpyFormatException e = assertRejected("x.npy",
                npy(1, 0, dict(">f4", "False", "(1,)"), f4(1f)), "dtype", "'>f4'");
        assertEquals(e.file().toString() + ": dtype '>f4' not supported; expected little-endian "
                + "float32 '<f4', float64 '<f8', float16 '<f2' or bfloat16 bits '<u2'", e.getMessage());
        for (String d : new String[] {"<i4", "|u1", ">f2", ">u2", "<i2", "|u2", "f2", ">f8", "f4", "|f4",
            "<c8", "<e"}) {
            assertRejected("dtype" + Math.abs(d.hashCode()) + ".npy",
                    npy(1, 0, dict(d, "False", "(1,)"), f4(1f)), "dtype", d, "<f4", "<f8", "<f2",
                    "<u2");
        }
        assertRejected("structured.npy", npy(1, 0,
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}\n", f4(1f)),
                "dtype");
    }

    @Test
    void rejectsFortranOrder() throws IOException {
        assertRejected("fortran.npy", npy(1, 0, dict("<f4", "True", "(2, 2)"), f4(1, 2, 3, 4)),
                "fortran_order");
        assertRejected("fortran_bad.npy", npy(1, 0, dict("<f4", "'no'", "(2, 2)"),
                f4(1, 2, 3, 4)), "fortran_order");
    }

    @Test
    void rejectsInvalidShapes() throws IOException {
        assertRejected("neg.npy", npy(1, 0, dict("<f4", "False", "(2, -3)"), f4(1f)),
                "negative", "shape");
        assertRejected("frac.npy", npy(1, 0, dict("<f4", "False", "(2.5, 2)"), f4(1f)),
                "non-integer", "shape");
        assertRejected("str.npy", npy(1, 0, dict("<f4", "False", "('3',)"), f4(1f)),
                "non-integer", "shape");
        assertRejected("int.npy", npy(1, 0, dict("<f4", "False", "3"), f4(1f)), "shape");
        assertRejected("paren.npy", npy(1, 0, dict("<f4", "False", "(3)"), f4(1f)), "shape");
        assertRejected("none.npy", npy(1, 0, dict("<f4", "False", "None"), f4(1f)), "shape");
    }

    @Test
    void rejectsTooManyElements() throws IOException {
        assertRejected("toobig.npy", npy(1, 0, dict("<f4", "False", "(65536, 65536)"), f4(1f)),
                "java array limit", "2147483647");
        assertRejected("toobig2.npy", npy(1, 0, dict("<f4", "False",
                "(4294967296, 4294967296, 4294967296)"), f4(1f)), "java array limit");
        assertRejected("toobig3.npy", npy(1, 0, dict("<f4", "False", "(99999999999999999999,)"),
                f4(1f)), "java array limit");
    }

    @Test
    void rejectsShortData() throws IOException {
        NpyFormatException e = assertRejected("short_data.npy",
                npy(1, 0, dict("<f4", "False", "(2, 3)"), f4(1, 2, 3, 4, 5)),
                "truncated", "24 bytes", "20 bytes");
        assertTrue(e.problem().startsWith("data truncated"), e.problem());
        assertRejected("short_f8.npy", npy(1, 0, dict("<f8", "False", "(2,)"), f4(1, 2)),
                "truncated", "16 bytes", "8 bytes");
        assertRejected("no_data.npy", npy(1, 0, dict("<f4", "False", "()"), new byte[0]),
                "truncated", "4 bytes", "0 bytes");
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        assertRejected("trailing.npy", npy(1, 0, dict("<f4", "False", "(2,)"), f4(1, 2, 3)),
                "trailing", "4 trailing bytes");
        assertRejected("trailing_empty.npy", npy(1, 0, dict("<f4", "False", "(0,)"),
                new byte[] {1}), "trailing");
    }

    @Test
    void writeRejectsNulls() {
        assertThrows(NullPointerException.class, () -> Npy.write(null, NpyArray.of(new float[1])));
        assertThrows(NullPointerException.class, () -> Npy.write(dir.resolve("n.npy"), null));
    }

    @Test
    void writeOfHeaderBytesIsPaddedWithSpaces() throws IOException {
        Path p = dir.resolve("pad.npy");
        Npy.write(p, NpyArray.of(ramp(6), 2, 3));
        byte[] b = Files.readAllBytes(p);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0});
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        expected.write(dict.getBytes(StandardCharsets.US_ASCII));
        expected.write(" ".repeat(128 - 10 - dict.length() - 1).getBytes(StandardCharsets.US_ASCII));
        expected.write('\n');
        expected.write(f4(ramp(6)));
        assertArrayEquals(expected.toByteArray(), b);
    }

    // ------------------------------------------------------------------ float16 and bfloat16

    private static byte[] u16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putShort((short) x);
        }
        return b.array();
    }

    private static byte[] dataOf(Path p) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        int dataOffset = 10 + ((bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8);
        return Arrays.copyOfRange(bytes, dataOffset, bytes.length);
    }

    @Test
    void descrOfEachDtype() {
        assertEquals("<f4", Npy.descr(DType.FP32));
        assertEquals("<f2", Npy.descr(DType.FP16));
        assertEquals("<u2", Npy.descr(DType.BF16));
    }

    @Test
    void roundTripsFloat16BitExactly() throws IOException {
        float[] v = {0f, -0f, 1f, -2f, 0.5f, 65504f, -65504f, 0x1p-24f, 0x1p-14f, 3.140625f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        Path p = dir.resolve("f2.npy");
        Npy.write(p, NpyArray.of(v, 3, 4), DType.FP16);
        assertHeaderAligned(p, new long[] {3, 4}, "<f2", 2);
        NpyArray r = Npy.read(p);
        assertArrayEquals(new long[] {3, 4}, r.shape());
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(r.data()[i]),
                    "index " + i);
        }
        Npy.write(p, NpyArray.of(new float[] {Float.NaN}, 1), DType.FP16);
        assertTrue(Float.isNaN(Npy.read(p).data()[0]));
    }

    @Test
    void float16IsLittleEndianAndRoundedToNearestEven() throws IOException {
        Path p = dir.resolve("f2le.npy");
        // 1 = 0x3C00, -2 = 0xC000; 1 + 2^-11 is a tie (to 1), 1 + 3·2^-11 a tie (to 1 + 2^-9);
        // 65520 overflows to inf.
        Npy.write(p, NpyArray.of(new float[] {1f, -2f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 65520f}, 5),
                DType.FP16);
        assertArrayEquals(u16(0x3C00, 0xC000, 0x3C00, 0x3C02, 0x7C00), dataOf(p));
        assertArrayEquals(new float[] {1f, -2f, 1f, 1f + 0x1p-9f, Float.POSITIVE_INFINITY},
                Npy.read(p).data());
    }

    @Test
    void bfloat16IsWrittenAsU2BitPatternsAndReadBack() throws IOException {
        float bf16Max = HalfFloats.fromBfloat16((short) 0x7F7F);
        float[] v = {1f, -2f, 1.5f, bf16Max, -bf16Max, 1f + 0x1p-8f, 0x1p-133f, 3.3e38f};
        Path p = dir.resolve("bf16.npy");
        Npy.write(p, NpyArray.of(v, 8), DType.BF16);
        assertHeaderAligned(p, new long[] {8}, "<u2", 2);
        // 1 = 0x3F80, -2 = 0xC000, 1.5 = 0x3FC0, max 0x7F7F; 1 + 2^-8 is a tie (to 1); 2^-133 is
        // the smallest subnormal 0x0001; 3.3e38 rounds to 0x7F78.
        assertArrayEquals(u16(0x3F80, 0xC000, 0x3FC0, 0x7F7F, 0xFF7F, 0x3F80, 0x0001, 0x7F78),
                dataOf(p));
        float[] r = Npy.read(p).data();
        assertArrayEquals(DType.BF16.round(v), r);
        assertEquals(bf16Max, r[3]);
    }

    @Test
    void readsHandMadeFloat16AndBfloat16Files() throws IOException {
        Path f2 = file("hand_f2.npy", npy(1, 0, dict("<f2", "False", "(2, 2)"),
                u16(0x3C00, 0xC000, 0x7BFF, 0x0001)));
        assertEquals(NpyArray.of(new float[] {1f, -2f, 65504f, 0x1p-24f}, 2, 2), Npy.read(f2));
        Path u2 = file("hand_u2.npy", npy(3, 0, dict("<u2", "False", "(3,)"),
                u16(0x3F80, 0x3FC0, 0xC2F7)));
        assertEquals(NpyArray.of(new float[] {1f, 1.5f, -123.5f}, 3), Npy.read(u2));
    }

    @Test
    void sixteenBitArraysLargerThanOneChunkRoundTrip() throws IOException {
        int n = (3 << 20) / 2 + 777;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i) * 100;
        }
        for (DType t : new DType[] {DType.FP16, DType.BF16}) {
            Path p = dir.resolve("big" + t + ".npy");
            Npy.write(p, NpyArray.of(v, n), t);
            assertEquals(128 + 2L * n, Files.size(p));
            assertArrayEquals(t.round(v), Npy.read(p).data(), t.toString());
        }
        Path p = dir.resolve("big32.npy");
        Npy.write(p, NpyArray.of(v, n), DType.FP32);
        assertArrayEquals(v, Npy.read(p).data());
    }

    @Test
    void rejectsShortSixteenBitData() throws IOException {
        assertRejected("short_f2.npy", npy(1, 0, dict("<f2", "False", "(3,)"), new byte[5]),
                "truncated", "'<f2'", "6 bytes", "5 bytes");
        assertRejected("long_u2.npy", npy(1, 0, dict("<u2", "False", "(1,)"), new byte[4]),
                "trailing", "2 trailing bytes");
    }

    @Test
    void writeWithDtypeRejectsNull() {
        assertThrows(NullPointerException.class,
                () -> Npy.write(dir.resolve("n.npy"), NpyArray.of(new float[1]), null));
    }
}
