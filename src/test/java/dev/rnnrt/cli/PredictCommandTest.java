package dev.rnnrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.npy.NpyDtype;
import dev.rnnrt.io.npy.NpyReader;
import dev.rnnrt.io.npy.NpyWriter;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Tolerance;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The predict command end to end: real model files in, .npy files out, and its error cases. */
class PredictCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    static Path resource(String name) {
        try {
            return Path.of(PredictCommandTest.class.getClassLoader().getResource("keras/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A dataset of a Keras golden-data file, written as a float32 .npy. */
    private Tensor golden(String file, String dataset) {
        try (HdfFile f = new HdfFile(resource(file))) {
            Dataset d = f.getDatasetByPath(dataset);
            return Tensor.of((float[]) d.getDataFlat(), d.getDimensions());
        }
    }

    @Test
    void theBundledExampleRunsWithoutArguments() {
        assertEquals(0, run("predict", "--quiet"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("bundled example") && text.contains("Bidirectional") && text.contains("[6, 8]")
                && text.contains("sequences/s"), text);
    }

    @Test
    void predictWritesKerasNumbersInBatches() throws IOException {
        String goldenFile = "simplernn_flatten_fixedbatch_k213.inputs_and_outputs.h5";
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, golden(goldenFile, "inputs/simple_rnn_1_input"), false);
        Path results = dir.resolve("results");
        assertEquals(0, run("predict", "--model", resource("simplernn_flatten_fixedbatch_k213.h5").toString(),
                "--input", x.toString(), "--output-dir", results.toString(), "--batch-size", "7", "--device", "cpu"),
                err());
        try (NpyReader r = NpyReader.open(results.resolve("out_0.npy"))) {
            Compare.assertClose("predict out_0.npy vs Keras", golden(goldenFile, "predictions/dense_1"),
                    r.readRows(0, r.rows()), Tolerance.FP32);
        }
        JsonNode summary = new ObjectMapper().readTree(results.resolve("summary.json").toFile());
        assertEquals(7, summary.get("batch_size").asInt());
        assertEquals(25, summary.get("sequences").asInt());
        assertTrue(summary.get("device").asText().startsWith("cpu"));
        assertEquals("[25,1]", summary.get("outputs").get(0).get("shape").toString());
        assertTrue(summary.get("sequences_per_second").asDouble() > 0);
        assertEquals("2.1.3", summary.get("keras_version").asText());
        try (var files = Files.list(results)) {
            assertEquals(2, files.count(), "only out_0.npy and summary.json, no partial files");
        }
    }

    @Test
    void intIdsAndSeveralOutputs() throws IOException {
        // Keras 1 file: LSTM -> Dense; int64 ids are refused by shape (the model wants [n, 1, 1] floats)
        Path x = dir.resolve("x64.npy");
        try (NpyWriter w = NpyWriter.create(x, NpyDtype.FLOAT64, new int[] {3, 1, 1}, false)) {
            w.appendRaw(new double[] {0.1, 0.5, -0.25});
        }
        assertEquals(0, run("predict", "--model", resource("keras1_lstm_theano_sequential.h5").toString(), "--input",
                x.toString(), "--output-dir", dir.resolve("o").toString(), "--quiet"), err());
        try (NpyReader r = NpyReader.open(dir.resolve("o/out_0.npy"))) {
            assertEquals(3, r.rows());
        }
    }

    /**
     * The command line end to end against TensorFlow.js: two models of fixtures/tfjs (two inputs, ids
     * and features; two outputs) written as .h5 files, their inputs as .npy, run in batches of two;
     * every output file holds TensorFlow.js' numbers.
     */
    @Test
    void predictGivesTensorFlowJsNumbers() throws IOException {
        for (String name : new String[] {"encoder_decoder_initial_state", "bidirectional_mul_and_none"}) {
            JsonNode c = dev.rnnrt.io.keras.TfjsCases.named(name);
            Path model = dev.rnnrt.io.keras.TfjsCases.writeH5(c, dir.resolve(name + ".h5"));
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("predict", "--model", model.toString()));
            for (int k = 0; k < c.get("inputs").size(); k++) {
                Path in = dir.resolve(name + "_in" + k + ".npy");
                NpyWriter.write(in, dev.rnnrt.testing.Fixtures.tensor(c.get("inputs").get(k)), false);
                args.addAll(java.util.List.of("--input", in.toString()));
            }
            Path outDir = dir.resolve(name + "_out");
            args.addAll(java.util.List.of("--output-dir", outDir.toString(), "--batch-size", "2", "--device", "cpu",
                    "--quiet"));
            assertEquals(0, run(args.toArray(new String[0])), err());
            JsonNode expected = c.get("expected");
            for (int k = 0; k < expected.size(); k++) {
                try (NpyReader r = NpyReader.open(outDir.resolve("out_" + k + ".npy"))) {
                    Tensor got = r.readRows(0, r.rows());
                    Compare.assertClose(name + " out_" + k, dev.rnnrt.testing.Fixtures.shape(expected.get(k)),
                            dev.rnnrt.testing.Fixtures.doubles(expected.get(k)), got, Tolerance.FP32);
                }
            }
            assertFalse(Files.exists(outDir.resolve("out_" + expected.size() + ".npy")), "no more outputs than the model's");
        }
    }

    @Test
    void errorCases() throws IOException {
        String model = resource("simplernn_flatten_fixedbatch_k213.h5").toString();
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, Tensor.zeros(4, 1, 1), false);

        assertFails(1, "no such file", "predict", "--model", dir.resolve("missing.h5").toString(), "--input", x.toString(),
                "--output-dir", dir.resolve("a").toString());
        assertFails(1, "takes 1 input(s)", "predict", "--model", model, "--input", x.toString(), "--input", x.toString(),
                "--output-dir", dir.resolve("b").toString());
        Path wrongShape = dir.resolve("wrong.npy");
        NpyWriter.write(wrongShape, Tensor.zeros(4, 2, 1), false);
        assertFails(1, "[4, 2, 1]", "predict", "--model", model, "--input", wrongShape.toString(), "--output-dir",
                dir.resolve("c").toString());
        Path f16 = dir.resolve("f16.npy");
        Files.write(f16, npyBytes("<f2", "(4, 1, 1)", 8));
        assertFails(1, "'<f2'", "predict", "--model", model, "--input", f16.toString(), "--output-dir",
                dir.resolve("d").toString());
        Path aFile = dir.resolve("plain.txt");
        Files.writeString(aFile, "x");
        assertFails(1, "not a folder", "predict", "--model", model, "--input", x.toString(), "--output-dir",
                aFile.toString());
        assertFails(1, "cannot create the output folder", "predict", "--model", model, "--input", x.toString(),
                "--output-dir", aFile.resolve("sub").toString());
        assertFails(2, "--output-dir", "predict", "--model", model, "--input", x.toString());
        assertFails(2, "auto, cpu or cuda", "predict", "--device", "gpu");
        assertFails(2, "--batch-size", "predict", "--batch-size", "0");
        assertFails(1, "--device cuda was requested", "predict", "--device", "cuda");
        assertFails(2, "--input needs --model", "predict", "--input", x.toString());
    }

    /**
     * An empty path (an unset shell variable) is a wrong command line, not the current folder: an
     * empty --output-dir would write the results where the command runs.
     */
    @Test
    void emptyPathsAreRefused() throws IOException {
        String model = resource("simplernn_flatten_fixedbatch_k213.h5").toString();
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, Tensor.of(new float[] {0.3f, -1.2f, 0.7f}, 3, 1, 1), false);
        Path cwd = Path.of("").toAbsolutePath();
        assertFails(2, "--output-dir is empty", "predict", "--model", model, "--input", x.toString(), "--output-dir", "",
                "--quiet");
        assertFalse(Files.exists(cwd.resolve("summary.json")) || Files.exists(cwd.resolve("out_0.npy")),
                "nothing written to the current folder");
        assertFails(2, "--model is empty", "predict", "--model", "", "--input", x.toString(), "--output-dir",
                dir.resolve("o").toString());
        assertFails(2, "--input is empty", "predict", "--model", model, "--input", "", "--output-dir",
                dir.resolve("o").toString());
        assertFails(2, "--model is empty", "summary", "--model", "");
        assertFalse(Files.exists(dir.resolve("o")));
        assertFails(1, "is a folder", "predict", "--model", model, "--input", dir.toString(), "--output-dir",
                dir.resolve("o").toString());
    }

    @Test
    void existingOutputsAreNotOverwrittenUnlessAsked() throws IOException {
        String model = resource("simplernn_flatten_fixedbatch_k213.h5").toString();
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, Tensor.zeros(2, 1, 1), false);
        Path results = dir.resolve("results");
        Files.createDirectories(results);
        Path mine = results.resolve("out_0.npy");
        Files.writeString(mine, "precious");
        assertFails(1, "already holds out_0.npy", "predict", "--model", model, "--input", x.toString(), "--output-dir",
                results.toString(), "--quiet");
        assertEquals("precious", Files.readString(mine));
        assertFalse(Files.exists(results.resolve("summary.json")));
        out.reset();
        err.reset();
        assertEquals(0, run("predict", "--model", model, "--input", x.toString(), "--output-dir", results.toString(),
                "--overwrite", "--quiet"), err());
        try (NpyReader r = NpyReader.open(mine)) {
            assertEquals(2, r.rows());
        }
    }

    /**
     * The output folder as a whole: a run into a folder another run is writing to is refused; a
     * folder in the place of an output is refused before anything changes; with --overwrite an
     * earlier run's extra out_k.npy go and summary.json describes only the new run; without it, any
     * out_k.npy there (not only the new run's) stops the run.
     */
    @Test
    void theOutputFolderHoldsOneCompleteRun() throws IOException, InterruptedException {
        Path twoOut = dev.rnnrt.io.keras.TfjsCases.writeH5(dev.rnnrt.io.keras.TfjsCases.named("bidirectional_mul_and_none"),
                dir.resolve("two.h5"));
        Path oneOut = dev.rnnrt.io.keras.TfjsCases.writeH5(dev.rnnrt.io.keras.TfjsCases.named("recurrent_activations"),
                dir.resolve("one.h5"));
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, dev.rnnrt.testing.Fixtures.tensor(
                dev.rnnrt.io.keras.TfjsCases.named("recurrent_activations").get("inputs").get(0)), false);
        Path results = dir.resolve("results");
        String[] two = {"predict", "--model", twoOut.toString(), "--input", x.toString(), "--output-dir",
                results.toString(), "--quiet"};
        Files.createDirectories(results);
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHolder.class.getName(),
                results.resolve(".rnnrt-predict.lock").toString()).redirectErrorStream(true).start();
        try {
            assertEquals("locked", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8)).readLine(), "the other process took the lock");
            assertFails(1, "another rnnrt predict is writing to", two);
            assertTrue(Files.exists(results.resolve(".rnnrt-predict.lock")), "another run's lock is left alone");
            assertFalse(Files.exists(results.resolve("out_0.npy")));
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the lock holder ends");
        }
        assertEquals(0, run(two), err());
        Path probe = Files.createFile(dir.resolve("umask-probe"));
        assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(results.resolve("out_0.npy")),
                "outputs are created as any new file is (the umask), not owner-only");
        assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(results.resolve("summary.json")));
        assertTrue(Files.exists(results.resolve("out_1.npy")));
        try (var files = Files.list(results)) {
            assertEquals(java.util.List.of("out_0.npy", "out_1.npy", "summary.json"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "no temporary files or lock left");
        }
        byte[] summary = Files.readAllBytes(results.resolve("summary.json"));

        Files.createDirectory(results.resolve("out_1.npy.d"));
        Files.delete(results.resolve("out_1.npy"));
        Files.move(results.resolve("out_1.npy.d"), results.resolve("out_1.npy"));
        assertFails(1, "out_1.npy is there and is not a file", "predict", "--model", twoOut.toString(), "--input",
                x.toString(), "--output-dir", results.toString(), "--overwrite", "--quiet");
        org.junit.jupiter.api.Assertions.assertArrayEquals(summary, Files.readAllBytes(results.resolve("summary.json")),
                "a refused run changes nothing");
        Files.delete(results.resolve("out_1.npy"));
        Files.writeString(results.resolve("out_1.npy"), "an earlier run's second output");
        Files.createDirectory(results.resolve("out_3.npy"));
        assertFails(1, "out_3.npy is there and is not a file", "predict", "--model", oneOut.toString(), "--input",
                x.toString(), "--output-dir", results.toString(), "--overwrite", "--quiet");
        org.junit.jupiter.api.Assertions.assertArrayEquals(summary, Files.readAllBytes(results.resolve("summary.json")),
                "a refused run changes nothing");
        Files.delete(results.resolve("out_3.npy"));
        Files.writeString(results.resolve("out_007.npy"), "not a name rnnrt writes");
        Files.writeString(results.resolve("out_99999999999.npy"), "nor this");

        assertFails(1, "already holds out_0.npy, out_1.npy, summary.json", "predict", "--model", oneOut.toString(),
                "--input", x.toString(), "--output-dir", results.toString(), "--quiet");
        out.reset();
        err.reset();
        assertEquals(0, run("predict", "--model", oneOut.toString(), "--input", x.toString(), "--output-dir",
                results.toString(), "--overwrite", "--quiet"), err());
        assertFalse(Files.exists(results.resolve("out_1.npy")), "an earlier run's out_1.npy would pass for this run's");
        assertTrue(Files.exists(results.resolve("out_007.npy")) && Files.exists(results.resolve("out_99999999999.npy")),
                "files of other names are left alone");
        JsonNode s = new ObjectMapper().readTree(results.resolve("summary.json").toFile());
        assertEquals(1, s.get("outputs").size());
        assertTrue(s.get("model").asText().endsWith("one.h5"), s.toString());
    }

    /**
     * A run that fails after creating its output folder removes the folders it created; a layer's
     * complaint about a value in a later batch says which rows of the files that batch holds.
     */
    @Test
    void aFailedRunLeavesNothingAndNamesTheRows() throws IOException {
        JsonNode c = dev.rnnrt.io.keras.TfjsCases.named("embedding_bidirectional_time_distributed");
        Path model = dev.rnnrt.io.keras.TfjsCases.writeH5(c, dir.resolve("ids.h5"));
        Tensor ids = dev.rnnrt.testing.Fixtures.tensor(c.get("inputs").get(0));
        float[] bad = ids.data().clone();
        bad[2 * ids.dim(1) + 3] = 100000;              // row 2, step 3: no such id
        Path x = dir.resolve("ids.npy");
        NpyWriter.write(x, Tensor.of(bad, ids.shape()), false);
        Path created = dir.resolve("new");
        assertFails(1, "in row 2 of the input files", "predict", "--model", model.toString(), "--input",
                x.toString(), "--output-dir", created.resolve("sub").toString(), "--batch-size", "2", "--quiet");
        assertTrue(err().contains("100000") && err().contains("at [2, 3]"), err());
        assertFalse(Files.exists(created), "the folders the failed run created are gone");
    }

    @Test
    void aStatefulModelRunsInBatchesOfItsOwnSize() {
        dev.rnnrt.layers.Lstm lstm = dev.rnnrt.layers.Lstm.builder(2).stateful(true).build();
        dev.rnnrt.model.Model fixed = dev.rnnrt.model.Model.sequential("fixed").batchSize(3).input(-1, 2).add(lstm)
                .build();
        assertEquals(3, PredictCommand.batchSize(fixed, null, 9));
        assertEquals(3, PredictCommand.batchSize(fixed, 3, 9));
        CliException other = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                () -> PredictCommand.batchSize(fixed, 256, 9));
        assertTrue(other.getMessage().contains("fixed batch size of 3") && other.getMessage().contains("--batch-size 256"),
                other.getMessage());
        CliException ragged = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                () -> PredictCommand.batchSize(fixed, null, 10));
        assertTrue(ragged.getMessage().contains("10 rows, not a multiple of 3"), ragged.getMessage());

        dev.rnnrt.model.Model free = dev.rnnrt.model.Model.sequential("free").input(-1, 2)
                .add(dev.rnnrt.layers.Lstm.builder(2).stateful(true).build()).build();
        assertEquals(PredictCommand.DEFAULT_BATCH_SIZE, PredictCommand.batchSize(free, null, 10));
        assertEquals(5, PredictCommand.batchSize(free, 5, 10));
        org.junit.jupiter.api.Assertions.assertThrows(CliException.class, () -> PredictCommand.batchSize(free, 4, 10));
        // a model without stateful layers takes what was asked
        dev.rnnrt.model.Model plain = dev.rnnrt.model.Model.sequential("plain").batchSize(3).input(-1, 2)
                .add(dev.rnnrt.layers.Lstm.builder(2).build()).build();
        assertEquals(4, PredictCommand.batchSize(plain, 4, 10));
    }

    @Test
    void verboseAddsTheStackTrace() {
        assertEquals(1, run("summary", "--model", dir.resolve("none.h5").toString(), "--verbose"));
        assertTrue(err().contains("no such file") && err().contains("\tat "), err());
        err.reset();
        assertEquals(1, run("summary", "--model", dir.resolve("none.h5").toString()));
        assertEquals(1, err().strip().lines().count(), err());
    }

    @Test
    void summaryCommandPrintsTheModel() {
        assertEquals(0, run("summary", "--model", resource("medaka_bigru_resetafter_false_k215.h5").toString()));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("keras_version 2.1.5") && text.contains("reset_after=False")
                && text.contains("Total params"), text);
    }

    /** A save_weights file given as --model is named as such, with what to do in command-line terms. */
    @Test
    void aWeightsOnlyFileSaysItHasNoModelConfig() {
        Path weights = dir.resolve("weights.h5");
        try (io.jhdf.WritableHdfFile f = io.jhdf.HdfFile.write(weights)) {
            f.putAttribute("keras_version", "2.4.0");
            f.putAttribute("backend", "tensorflow");
            f.putAttribute("layer_names", new String[] {"dense"});
            f.putGroup("dense").putAttribute("weight_names", new String[] {"dense/kernel:0"});
        }
        Path x = dir.resolve("x.npy");
        dev.rnnrt.io.npy.NpyWriter.write(x, new dev.rnnrt.testing.RandomTensors(91L).uniform(1, 2, 3, 4), false);
        String[][] commands = {{"summary", "--model", weights.toString()},
            {"predict", "--model", weights.toString(), "--input", x.toString(), "--output-dir",
                dir.resolve("out").toString(), "--device", "cpu", "--quiet"}};
        for (String[] command : commands) {
            assertFails(1, weights + " holds a model's weights but no model config", command);
            for (String part : new String[] {"model.save_weights", "--model needs the whole model",
                "model.save(\"model.keras\")", "KerasModelLoader.loadWeights(file, json)", "model.to_json()"}) {
                assertTrue(err().contains(part), command[0] + ": stderr lacks '" + part + "': " + err());
            }
        }
        assertFalse(java.nio.file.Files.exists(dir.resolve("out")), "predict wrote nothing");
    }

    private void assertFails(int code, String part, String... args) {
        out.reset();
        err.reset();
        int rc = run(args);
        assertEquals(code, rc, String.join(" ", args) + " -> " + err());
        assertTrue(err().contains(part), "stderr lacks '" + part + "': " + err());
        assertEquals(1, err().strip().lines().filter(l -> l.startsWith("rnnrt: ") && !l.contains("running on")).count(),
                err());
    }

    private static byte[] npyBytes(String descr, String shape, int dataBytes) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        String h = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        byte[] head = h.getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[10 + head.length + dataBytes];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) head.length, (byte) (head.length >> 8)};
        System.arraycopy(magic, 0, b, 0, 10);
        System.arraycopy(head, 0, b, 10, head.length);
        return b;
    }
}
