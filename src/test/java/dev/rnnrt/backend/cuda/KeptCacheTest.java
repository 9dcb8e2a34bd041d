package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the CUDA backend keeps across calls and what it frees: workspaces and stack outputs. */
class KeptCacheTest {

    private final List<String> released = new ArrayList<>();
    private final KeptCache<String, String> cache = new KeptCache<>(3, (k, v) -> released.add(k + "=" + v));

    private String get(String key, String... pinned) {
        Set<String> p = new java.util.HashSet<>(List.of(pinned));
        p.add(key);
        return cache.get(key, p, k -> k.toUpperCase());
    }

    @Test
    void keepsTheLimitAndReleasesTheLeastRecentlyUsed() {
        get("a");
        get("b");
        get("c");
        assertEquals(List.of(), released);
        get("a"); // a is now the most recent
        get("d");
        assertEquals(List.of("b=B"), released);
        assertEquals(List.of("c", "a", "d"), cache.keys());
        assertSame(cache.get("a", Set.of("a"), k -> "other"), cache.get("a", Set.of("a"), k -> "other"), "kept, not made again");
        assertEquals("A", cache.get("a", Set.of("a"), k -> "other"));
    }

    @Test
    void neverReleasesWhatTheRunningCallUsesAndGrowsPastTheLimitForIt() {
        // one call of five stages: all five kept while it runs
        String[] stack = {"s0", "s1", "s2", "s3", "s4"};
        for (int k = 0; k < stack.length; k++) {
            get(stack[k], java.util.Arrays.copyOfRange(stack, 0, k));
        }
        assertEquals(List.of(), released);
        assertEquals(5, cache.keys().size());
        // a later call of one shape frees the surplus, oldest first, down to the limit
        get("x");
        assertEquals(List.of("s0=S0", "s1=S1", "s2=S2"), released);
        assertEquals(List.of("s3", "s4", "x"), cache.keys());
        // pinned keys are skipped, the next oldest goes
        released.clear();
        get("y", "s3");
        assertEquals(List.of("s4=S4"), released);
    }

    @Test
    void clearReleasesEverything() {
        get("a");
        get("b");
        cache.clear();
        assertEquals(List.of("a=A", "b=B"), released);
        assertEquals(List.of(), cache.keys());
        assertThrows(IllegalArgumentException.class, () -> new KeptCache<String, String>(0, (k, v) -> { }));
    }

    /**
     * After a sticky CUDA error every free fails: clear must still try every value (the backend's
     * close goes on to release the context after it), then report the first failure.
     */
    @Test
    void clearTriesEveryValueWhenReleasesFailAndThrowsTheFirstFailure() {
        List<String> tried = new ArrayList<>();
        KeptCache<String, String> failing = new KeptCache<>(3, (k, v) -> {
            tried.add(k);
            throw new IllegalStateException("cannot free " + k);
        });
        for (String k : List.of("a", "b", "c")) {
            failing.get(k, Set.of(k), String::toUpperCase);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, failing::clear);
        assertEquals(List.of("a", "b", "c"), tried);
        assertEquals("cannot free a", e.getMessage());
        assertEquals(2, e.getSuppressed().length);
        assertEquals(List.of(), failing.keys());
    }
}
