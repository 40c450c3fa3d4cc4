package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.readFloats;
import static io.github.groupnorm4j.emu.EmuTestSupport.readInts;
import static io.github.groupnorm4j.emu.EmuTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.groupnorm4j.emu.Finding.Category;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Loading PTX: what the parser accepts, how it reports what it cannot load, and the hang guard. */
class EmuParserTest {

    private static final String HEADER = String.join("\n",
            ".version 9.0",
            ".target sm_75",
            ".address_size 64",
            "");

    /** 1-based line of the first line of {@code text} that contains {@code needle}. */
    private static int lineOf(String text, String needle) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(needle)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line contains " + needle);
    }

    private static Emulator emu() {
        return new Emulator(EmuOptions.defaults());
    }

    private static void assertNamesLine(PtxException e, String module, int line) {
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().startsWith(module + ":" + line + ":"),
                () -> "message should start with '" + module + ":" + line + ":', got: " + e.getMessage());
    }

    // ---- every generated test module loads ----

    @ParameterizedTest
    @ValueSource(strings = {"emu_families", "emu_bugs", "emu_extras", "emu_calls", "emu_rounding", "emu_bits", "emu_cluster",
            "emu_half", "emu_large"})
    void everyTestModuleLoads(String name) {
        for (String arch : EmuTestSupport.ARCHES) {
            Emulator emu = emu();
            String text = EmuTestSupport.ptx(name, arch);
            assertDoesNotThrow(() -> emu.load(name + "." + arch, text), name + "." + arch);
        }
    }

    // ---- unsupported instructions ----

    private static final String TEX_MODULE = HEADER + String.join("\n",
            "// unified texture mode: the texture object is a .u64 handle in a register",
            ".visible .entry uses_tex(",
            "\t.param .u64 uses_tex_param_0",
            ")",
            "{",
            "\t.reg .b32 \t%r<3>;",
            "\t.reg .f32 \t%f<5>;",
            "\t.reg .b64 \t%rd<3>;",
            "",
            "\tld.param.u64 \t%rd1, [uses_tex_param_0];",
            "\tmov.u32 \t%r1, %tid.x;",
            "\ttex.1d.v4.f32.s32 \t{%f1, %f2, %f3, %f4}, [%rd1, {%r1}];",
            "\tcvta.to.global.u64 \t%rd2, %rd1;",
            "\tst.global.f32 \t[%rd2], %f1;",
            "\tret;",
            "}",
            "");

    @Test
    void unsupportedTexInstructionFailsAtLoadWithItsLine() {
        PtxException e = assertThrows(PtxException.class, () -> emu().load("tex_mod", TEX_MODULE));
        assertNamesLine(e, "tex_mod", lineOf(TEX_MODULE, "tex.1d"));
        assertTrue(e.getMessage().contains("tex"), () -> "message should name the instruction: " + e.getMessage());
    }

    private static final String WMMA_MODULE = HEADER + String.join("\n",
            "// a tensor-core load the emulator does not model",
            ".visible .entry uses_wmma(",
            "\t.param .u64 uses_wmma_param_0",
            ")",
            "{",
            "\t.reg .b32 \t%r<9>;",
            "\t.reg .b64 \t%rd<3>;",
            "",
            "\tld.param.u64 \t%rd1, [uses_wmma_param_0];",
            "\tcvta.to.global.u64 \t%rd2, %rd1;",
            "\twmma.load.a.sync.aligned.row.m16n16k16.global.f16 \t{%r1, %r2, %r3, %r4, %r5, %r6, %r7, %r8}, [%rd2];",
            "\tst.global.u32 \t[%rd2], %r1;",
            "\tret;",
            "}",
            "");

    @Test
    void unsupportedWmmaInstructionFailsAtLoadWithItsLine() {
        PtxException e = assertThrows(PtxException.class, () -> emu().load("wmma_mod", WMMA_MODULE));
        assertNamesLine(e, "wmma_mod", lineOf(WMMA_MODULE, "wmma.load"));
        assertTrue(e.getMessage().contains("wmma"), () -> "message should name the instruction: " + e.getMessage());
    }

    // ---- syntax errors ----

    private static String moduleWithBody(String entry, String... body) {
        return HEADER + String.join("\n",
                ".visible .entry " + entry + "(",
                "\t.param .u64 " + entry + "_param_0",
                ")",
                "{",
                "\t.reg .pred \t%p<3>;",
                "\t.reg .b32 \t%r<9>;",
                "\t.reg .b64 \t%rd<5>;",
                "",
                "\tld.param.u64 \t%rd1, [" + entry + "_param_0];",
                "\tcvta.to.global.u64 \t%rd2, %rd1;",
                String.join("\n", body),
                "\tret;",
                "}",
                "");
    }

    @Test
    void missingOperandIsASyntaxErrorWithItsLine() {
        String ptx = moduleWithBody("bad1", "\tmov.u32 \t%r1, %tid.x;", "\tadd.s32 \t%r2, %r1, ;",
                "\tst.global.u32 \t[%rd2], %r2;");
        PtxException e = assertThrows(PtxException.class, () -> emu().load("bad1", ptx));
        assertNamesLine(e, "bad1", lineOf(ptx, "add.s32"));
    }

    @Test
    void missingSemicolonIsASyntaxErrorWithItsLine() {
        String ptx = moduleWithBody("bad2", "\tmov.u32 \t%r1, %tid.x", "\tst.global.u32 \t[%rd2], %r1;");
        PtxException e = assertThrows(PtxException.class, () -> emu().load("bad2", ptx));
        // The statement runs on to the next line; either line is an honest answer.
        int first = lineOf(ptx, "mov.u32");
        assertTrue(e.getMessage().startsWith("bad2:" + first + ":") || e.getMessage().startsWith("bad2:"
                + (first + 1) + ":"), () -> "message should name line " + first + " or " + (first + 1) + ": "
                + e.getMessage());
    }

    @Test
    void unbalancedBraceIsASyntaxError() {
        String ptx = moduleWithBody("bad3", "\t{", "\tmov.u32 \t%r1, %tid.x;", "\tst.global.u32 \t[%rd2], %r1;");
        PtxException e = assertThrows(PtxException.class, () -> emu().load("bad3", ptx));
        assertTrue(e.getMessage().startsWith("bad3:"), e.getMessage());
    }

    @Test
    void anUnclosedParameterListIsASyntaxErrorWithItsLine() {
        String text = HEADER + ".visible .entry broken(\n.param .u64 p {\n}\n";
        PtxException e = assertThrows(PtxException.class, () -> emu().load("unclosed", text));
        assertNamesLine(e, "unclosed", lineOf(text, ".entry broken("));
        assertTrue(e.getMessage().contains("unclosed '(' in the parameter list"), e.getMessage());
    }

    /**
     * Whatever is cut off a module (a truncated file, an interrupted copy), loading it either works or fails with a
     * PtxException naming the module: never another exception escaping the parser.
     */
    @Test
    void aModuleCutAnywhereLoadsOrFailsWithAPtxException() {
        String text = EmuTestSupport.ptx("emu_calls", EmuTestSupport.ARCHES[0]);
        int cuts = 400;
        int refused = 0;
        for (int k = 1; k <= cuts; k++) {
            String cut = text.substring(0, (int) ((long) text.length() * k / (cuts + 1)));
            try {
                emu().load("cut", cut);
            } catch (PtxException e) {
                assertTrue(e.getMessage().startsWith("cut:"), e.getMessage());
                refused++;
            } catch (RuntimeException e) {
                throw new AssertionError("cut at " + cut.length() + " of " + text.length() + " characters: " + e, e);
            }
        }
        assertTrue(refused > cuts / 2, refused + " of " + cuts + " cuts refused: most cut a function open");
    }

    @Test
    void undeclaredRegisterIsAnError() {
        String ptx = moduleWithBody("bad4", "\tmov.u32 \t%r1, %tid.x;", "\tadd.s32 \t%q7, %r1, 1;",
                "\tst.global.u32 \t[%rd2], %r1;");
        PtxException e = assertThrows(PtxException.class, () -> emu().load("bad4", ptx));
        assertNamesLine(e, "bad4", lineOf(ptx, "%q7"));
    }

    // ---- what nvcc writes, and some of what people write by hand ----

    /**
     * Comments of both kinds, .file/.loc, a nested { } scope with its own .reg, @%p and @!%p guards, 0f / 0d
     * float literals, hex and negative integer literals, %r<n> register ranges, a label.
     * out[t] = t < n ? 3.5 : 0.0, and ints[t] = (t ^ 0xff) + (-3).
     */
    static final String FEATURES_MODULE = String.join("\n",
            "//",
            "// Hand-written PTX for the parser test",
            "//",
            "",
            ".version 9.0",
            ".target sm_75",
            ".address_size 64",
            "",
            "\t// .globl\tparse_features",
            "/* a block comment",
            "   over two lines */",
            ".visible .entry parse_features(",
            "\t.param .u64 parse_features_param_0,",
            "\t.param .u64 parse_features_param_1,",
            "\t.param .u32 parse_features_param_2",
            ")",
            "{",
            "\t.reg .pred \t%p<3>;",
            "\t.reg .b32 \t%r<12>;",
            "\t.reg .f32 \t%f<6>;",
            "\t.reg .b64 \t%rd<8>;",
            "\t.reg .f64 \t%fd<2>;",
            "",
            "\t.file\t1 \"/tmp/hand.cu\"",
            "\t.loc\t1 3 0",
            "\tld.param.u64 \t%rd1, [parse_features_param_0];",
            "\tld.param.u64 \t%rd5, [parse_features_param_1];",
            "\tld.param.u32 \t%r1, [parse_features_param_2];",
            "\tcvta.to.global.u64 \t%rd2, %rd1;   // trailing comment",
            "\tcvta.to.global.u64 \t%rd6, %rd5;",
            "\tmov.u32 \t%r2, %tid.x;",
            "\t.loc\t1 4 5",
            "\tsetp.lt.u32 \t%p1, %r2, %r1; /* inline block comment */",
            "\tmov.f32 \t%f1, 0f3F800000;       // 1.0",
            "\t@%p1 bra \t$L__BB0_2;",
            "\tmov.f32 \t%f1, 0f40200000;       // 2.5",
            "$L__BB0_2:",
            "\t{",
            "\t.reg .f32 \t%inner;",
            "\tadd.f32 \t%inner, %f1, 0f3F000000;       // + 0.5",
            "\t@!%p1 mov.f32 \t%inner, 0fC0000000;       // -2.0 when not p1",
            "\tmov.f32 \t%f3, %inner;",
            "\t}",
            "\tmov.f64 \t%fd1, 0d4000000000000000;      // 2.0",
            "\tcvt.rn.f32.f64 \t%f4, %fd1;",
            "\tadd.f32 \t%f5, %f3, %f4;",
            "\tmul.wide.u32 \t%rd3, %r2, 4;",
            "\tadd.s64 \t%rd4, %rd2, %rd3;",
            "\tst.global.f32 \t[%rd4], %f5;",
            "\txor.b32 \t%r3, %r2, 0xff;",
            "\tadd.s32 \t%r4, %r3, -3;",
            "\tshl.b32 \t%r5, %r4, 1;",
            "\tadd.s64 \t%rd7, %rd6, %rd3;",
            "\tst.global.u32 \t[%rd7], %r5;",
            "\tret;",
            "",
            "}",
            "");

    @Test
    void nvccStyleModuleParsesAndRuns() {
        Emulator emu = emu();
        PtxModule m = emu.load("features", FEATURES_MODULE);
        long out = words(emu, 8, 0);
        long ints = words(emu, 8, 0);
        LaunchResult r = emu.launch(m, "parse_features", Dim3.of(1), Dim3.of(8), 0, out, ints, 3);
        assertTrue(r.clean(), () -> "unexpected findings: " + r.findings());
        assertArrayEquals(new float[] {3.5f, 3.5f, 3.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, readFloats(emu, out, 8));
        int[] expected = new int[8];
        for (int t = 0; t < 8; t++) {
            expected[t] = ((t ^ 0xff) - 3) * 2;
        }
        assertArrayEquals(expected, readInts(emu, ints, 8));
    }

    /** A hand-written .func with a .param call sequence as nvcc writes it. */
    static final String CALL_MODULE = HEADER + String.join("\n",
            ".func  (.param .b32 func_retval0) twice(",
            "\t.param .b32 twice_param_0",
            ")",
            "{",
            "\t.reg .b32 \t%r<3>;",
            "\tld.param.u32 \t%r1, [twice_param_0];",
            "\tshl.b32 \t%r2, %r1, 1;",
            "\tst.param.b32 \t[func_retval0], %r2;",
            "\tret;",
            "}",
            "",
            ".visible .entry calls_twice(",
            "\t.param .u64 calls_twice_param_0",
            ")",
            "{",
            "\t.reg .b32 \t%r<6>;",
            "\t.reg .b64 \t%rd<5>;",
            "",
            "\tld.param.u64 \t%rd1, [calls_twice_param_0];",
            "\tcvta.to.global.u64 \t%rd2, %rd1;",
            "\tmov.u32 \t%r2, %tid.x;",
            "\tadd.s32 \t%r4, %r2, 10;",
            "\t{ // callseq 0, 0",
            "\t.param .b32 param0;",
            "\tst.param.b32 \t[param0], %r4;",
            "\t.param .b32 retval0;",
            "\tcall.uni (retval0), ",
            "\ttwice, ",
            "\t(",
            "\tparam0",
            "\t);",
            "\tld.param.b32 \t%r5, [retval0];",
            "\t} // callseq 0",
            "\tmul.wide.u32 \t%rd3, %r2, 4;",
            "\tadd.s64 \t%rd4, %rd2, %rd3;",
            "\tst.global.u32 \t[%rd4], %r5;",
            "\tret;",
            "}",
            "");

    @Test
    void handWrittenCallSequenceRuns() {
        Emulator emu = emu();
        PtxModule m = emu.load("calls", CALL_MODULE);
        long out = words(emu, 4, 0);
        LaunchResult r = emu.launch(m, "calls_twice", Dim3.of(1), Dim3.of(4), 0, out);
        assertTrue(r.clean(), () -> "unexpected findings: " + r.findings());
        assertArrayEquals(new int[] {20, 22, 24, 26}, readInts(emu, out, 4));
    }

    // ---- hang guard ----

    static final String SPIN_MODULE = HEADER + String.join("\n",
            ".visible .entry spin(",
            "\t.param .u64 spin_param_0",
            ")",
            "{",
            "\t.reg .pred \t%p<2>;",
            "\t.reg .b32 \t%r<3>;",
            "\t.reg .b64 \t%rd<3>;",
            "",
            "\tld.param.u64 \t%rd1, [spin_param_0];",
            "\tcvta.to.global.u64 \t%rd2, %rd1;",
            "$L__spin:",
            "\tld.volatile.global.u32 \t%r1, [%rd2];",
            "\tsetp.eq.s32 \t%p1, %r1, 0;",
            "\t@%p1 bra.uni \t$L__spin;",
            "\tst.global.u32 \t[%rd2], 2;",
            "\tret;",
            "}",
            "");

    @Test
    void infiniteLoopWithSmallBudgetIsAHang() {
        long budget = 10_000;
        for (Schedule s : Schedule.values()) {
            Emulator emu = new Emulator(EmuOptions.builder().schedule(s).instructionBudget(budget).build());
            PtxModule m = emu.load("spin", SPIN_MODULE);
            long flag = words(emu, 1, 0);
            LaunchResult r = emu.launch(m, "spin", Dim3.of(1), Dim3.of(8), 0, flag);
            List<Finding> hangs = r.findings().stream().filter(f -> f.category() == Category.HANG).toList();
            if (hangs.isEmpty()) {
                fail(s + ": expected a HANG finding, got " + r.findings());
            }
            assertTrue(r.instructions() <= budget + 8 * 16L, () -> s + ": ran " + r.instructions()
                    + " instructions with a budget of " + budget);
            for (Finding f : hangs) {
                assertFalse(f.message().isBlank(), f::toString);
                assertTrue(f.kernel().equals("spin"), f::toString);
            }
            EmuPlantedBugsTest.assertHangListsThreads(hangs, 8, r);
            // The emulator's own counters agree with the result, and the kernel never got past the loop.
            assertTrue(emu.findings().containsAll(hangs), "Emulator.findings() should include the launch's findings");
            assertArrayEquals(new int[] {0}, readInts(emu, flag, 1));
        }
    }
}
