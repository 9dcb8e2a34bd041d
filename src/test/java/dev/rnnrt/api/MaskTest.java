package dev.rnnrt.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MaskTest {

    @Test
    void constructorsMakeTheShapeAsked() {
        Mask all = Mask.all(2, 3);
        assertArrayEquals(new int[] {2, 3}, all.shape());
        assertTrue(all.get(1, 2));
        Mask lengths = Mask.fromLengths(new int[] {2, 0}, 3);
        assertArrayEquals(new int[] {2, 3}, lengths.shape());
        assertTrue(lengths.get(0, 1) && !lengths.get(0, 2) && !lengths.get(1, 0));
        Mask flat = Mask.of(new boolean[] {true, false, false, true}, 2, 2);
        assertTrue(flat.get(1, 1) && !flat.get(1, 0));
        assertArrayEquals(new int[] {0, 4}, Mask.all(0, 4).shape());
        assertArrayEquals(new int[] {0, 5}, Mask.fromLengths(new int[0], 5).shape());
        Mask nested = Mask.of(new boolean[][] {{true, false}, {false, false}});
        assertTrue(nested.get(0, 0));
        assertFalse(nested.transpose().get(1, 0));
    }

    /** Negative or overflowing dimensions are refused as Tensor refuses them, naming the shape. */
    @Test
    void shapesAreCheckedAsTensorChecksThem() {
        assertRefused(() -> Mask.all(-1, -1), "[-1, -1]", "negative");
        assertRefused(() -> Mask.all(-2, 3), "[-2, 3]", "negative");
        assertRefused(() -> Mask.all(65536, 65536), "[65536, 65536]", "more values than one Java array");
        assertRefused(() -> Mask.fromLengths(new int[0], -5), "[0, -5]", "negative");
        assertRefused(() -> Mask.fromLengths(new int[65536], 65536), "[65536, 65536]", "Java array");
        assertRefused(() -> Mask.of(new boolean[0], -1, 0), "[-1, 0]", "negative");
        assertRefused(() -> Mask.of(new boolean[5], 2, 3), "[2, 3]", "holds 6 values but 5");
        assertRefused(() -> Mask.of(new boolean[][] {{true}, null}), "row 1 is null");
        assertRefused(() -> Mask.of(new boolean[][] {{true}, {true, false}}), "Ragged", "row 1 has 2");
        assertRefused(() -> Mask.fromLengths(new int[] {4}, 3), "length 4", "3");
    }

    private static void assertRefused(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }
}
