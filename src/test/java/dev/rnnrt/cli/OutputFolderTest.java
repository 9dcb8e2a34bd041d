package dev.rnnrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.npy.NpyReader;
import dev.rnnrt.io.npy.NpyWriter;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Tolerance;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --output-dir of predict: how it is created, and what a run finds there. */
class OutputFolderTest {

    private static final long SEED = 20240611L;

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static final String MODEL = PredictCommandTest.resource("simplernn_flatten_fixedbatch_k213.h5").toString();

    /** Random inputs for MODEL, [rows, 1, 1], written to x.npy. */
    private Path input(int rows) {
        Random random = new Random(SEED);
        float[] v = new float[rows];
        for (int k = 0; k < rows; k++) {
            v[k] = (float) random.nextGaussian();
        }
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, Tensor.of(v, rows, 1, 1), true);
        return x;
    }

    private static List<String> names(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    /** A folder named through "." or ".." components of folders that do not exist yet is made as mkdir -p makes it. */
    @Test
    void dotAndDotDotInANewFolderWork() throws IOException {
        Path x = input(5);
        Path plain = dir.resolve("plain");
        assertEquals(0, run("predict", "--model", MODEL, "--input", x.toString(), "--output-dir", plain.toString(),
                "--device", "cpu", "--quiet"), err());
        Tensor expected;
        try (NpyReader r = NpyReader.open(plain.resolve("out_0.npy"))) {
            expected = r.readRows(0, r.rows());
        }
        for (String name : new String[] {"a/../b", "c/./d", "e/f/../../g"}) {
            Path target = dir.resolve(name);
            assertEquals(0, run("predict", "--model", MODEL, "--input", x.toString(), "--output-dir", target.toString(),
                    "--device", "cpu", "--quiet"), name + ": " + err());
            try (NpyReader r = NpyReader.open(target.resolve("out_0.npy"))) {
                Compare.assertClose(name, expected, r.readRows(0, r.rows()), Tolerance.FP32);
            }
            assertEquals(List.of("out_0.npy", "summary.json"), names(target), name);
        }
        assertTrue(Files.isDirectory(dir.resolve("a")) && Files.isDirectory(dir.resolve("e/f")),
                "the folders on the way stay, as with mkdir -p");
    }

    /** A run that fails into such a folder removes the folders it made, and only those. */
    @Test
    void aFailedRunIntoADotDotFolderRemovesWhatItMade() throws IOException {
        com.fasterxml.jackson.databind.JsonNode c = dev.rnnrt.io.keras.TfjsCases.named(
                "embedding_bidirectional_time_distributed");
        Path model = dev.rnnrt.io.keras.TfjsCases.writeH5(c, dir.resolve("ids.h5"));
        Tensor ids = dev.rnnrt.testing.Fixtures.tensor(c.get("inputs").get(0));
        float[] bad = ids.data().clone();
        bad[1] = 100000;                                // no such id: the run fails after making its folder
        Path x = dir.resolve("ids.npy");
        NpyWriter.write(x, Tensor.of(bad, ids.shape()), false);
        Files.createDirectory(dir.resolve("kept"));
        Path target = dir.resolve("kept/new/../made");
        assertEquals(1, run("predict", "--model", model.toString(), "--input", x.toString(), "--output-dir",
                target.toString(), "--device", "cpu", "--quiet"));
        assertTrue(err().contains("100000"), err());
        assertEquals(List.of(), names(dir.resolve("kept")), "new/ and made/ are gone, kept/ stays");
    }

    /**
     * A run killed outright (kill -9) leaves its lock file and temporary files: the next run into the
     * folder is not stopped by the lock and removes those temporary files, and only those.
     */
    @Test
    void theNextRunRemovesWhatAKilledRunLeft() throws IOException {
        Path x = input(6);
        Path results = dir.resolve("results");
        Files.createDirectory(results);
        Files.writeString(results.resolve(".rnnrt-predict.lock"), "3f0d9a52-5c1e-4b7a-9d2e-0c4b8e6f1a27");
        List<String> left = List.of(".out_0.npy.0ca8c84c-454c-4edd-b0d1-fcb9b2b27a38.partial",
                ".out_12.npy.9b1f3c2d-7e4a-4f6b-8c5d-1a2b3c4d5e6f.partial",
                ".summary.json.5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9.partial");
        for (String name : left) {
            Files.write(results.resolve(name), new byte[4096]);
        }
        List<String> others = List.of("notes.partial", ".out_0.npy.partial", "out_0.npy.partial",
                ".out_0.npy.0ca8c84c-454c-4edd-b0d1-fcb9b2b27a38.partial.bak");
        for (String name : others) {
            Files.writeString(results.resolve(name), "not rnnrt's");
        }
        assertEquals(0, run("predict", "--model", MODEL, "--input", x.toString(), "--output-dir", results.toString(),
                "--device", "cpu", "--quiet"), err());
        List<String> expected = new java.util.ArrayList<>(others);
        expected.addAll(List.of("out_0.npy", "summary.json"));
        java.util.Collections.sort(expected);
        assertEquals(expected, names(results), "the killed run's temporary files and lock are gone, nothing else");
        try (NpyReader r = NpyReader.open(results.resolve("out_0.npy"))) {
            assertEquals(6, r.rows());
        }
        for (String name : others) {
            assertEquals("not rnnrt's", Files.readString(results.resolve(name)));
        }
    }

    /**
     * A run whose folder was closed under it (the shutdown hook, on Ctrl-C or kill, while the main
     * thread goes on) puts nothing in place afterwards and makes no new temporary files: its lock is
     * gone, so another run may be writing there by then.
     */
    @Test
    void aRunClosedUnderItPlacesNothingAfterwards() throws IOException {
        Path results = Files.createDirectory(dir.resolve("stopped"));
        OutputFolder folder = OutputFolder.open(results, false, 1);
        Path partial = folder.partial(0);
        NpyWriter.write(partial, Tensor.of(new float[] {1.5f, -2.5f}, 2, 1), true);
        folder.close();                                 // what the shutdown hook does
        assertEquals(List.of(), names(results), "the temporary file and the lock are gone");
        try (OutputFolder next = OutputFolder.open(results, false, 1)) {      // another run takes the folder
            CliException late = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                    () -> folder.complete(List.of(partial), "{}".getBytes(StandardCharsets.UTF_8)));
            assertTrue(late.getMessage().contains("stopped"), late.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> folder.partial(0));
            // a writer on the temporary file the hook removed does not make it again
            org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                    () -> folder.writer(partial, dev.rnnrt.io.npy.NpyDtype.FLOAT32, new int[] {2, 1}));
            folder.close();                             // the run's own close, after the hook's: a no-op
            assertEquals(List.of(OutputFolder.LOCK_FILE), names(results),
                    "nothing placed, and the other run's lock left alone");
        }
        assertEquals(List.of(), names(results));
    }

    /**
     * While a run holds its folder, a run of another process into it is refused and leaves the first
     * run's temporary files alone: reading the lock file back does not drop the lock, which a POSIX
     * lock does when any descriptor of the file is closed.
     */
    @Test
    void aLiveRunKeepsItsLockAgainstAnotherProcess() throws Exception {
        Path x = input(4);
        Path results = dir.resolve("results");
        try (OutputFolder live = OutputFolder.open(results, false, 1)) {
            Path partial = live.partial(0);
            Files.write(partial, new byte[] {1, 2, 3});
            assertAnotherProcessIsRefused(x, results, partial);
        }
        assertFalse(Files.exists(results), "the unfinished run removed its temporary file, lock and folder");
    }

    /**
     * A second OutputFolder of the same JVM on a folder a live one holds (named another way too) is
     * refused as a second process is, and the first still holds its lock against another process:
     * the second never opens the lock file, whose closing would drop the first one's POSIX lock.
     */
    @Test
    void aSecondFolderInTheSameJvmIsRefusedAndTheFirstKeepsItsLock() throws Exception {
        Path x = input(4);
        Path results = dir.resolve("results");
        try (OutputFolder live = OutputFolder.open(results, false, 1)) {
            Path partial = live.partial(0);
            Files.write(partial, new byte[] {1, 2, 3});
            Path link = Files.createSymbolicLink(dir.resolve("link"), results);
            for (Path same : new Path[] {results, results.resolve("."), link}) {
                CliException e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                        () -> OutputFolder.open(same, false, 1));
                assertTrue(e.getMessage().contains("another rnnrt predict is writing to " + same), e.getMessage());
            }
            assertAnotherProcessIsRefused(x, results, partial);
        }
        assertFalse(Files.exists(results), "the unfinished run removed its temporary file, lock and folder");
        try (OutputFolder again = OutputFolder.open(results, false, 1)) {
            assertTrue(Files.exists(results.resolve(OutputFolder.LOCK_FILE)), "a closed folder's lock may be taken again");
        }
    }

    /**
     * A folder a live OutputFolder holds is the same folder under a new name after a move: a second
     * OutputFolder of the JVM is refused there without opening the lock file, and the first keeps its
     * lock against another process.
     */
    @Test
    void aHeldFolderMovedToANewNameIsStillRefusedInTheSameJvm() throws Exception {
        Path x = input(4);
        Path results = dir.resolve("results");
        Path moved = dir.resolve("moved");
        try (OutputFolder live = OutputFolder.open(results, false, 1)) {
            Path partial = live.partial(0);
            Files.move(results, moved);
            CliException e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                    () -> OutputFolder.open(moved, false, 1));
            assertTrue(e.getMessage().contains("another rnnrt predict is writing to " + moved), e.getMessage());
            assertAnotherProcessIsRefused(x, moved, moved.resolve(partial.getFileName()));
        }
    }

    /**
     * A link, or a file that is not a lock file, under the lock file's name is refused and left as it
     * is: no file it leads to is truncated, written or created.
     */
    @Test
    void aLockPathThatIsNotALockFileIsRefusedAndLeftAlone() throws IOException {
        Path x = input(3);
        Path precious = dir.resolve("precious.txt");
        Files.writeString(precious, "the user's data");
        Path results = dir.resolve("results");
        Files.createDirectory(results);
        Path lock = results.resolve(".rnnrt-predict.lock");
        String[] predict = {"predict", "--model", MODEL, "--input", x.toString(), "--output-dir", results.toString(),
            "--device", "cpu", "--quiet"};

        Files.createSymbolicLink(lock, precious);
        assertEquals(1, run(predict), err());
        assertTrue(err().contains(lock + " is a symbolic link; rnnrt keeps its lock"), err());
        assertEquals("the user's data", Files.readString(precious), "the link's target is not written");
        assertTrue(Files.isSymbolicLink(lock), "the link is left where it is");
        Files.delete(lock);

        Path absent = dir.resolve("absent.txt");
        Files.createSymbolicLink(lock, absent);
        assertEquals(1, run(predict), err());
        assertTrue(err().contains(lock + " is a symbolic link"), err());
        assertFalse(Files.exists(absent, java.nio.file.LinkOption.NOFOLLOW_LINKS), "no file is made where it leads");
        Files.delete(lock);

        Files.createLink(lock, precious);
        assertEquals(1, run(predict), err());
        assertTrue(err().contains(lock + " is one of 2 names of a file (a hard link)"), err());
        assertEquals("the user's data", Files.readString(precious), "the other name's contents are kept");
        Files.delete(lock);

        Files.writeString(lock, "notes that happen to have this name");
        assertEquals(1, run(predict), err());
        assertTrue(err().contains(lock + " holds something else (35 bytes, not a run's token)"), err());
        assertEquals("notes that happen to have this name", Files.readString(lock));
        Files.delete(lock);

        Files.createDirectory(lock);
        assertEquals(1, run(predict), err());
        assertTrue(err().contains(lock + " is not a file"), err());
        Files.delete(lock);

        assertEquals(List.of(), names(results), "nothing was written by the refused runs");
        assertEquals(0, run(predict), err());
        assertEquals(List.of("out_0.npy", "summary.json"), names(results));
    }

    /**
     * A folder the run may not write to is refused saying why, not only where. sysfs refuses new
     * files even to root, so this runs as any user on Linux: where it is mounted read-write the
     * reason is "permission denied", in a container that mounts it read-only "Read-only file system".
     */
    @Test
    void aFolderThatRefusesWritesIsNamedWithTheReason() {
        Path sys = Path.of("/sys/kernel");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(sys), "needs Linux's /sys");
        Path x = input(3);
        assertEquals(1, run("predict", "--model", MODEL, "--input", x.toString(), "--output-dir", sys.toString(),
                "--device", "cpu", "--quiet"));
        assertTrue(err().contains("/sys/kernel is not writable (/sys/kernel/.rnnrt-predict.lock: permission denied)")
                || err().contains("/sys/kernel is not writable (/sys/kernel/.rnnrt-predict.lock: Read-only file system)"),
                err());
        assertEquals(1, err().strip().lines().count(), err());
    }

    /**
     * Runs predict into {@code folder} in a child JVM while this JVM's run holds it: the child is
     * refused (exit 1, saying another run is writing there), leaves {@code livePartial} alone and
     * writes no output.
     */
    private static void assertAnotherProcessIsRefused(Path x, Path folder, Path livePartial) throws Exception {
        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "predict", "--model", MODEL,
                "--input", x.toString(), "--output-dir", folder.toString(), "--device", "cpu", "--quiet")
                .redirectErrorStream(true).start();
        String text = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(other.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the other run ends");
        assertEquals(1, other.exitValue(), text);
        assertTrue(text.contains("another rnnrt predict is writing to"), text);
        assertTrue(Files.exists(livePartial), "the live run's temporary file is left alone");
        assertFalse(Files.exists(folder.resolve("out_0.npy")), "the other run wrote nothing");
    }
}
