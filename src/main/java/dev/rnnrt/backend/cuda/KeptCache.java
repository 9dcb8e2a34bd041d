package dev.rnnrt.backend.cuda;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Device resources kept across calls by key (a workspace per shape and lane, a Dense stage's output
 * buffer), least recently used first, up to {@code limit}: a new one first releases the least
 * recently used ones that the running call does not use ({@code pinned}). A call that needs more
 * than the limit keeps them all; later calls release the surplus. Host logic only, so that it is
 * tested without a GPU.
 */
final class KeptCache<K, V> {

    private final int limit;
    private final BiConsumer<K, V> release;
    private final LinkedHashMap<K, V> kept = new LinkedHashMap<>(16, 0.75f, true);

    /**
     * @param limit   how many to keep when no call pins more
     * @param release frees one, when it is evicted or at {@link #clear()}
     */
    KeptCache(int limit, BiConsumer<K, V> release) {
        if (limit < 1) {
            throw new IllegalArgumentException("A cache keeps at least one value; got a limit of " + limit + ".");
        }
        this.limit = limit;
        this.release = release;
    }

    /**
     * The value kept for {@code key} (now the most recently used), else a new one from
     * {@code create}, after releasing the least recently used values not in {@code pinned} until
     * fewer than the limit are kept (or only pinned ones are). {@code pinned} should hold
     * {@code key}, and every key the running call still needs.
     */
    V get(K key, Set<K> pinned, Function<K, V> create) {
        V v = kept.get(key);
        if (v != null) {
            return v;
        }
        List<K> evict = new ArrayList<>();
        Iterator<K> oldestFirst = kept.keySet().iterator();
        while (kept.size() - evict.size() >= limit && oldestFirst.hasNext()) {
            K k = oldestFirst.next();
            if (!pinned.contains(k)) {
                evict.add(k);
            }
        }
        for (K k : evict) {
            release.accept(k, kept.remove(k));
        }
        V created = create.apply(key);
        kept.put(key, created);
        return created;
    }

    /** The keys kept, least recently used first; a copy. */
    List<K> keys() {
        return List.copyOf(kept.keySet());
    }

    /**
     * Releases every value, most recently used last; one whose release fails does not stop the
     * others, and the first failure is thrown once all were tried.
     */
    void clear() {
        Releases r = new Releases();
        for (Map.Entry<K, V> e : List.copyOf(kept.entrySet())) {
            kept.remove(e.getKey());
            r.run(() -> release.accept(e.getKey(), e.getValue()));
        }
        r.done();
    }
}
