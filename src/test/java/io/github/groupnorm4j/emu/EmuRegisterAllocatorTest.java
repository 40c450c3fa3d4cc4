package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.readInts;
import static io.github.groupnorm4j.emu.EmuTestSupport.upload;
import static io.github.groupnorm4j.emu.EmuTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Registers that share a slot of the emulated register file ({@link RegisterAllocator}): values that must survive
 * do, under both schedules, and the file is as small as the live values need.
 */
class EmuRegisterAllocatorTest {

    private static final String HEADER = String.join("\n", ".version 9.0", ".target sm_75", ".address_size 64", "");

    /**
     * Values 1..{@value #TEMPORARIES} in %r30..%r53, all live at once, then summed into %r30: they take every free
     * slot, including that of any register the allocator wrongly thinks dead.
     */
    private static final int TEMPORARIES = 24;
    private static final String MANY_LIVE_TEMPORARIES = IntStream.range(0, TEMPORARIES)
            .mapToObj(i -> "\tmov.u32 %r" + (30 + i) + ", " + (i + 1) + ";").collect(Collectors.joining("\n"))
            + "\n" + IntStream.range(1, TEMPORARIES)
            .mapToObj(i -> "\tadd.s32 %r30, %r30, %r" + (30 + i) + ";").collect(Collectors.joining("\n"));

    /**
     * One kernel with the cases an allocator gets wrong: a value live across a loop, a loop-carried sum, a register
     * read before any write (reads zero), a guarded write that does not run inside a loop (the old value must live
     * around the loop, as the write may not happen), vector loads and stores, and {@code mov} packing and unpacking.
     */
    private static final String KERNEL = HEADER + String.join("\n",
            ".visible .entry live_values(",
            "\t.param .u64 live_values_param_0,",
            "\t.param .u64 live_values_param_1,",
            "\t.param .u32 live_values_param_2",
            ")",
            "{",
            "\t.reg .pred %p<4>;",
            "\t.reg .b32 %r<80>;",
            "\t.reg .b64 %rd<8>;",
            "\tld.param.u64 %rd1, [live_values_param_0];",
            "\tld.param.u64 %rd3, [live_values_param_1];",
            "\tld.param.u32 %r1, [live_values_param_2];",
            "\tcvta.to.global.u64 %rd2, %rd1;",
            "\tmov.u32 %r2, 0;",
            "\tmov.u32 %r3, 0;",
            "\tmov.u32 %r4, 1000;",
            "$L_loop:",
            "\tmul.lo.s32 %r5, %r2, %r2;",
            "\tadd.s32 %r6, %r5, 3;",
            "\tadd.s32 %r3, %r3, %r6;",
            "\tadd.s32 %r2, %r2, 1;",
            "\tsetp.lt.s32 %p1, %r2, %r1;",
            "\t@%p1 bra $L_loop;",
            "\tadd.s32 %r7, %r3, %r4;",
            "\tst.global.u32 [%rd2], %r7;",
            "\tmov.u32 %r8, 77;",
            "\tadd.s32 %r9, %r8, 1;",
            "\tst.global.u32 [%rd2+4], %r9;",
            "\tadd.s32 %r11, %r10, 5;",
            "\tst.global.u32 [%rd2+8], %r11;",
            "\tmov.u32 %r12, 42;",
            "\tsetp.eq.s32 %p2, %r1, -1;",
            "\tmov.u32 %r13, 5;",
            "\tadd.s32 %r14, %r13, %r13;",
            "\tst.global.u32 [%rd2+12], %r14;",
            "\tmov.u32 %r21, 0;",
            "$L_again:",
            "\t@%p2 mov.u32 %r12, 9;",
            "\tst.global.u32 [%rd2+16], %r12;",
            MANY_LIVE_TEMPORARIES,
            "\tst.global.u32 [%rd2+20], %r30;",
            "\tadd.s32 %r21, %r21, 1;",
            "\tsetp.lt.s32 %p3, %r21, 2;",
            "\t@%p3 bra $L_again;",
            "\tcvta.to.global.u64 %rd4, %rd3;",
            "\tld.global.v4.u32 {%r15, %r16, %r17, %r18}, [%rd4];",
            "\tmov.b64 %rd5, {%r15, %r16};",
            "\tmov.b64 {%r19, %r20}, %rd5;",
            "\tst.global.v4.u32 [%rd2+32], {%r18, %r17, %r20, %r19};",
            "\tret;",
            "}",
            "");

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void valuesSurviveWhereTheyAreLive(Schedule schedule) {
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = emu.load("live_values", KERNEL);
        long out = words(emu, 12, 0);
        long in = upload(emu, new int[] {11, 22, 33, 44});
        int n = 10;
        LaunchResult r = emu.launch(m, "live_values", new Dim3(1, 1, 1), new Dim3(1, 1, 1), 0, out, in, n);
        assertTrue(r.findings().isEmpty(), () -> r.findings().toString());
        int sum = IntStream.range(0, n).map(i -> i * i + 3).sum();
        int temporaries = TEMPORARIES * (TEMPORARIES + 1) / 2;
        assertArrayEquals(new int[] {sum + 1000, 78, 5, 10, 42, temporaries, 0, 0, 44, 33, 22, 11},
                readInts(emu, out, 12));
    }

    /** A chain of 40 temporaries, each dead once the next is computed, fits in a handful of slots. */
    @Test
    void slotsFollowLiveValuesNotDeclaredRegisters() {
        String chain = IntStream.range(1, 41).mapToObj(i -> "\tadd.s32 %r" + (i + 1) + ", %r" + i + ", 1;")
                .collect(Collectors.joining("\n"));
        String text = HEADER + String.join("\n",
                ".visible .entry chain(",
                "\t.param .u64 chain_param_0",
                ")",
                "{",
                "\t.reg .b32 %r<42>;",
                "\t.reg .b64 %rd<3>;",
                "\tld.param.u64 %rd1, [chain_param_0];",
                "\tcvta.to.global.u64 %rd2, %rd1;",
                "\tld.global.u32 %r1, [%rd2];",
                chain,
                "\tst.global.u32 [%rd2], %r41;",
                "\tret;",
                "}",
                "");
        Emulator emu = EmuTestSupport.emulator(Schedule.LOCKSTEP);
        PtxModule m = emu.load("chain", text);
        long buf = upload(emu, new int[] {7});
        emu.launch(m, "chain", new Dim3(1, 1, 1), new Dim3(1, 1, 1), 0, buf);
        assertEquals(47, readInts(emu, buf, 1)[0]);
        // Live at once: the two pointers, the running value, and the constant 1 and the parameter addresses.
        int slots = m.kernel("chain").slots;
        assertTrue(slots <= 8, "44 declared registers should need at most 8 slots here, got " + slots);
    }
}
