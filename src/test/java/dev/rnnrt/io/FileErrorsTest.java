package dev.rnnrt.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.junit.jupiter.api.Test;

class FileErrorsTest {

    /** Java's file exceptions name the path and often nothing else: the reason says why too. */
    @Test
    void theReasonSaysWhyNotOnlyWhere() {
        assertEquals("/data/out: permission denied", FileErrors.reason(new AccessDeniedException("/data/out")));
        assertEquals("/data/out/x.npy: no such file or folder", FileErrors.reason(new NoSuchFileException("/data/out/x.npy")));
        assertEquals("/data/f: not a folder", FileErrors.reason(new NotDirectoryException("/data/f")));
        assertEquals("/mnt/ro/a: Read-only file system",
                FileErrors.reason(new FileSystemException("/mnt/ro/a", null, "Read-only file system")));
        assertEquals("/a -> /b: permission denied", FileErrors.reason(new AccessDeniedException("/a", "/b", null)));
        assertEquals("No space left on device", FileErrors.reason(new IOException("No space left on device")));
        assertEquals("IOException", FileErrors.reason(new IOException()));
    }
}
