package dev.rnnrt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KerasVersionTest {

    @Test
    void parsesTheVersionStringsFilesCarry() {
        assertEquals(new KerasVersion(2, 4), KerasVersion.parse("2.4.0"));
        assertEquals(new KerasVersion(2, 15, 0, true), KerasVersion.parse("2.15.0-tf"));
        assertEquals(new KerasVersion(3, 9, 2), KerasVersion.parse("3.9.2"));
        assertEquals(new KerasVersion(1, 0), KerasVersion.parse("1"));
    }

    @Test
    void gruResetAfterDefaultChangesWithTfKeras23AndKeras24() {
        assertFalse(KerasVersion.parse("2.2.4").gruResetAfterDefault());
        assertFalse(KerasVersion.parse("1.2.2").gruResetAfterDefault());
        // standalone Keras 2.3.0 and 2.3.1: GRU(..., reset_after=False) in keras/layers/recurrent.py
        assertFalse(KerasVersion.parse("2.3.0").gruResetAfterDefault());
        assertFalse(KerasVersion.parse("2.3.1").gruResetAfterDefault());
        assertFalse(KerasVersion.parse("2.2.4-tf").gruResetAfterDefault());
        assertTrue(KerasVersion.parse("2.3.0-tf").gruResetAfterDefault());
        assertTrue(KerasVersion.parse("2.4.0").gruResetAfterDefault());
        assertTrue(KerasVersion.parse("2.15.0").gruResetAfterDefault());
        assertTrue(KerasVersion.parse("3.0.0").gruResetAfterDefault());
        // a builder told 2.3.1 takes that version's [3H] bias
        dev.rnnrt.layers.Gru gru = dev.rnnrt.layers.Gru.builder(2).kerasVersion(KerasVersion.parse("2.3.1")).build();
        assertFalse(gru.resetAfter());
        gru.build(3);
        assertEquals(1, gru.getWeights().get(2).rank());
    }

    @Test
    void rejectsWhatIsNotAVersion() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasVersion.parse("keras"));
        assertTrue(e.getMessage().contains("'keras'"), e.getMessage());
    }

    @Test
    void maskAndStateDetailsFollowTheVersionThatWroteTheFile() {
        // StackedRNNCells: last cell's states first from 2.0.9 (where it came in) to 2.2.2
        assertTrue(KerasVersion.parse("2.1.6").stackedCellStatesReversed());
        assertTrue(KerasVersion.parse("2.1.6-tf").stackedCellStatesReversed());
        assertTrue(KerasVersion.parse("2.2.2").stackedCellStatesReversed());
        assertFalse(KerasVersion.parse("2.2.3").stackedCellStatesReversed());
        assertFalse(KerasVersion.parse("2.15.0").stackedCellStatesReversed());
        assertFalse(KerasVersion.parse("3.6.0").stackedCellStatesReversed());
        // Bidirectional zeroes masked outputs in tf.keras from 2.2.4-tf, in every Keras from 2.4, in Keras 3
        assertFalse(KerasVersion.parse("1.2.2").bidirectionalZeroesMaskedOutputs());
        assertFalse(KerasVersion.parse("2.2.4").bidirectionalZeroesMaskedOutputs());
        assertFalse(KerasVersion.parse("2.3.1").bidirectionalZeroesMaskedOutputs());
        assertFalse(KerasVersion.parse("2.1.6-tf").bidirectionalZeroesMaskedOutputs());
        assertTrue(KerasVersion.parse("2.2.4-tf").bidirectionalZeroesMaskedOutputs());
        assertTrue(KerasVersion.parse("2.3.0-tf").bidirectionalZeroesMaskedOutputs());
        assertTrue(KerasVersion.parse("2.4.0").bidirectionalZeroesMaskedOutputs());
        assertTrue(KerasVersion.parse("2.15.0").bidirectionalZeroesMaskedOutputs());
        assertTrue(KerasVersion.parse("3.0.0").bidirectionalZeroesMaskedOutputs());
        assertEquals("2.2.4-tf", KerasVersion.parse("2.2.4-tf").toString());
        // masked steps output the state (TensorFlow's loop) in Keras 1, standalone Keras to 2.2.4, tf.keras to 2.1
        assertTrue(KerasVersion.parse("1.2.2").maskedStepsOutputState());
        assertTrue(KerasVersion.parse("1.0.8").maskedStepsOutputState());
        assertFalse(KerasVersion.parse("1.0.7").maskedStepsOutputState());   // its TensorFlow loop only unrolled
        assertTrue(KerasVersion.parse("2.0.8").maskedStepsOutputState());
        assertTrue(KerasVersion.parse("2.2.4").maskedStepsOutputState());
        assertFalse(KerasVersion.parse("2.2.5").maskedStepsOutputState());
        assertFalse(KerasVersion.parse("2.3.1").maskedStepsOutputState());
        assertTrue(KerasVersion.parse("2.1.6-tf").maskedStepsOutputState());
        assertFalse(KerasVersion.parse("2.2.4-tf").maskedStepsOutputState());
        assertFalse(KerasVersion.parse("2.15.0").maskedStepsOutputState());
        assertFalse(KerasVersion.parse("3.1.0").maskedStepsOutputState());
    }
}
