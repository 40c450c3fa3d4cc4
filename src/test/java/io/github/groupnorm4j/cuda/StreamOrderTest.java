package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One instance's workspace is shared by its calls: calls on different streams must not run on the GPU at the same
 * time. The emulator runs everything in call order, so what is checked here is what the library asks the driver
 * for: nothing while calls stay on one stream, one device wait at the first change of stream, then an event
 * recorded after each call that uses the workspace and waited for by the next call on another stream.
 */
class StreamOrderTest {

    /** The emulator's driver, with stream-ordering calls and the stream of each launch written to {@code log}. */
    private static GpuDriver recording(EmuGpuDriver emu, List<String> log) {
        return DriverProxy.around(emu, (method, args) -> {
            switch (method) {
                case "recordEvent" -> log.add("record on " + args[1]);
                case "waitEvent" -> log.add("wait on " + args[0]);
                case "synchronize" -> log.add("synchronize");
                case "launch" -> log.add("launch on " + args[9]);
                default -> { }
            }
            return null;
        });
    }

    @Test
    void callsOnAnotherStreamWaitForTheLastCallThatUsedTheWorkspace() {
        CheckCase c = CheckCase.suite().get(5);
        GroupNormSpec spec = c.spec();
        List<String> log = new ArrayList<>();
        EmuGpuDriver emu = new EmuGpuDriver(EmuOptions.defaults());
        CudaDevice dev = CudaDevice.on(recording(emu, log));
        try (CudaGroupNorm gn = CudaGroupNorm.withTuning(dev, null)) {
            ForwardResult host = gn.forward(spec, c.x(), c.gamma(), c.beta());
            BackwardResult want = gn.backward(spec, c.dy(), c.x(), host.mean(), host.rstd(), c.gamma());
            long n = spec.elementCount();
            try (CudaStream a = CudaStream.create(dev);
                 CudaStream b = CudaStream.create(dev);
                 DeviceBuffer x = dev.upload(c.x());
                 DeviceBuffer gamma = dev.upload(c.gamma());
                 DeviceBuffer dy = dev.upload(c.dy());
                 DeviceBuffer mean = dev.upload(host.mean());
                 DeviceBuffer rstd = dev.upload(host.rstd());
                 DeviceBuffer dx = dev.allocateFloats(n);
                 DeviceBuffer dgamma = dev.allocateFloats(spec.channels());
                 DeviceBuffer dbeta = dev.allocateFloats(spec.channels())) {
                Runnable backwardOnA = () -> gn.backward(spec, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, a.handle());
                Runnable backwardOnB = () -> gn.backward(spec, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, b.handle());
                long sa = a.id();
                long sb = b.id();

                log.clear();
                backwardOnA.run();
                backwardOnA.run();
                // The host-array calls above ran on the default stream, so the first call on `a` is a change.
                List<String> firstChange = new ArrayList<>(List.of("synchronize"));
                List<String> launchesOnA = launches(log, sa);
                firstChange.addAll(launchesOnA.subList(0, launchesOnA.size() / 2));
                firstChange.add("record on " + sa);
                firstChange.addAll(launchesOnA.subList(launchesOnA.size() / 2, launchesOnA.size()));
                firstChange.add("record on " + sa);
                assertEquals(firstChange, log);

                log.clear();
                backwardOnB.run();
                List<String> onB = new ArrayList<>(List.of("wait on " + sb));
                onB.addAll(launches(log, sb));
                onB.add("record on " + sb);
                assertEquals(onB, log, "a call on another stream waits for the last call's event");

                log.clear();
                backwardOnB.run();
                List<String> again = new ArrayList<>(launches(log, sb));
                again.add("record on " + sb);
                assertEquals(again, log, "no wait while the stream stays the same");

                // The one-block forward uses no shared buffer: it neither waits nor records, on any stream.
                log.clear();
                // (Its own mean and rstd: the backward on b may still read the others.)
                try (DeviceBuffer beta = dev.upload(c.beta());
                     DeviceBuffer y = dev.allocateFloats(n);
                     DeviceBuffer mean2 = dev.allocateFloats(spec.sliceCount());
                     DeviceBuffer rstd2 = dev.allocateFloats(spec.sliceCount())) {
                    gn.forward(spec, x, gamma, beta, y, mean2, rstd2, a.handle());
                }
                assertEquals(launches(log, sa), log);
                b.synchronize();
                assertArrayEquals(want.dx(), dx.toHost());
                assertArrayEquals(want.dgamma(), dgamma.toHost());
                // The sanitizer's stream check agrees: every pair of calls that share bytes is ordered.
                assertEquals(List.of(), emu.findings().stream()
                        .filter(f -> f.category() == Finding.Category.STREAM_RACE).toList());
            }
        }
    }

    private static List<String> launches(List<String> log, long stream) {
        List<String> l = log.stream().filter(s -> s.startsWith("launch")).toList();
        l.forEach(s -> assertEquals("launch on " + stream, s));
        return l;
    }
}
