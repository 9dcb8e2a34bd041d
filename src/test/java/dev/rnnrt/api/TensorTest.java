package dev.rnnrt.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void rowMajorIndexing() {
        Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 3, 2);
        assertEquals(7f, t.get(1, 0, 1));
        assertEquals(11f, t.get(1, 2, 1));
        assertEquals(3, t.rank());
        assertEquals(2, t.dim(-1));
        assertArrayEquals(new int[] {2, 3, 2}, t.shape());
    }

    @Test
    void ofCopiesWrapShares() {
        float[] v = {1, 2, 3};
        Tensor copied = Tensor.of(v, 3);
        Tensor wrapped = Tensor.wrap(v, 3);
        v[0] = 42;
        assertEquals(1f, copied.get(0));
        assertEquals(42f, wrapped.get(0));
    }

    @Test
    void swapFirstAxesIsTimeMajorBatchMajor() {
        Tensor t = Tensor.of(new float[][][] {{{1, 2}, {3, 4}, {5, 6}}, {{7, 8}, {9, 10}, {11, 12}}});
        Tensor s = t.swapFirstAxes();
        assertArrayEquals(new int[] {3, 2, 2}, s.shape());
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < 3; i++) {
                for (int f = 0; f < 2; f++) {
                    assertEquals(t.get(b, i, f), s.get(i, b, f));
                }
            }
        }
        assertArrayEquals(t.data(), s.swapFirstAxes().data());
    }

    @Test
    void shapeErrorsSayWhatWasWrong() {
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(new float[5], 2, 3));
        assertTrue(count.getMessage().contains("[2, 3]") && count.getMessage().contains("6")
                && count.getMessage().contains("5"), count.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertTrue(negative.getMessage().contains("negative"), negative.getMessage());
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(new float[][][] {{{1, 2}}, {{1, 2, 3}}}));
        assertTrue(ragged.getMessage().contains("Ragged"), ragged.getMessage());
        IllegalArgumentException reshape = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(2, 3).reshape(4, 2));
        assertTrue(reshape.getMessage().contains("[2, 3]") && reshape.getMessage().contains("[4, 2]"));
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(65536, 65536));
        assertTrue(huge.getMessage().contains("batches"), huge.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Tensor.zeros(2, 2).get(2, 0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 2).get(0));
    }

    @Test
    void printsLikeNumpy() {
        Tensor t = Tensor.of(new float[] {0.00772376f, 0.01633997f, 0.02572775f}, 1, 3, 1);
        assertEquals("[[[0.00772376]\n  [0.01633997]\n  [0.02572775]]]", t.toString());
        assertEquals("[[1. 0.5]]", Tensor.of(new float[] {1f, 0.5f}, 1, 2).toString());
    }

    /** What toString prints and how it differs from numpy, as its Javadoc says. */
    @Test
    void printsPlainDecimalsWithoutTheShape() {
        // no exponent: 1e-9 rounds to 0 at 8 decimals (numpy: 1.e-09); -0 loses its sign; no padding
        assertEquals("[nan inf -inf 0. 0. 0.000015 0.1]", Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 1e-9f, -0f, 1.5e-5f, 0.1f}, 7).toString());
        // a blank line between the blocks of the third axis from the end, and nothing after the values
        assertEquals("[[[0. 1.]\n  [2. 3.]]\n\n [[4. 5.]\n  [6. 7.]]]",
                Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, 2, 2, 2).toString());
        assertEquals("3.", Tensor.of(new float[] {3}).toString());
        // every value, however many (numpy elides the middle past 1000)
        assertEquals("[" + "0. ".repeat(1499) + "0.]", Tensor.zeros(1500).toString());
    }

    @Test
    void maskShapesAndTranspose() {
        Mask m = Mask.of(new boolean[][] {{true, false, true}, {false, false, true}});
        assertArrayEquals(new int[] {2, 3}, m.shape());
        Mask t = m.transpose();
        assertArrayEquals(new int[] {3, 2}, t.shape());
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(m.get(i, j), t.get(j, i));
            }
        }
        Mask lengths = Mask.fromLengths(new int[] {2, 0}, 3);
        assertTrue(lengths.get(0, 1));
        assertEquals(false, lengths.get(0, 2));
        assertEquals(false, lengths.get(1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Mask.fromLengths(new int[] {4}, 3));
        assertTrue(e.getMessage().contains("length 4"), e.getMessage());
    }
}
