package dev.rnnrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.rnnrt.api.Backend;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.keras.KerasModelLoader;
import dev.rnnrt.io.keras.TfjsCases;
import dev.rnnrt.io.npy.NpyReader;
import dev.rnnrt.io.npy.NpyWriter;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.RandomTensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * predict's warnings for NaN and infinite outputs: counted per output, with the first index, and
 * traced to the inputs when they hold such values, or else to the model; on stderr and in
 * summary.json; none for a clean run. The numbers written are the model's, unchanged.
 */
class PredictNonFiniteTest {

    private static final long SEED = 20240611L;
    private static final int BATCH = 4;

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

    private List<String> warningLines() {
        return err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("rnnrt: warning: "))
                .map(l -> l.substring("rnnrt: warning: ".length())).toList();
    }

    /** NaN count, infinity count and the first index of either, counted from a whole output file. */
    private record Counted(long nan, long inf, String first) {
        boolean any() {
            return nan + inf > 0;
        }

        String text(long size) {
            return (nan + inf) + " of " + size + " values are NaN or ±infinite (" + nan + " NaN, " + inf
                    + " ±infinite), the first at " + first;
        }
    }

    private static Counted count(Tensor t) {
        long nan = 0;
        long inf = 0;
        int first = -1;
        float[] v = t.data();
        for (int k = 0; k < v.length; k++) {
            if (Float.isNaN(v[k]) || Float.isInfinite(v[k])) {
                nan += Float.isNaN(v[k]) ? 1 : 0;
                inf += Float.isInfinite(v[k]) ? 1 : 0;
                first = first < 0 ? k : first;
            }
        }
        int[] at = new int[t.rank()];
        for (int d = t.rank() - 1, rest = Math.max(first, 0); d >= 0; d--) {
            at[d] = rest % t.dim(d);
            rest /= t.dim(d);
        }
        return new Counted(nan, inf, Arrays.toString(at));
    }

    private static Tensor readAll(Path npy) {
        try (NpyReader r = NpyReader.open(npy)) {
            return r.readRows(0, r.rows());
        }
    }

    /**
     * The model's outputs for x, batch by batch as predict runs them, on --device cpu's backend:
     * what the output files must hold, bit for bit.
     */
    private static List<Tensor> expected(Path model, Tensor x) {
        try (Backend.Opened cpu = Backend.CPU.open(false, line -> { })) {
            Model m = KerasModelLoader.load(model, cpu.backend()).model();
            int n = x.dim(0);
            int row = x.size() / n;
            List<List<float[]>> parts = new ArrayList<>();
            List<int[]> shapes = new ArrayList<>();
            for (int from = 0; from < n; from += BATCH) {
                int count = Math.min(BATCH, n - from);
                int[] s = x.shape();
                s[0] = count;
                Tensor chunk = Tensor.of(Arrays.copyOfRange(x.data(), from * row, (from + count) * row), s);
                List<Tensor> y = m.predict(List.of(chunk));
                for (int k = 0; k < y.size(); k++) {
                    if (from == 0) {
                        parts.add(new ArrayList<>());
                        int[] full = y.get(k).shape();
                        full[0] = n;
                        shapes.add(full);
                    }
                    parts.get(k).add(y.get(k).data());
                }
            }
            List<Tensor> joined = new ArrayList<>();
            for (int k = 0; k < parts.size(); k++) {
                float[] all = new float[0];
                for (float[] p : parts.get(k)) {
                    float[] grown = Arrays.copyOf(all, all.length + p.length);
                    System.arraycopy(p, 0, grown, all.length, p.length);
                    all = grown;
                }
                joined.add(Tensor.wrap(all, shapes.get(k)));
            }
            return joined;
        }
    }

    /**
     * Runs predict on x in batches of four; checks that each output file holds the model's numbers,
     * that each output with NaN or infinite values has one warning on stderr (unless quiet) and in
     * summary.json with its counts and first index, and summary.json's counts; returns the warnings.
     */
    private List<String> predictAndCheck(Path model, Tensor x, boolean quiet) throws IOException {
        Path xFile = dir.resolve("x.npy");
        NpyWriter.write(xFile, x, true);
        Path results = dir.resolve("results");
        List<String> args = new ArrayList<>(List.of("predict", "--model", model.toString(), "--input", xFile.toString(),
                "--output-dir", results.toString(), "--batch-size", String.valueOf(BATCH), "--device", "cpu",
                "--overwrite"));
        if (quiet) {
            args.add("--quiet");
        }
        assertEquals(0, run(args.toArray(new String[0])), err.toString(StandardCharsets.UTF_8));
        JsonNode summary = new ObjectMapper().readTree(results.resolve("summary.json").toFile());
        List<String> jsonWarnings = new ArrayList<>();
        summary.get("warnings").forEach(w -> jsonWarnings.add(w.asText()));
        assertEquals(quiet ? List.of() : jsonWarnings, warningLines(), "stderr repeats summary.json's warnings");

        List<Tensor> want = expected(model, x);
        JsonNode outputs = summary.get("outputs");
        assertEquals(want.size(), outputs.size());
        int warned = 0;
        for (int k = 0; k < want.size(); k++) {
            Tensor got = readAll(results.resolve("out_" + k + ".npy"));
            assertArrayEquals(want.get(k).shape(), got.shape());
            assertArrayEquals(want.get(k).data(), got.data(), "out_" + k + ".npy holds the model's numbers, unchanged");
            Counted c = count(got);
            String head = "output '" + outputs.get(k).get("name").asText() + "' (out_" + k + ".npy): ";
            List<String> mine = jsonWarnings.stream().filter(w -> w.startsWith(head)).toList();
            if (c.any()) {
                assertEquals(1, mine.size(), head + " " + jsonWarnings);
                assertTrue(mine.get(0).startsWith(head + c.text(got.size()) + "; "), mine.get(0) + " vs " + c);
                warned++;
            } else {
                assertEquals(List.of(), mine, "no warning for an output that is all finite");
            }
            JsonNode nf = outputs.get(k).path("non_finite");
            assertEquals(c.nan(), nf.path("nan").asLong(-1), "out_" + k + " NaN count in summary.json: " + outputs.get(k));
            assertEquals(c.inf(), nf.path("inf").asLong(-1), "out_" + k + " inf count in summary.json: " + outputs.get(k));
        }
        assertEquals(warned, jsonWarnings.size(), "one warning per output with NaN or infinite values: " + jsonWarnings);
        Counted in = count(x);
        JsonNode nf = summary.get("inputs").get(0).path("non_finite");
        assertEquals(in.nan(), nf.path("nan").asLong(-1), "input NaN count in summary.json");
        assertEquals(in.inf(), nf.path("inf").asLong(-1), "input inf count in summary.json");
        return jsonWarnings;
    }

    private static Path model(Path file, double recurrentScale) {
        JsonNode c = TfjsCases.named("activation_layers").deepCopy();
        // a SimpleRNN with linear activation, whose seven outputs are activations of its sequence
        for (JsonNode w : c.get("weights").get("rnn")) {
            if (w.get("name").asText().endsWith("recurrent_kernel")) {
                ArrayNode data = (ArrayNode) w.get("value").get("data");
                for (int k = 0; k < data.size(); k++) {
                    data.set(k, data.get(k).asDouble() * recurrentScale);
                }
            }
        }
        return TfjsCases.writeH5(c, file);
    }

    @Test
    void aNaNInTheInputIsNamedWithTheOutputs() throws IOException {
        Path model = model(dir.resolve("m.h5"), 1);
        Tensor x = new RandomTensors(SEED).uniform(1, 9, 7, 3);
        float[] v = x.data();
        v[x.offset(5, 2, 1)] = Float.NaN;              // in the second batch of four
        v[x.offset(7, 4, 0)] = Float.NEGATIVE_INFINITY;
        v[x.offset(8, 6, 2)] = Float.NaN;
        List<String> warnings = predictAndCheck(model, x, false);
        assertFalse(warnings.isEmpty(), "the seed " + SEED + " gives no NaN outputs");
        String input = "input 'x' (" + dir.resolve("x.npy") + "): 3 of 189 values are NaN or ±infinite (2 NaN, "
                + "1 ±infinite), the first at [5, 2, 1]";
        for (String w : warnings) {
            assertTrue(w.endsWith("; each is in a sequence whose inputs hold NaN or infinite values, which Keras "
                    + "carries into the outputs too: " + input + "."), w);
            assertFalse(w.contains("every input is finite"), w);
        }
        assertTrue(warnings.get(0).startsWith("output 'leaky' (out_0.npy): ") && warnings.get(0).contains("[5, 2, "),
                warnings.get(0));

        // with --quiet, summary.json still has them
        assertEquals(warnings, predictAndCheck(model, x, true));
    }

    @Test
    void anOverflowFromFiniteInputsSaysTheModelMadeIt() throws IOException {
        // the recurrent kernel times 1e12: the state grows about 1e12 times a step and passes float32's range
        Path model = model(dir.resolve("big.h5"), 1e12);
        Tensor x = new RandomTensors(SEED + 1).uniform(1, 9, 7, 3);
        List<String> warnings = predictAndCheck(model, x, false);
        assertTrue(warnings.size() >= 2, "the seed " + SEED + " overflows at least two outputs: " + warnings);
        for (String w : warnings) {
            assertTrue(w.contains("every input is finite, so the model made them, for example where a value passed float32's "
                    + "range")
                    && w.contains("README.md, \"Backends\""), w);
            assertFalse(w.contains("input 'x'"), w);
        }
    }

    /**
     * A NaN input in one sequence and an overflow in another whose inputs are all finite: the
     * warning does not lay the overflow on the NaN input, but counts the values of each kind and
     * gives the first index of those the model made.
     */
    @Test
    void anOverflowInAnotherSequenceThanTheNaNInputIsToldApart() throws IOException {
        Path model = model(dir.resolve("m.h5"), 1);
        Tensor x = new RandomTensors(SEED + 4).uniform(1, 9, 7, 3);
        float[] v = x.data();
        v[x.offset(5, 2, 1)] = Float.NaN;                  // second batch of four
        for (int t = 0; t < 7; t++) {                      // sequence 2, first batch: finite, but past float32's range inside
            for (int i = 0; i < 3; i++) {
                v[x.offset(2, t, i)] = (i % 2 == 0 ? 1 : -1) * Float.MAX_VALUE;
            }
        }
        List<String> warnings = predictAndCheck(model, x, false);
        assertFalse(warnings.isEmpty(), "the seed " + (SEED + 4) + " gives no NaN outputs");
        String input = "input 'x' (" + dir.resolve("x.npy") + "): 1 of 189 values are NaN or ±infinite (1 NaN, "
                + "0 ±infinite), the first at [5, 2, 1]";
        List<String> names = new ArrayList<>();
        new ObjectMapper().readTree(dir.resolve("results/summary.json").toFile()).get("outputs")
                .forEach(o -> names.add(o.get("name").asText()));
        int mixed = 0;
        for (int k = 0; k < names.size(); k++) {
            Tensor y = readAll(dir.resolve("results/out_" + k + ".npy"));
            int row = y.size() / 9;
            long inNaNRow = 0;
            long elsewhere = 0;
            int firstElsewhere = -1;
            for (int j = 0; j < y.size(); j++) {
                if (!Float.isFinite(y.data()[j])) {
                    if (j / row == 5) {
                        inNaNRow++;
                    } else {
                        elsewhere++;
                        firstElsewhere = firstElsewhere < 0 ? j : firstElsewhere;
                    }
                }
            }
            String head = "output '" + names.get(k) + "' (out_" + k + ".npy): ";
            List<String> mine = warnings.stream().filter(w -> w.startsWith(head)).toList();
            if (inNaNRow + elsewhere == 0) {
                continue;
            }
            String w = mine.get(0);
            assertTrue(w.contains(input), w);
            if (elsewhere == 0) {
                assertTrue(w.contains("; each is in a sequence whose inputs hold NaN or infinite values"), w);
            } else if (inNaNRow == 0) {
                assertTrue(w.contains("; each is in a sequence whose inputs are all finite, so the model made them"), w);
            } else {
                int[] at = new int[y.rank()];
                for (int d = y.rank() - 1, rest = firstElsewhere; d >= 0; d--) {
                    at[d] = rest % y.dim(d);
                    rest /= y.dim(d);
                }
                assertTrue(w.contains("; " + inNaNRow + " are in sequences whose inputs hold NaN or infinite values, "
                        + "which Keras carries into the outputs too (" + input + "); the other " + elsewhere
                        + ", the first at " + Arrays.toString(at) + ", are in sequences whose inputs are all finite, "
                        + "so the model made them, for example where a value passed float32's range"), w);
                assertFalse(w.contains("every input is finite"), w);
                mixed++;
            }
        }
        assertTrue(mixed >= 1, "no output has NaN or infinite values of both kinds: " + warnings);
    }

    /** A float64 value beyond float32's range is read as infinity, as Keras casts it; the warning says so. */
    @Test
    void aFloat64InputBeyondFloat32IsNamedAsReadAsFloat32() throws IOException {
        Path model = model(dir.resolve("m.h5"), 1);
        double[] v = new double[9 * 7 * 3];
        Tensor random = new RandomTensors(SEED + 3).uniform(1, 9, 7, 3);
        for (int k = 0; k < v.length; k++) {
            v[k] = random.data()[k];
        }
        v[random.offset(6, 3, 2)] = -1e300;
        Path x = dir.resolve("x64.npy");
        try (NpyWriter w = NpyWriter.create(x, dev.rnnrt.io.npy.NpyDtype.FLOAT64, new int[] {9, 7, 3}, false)) {
            w.appendRaw(v);
        }
        assertEquals(0, run("predict", "--model", model.toString(), "--input", x.toString(), "--output-dir",
                dir.resolve("r64").toString(), "--device", "cpu"), err.toString(StandardCharsets.UTF_8));
        List<String> warnings = warningLines();
        assertFalse(warnings.isEmpty(), "-1e300 as float32 is -inf, which the linear SimpleRNN carries on");
        for (String w : warnings) {
            assertTrue(w.endsWith("input 'x' (" + x + ", float64 read as float32): 1 of 189 values are NaN or "
                    + "±infinite (0 NaN, 1 ±infinite), the first at [6, 3, 2]."), w);
        }
    }

    @Test
    void aCleanRunWarnsOfNothing() throws IOException {
        Path model = model(dir.resolve("m.h5"), 1);
        List<String> warnings = predictAndCheck(model, new RandomTensors(SEED + 2).uniform(1, 9, 7, 3), false);
        assertEquals(List.of(), warnings);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("results/summary.json").toFile());
        assertEquals("[]", summary.get("warnings").toString());
        assertEquals("{\"nan\":0,\"inf\":0}", summary.get("outputs").get(6).get("non_finite").toString());
    }
}
