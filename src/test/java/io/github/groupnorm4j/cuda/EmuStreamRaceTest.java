package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The sanitizer's stream check ({@link StreamRaceChecker}): operations on two streams that touch the same bytes, one
 * writing, are reported unless an event wait, a synchronisation or the legacy default stream orders them.
 */
class EmuStreamRaceTest {
    private static final long WORDS = 256;

    /** Runs {@code body} with a fresh sanitizing driver, two streams and a 1 KiB buffer; returns the findings. */
    private static List<Finding> races(Consumer<Setup> body) {
        EmuGpuDriver emu = new EmuGpuDriver(EmuOptions.defaults());
        long a = emu.createStream();
        long b = emu.createStream();
        long buf = emu.malloc(4 * WORDS);
        body.accept(new Setup(emu, a, b, buf));
        return emu.findings().stream().filter(f -> f.category() == Finding.Category.STREAM_RACE).toList();
    }

    private record Setup(EmuGpuDriver emu, long a, long b, long buf) {
    }

    @Test
    void twoStreamsWritingTheSameBytesRace() {
        List<Finding> found = races(s -> {
            s.emu.memsetD32Async(s.buf, 1, WORDS, s.a);
            s.emu.memsetD32Async(s.buf, 2, WORDS, s.b);
        });
        assertEquals(1, found.size(), found::toString);
        String text = found.get(0).toString();
        assertTrue(text.contains("on stream " + 2) && text.contains("also written by cuMemsetD32Async on stream 1"),
                text);
    }

    @Test
    void anEventWaitASynchronisationOrTheDefaultStreamOrdersThem() {
        assertEquals(List.of(), races(s -> {
            long e = s.emu.createEvent();
            s.emu.memsetD32Async(s.buf, 1, WORDS, s.a);
            s.emu.recordEvent(e, s.a);
            s.emu.waitEvent(s.b, e);
            s.emu.memsetD32Async(s.buf, 2, WORDS, s.b);
        }));
        assertEquals(List.of(), races(s -> {
            s.emu.memsetD32Async(s.buf, 1, WORDS, s.a);
            s.emu.synchronizeStream(s.a);
            s.emu.memsetD32Async(s.buf, 2, WORDS, s.b);
        }));
        assertEquals(List.of(), races(s -> {
            s.emu.memsetD32Async(s.buf, 1, WORDS, s.a);
            s.emu.memsetD32Async(s.buf, 2, WORDS, 0);  // legacy default stream: after all, before all
            s.emu.memsetD32Async(s.buf, 3, WORDS, s.b);
        }));
        // An event recorded before the write orders nothing.
        assertEquals(1, races(s -> {
            long e = s.emu.createEvent();
            s.emu.recordEvent(e, s.a);
            s.emu.memsetD32Async(s.buf, 1, WORDS, s.a);
            s.emu.waitEvent(s.b, e);
            s.emu.memsetD32Async(s.buf, 2, WORDS, s.b);
        }).size());
    }

    @Test
    void disjointBytesDoNotRace() {
        assertEquals(List.of(), races(s -> {
            s.emu.memsetD32Async(s.buf, 1, WORDS / 2, s.a);
            s.emu.memsetD32Async(s.buf + 2 * WORDS, 2, WORDS / 2, s.b);
        }));
    }

    @Test
    void aKernelReadingWhatAnotherStreamWritesRaces() {
        // Two forwards of one small (one-block, no workspace) shape into the same y on two streams: the second
        // overwrites y while the first may still be writing it; ordering the streams removes the finding.
        CheckCase c = CheckCase.suite().get(5);  // 1x1 spatial: one-block kernels
        GroupNormSpec spec = c.spec();
        for (boolean ordered : new boolean[] {false, true}) {
            EmuGpuDriver emu = new EmuGpuDriver(EmuOptions.defaults());
            CudaDevice dev = CudaDevice.on(emu);
            try (CudaGroupNorm gn = CudaGroupNorm.withTuning(dev, null);
                 CudaStream a = CudaStream.create(dev);
                 CudaStream b = CudaStream.create(dev);
                 DeviceBuffer x = dev.upload(c.x());
                 DeviceBuffer gamma = dev.upload(c.gamma());
                 DeviceBuffer beta = dev.upload(c.beta());
                 DeviceBuffer y = dev.allocateFloats(spec.elementCount());
                 DeviceBuffer mean = dev.allocateFloats(spec.sliceCount());
                 DeviceBuffer rstd = dev.allocateFloats(spec.sliceCount())) {
                assertTrue(gn.plan(spec).startsWith("fwd fused"), gn.plan(spec));
                gn.forward(spec, x, gamma, beta, y, mean, rstd, a.handle());
                if (ordered) {
                    a.synchronize();
                }
                gn.forward(spec, x, gamma, beta, y, mean, rstd, b.handle());
                List<Finding> found = emu.findings().stream()
                        .filter(f -> f.category() == Finding.Category.STREAM_RACE).toList();
                if (ordered) {
                    assertEquals(List.of(), found);
                } else {
                    assertEquals(1, found.size(), found::toString);
                    assertTrue(found.get(0).kernel().contains("groupnorm_forward_fused"), found.get(0)::toString);
                }
            }
        }
    }
}
