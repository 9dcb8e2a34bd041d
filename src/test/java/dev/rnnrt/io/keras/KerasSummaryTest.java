package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The summary of a loaded model shows what decides its numbers. */
class KerasSummaryTest {

    @Test
    void medakaSummaryShowsTheOptionsThatMatter() {
        LoadedModel m = KerasModelLoader.load(KerasTestFiles.path("medaka_bigru_resetafter_false_k215.h5"));
        assertEquals("2.1.5", m.kerasVersion());
        assertEquals("HDF5", m.format());
        String s = m.model().summary();
        assertTrue(s.contains("(Bidirectional)"), s);
        assertTrue(s.contains("merge_mode=concat"), s);
        assertTrue(s.contains("reset_after=False"), s);
        assertTrue(s.contains("recurrent_activation=hard_sigmoid (Keras 2)"), s);
        assertTrue(s.contains("[batch, 1000, 256]"), s);
        assertTrue(s.contains("softmax"), s);
        // 2 x GRU(128) on 10 features + 2 x GRU(128) on 256 + Dense(256 -> 5), reset_after=False biases [3H]
        long expected = 2L * (10 * 384 + 128 * 384 + 384) + 2L * (256 * 384 + 128 * 384 + 384) + 256 * 5 + 5;
        assertEquals(expected, m.model().parameterCount());
        assertTrue(s.contains("Total params: " + expected), s);
    }

    @Test
    void keras3SummaryNamesTheVersion() {
        LoadedModel m = KerasModelLoader.load(KerasTestFiles.path("emg_reshape_lstm_unroll_k392.keras"));
        assertEquals("3.9.2", m.kerasVersion());
        assertEquals("Keras 3 archive", m.format());
        String s = m.model().summary();
        assertTrue(s.contains("reshape (Reshape)") && s.contains("target_shape=[3, 4]"), s);
        assertTrue(s.contains("dense1 (Dense)") && s.contains("output (Dense)"), s);
    }
}
