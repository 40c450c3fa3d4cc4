package io.github.groupnorm4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Signals that a file is not a {@code .npy} file that {@link Npy#read(Path)} can read: it is
 * malformed, truncated, or uses a feature (dtype, memory order, size) this library does not
 * support.
 *
 * <p>The message always starts with the offending file, followed by a description of the
 * problem, e.g. {@code "x.npy: dtype '>f4' not supported; expected little-endian float32 '<f4',
 * float64 '<f8', float16 '<f2' or bfloat16 bits '<u2'"}.
 */
public final class NpyFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String problem;

    /**
     * Creates an exception for a problem found in {@code file}.
     *
     * @param file the file being read; must not be null
     * @param problem what is wrong with it; must not be null
     */
    public NpyFormatException(Path file, String problem) {
        super(Objects.requireNonNull(file, "file") + ": " + Objects.requireNonNull(problem, "problem"));
        this.file = file;
        this.problem = problem;
    }

    /**
     * Returns the file in which the problem was found.
     *
     * @return the file; null only after deserialization
     */
    public Path file() {
        return file;
    }

    /**
     * Returns the description of the problem, without the file name prefix.
     *
     * @return the problem description
     */
    public String problem() {
        return problem;
    }
}
