package io.github.groupnorm4j.emu;

import java.lang.ref.SoftReference;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last few decoded modules, by name and text, shared by every emulator in the JVM. Decoding the library's
 * 3 MB PTX takes 150–300 ms, and the test suite creates an emulated device, and so loads the same two modules,
 * about 300 times. Decoded kernels are never changed by a launch (each launch copies the slot template), so
 * emulators can share them; each load still allocates the module's globals in its own emulator. Softly held: the
 * collector may drop them.
 */
final class DecodedModules {
    private static final int CAPACITY = 8;

    private record Key(String name, String text) {
    }

    private static final Map<Key, SoftReference<PtxModule>> CACHE = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, SoftReference<PtxModule>> eldest) {
            return size() > CAPACITY;
        }
    };

    private DecodedModules() {
    }

    /** The decoded module, unloaded; a syntax error or unsupported instruction throws as {@link PtxParser} does. */
    static PtxModule decode(String name, String text) {
        Key key = new Key(name, text);
        synchronized (CACHE) {
            SoftReference<PtxModule> ref = CACHE.get(key);
            PtxModule m = ref != null ? ref.get() : null;
            if (m != null) {
                return m.unloaded();
            }
        }
        PtxModule m = PtxParser.parse(name, text);
        synchronized (CACHE) {
            CACHE.put(key, new SoftReference<>(m));
        }
        return m.unloaded();
    }
}
