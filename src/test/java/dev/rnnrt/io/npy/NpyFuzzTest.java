package dev.rnnrt.io.npy;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates .npy files — bytes of the header flipped or replaced by others a header holds, the
 * header's length field changed, truncation, the header's dictionary edited key by key — and checks
 * that every open and read either succeeds or fails with an NpyException: never another exception,
 * an OutOfMemoryError or a hang. The rows of a file that opens are all read, in two chunks. For a
 * longer hunt: {@code -Drnnrt.fuzz.mutations=N} per file, {@code -Drnnrt.fuzz.seed=S}.
 */
class NpyFuzzTest {

    private static final long SEED = Long.getLong("rnnrt.fuzz.seed", 20261202L);
    private static final int MUTATIONS_PER_FILE = Integer.getInteger("rnnrt.fuzz.mutations", 300);
    /** Characters a header is made of, drawn for replacements so that mutants stay near the grammar. */
    private static final byte[] HEADER_CHARS = "{}()[]'\":, <>|=fi48uU0123456789-+.eTrueFalseNonedescrshape_order \n"
            .getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private List<Path> originals() {
        List<Path> files = new ArrayList<>();
        files.add(Path.of("src/main/resources/dev/rnnrt/examples/example_input.npy")); // numpy.save's own
        int[][] shapes = {{3, 4, 5}, {2, 7}, {9}};
        NpyDtype[] dtypes = {NpyDtype.FLOAT32, NpyDtype.INT64, NpyDtype.FLOAT64};
        Object[] values = {new float[60], new long[14], new double[9]};
        for (int k = 0; k < shapes.length; k++) {
            if (values[k] instanceof float[] f) {
                for (int j = 0; j < f.length; j++) {
                    f[j] = j * 0.25f - 3;
                }
            } else if (values[k] instanceof long[] l) {
                for (int j = 0; j < l.length; j++) {
                    l[j] = j - 5;
                }
            } else {
                double[] d = (double[]) values[k];
                for (int j = 0; j < d.length; j++) {
                    d[j] = Math.sqrt(j);
                }
            }
            Path p = dir.resolve("original" + k + ".npy");
            try (NpyWriter w = NpyWriter.create(p, dtypes[k], shapes[k], false)) {
                w.appendRaw(values[k]);
            }
            files.add(p);
        }
        return files;
    }

    @Test
    void everyMutantOpensAndReadsOrFailsWithAnNpyException() throws IOException {
        SplittableRandom random = new SplittableRandom(SEED);
        int opened = 0;
        int refused = 0;
        for (Path original : originals()) {
            byte[] bytes = Files.readAllBytes(original);
            int headerEnd = headerEnd(bytes);
            for (int m = 0; m < MUTATIONS_PER_FILE; m++) {
                byte[] mutant = bytes.clone();
                String what;
                switch (m % 5) {
                    case 0 -> {
                        int flips = 1 + random.nextInt(4);
                        StringBuilder at = new StringBuilder();
                        for (int f = 0; f < flips; f++) {
                            int pos = random.nextInt(headerEnd);
                            mutant[pos] ^= (byte) (1 + random.nextInt(255));
                            at.append(pos).append(' ');
                        }
                        what = flips + " header bytes flipped at " + at;
                    }
                    case 1 -> {
                        int pos = 10 + random.nextInt(headerEnd - 10);
                        int len = 1 + random.nextInt(Math.min(12, headerEnd - pos));
                        for (int j = pos; j < pos + len; j++) {
                            mutant[j] = HEADER_CHARS[random.nextInt(HEADER_CHARS.length)];
                        }
                        what = len + " header bytes replaced at " + pos + ": "
                                + new String(mutant, pos, len, StandardCharsets.ISO_8859_1);
                    }
                    case 2 -> {
                        // the length field (bytes 8-9 in format 1.0): any value
                        int len = random.nextInt(65536);
                        mutant[8] = (byte) len;
                        mutant[9] = (byte) (len >>> 8);
                        what = "header length field set to " + len;
                    }
                    case 3 -> {
                        int len = random.nextInt(bytes.length);
                        mutant = Arrays.copyOf(bytes, len);
                        what = "truncated to " + len + " bytes";
                    }
                    default -> {
                        String header = new String(bytes, 10, headerEnd - 10, StandardCharsets.ISO_8859_1);
                        String edited = editHeader(header, random);
                        mutant = withHeader(bytes, headerEnd, edited);
                        what = "header edited to " + edited.strip();
                    }
                }
                Path file = dir.resolve("mutant.npy");
                Files.write(file, mutant);
                String context = original.getFileName() + ": " + what + " (seed " + SEED + ", mutation " + m + ")";
                boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> readAllOf(file, context), context);
                if (ok) {
                    opened++;
                } else {
                    refused++;
                }
            }
        }
        // the mutations must reach the reader's refusals and its reads both
        assertTrue(opened > 0 && refused > MUTATIONS_PER_FILE, opened + " opened, " + refused + " refused");
    }

    /** Opens and reads every row; true if it did, false on an NpyException; anything else fails. */
    private static boolean readAllOf(Path file, String context) {
        try (NpyReader r = NpyReader.open(file)) {
            int rows = r.rows();
            int half = rows / 2;
            if (half > 0) {
                r.readRows(0, half);
            }
            if (rows - half > 0) {
                r.readRows(half, rows - half);
            }
            return true;
        } catch (NpyException e) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(file.toString()),
                    context + ": the message names the file: " + e.getMessage());
            return false;
        } catch (Throwable t) {
            fail(context + ": " + t, t);
            return false;
        }
    }

    /** The offset of the first data byte: 10 + the header length of a format 1.0 file. */
    private static int headerEnd(byte[] bytes) {
        return 10 + ((bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8);
    }

    /** The file with its header replaced (padded with spaces to keep numpy's 64-byte alignment when it fits). */
    private static byte[] withHeader(byte[] bytes, int headerEnd, String header) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        int len = h.length;
        byte[] out = new byte[10 + len + bytes.length - headerEnd];
        System.arraycopy(bytes, 0, out, 0, 8);
        out[8] = (byte) len;
        out[9] = (byte) (len >>> 8);
        System.arraycopy(h, 0, out, 10, len);
        System.arraycopy(bytes, headerEnd, out, 10 + len, bytes.length - headerEnd);
        return out;
    }

    /** The header dictionary with one of its values or keys changed to another a header could hold. */
    private static String editHeader(String header, SplittableRandom random) {
        String[] descrs = {"'<f4'", "'<f8'", "'<i4'", "'<i8'", "'>f4'", "'|u1'", "'<f2'", "'<c8'", "'f4'", "''", "\"<f4\"",
            "'<U3'", "[('a', '<f4')]", "None", "4"};
        String[] shapes = {"()", "(0,)", "(1,)", "(3, 4, 5)", "(2147483647, 2147483647)", "(-1, 2)", "(3, 4, 5, 0)",
            "(99999999999, 1)", "(2, 7,)", "(9,,)", "(1e3,)", "(0x10,)", "( 3 ,  4 , 5 )", "(3; 4)", "(" + "1, ".repeat(40) + "1)"};
        String[] orders = {"True", "False", "0", "None", "'False'"};
        String out = header;
        switch (random.nextInt(6)) {
            case 0 -> out = out.replaceFirst("'descr': *[^,}]*", "'descr': " + descrs[random.nextInt(descrs.length)]);
            case 1 -> out = out.replaceFirst("'shape': *\\([^)]*\\)", "'shape': " + shapes[random.nextInt(shapes.length)]);
            case 2 -> out = out.replaceFirst("'fortran_order': *[A-Za-z]*",
                    "'fortran_order': " + orders[random.nextInt(orders.length)]);
            case 3 -> out = out.replaceFirst("'(descr|shape|fortran_order)'", random.nextBoolean() ? "'extra'" : "'shape'");
            case 4 -> out = out.replaceFirst("\\{", "{'descr': '<f4', ");
            default -> out = out.replaceFirst("\\}", random.nextBoolean() ? "" : "}}");
        }
        return out;
    }
}
