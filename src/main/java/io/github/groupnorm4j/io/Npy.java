package io.github.groupnorm4j.io;

import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.HalfFloats;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes NumPy {@code .npy} files holding float arrays.
 *
 * <p>{@link #read(Path)} accepts format versions 1.0, 2.0 and 3.0 with dtype {@code '<f4'}
 * (little-endian float32), {@code '<f8'} (little-endian float64, rounded to float32),
 * {@code '<f2'} (little-endian float16, widened exactly) or {@code '<u2'} (little-endian uint16
 * holding <em>bfloat16 bit patterns</em>, widened exactly), C order
 * ({@code 'fortran_order': False}) and any rank, including rank 0. Anything else, and any
 * malformed or truncated file, is rejected with a {@link NpyFormatException} naming the file and
 * the problem.
 *
 * <p>{@link #write(Path, NpyArray, DType)} writes format version 1.0 in C order, the header
 * padded so that the data starts at a multiple of 64 bytes, as NumPy does: {@link DType#FP32} as
 * {@code '<f4'}, {@link DType#FP16} as {@code '<f2'} and {@link DType#BF16} as {@code '<u2'} bit
 * patterns (values rounded to nearest even). {@link #write(Path, NpyArray)} writes {@code '<f4'}.
 *
 * <p>bfloat16: NumPy has no bfloat16 dtype, so bf16 tensors travel as their raw 16-bit patterns
 * in a {@code '<u2'} array. In Python, {@code torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)}
 * reads such a file, and {@code t.view(torch.int16).numpy().view(np.uint16)} writes one
 * (ml_dtypes: {@code a.view(ml_dtypes.bfloat16)}). Any {@code '<u2'} file is read this way; a
 * genuine integer array would be misread.
 *
 * <p>Data is transferred in large blocks through a {@link FileChannel}, so files of hundreds of
 * megabytes are read and written efficiently.
 */
public final class Npy {

    /** The six magic bytes every {@code .npy} file starts with. */
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** NumPy aligns the start of the data to this many bytes. */
    private static final int ALIGN = 64;

    /** Headers are tiny in practice; refuse to allocate absurd amounts for a corrupt length. */
    private static final long MAX_HEADER_BYTES = 1L << 24;

    /** Bytes moved per channel read or write. A multiple of 8. */
    private static final int CHUNK_BYTES = 1 << 20;

    private static final String SUPPORTED_DTYPES =
            "expected little-endian float32 '<f4', float64 '<f8', float16 '<f2' or bfloat16 bits '<u2'";

    private Npy() {
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads a {@code .npy} file.
     *
     * @param file the file to read; must not be null
     * @return the array, as float32 values in C order
     * @throws java.nio.file.NoSuchFileException if the file does not exist
     * @throws NpyFormatException if the file is not a supported, well-formed {@code .npy} file
     *     (bad magic, unsupported version, truncated or malformed header, unsupported dtype,
     *     Fortran order, invalid shape, missing or extra data, or more than
     *     {@value Integer#MAX_VALUE} elements)
     * @throws IOException if reading fails
     */
    public static NpyArray read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();

            // Magic string and version.
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            pre.limit((int) Math.min(12, fileSize));
            readFully(ch, pre, 0, file);
            pre.flip();
            if (pre.remaining() < MAGIC.length) {
                throw new NpyFormatException(file, "not a .npy file: bad magic string (file has only "
                        + fileSize + " bytes)");
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (pre.get(i) != MAGIC[i]) {
                    throw new NpyFormatException(file,
                            "not a .npy file: bad magic string (expected \\x93NUMPY)");
                }
            }
            if (pre.remaining() < MAGIC.length + 2) {
                throw new NpyFormatException(file, "truncated header: file ends inside the version");
            }
            int major = pre.get(6) & 0xFF;
            int minor = pre.get(7) & 0xFF;
            if ((major != 1 && major != 2 && major != 3) || minor != 0) {
                throw new NpyFormatException(file, "unsupported .npy format version " + major + "."
                        + minor + "; supported versions are 1.0, 2.0 and 3.0");
            }
            int lenBytes = major == 1 ? 2 : 4;
            int preambleLen = MAGIC.length + 2 + lenBytes;
            if (pre.remaining() < preambleLen) {
                throw new NpyFormatException(file,
                        "truncated header: file ends inside the header length field");
            }
            long headerLen = major == 1
                    ? pre.getShort(8) & 0xFFFFL
                    : pre.getInt(8) & 0xFFFFFFFFL;
            long dataOffset = preambleLen + headerLen;
            if (dataOffset > fileSize) {
                throw new NpyFormatException(file, "truncated header: header length is " + headerLen
                        + " bytes but the file has only " + (fileSize - preambleLen)
                        + " bytes after the preamble");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw new NpyFormatException(file, "header length " + headerLen
                        + " bytes is unreasonably large (limit " + MAX_HEADER_BYTES + ")");
            }

            // Header dictionary.
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, preambleLen, file);
            hb.flip();
            String header = decodeHeader(hb, major, file);
            Header h = parseHeader(header, major, file);

            // Data.
            long count = NpyArray.product(h.shape);
            if (count < 0 || count > Integer.MAX_VALUE) {
                throw new NpyFormatException(file, "shape " + shapeString(h.shape) + " holds "
                        + (count < 0 ? "more than " + Long.MAX_VALUE : Long.toString(count))
                        + " elements, more than the Java array limit of " + Integer.MAX_VALUE);
            }
            long expected = count * h.itemSize;
            long found = fileSize - dataOffset;
            if (found < expected) {
                throw new NpyFormatException(file, "data truncated: shape " + shapeString(h.shape)
                        + " of dtype '" + h.descr + "' needs " + expected + " bytes but only "
                        + found + " bytes follow the header");
            }
            if (found > expected) {
                throw new NpyFormatException(file, (found - expected)
                        + " trailing bytes after the data: shape " + shapeString(h.shape)
                        + " of dtype '" + h.descr + "' needs " + expected + " bytes but "
                        + found + " bytes follow the header");
            }
            float[] data = new float[(int) count];
            ItemDecoder decoder = h.itemSize == 4 ? FLOAT32 : h.itemSize == 8 ? FLOAT64
                    : h.descr.equals("<u2") ? BFLOAT16_BITS : FLOAT16;
            readItems(ch, dataOffset, data, h.itemSize, decoder, file);
            return NpyArray.of(data, h.shape);
        }
    }

    /** Decodes {@code n} little-endian items from {@code buf} into {@code out[at..at+n)}. */
    private interface ItemDecoder {
        void decode(ByteBuffer buf, float[] out, int at, int n);
    }

    private static final ItemDecoder FLOAT32 = (buf, out, at, n) -> buf.asFloatBuffer().get(out, at, n);
    private static final ItemDecoder FLOAT64 = (buf, out, at, n) -> {
        for (int i = 0; i < n; i++) {
            out[at + i] = (float) buf.getDouble();
        }
    };
    private static final ItemDecoder FLOAT16 = (buf, out, at, n) -> {
        for (int i = 0; i < n; i++) {
            out[at + i] = HalfFloats.fromHalf(buf.getShort());
        }
    };
    /** {@code '<u2'}: bfloat16 bit patterns (NumPy has no bfloat16). */
    private static final ItemDecoder BFLOAT16_BITS = (buf, out, at, n) -> {
        for (int i = 0; i < n; i++) {
            out[at + i] = HalfFloats.fromBfloat16(buf.getShort());
        }
    };

    /** Reads {@code out.length} items of {@code itemSize} bytes from file offset {@code pos}, a chunk at a time. */
    private static void readItems(FileChannel ch, long pos, float[] out, int itemSize, ItemDecoder decoder,
                                  Path file) throws IOException {
        ByteBuffer buf = dataBuffer((long) out.length * itemSize);
        int done = 0;
        while (done < out.length) {
            int n = Math.min(out.length - done, buf.capacity() / itemSize);
            buf.clear().limit(n * itemSize);
            readFully(ch, buf, pos, file);
            pos += (long) n * itemSize;
            buf.flip();
            decoder.decode(buf, out, done, n);
            done += n;
        }
    }

    private static ByteBuffer dataBuffer(long totalBytes) {
        int cap = (int) Math.max(8, Math.min(CHUNK_BYTES, totalBytes));
        ByteBuffer buf = cap < 4096 ? ByteBuffer.allocate(cap) : ByteBuffer.allocateDirect(cap);
        return buf.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Fills {@code buf} up to its limit from {@code ch} starting at file offset {@code pos}. */
    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file)
            throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                // The size was checked up front, so the file must have shrunk while being read.
                throw new EOFException(file + ": unexpected end of file at offset " + pos);
            }
            pos += n;
        }
    }

    private static String decodeHeader(ByteBuffer hb, int major, Path file)
            throws NpyFormatException {
        if (major < 3) {
            return StandardCharsets.ISO_8859_1.decode(hb).toString();
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(hb)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new NpyFormatException(file, "header is not valid UTF-8");
        }
    }

    /** The parts of the header dictionary that matter. */
    private static final class Header {
        final String descr;
        final int itemSize;
        final long[] shape;

        Header(String descr, int itemSize, long[] shape) {
            this.descr = descr;
            this.itemSize = itemSize;
            this.shape = shape;
        }
    }

    private static Header parseHeader(String header, int major, Path file)
            throws NpyFormatException {
        Object parsed;
        try {
            parsed = new LiteralParser(header, major < 3).parseTopLevel();
        } catch (LiteralParser.SyntaxException e) {
            throw new NpyFormatException(file, "header is not a valid Python dict literal: "
                    + e.getMessage() + " in " + quote(header));
        }
        if (!(parsed instanceof Map)) {
            throw new NpyFormatException(file, "header is not a dict but "
                    + LiteralParser.repr(parsed) + " in " + quote(header));
        }
        Map<?, ?> dict = (Map<?, ?>) parsed;
        for (String key : new String[] {"descr", "fortran_order", "shape"}) {
            if (!dict.containsKey(key)) {
                throw new NpyFormatException(file,
                        "header dict is missing key '" + key + "' in " + quote(header));
            }
        }

        Object descr = dict.get("descr");
        int itemSize;
        if ("<f4".equals(descr)) {
            itemSize = 4;
        } else if ("<f8".equals(descr)) {
            itemSize = 8;
        } else if ("<f2".equals(descr) || "<u2".equals(descr)) {
            itemSize = 2;
        } else {
            throw new NpyFormatException(file, "dtype " + LiteralParser.repr(descr)
                    + " not supported; " + SUPPORTED_DTYPES);
        }

        Object fortran = dict.get("fortran_order");
        if (Boolean.TRUE.equals(fortran)) {
            throw new NpyFormatException(file, "fortran_order True (column-major data) not "
                    + "supported; only C order (fortran_order False) can be read");
        }
        if (!Boolean.FALSE.equals(fortran)) {
            throw new NpyFormatException(file, "fortran_order must be True or False, not "
                    + LiteralParser.repr(fortran));
        }

        Object shapeValue = dict.get("shape");
        if (!(shapeValue instanceof List)) {
            throw new NpyFormatException(file, "shape must be a tuple of non-negative integers, not "
                    + LiteralParser.repr(shapeValue));
        }
        List<?> dims = (List<?>) shapeValue;
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Object d = dims.get(i);
            if (!(d instanceof BigInteger)) {
                throw new NpyFormatException(file, "shape " + LiteralParser.repr(shapeValue)
                        + " has non-integer entry " + LiteralParser.repr(d));
            }
            BigInteger b = (BigInteger) d;
            if (b.signum() < 0) {
                throw new NpyFormatException(file, "shape " + LiteralParser.repr(shapeValue)
                        + " has negative entry " + b);
            }
            if (b.bitLength() > 63) {
                throw new NpyFormatException(file, "shape " + LiteralParser.repr(shapeValue)
                        + " has entry " + b + ", more than the Java array limit of "
                        + Integer.MAX_VALUE + " elements");
            }
            shape[i] = b.longValue();
        }
        return new Header((String) descr, itemSize, shape);
    }

    private static String quote(String header) {
        String s = header.length() > 200 ? header.substring(0, 200) + "..." : header;
        StringBuilder sb = new StringBuilder("header \"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n') {
                sb.append("\\n");
            } else if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        if (shape.length == 1) {
            sb.append(',');
        }
        return sb.append(')').toString();
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code array} as a {@code .npy} file with dtype {@code '<f4'} in C order: {@link
     * #write(Path, NpyArray, DType) write(file, array, DType.FP32)}.
     *
     * @param file the file to write; must not be null
     * @param array the array to write; must not be null
     * @throws IOException if writing fails
     */
    public static void write(Path file, NpyArray array) throws IOException {
        write(file, array, DType.FP32);
    }

    /**
     * Writes {@code array} as a {@code .npy} file in C order, replacing any existing file, with
     * the dtype {@link #descr(DType)} gives: {@code '<f4'}, {@code '<f2'} (float16) or
     * {@code '<u2'} (bfloat16 bit patterns). Values are rounded to nearest even for the 16-bit
     * types (beyond the largest finite value: infinity). The format version is 1.0, unless the
     * header would exceed the 65535 bytes that version allows (only possible for thousands of
     * dimensions), in which case 2.0 is used, as NumPy does. The parent directory must already
     * exist.
     *
     * @param file the file to write; must not be null
     * @param array the array to write; must not be null
     * @param type how to store the values; must not be null
     * @throws IOException if writing fails
     */
    public static void write(Path file, NpyArray array, DType type) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(array, "array");
        Objects.requireNonNull(type, "type");
        ByteBuffer header = encodeHeader(array.shape(), descr(type));
        float[] data = array.data();
        int item = type.bytes();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE,
                StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, header);
            ByteBuffer buf = dataBuffer((long) data.length * item);
            short[] tmp = item == 2 ? new short[buf.capacity() / 2] : null;
            int done = 0;
            while (done < data.length) {
                int n = Math.min(data.length - done, buf.capacity() / item);
                buf.clear();
                if (item == 4) {
                    buf.asFloatBuffer().put(data, done, n);
                } else {
                    for (int i = 0; i < n; i++) {
                        tmp[i] = type == DType.BF16 ? HalfFloats.toBfloat16(data[done + i])
                                : HalfFloats.toHalf(data[done + i]);
                    }
                    buf.asShortBuffer().put(tmp, 0, n);
                }
                buf.limit(n * item);
                writeFully(ch, buf);
                done += n;
            }
        }
    }

    /**
     * The {@code .npy} dtype string a {@link DType} is written as: {@code '<f4'}, {@code '<f2'},
     * or {@code '<u2'} for bfloat16 bit patterns.
     *
     * @param type the storage type; must not be null
     * @return the descr string, without quotes
     */
    public static String descr(DType type) {
        switch (Objects.requireNonNull(type, "type")) {
            case FP16:
                return "<f2";
            case BF16:
                return "<u2";
            default:
                return "<f4";
        }
    }

    /** Builds magic, version, header length and the padded header dict. */
    static ByteBuffer encodeHeader(long[] shape, String descr) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': False, 'shape': ")
                .append(shapeString(shape)).append(", }");
        int major = 1;
        int preambleLen = MAGIC.length + 2 + 2;
        if (dict.length() + 1 + ALIGN > 0xFFFF) {
            major = 2;
            preambleLen = MAGIC.length + 2 + 4;
        }
        int unpadded = preambleLen + dict.length() + 1; // +1 for the final '\n'
        int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
        dict.append(" ".repeat(pad)).append('\n');
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer buf = ByteBuffer.allocate(preambleLen + text.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            buf.putShort((short) text.length);
        } else {
            buf.putInt(text.length);
        }
        buf.put(text).flip();
        return buf;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    // ------------------------------------------------------------------ header parsing

    /**
     * A parser for the subset of Python literal syntax used in {@code .npy} headers: dicts,
     * tuples, lists, strings, integers, floats, {@code True}, {@code False} and {@code None}.
     * Tuples and lists become {@link List}s, integers {@link BigInteger}s, dicts
     * {@link LinkedHashMap}s; other numbers become {@link PyFloat}s.
     */
    static final class LiteralParser {

        static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };

        /** A non-integer number, kept as its source text. */
        static final class PyFloat {
            final String text;

            PyFloat(String text) {
                this.text = text;
            }

            @Override
            public String toString() {
                return text;
            }
        }

        /** A Python list, told apart from a tuple only so that error messages show it as such. */
        static final class PyList extends ArrayList<Object> {
            private static final long serialVersionUID = 1L;
        }

        static final class SyntaxException extends Exception {
            private static final long serialVersionUID = 1L;

            SyntaxException(String message) {
                super(message);
            }
        }

        private final String s;
        private final boolean allowLongSuffix;
        private int pos;

        /**
         * @param allowLongSuffix accept Python 2 long literals such as {@code 3L}, which old
         *     NumPy versions wrote into version 1.0 and 2.0 headers
         */
        LiteralParser(String s, boolean allowLongSuffix) {
            this.s = s;
            this.allowLongSuffix = allowLongSuffix;
        }

        Object parseTopLevel() throws SyntaxException {
            Object v = parseValue();
            skipSpace();
            if (pos < s.length()) {
                throw error("unexpected " + describeHere() + " after the value");
            }
            return v;
        }

        private Object parseValue() throws SyntaxException {
            skipSpace();
            if (pos >= s.length()) {
                throw error("unexpected end of header");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return parseDict();
                case '(':
                    return parseSequence('(', ')');
                case '[':
                    return parseSequence('[', ']');
                case '\'':
                case '"':
                    return parseString();
                default:
                    break;
            }
            if (c == '-' || c == '+' || c == '.' || isDigit(c)) {
                return parseNumber();
            }
            if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < s.length()
                        && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
                    pos++;
                }
                String name = s.substring(start, pos);
                // String prefixes such as u'<f4' or b'<f4'.
                if (pos < s.length() && (s.charAt(pos) == '\'' || s.charAt(pos) == '"')
                        && (name.equalsIgnoreCase("u") || name.equalsIgnoreCase("b"))) {
                    return parseString();
                }
                switch (name) {
                    case "True":
                        return Boolean.TRUE;
                    case "False":
                        return Boolean.FALSE;
                    case "None":
                        return NONE;
                    default:
                        pos = start;
                        throw error("unexpected name '" + name + "'");
                }
            }
            throw error("unexpected " + describeHere());
        }

        private Map<Object, Object> parseDict() throws SyntaxException {
            pos++; // '{'
            Map<Object, Object> map = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (peek('}')) {
                    pos++;
                    return map;
                }
                Object key = parseValue();
                if (key instanceof List || key instanceof Map) {
                    throw error("unhashable dict key " + repr(key));
                }
                skipSpace();
                expect(':');
                Object value = parseValue();
                map.put(key, value);
                skipSpace();
                if (peek(',')) {
                    pos++;
                } else if (!peek('}')) {
                    throw error("expected ',' or '}' but found " + describeHere());
                }
            }
        }

        /** Parses a tuple or list; {@code (x)} without a comma is just {@code x}, as in Python. */
        private Object parseSequence(char open, char close) throws SyntaxException {
            pos++; // open
            List<Object> items = open == '[' ? new PyList() : new ArrayList<>();
            boolean sawComma = false;
            while (true) {
                skipSpace();
                if (peek(close)) {
                    pos++;
                    if (open == '(' && items.size() == 1 && !sawComma) {
                        return items.get(0);
                    }
                    return items;
                }
                items.add(parseValue());
                skipSpace();
                if (peek(',')) {
                    pos++;
                    sawComma = true;
                } else if (!peek(close)) {
                    throw error("expected ',' or '" + close + "' but found " + describeHere());
                }
            }
        }

        private String parseString() throws SyntaxException {
            char quote = s.charAt(pos);
            int start = pos;
            pos++;
            StringBuilder sb = new StringBuilder();
            while (pos < s.length()) {
                char c = s.charAt(pos++);
                if (c == quote) {
                    return sb.toString();
                }
                if (c == '\n') {
                    break;
                }
                if (c == '\\' && pos < s.length()) {
                    char e = s.charAt(pos++);
                    switch (e) {
                        case 'n':
                            sb.append('\n');
                            break;
                        case 't':
                            sb.append('\t');
                            break;
                        case 'r':
                            sb.append('\r');
                            break;
                        case '0':
                            sb.append('\0');
                            break;
                        case '\\':
                        case '\'':
                        case '"':
                            sb.append(e);
                            break;
                        default:
                            sb.append('\\').append(e);
                            break;
                    }
                } else {
                    sb.append(c);
                }
            }
            pos = start;
            throw error("unterminated string");
        }

        private Object parseNumber() throws SyntaxException {
            int start = pos;
            boolean negative = false;
            if (peek('-') || peek('+')) {
                negative = s.charAt(pos) == '-';
                pos++;
                skipSpace();
            }
            int digitsStart = pos;
            while (pos < s.length() && (isDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos++;
            }
            boolean isFloat = false;
            if (peek('.')) {
                isFloat = true;
                pos++;
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            if (pos > digitsStart && (peek('e') || peek('E'))) {
                isFloat = true;
                pos++;
                if (peek('-') || peek('+')) {
                    pos++;
                }
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            String body = s.substring(digitsStart, pos);
            if (body.isEmpty() || body.equals(".")) {
                pos = start;
                throw error("malformed number");
            }
            if (pos < s.length() && Character.isLetter(s.charAt(pos))) {
                char suffix = s.charAt(pos);
                if (!isFloat && allowLongSuffix && (suffix == 'L' || suffix == 'l')) {
                    pos++;
                } else if (suffix == 'j' || suffix == 'J') {
                    pos++;
                    return new PyFloat(s.substring(start, pos));
                } else {
                    pos = start;
                    throw error("malformed number");
                }
            }
            if (isFloat) {
                return new PyFloat(s.substring(start, pos).replace(" ", ""));
            }
            String digits = body.replace("_", "");
            if (digits.isEmpty() || body.startsWith("_") || body.endsWith("_")
                    || body.contains("__")) {
                pos = start;
                throw error("malformed number");
            }
            BigInteger v = new BigInteger(digits);
            return negative ? v.negate() : v;
        }

        private void expect(char c) throws SyntaxException {
            if (!peek(c)) {
                throw error("expected '" + c + "' but found " + describeHere());
            }
            pos++;
        }

        private boolean peek(char c) {
            return pos < s.length() && s.charAt(pos) == c;
        }

        private void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B) {
                    pos++;
                } else {
                    break;
                }
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private String describeHere() {
            if (pos >= s.length()) {
                return "end of header";
            }
            char c = s.charAt(pos);
            return c < 0x20 || c == 0x7F
                    ? String.format("character \\x%02x", (int) c)
                    : "'" + c + "'";
        }

        private SyntaxException error(String message) {
            return new SyntaxException(message + " at offset " + pos);
        }

        /** Python-like rendering of a parsed value, for error messages. */
        static String repr(Object v) {
            if (v instanceof String) {
                return "'" + v + "'";
            }
            if (v instanceof Boolean) {
                return (Boolean) v ? "True" : "False";
            }
            if (v instanceof List) {
                List<?> l = (List<?>) v;
                boolean list = v instanceof PyList;
                StringBuilder sb = new StringBuilder(list ? "[" : "(");
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(", ");
                    }
                    sb.append(repr(l.get(i)));
                }
                if (list) {
                    return sb.append(']').toString();
                }
                if (l.size() == 1) {
                    sb.append(',');
                }
                return sb.append(')').toString();
            }
            if (v instanceof Map) {
                StringBuilder sb = new StringBuilder("{");
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) {
                        sb.append(", ");
                    }
                    first = false;
                    sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                }
                return sb.append('}').toString();
            }
            return String.valueOf(v);
        }
    }
}
