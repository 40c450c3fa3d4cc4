package io.github.groupnorm4j.emu;

import java.util.List;

/**
 * What one emulated launch did: thread-instructions executed, the sanitizer's findings, and, when the options count
 * traffic ({@link EmuOptions#countTraffic()}), the distinct bytes of global memory read and written, in whole
 * 32-byte sectors (-1 when not counted).
 */
public record LaunchResult(String kernel, long instructions, List<Finding> findings, long readBytes,
                           long writtenBytes) {
    public LaunchResult {
        findings = List.copyOf(findings);
    }

    /** Without traffic counted. */
    public LaunchResult(String kernel, long instructions, List<Finding> findings) {
        this(kernel, instructions, findings, -1, -1);
    }

    /** True when the sanitizer found nothing. */
    public boolean clean() {
        return findings.isEmpty();
    }

    /** Whether {@link #readBytes()} and {@link #writtenBytes()} were counted. */
    public boolean trafficCounted() {
        return readBytes >= 0;
    }
}
