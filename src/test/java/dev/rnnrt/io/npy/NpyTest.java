package dev.rnnrt.io.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path dir;

    @Test
    void everySupportedDtypeRoundTrips() {
        int[] shape = {3, 2, 2};
        Object[] arrays = {
            new float[] {1.5f, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1e-7f},
            new double[] {1.5, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, Math.PI},
            new int[] {1, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, Integer.MIN_VALUE},
            new long[] {1, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, Long.MAX_VALUE}};
        NpyDtype[] dtypes = {NpyDtype.FLOAT32, NpyDtype.FLOAT64, NpyDtype.INT32, NpyDtype.INT64};
        for (int k = 0; k < dtypes.length; k++) {
            Path p = dir.resolve(dtypes[k] + ".npy");
            try (NpyWriter w = NpyWriter.create(p, dtypes[k], shape, false)) {
                w.appendRaw(arrays[k]);
            }
            try (NpyReader r = NpyReader.open(p)) {
                assertEquals(dtypes[k], r.dtype());
                assertArrayEquals(shape, r.shape());
                Object back = r.readAll();
                assertEquals(arrays[k].getClass(), back.getClass());
                assertTrue(java.util.Objects.deepEquals(arrays[k], back), dtypes[k].toString());
                // rows as float32: the first two rows, for every dtype (row 2 holds values float32 cannot)
                Tensor rows = r.readRows(0, 2);
                assertArrayEquals(new int[] {2, 2, 2}, rows.shape());
                assertEquals(-2f, rows.get(0, 0, 1));
                assertEquals(5f, rows.get(1, 0, 0));
            }
        }
    }

    @Test
    void readsFilesNumpyWrote() {
        // example_input.npy was written by numpy.save (format 1.0, '<f4')
        try (NpyReader r = NpyReader.open(Path.of("src/main/resources/dev/rnnrt/examples/example_input.npy"))) {
            assertArrayEquals(new int[] {6, 4, 1}, r.shape());
            assertEquals(NpyDtype.FLOAT32, r.dtype());
            float[] all = (float[]) r.readAll();
            for (float v : all) {
                assertTrue(v >= -1 && v <= 1);
            }
        }
    }

    @Test
    void theHeaderIsAlignedAsNumpyWritesIt() throws IOException {
        Path p = dir.resolve("aligned.npy");
        NpyWriter.write(p, Tensor.of(new float[] {1, 2, 3}, 3), false);
        byte[] b = Files.readAllBytes(p);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64);
        assertEquals('\n', b[10 + headerLen - 1]);
        assertTrue(new String(b, 10, headerLen, StandardCharsets.US_ASCII).contains("'shape': (3,)"));
    }

    @Test
    void otherDtypesAndLayoutsAreRefused() throws IOException {
        refused(header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8), "'>f4'", "float32");
        refused(header("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4), "'<f2'");
        refused(header("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 2), "'|b1'");
        refused(header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16), "'|O'");
        refused(header("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), "'<c8'");
        refused(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16), "Fortran order");
        refused(header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 8), "truncated");
        refused(header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4), "scalar");
        refused(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", 8), "'extra'");
        // numpy reads the last of a repeated key: shape (1,), not (2,)
        refused(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (1,), }", 8), "'shape' twice");
        refused(header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '<f4', }", 16), "'descr' twice");
        Path text = dir.resolve("text.npy");
        Files.writeString(text, "hello, not numpy");
        refused(text, "not a .npy file");
        refused(dir.resolve("missing.npy"), "no such file");
        refused(dir, "is a folder");
        if (Files.exists(Path.of("/dev/null"))) {
            refused(Path.of("/dev/null"), "not a regular file");
        }
    }

    @Test
    void writerRefusesToOverwriteAndChecksTheCount() {
        Path p = dir.resolve("once.npy");
        NpyWriter.write(p, Tensor.of(new float[] {1}, 1), false);
        NpyException e = assertThrows(NpyException.class, () -> NpyWriter.write(p, Tensor.of(new float[] {2}, 1), false));
        // a library call: the way out is its argument, not the command line's --overwrite
        assertTrue(e.getMessage().contains("already exists") && e.getMessage().contains("overwrite = true")
                && !e.getMessage().contains("--overwrite"), e.getMessage());
        NpyWriter.write(p, Tensor.of(new float[] {2}, 1), true);
        NpyWriter w = NpyWriter.create(dir.resolve("short.npy"), NpyDtype.FLOAT32, new int[] {4}, false);
        w.append(Tensor.of(new float[] {1, 2}, 2));
        NpyException incomplete = assertThrows(NpyException.class, w::close);
        assertTrue(incomplete.getMessage().contains("incomplete"), incomplete.getMessage());
    }

    /** Reading or writing after close() says so, naming the file, instead of "cannot read rows (null)". */
    @Test
    void useAfterCloseNamesTheFile() {
        Path p = dir.resolve("closed.npy");
        Tensor t = Tensor.of(new float[] {0.5f, -1.25f, 3f, 0.75f}, 2, 2);
        NpyWriter w = NpyWriter.create(p, NpyDtype.FLOAT32, new int[] {2, 2}, false);
        w.append(t);
        w.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.append(t));
        assertTrue(e.getMessage().contains("closed.npy") && e.getMessage().contains("after it was closed"),
                e.getMessage());
        NpyReader r = NpyReader.open(p);
        assertArrayEquals(t.data(), r.readRows(0, 2).data());
        r.close();
        r.close();
        e = assertThrows(IllegalStateException.class, () -> r.readRows(0, 1));
        assertTrue(e.getMessage().contains("closed.npy") && e.getMessage().contains("after it was closed"),
                e.getMessage());
        assertThrows(IllegalStateException.class, r::readAll);
    }

    @Test
    void largeIntegersThatFloat32CannotHoldAreRefused() {
        Path p = dir.resolve("ids.npy");
        try (NpyWriter w = NpyWriter.create(p, NpyDtype.INT64, new int[] {1, 2}, false)) {
            w.appendRaw(new long[] {3, (1L << 24) + 1});
        }
        try (NpyReader r = NpyReader.open(p)) {
            NpyException e = assertThrows(NpyException.class, () -> r.readRows(0, 1));
            assertTrue(e.getMessage().contains("16777217") && e.getMessage().contains("2^24"), e.getMessage());
        }
    }

    /** Long.MIN_VALUE, whose absolute value is negative, is refused like any other integer past 2^24. */
    @Test
    void theMostNegativeInt64IsRefused() {
        Path p = dir.resolve("min.npy");
        try (NpyWriter w = NpyWriter.create(p, NpyDtype.INT64, new int[] {2, 1}, false)) {
            w.appendRaw(new long[] {-(1L << 24), Long.MIN_VALUE});
        }
        try (NpyReader r = NpyReader.open(p)) {
            assertEquals(-16777216f, r.readRows(0, 1).data()[0]);
            NpyException e = assertThrows(NpyException.class, () -> r.readRows(1, 1));
            assertTrue(e.getMessage().contains("-9223372036854775808") && e.getMessage().contains("row 1"),
                    e.getMessage());
        }
    }

    /**
     * A header whose shape holds more bytes than a long counts is corrupt, not a batch-size problem;
     * rows whose bytes pass 2^31 are refused by their batch, not by a negative buffer size.
     */
    @Test
    void shapesPastWhatAFileHoldsAreCorrupt() throws IOException {
        Path lies = dir.resolve("lies.npy");
        writeHeaderOnly(lies, "<f8", "(2147437309, 1073764994, 1)", 537552);
        refused(lies, "is corrupt", "[2147437309, 1073764994, 1]");
        Path huge = dir.resolve("huge.npy");
        writeHeaderOnly(huge, "<f4", "(2147483647, 2147483647, 2147483647)", 0);
        refused(huge, "is corrupt");
        Path sparse = dir.resolve("sparse.npy");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(
                writeHeaderOnly(sparse, "<f4", "(256, 2400000, 1)", 0).toFile(), "rw")) {
            f.setLength(f.length() + 256L * 2400000 * 4);            // sparse: no disk used
        }
        try (NpyReader r = NpyReader.open(sparse)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.readRows(0, 256));
            assertTrue(e.getMessage().contains("smaller batch size") && e.getMessage().contains("2457600000 bytes"),
                    e.getMessage());
            assertEquals(2400000, r.readRows(5, 1).size());
        }
    }

    /**
     * A header in double quotes (a Python literal numpy reads as well, and some other writers use)
     * reads as numpy reads it; quotes that do not pair are still refused.
     */
    @Test
    void headersInDoubleQuotesReadAsNumpyReadsThem() throws IOException {
        java.util.Random random = new java.util.Random(4242);
        float[] v = new float[6];
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) random.nextGaussian();
        }
        Path p = header("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3), }", 24);
        byte[] b = Files.readAllBytes(p);
        ByteBuffer data = ByteBuffer.wrap(b, b.length - 24, 24).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            data.putFloat(f);
        }
        Files.write(p, b);
        try (NpyReader r = NpyReader.open(p)) {
            assertArrayEquals(new int[] {2, 3}, r.shape());
            assertArrayEquals(v, r.readRows(0, 2).data());
        }
        Path mixed = header("{\"descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
        refused(mixed, "lacks descr");
        Path twice = header("{'descr': '<f4', \"descr\": \"<f8\", 'fortran_order': False, 'shape': (2, 3), }", 48);
        refused(twice, "gives 'descr' twice");
    }

    /** A .npy header of the given dtype and shape followed by {@code dataBytes} zero bytes. */
    private static Path writeHeaderOnly(Path p, String descr, String shape, int dataBytes) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        String h = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        byte[] head = h.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] b = new byte[10 + head.length + dataBytes];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) head.length, (byte) (head.length >> 8)};
        System.arraycopy(magic, 0, b, 0, 10);
        System.arraycopy(head, 0, b, 10, head.length);
        java.nio.file.Files.write(p, b);
        return p;
    }

    private void refused(Path p, String part) {
        NpyException e = assertThrows(NpyException.class, () -> NpyReader.open(p).close());
        assertTrue(e.getMessage().contains(part), "message lacks '" + part + "': " + e.getMessage());
    }

    private void refused(Path p, String part, String part2) {
        refused(p, part);
        refused(p, part2);
    }

    private int counter;

    /** A version 1.0 .npy with the given header dictionary and {@code dataBytes} bytes of data. */
    private Path header(String dict, int dataBytes) throws IOException {
        String h = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) h.length()).array());
        out.write(h.getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[dataBytes]);
        Path p = dir.resolve("h" + (counter++) + ".npy");
        Files.write(p, out.toByteArray());
        return p;
    }
}
