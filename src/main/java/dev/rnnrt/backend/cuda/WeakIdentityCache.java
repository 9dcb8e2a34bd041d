package dev.rnnrt.backend.cuda;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Values per key object by identity, without keeping the keys alive: once a key is garbage
 * collected, {@link #purge} hands back its value for the caller to free. The backend keys a
 * layer's device weights on its kernel tensor, so weights replaced by setWeights, or of a model
 * dropped by its user, do not hold device memory until the backend is closed. Not thread-safe.
 */
final class WeakIdentityCache<K, V> {

    private static final class Key<K> extends WeakReference<K> {
        private final int hash;

        Key(K referent, ReferenceQueue<K> queue) {
            super(referent, queue);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof Key<?> k) || k.hash != hash) {
                return false;
            }
            Object mine = get();
            return mine != null && mine == k.get();
        }
    }

    private final ReferenceQueue<K> queue = new ReferenceQueue<>();
    private final Map<Key<K>, V> map = new HashMap<>();

    /** The value for this very object, made by {@code make} on first use. */
    V get(K key, Function<K, V> make) {
        Key<K> probe = new Key<>(key, null);
        V v = map.get(probe);
        if (v == null) {
            v = make.apply(key);
            map.put(new Key<>(key, queue), v);
        }
        return v;
    }

    /** Removes and returns the values whose keys were collected since the last purge. */
    List<V> purge() {
        List<V> dead = new ArrayList<>();
        for (Reference<? extends K> r = queue.poll(); r != null; r = queue.poll()) {
            V v = map.remove(r);
            if (v != null) {
                dead.add(v);
            }
        }
        return dead;
    }

    /** Removes and returns every value. */
    Collection<V> clear() {
        List<V> all = new ArrayList<>(map.values());
        map.clear();
        return all;
    }

    int size() {
        return map.size();
    }

    /** Tests: as if {@code key} had been collected. */
    void expire(K key) {
        for (Key<K> k : map.keySet()) {
            if (k.get() == key) {
                k.enqueue();
            }
        }
    }
}
