package io.github.groupnorm4j.emu;

/** PTX the emulator cannot load: a syntax error or an unsupported instruction, with the module name and line. */
public final class PtxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PtxException(String module, int line, String message) {
        super(module + ":" + line + ": " + message);
    }
}
