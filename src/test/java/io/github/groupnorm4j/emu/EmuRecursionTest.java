package io.github.groupnorm4j.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Recursion is executed with real frames; recursion over .local memory is refused rather than mis-executed. */
class EmuRecursionTest {
    private static final String HEADER = ".version 9.0\n.target sm_90\n.address_size 64\n";

    /** f(n) = n <= 0 ? 0 : n + f(n-1), through the .param frames nvcc uses. */
    private static final String SUM_TO = HEADER
            + ".func (.param .b32 ret) sum_to(.param .b32 n)\n{\n"
            + "  .reg .pred %p<2>;\n  .reg .b32 %r<6>;\n"
            + "  ld.param.u32 %r1, [n];\n  setp.lt.s32 %p1, %r1, 1;\n  mov.u32 %r5, 0;\n"
            + "  @%p1 bra DONE;\n  add.s32 %r2, %r1, -1;\n"
            + "  { .param .b32 a0; st.param.b32 [a0], %r2; .param .b32 r0;\n"
            + "    call.uni (r0), sum_to, (a0);\n    ld.param.b32 %r3, [r0]; }\n"
            + "  add.s32 %r5, %r3, %r1;\nDONE:\n  st.param.b32 [ret], %r5;\n  ret;\n}\n"
            + ".visible .entry k(.param .u64 out)\n{\n  .reg .b32 %r<4>;\n  .reg .b64 %rd<4>;\n"
            + "  ld.param.u64 %rd1, [out];\n  mov.u32 %r1, %tid.x;\n"
            + "  { .param .b32 a0; st.param.b32 [a0], %r1; .param .b32 r0;\n"
            + "    call.uni (r0), sum_to, (a0);\n    ld.param.b32 %r2, [r0]; }\n"
            + "  mul.wide.u32 %rd2, %r1, 4;\n  add.s64 %rd3, %rd1, %rd2;\n  st.global.u32 [%rd3], %r2;\n  ret;\n}\n";

    @Test
    void recursionRunsWithFramesPerCall() {
        Emulator emu = new Emulator(EmuOptions.defaults());
        PtxModule m = emu.load("sum_to", SUM_TO);
        long out = emu.malloc(4 * 8);
        LaunchResult r = emu.launch(m, "k", Dim3.of(1), Dim3.of(8), 0, out);
        assertTrue(r.clean(), r.findings().toString());
        int[] got = new int[8];
        emu.read(out, got, 0, 8);
        assertArrayEquals(new int[] {0, 1, 3, 6, 10, 15, 21, 28}, got);
    }

    @Test
    void recursionOverLocalMemoryIsRejectedAtLoad() {
        String withLocal = SUM_TO.replace("  .reg .pred %p<2>;\n  .reg .b32 %r<6>;\n",
                "  .local .align 4 .b8 depot[16];\n  .reg .pred %p<2>;\n  .reg .b32 %r<6>;\n");
        Emulator emu = new Emulator(EmuOptions.defaults());
        PtxException e = assertThrows(PtxException.class, () -> emu.load("sum_to_local", withLocal));
        assertTrue(e.getMessage().contains("recursive function sum_to uses .local memory"), e.getMessage());
    }
}
