package io.github.groupnorm4j.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A kernel's {@code __launch_bounds__} ({@code .maxntid}, or {@code .reqntid}) caps its block size on a GPU, which
 * refuses larger launches; the emulator must refuse them too, or a planner that outgrows a bound would pass CI and
 * fail on the first GPU.
 */
class EmuLaunchBoundsTest {
    private static String kernel(String bound) {
        return ".version 9.0\n.target sm_90\n.address_size 64\n"
                + ".visible .entry k(.param .u64 out)\n" + bound + "\n{\n"
                + "  .reg .b32 %r<2>;\n  .reg .b64 %rd<4>;\n"
                + "  mov.u32 %r1, %tid.x;\n  ld.param.u64 %rd1, [out];\n  mul.wide.u32 %rd2, %r1, 4;\n"
                + "  add.s64 %rd3, %rd1, %rd2;\n  st.global.u32 [%rd3], %r1;\n  ret;\n}\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {".maxntid 64, 1, 1", ".maxntid 32, 2, 1", ".reqntid 64"})
    void aBlockUpToTheBoundRunsAndALargerOneIsRefused(String bound) {
        Emulator emu = new Emulator(EmuOptions.defaults());
        PtxModule m = emu.load("bounded", kernel(bound));
        long out = emu.malloc(4 * 128);
        LaunchResult r = emu.launch(m, "k", Dim3.of(1), Dim3.of(64), 0, out);
        assertTrue(r.clean(), r.findings()::toString);
        int[] got = new int[64];
        emu.read(out, got, 0, 64);
        int[] want = new int[64];
        for (int i = 0; i < 64; i++) {
            want[i] = i;
        }
        assertArrayEquals(want, got);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> emu.launch(m, "k", Dim3.of(1), Dim3.of(96), 0, out));
        assertTrue(e.getMessage().contains("block of 96 threads is larger than the kernel's bound of 64"),
                e.getMessage());
    }

    @Test
    void aKernelWithoutBoundsTakesAnyBlockUpTo1024() {
        Emulator emu = new Emulator(EmuOptions.defaults());
        PtxModule m = emu.load("unbounded", kernel(""));
        long out = emu.malloc(4 * 1024);
        assertTrue(emu.launch(m, "k", Dim3.of(1), Dim3.of(1024), 0, out).clean());
    }
}
