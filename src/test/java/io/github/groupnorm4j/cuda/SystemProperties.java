package io.github.groupnorm4j.cuda;

import java.util.function.Supplier;

/** For tests that set the kernel-choosing system properties: whatever the body does, the property is put back. */
final class SystemProperties {
    private SystemProperties() {
    }

    /** Runs {@code body}, which may set or clear system property {@code name}, then restores its value. */
    static <T> T restoring(String name, Supplier<T> body) {
        String before = System.getProperty(name);
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, before);
            }
        }
    }

    static void restoring(String name, Runnable body) {
        restoring(name, () -> {
            body.run();
            return null;
        });
    }
}
