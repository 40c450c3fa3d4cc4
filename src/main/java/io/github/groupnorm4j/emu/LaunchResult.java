package io.github.groupnorm4j.emu;

import java.util.List;

/** What one emulated launch did: thread-instructions executed and the sanitizer's findings. */
public record LaunchResult(String kernel, long instructions, List<Finding> findings) {
    public LaunchResult {
        findings = List.copyOf(findings);
    }

    /** True when the sanitizer found nothing. */
    public boolean clean() {
        return findings.isEmpty();
    }
}
