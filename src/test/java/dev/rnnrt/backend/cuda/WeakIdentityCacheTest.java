package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The device-weights cache: by identity, made once, handed back for freeing when its key dies. */
class WeakIdentityCacheTest {

    @Test
    void equalButDistinctKeysGetTheirOwnValuesAndEachIsMadeOnce() {
        WeakIdentityCache<List<Integer>, String> cache = new WeakIdentityCache<>();
        List<Integer> a = List.of(1, 2);
        List<Integer> b = List.of(1, 2);
        AtomicInteger made = new AtomicInteger();
        String va = cache.get(a, k -> "a" + made.incrementAndGet());
        String vb = cache.get(b, k -> "b" + made.incrementAndGet());
        assertNotSame(va, vb);
        assertSame(va, cache.get(a, k -> "again" + made.incrementAndGet()));
        assertEquals(2, made.get());
        assertEquals(2, cache.size());
    }

    @Test
    void aCollectedKeysValueIsHandedBackOnceAndOthersStay() {
        WeakIdentityCache<Object, String> cache = new WeakIdentityCache<>();
        Object a = new Object();
        Object b = new Object();
        cache.get(a, k -> "weights of a");
        cache.get(b, k -> "weights of b");
        assertTrue(cache.purge().isEmpty());
        cache.expire(a);
        assertEquals(List.of("weights of a"), cache.purge());
        assertTrue(cache.purge().isEmpty());
        assertEquals(1, cache.size());
        assertEquals("weights of b", cache.get(b, k -> "remade"));
        assertEquals(List.of("weights of b"), List.copyOf(cache.clear()));
        assertEquals(0, cache.size());
    }
}
