package io.github.groupnorm4j.emu;

/** Settings of an {@link Emulator}: schedule, seed, sanitizer, hang guard. Immutable; see {@link #builder()}. */
public final class EmuOptions {
    private final Schedule schedule;
    private final long seed;
    private final boolean sanitize;
    private final long instructionBudget;

    private EmuOptions(Builder b) {
        this.schedule = b.schedule;
        this.seed = b.seed;
        this.sanitize = b.sanitize;
        this.instructionBudget = b.instructionBudget;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Lockstep schedule, seed 1, sanitizer on, 4·10⁹ thread-instructions per launch. */
    public static EmuOptions defaults() {
        return builder().build();
    }

    public Schedule schedule() {
        return schedule;
    }

    public long seed() {
        return seed;
    }

    /** Whether memory, race and synchronisation checks run (they cost time; results are the same either way). */
    public boolean sanitize() {
        return sanitize;
    }

    /** Thread-instructions one launch may execute before it is reported as a hang and stopped. */
    public long instructionBudget() {
        return instructionBudget;
    }

    public Builder toBuilder() {
        return builder().schedule(schedule).seed(seed).sanitize(sanitize).instructionBudget(instructionBudget);
    }

    @Override
    public String toString() {
        return "EmuOptions[" + schedule + ", seed " + seed + (sanitize ? ", sanitizer" : "") + ", budget "
                + instructionBudget + "]";
    }

    /** Builder for {@link EmuOptions}. */
    public static final class Builder {
        private Schedule schedule = Schedule.LOCKSTEP;
        private long seed = 1;
        private boolean sanitize = true;
        private long instructionBudget = 4_000_000_000L;

        private Builder() {
        }

        public Builder schedule(Schedule s) {
            if (s == null) {
                throw new IllegalArgumentException("schedule must not be null");
            }
            this.schedule = s;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder sanitize(boolean s) {
            this.sanitize = s;
            return this;
        }

        public Builder instructionBudget(long n) {
            if (n < 1) {
                throw new IllegalArgumentException("instructionBudget must be >= 1, got " + n);
            }
            this.instructionBudget = n;
            return this;
        }

        public EmuOptions build() {
            return new EmuOptions(this);
        }
    }
}
