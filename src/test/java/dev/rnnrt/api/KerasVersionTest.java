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
        assertEquals(new KerasVersion(2, 15), KerasVersion.parse("2.15.0-tf"));
        assertEquals(new KerasVersion(3, 9, 2), KerasVersion.parse("3.9.2"));
        assertEquals(new KerasVersion(1, 0), KerasVersion.parse("1"));
    }

    @Test
    void gruResetAfterDefaultChangesAt23() {
        assertFalse(KerasVersion.parse("2.2.4").gruResetAfterDefault());
        assertFalse(KerasVersion.parse("1.2.2").gruResetAfterDefault());
        assertTrue(KerasVersion.parse("2.3.0").gruResetAfterDefault());
        assertTrue(KerasVersion.parse("3.0.0").gruResetAfterDefault());
    }

    @Test
    void rejectsWhatIsNotAVersion() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasVersion.parse("keras"));
        assertTrue(e.getMessage().contains("'keras'"), e.getMessage());
    }
}
