package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.emu.AccessRanges;
import io.github.groupnorm4j.emu.Finding;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Finds operations on different streams that touch the same global bytes, one writing, with nothing ordering them
 * ({@link Finding.Category#STREAM_RACE}). The emulator runs every operation when it is called, so such code gives
 * the right answer there and a wrong one, some of the time, on a GPU.
 *
 * <p>Order is tracked with vector clocks, as a GPU orders work: operations on one stream run in issue order; an
 * event wait orders a stream after what the event's stream had issued when it was recorded; the legacy default stream
 * (handle 0; the streams here are created blocking) waits for every stream and every stream waits for it; once the
 * host has waited for work (device, stream or event synchronisation, a synchronous copy, a free), everything issued
 * later comes after it. Each operation's reads and writes are one address range per allocation
 * ({@link AccessRanges}), so two operations using disjoint ranges of one allocation do not conflict, but interleaved
 * uses of one range can be reported where a byte-exact check would not.
 */
final class StreamRaceChecker {
    /** Operations kept for comparison; older ones are dropped (a race with them goes unreported). */
    private static final int HISTORY = 512;

    private record Op(long stream, long tick, String name, List<AccessRanges> accesses) {
    }

    private final Map<Long, Map<Long, Long>> clocks = new HashMap<>();  // stream -> (stream -> last tick it follows)
    private final Map<Long, Map<Long, Long>> events = new HashMap<>();
    private final Map<Long, Long> host = new HashMap<>();  // what the host has waited for
    private final Deque<Op> history = new ArrayDeque<>();

    /** A stream's clock; a new stream starts after what the host waited for and the default stream's work. */
    private Map<Long, Long> clock(long stream) {
        Map<Long, Long> c = clocks.get(stream);
        if (c == null) {
            c = new HashMap<>(host);
            Map<Long, Long> legacy = clocks.get(0L);
            if (legacy != null) {
                join(c, legacy);
            }
            clocks.put(stream, c);
        }
        return c;
    }

    private static void join(Map<Long, Long> into, Map<Long, Long> from) {
        from.forEach((s, t) -> into.merge(s, t, Math::max));
    }

    /**
     * An operation issued on {@code stream} that touched {@code accesses}; returns the races it has with earlier
     * operations on other streams (one finding per earlier operation).
     */
    List<Finding> operation(long stream, String name, List<AccessRanges> accesses) {
        Map<Long, Long> c = clock(stream);
        join(c, host);
        if (stream == 0) {
            for (Map<Long, Long> other : clocks.values()) {
                join(c, other);
            }
        }
        long tick = c.merge(stream, 1L, Long::sum);
        if (stream == 0) {
            for (Map<Long, Long> other : clocks.values()) {
                join(other, c);
            }
        }
        List<Finding> found = new ArrayList<>();
        for (Op p : history) {
            if (p.stream != stream && c.getOrDefault(p.stream, 0L) < p.tick) {
                String conflict = conflict(p.accesses, accesses);
                if (conflict != null) {
                    found.add(Finding.ofOperation(Finding.Category.STREAM_RACE, name + " on stream " + stream,
                            conflict + " " + p.name + " on stream " + p.stream + ", and no event wait or"
                                    + " synchronisation orders the two"));
                }
            }
        }
        if (!accesses.isEmpty()) {
            history.addLast(new Op(stream, tick, name, List.copyOf(accesses)));
            if (history.size() > HISTORY) {
                history.removeFirst();
            }
        }
        return found;
    }

    /** How {@code later} conflicts with {@code earlier}, or null. */
    private static String conflict(List<AccessRanges> earlier, List<AccessRanges> later) {
        for (AccessRanges e : earlier) {
            for (AccessRanges l : later) {
                long at;
                if ((at = AccessRanges.overlap(e.writeLo(), e.writeHi(), l.readLo(), l.readHi())) >= 0) {
                    return String.format("reads 0x%x, which was written by", at);
                }
                if ((at = AccessRanges.overlap(e.writeLo(), e.writeHi(), l.writeLo(), l.writeHi())) >= 0) {
                    return String.format("writes 0x%x, which was also written by", at);
                }
                if ((at = AccessRanges.overlap(e.readLo(), e.readHi(), l.writeLo(), l.writeHi())) >= 0) {
                    return String.format("writes 0x%x, which may still be being read by", at);
                }
            }
        }
        return null;
    }

    void recordEvent(long event, long stream) {
        events.put(event, new HashMap<>(clock(stream)));
    }

    void waitEvent(long stream, long event) {
        Map<Long, Long> e = events.get(event);
        if (e != null) {  // an event never recorded: the wait completes at once
            join(clock(stream), e);
        }
    }

    /** The host waited for the work recorded in {@code event} (cuEventSynchronize, elapsed time). */
    void hostWaitsForEvent(long event) {
        Map<Long, Long> e = events.get(event);
        if (e != null) {
            join(host, e);
            prune();
        }
    }

    void hostWaitsForStream(long stream) {
        join(host, clock(stream));
        prune();
    }

    /** Device synchronisation, or anything that implies it (a free). */
    void hostWaitsForAll() {
        for (Map<Long, Long> c : clocks.values()) {
            join(host, c);
        }
        prune();
    }

    void destroyEvent(long event) {
        events.remove(event);
    }

    /** Operations the host has waited for come before everything issued later: no need to keep them. */
    private void prune() {
        for (Iterator<Op> it = history.iterator(); it.hasNext(); ) {
            Op p = it.next();
            if (host.getOrDefault(p.stream, 0L) >= p.tick) {
                it.remove();
            }
        }
    }
}
