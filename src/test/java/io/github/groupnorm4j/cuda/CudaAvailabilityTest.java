package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Backend;
import io.github.groupnorm4j.CpuGroupNorm;
import io.github.groupnorm4j.GroupNorm;
import org.junit.jupiter.api.Test;

/** Probing CUDA must never crash the JVM; without a GPU it reports why and AUTO falls back to the CPU. */
class CudaAvailabilityTest {

    @Test
    void probeAnswersWithAReason() {
        CudaAvailability a = CudaAvailability.probe();
        if (a.isAvailable()) {
            assertTrue(a.deviceCount() > 0);
            assertEquals("", a.reason());
        } else {
            assertFalse(a.reason().isBlank());
            assertEquals(0, a.deviceCount());
        }
    }

    @Test
    void autoFallsBackAndCudaExplains() {
        CudaAvailability a = CudaAvailability.probe();
        try (GroupNorm gn = Backend.AUTO.open()) {
            assertEquals(a.isAvailable(), !(gn instanceof CpuGroupNorm), gn.name());
        }
        if (!a.isAvailable()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, CudaGroupNorm::open);
            assertTrue(e.getMessage().startsWith("CUDA backend unavailable: "), e.getMessage());
            assertTrue(e.getMessage().contains(a.reason()));
        }
    }

    @Test
    void backendNamesParse() {
        assertEquals(Backend.CPU, Backend.parse("CPU"));
        assertEquals(Backend.CUDA, Backend.parse(" cuda "));
        assertEquals(Backend.EMU, Backend.parse("Emu"));
        assertEquals(Backend.EMU, Backend.EMU.resolveForHarness());
        assertEquals(CudaAvailability.probe().isAvailable() ? Backend.CUDA : Backend.EMU,
                Backend.AUTO.resolveForHarness());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.parse("tpu"));
        assertTrue(e.getMessage().contains("--device must be one of cpu, cuda, emu, auto; got 'tpu'"));
    }
}
