package dev.rnnrt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rnnrt.api.Backend;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.keras.LoadedModel;
import dev.rnnrt.layers.InputValueException;
import dev.rnnrt.io.npy.NpyDtype;
import dev.rnnrt.io.npy.NpyReader;
import dev.rnnrt.io.npy.NpyWriter;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.model.Model;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rnnrt predict}: runs a Keras model on .npy inputs, batch by batch, and writes one .npy per
 * output plus summary.json. Without {@code --model} it runs the bundled example. An output with NaN
 * or infinite values is written as computed, with a warning that counts them and says whether the
 * inputs held such values ({@link NonFinite}).
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Runs a Keras model on .npy inputs and writes DIR/out_0.npy, DIR/out_1.npy, … "
                + "(in the model's output order) and DIR/summary.json.",
                "Without --model: runs a small bundled example model on a bundled input and prints the results."})
final class PredictCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "PATH", description = "A Keras .h5 or .keras model file.")
    Path model;

    @Option(names = "--input", paramLabel = "X.npy",
            description = "One .npy per model input, in the model's input order (float32, float64, int32 or int64).")
    List<Path> inputs = new ArrayList<>();

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where to write out_<k>.npy and summary.json.")
    Path outputDir;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda",
            description = "auto (CUDA when usable, else the CPU), cpu, or cuda (fail if it cannot be used). Default: ${DEFAULT-VALUE}.")
    String device;

    /** Sequences per batch when --batch-size is not given (and the model does not fix its own). */
    static final int DEFAULT_BATCH_SIZE = 256;

    @Option(names = "--batch-size", paramLabel = "N",
            description = "Sequences per batch. Default: 256, or a stateful model's fixed batch size.")
    Integer batchSizeOption;

    /** The batch size of this run: --batch-size, or what the model calls for. */
    private int batchSize;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|tf32",
            description = "fp32 (default), or tf32 for CUDA's tensor-core GEMMs.")
    String precision;

    @Option(names = "--overwrite", description = "Replace existing output files.")
    boolean overwrite;

    @Option(names = "--quiet", description = "No progress bar and no notes on stderr.")
    boolean quiet;

    @Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws IOException {
        PrintStream out = Main.Streams.out();
        PrintStream err = quiet ? new PrintStream(PrintStream.nullOutputStream()) : Main.Streams.err();
        if (batchSizeOption != null && batchSizeOption < 1) {
            throw CliException.usage("--batch-size must be at least 1; got " + batchSizeOption + ".");
        }
        String prec = precision.toLowerCase(Locale.ROOT);
        if (!prec.equals("fp32") && !prec.equals("tf32")) {
            throw CliException.usage("--precision must be fp32 or tf32; got '" + precision + "'.");
        }
        Device dev;
        try {
            dev = Device.valueOf(device.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--device must be auto, cpu or cuda; got '" + device + "'.");
        }
        CliException.requireNonEmpty("--model", model);
        for (Path in : inputs) {
            CliException.requireNonEmpty("--input", in);
        }
        CliException.requireNonEmpty("--output-dir", outputDir);
        boolean example = model == null;
        if (example && !inputs.isEmpty()) {
            throw CliException.usage("--input needs --model: name the model the inputs are for.");
        }
        if (!example && outputDir == null) {
            throw CliException.usage("predict --model needs --output-dir DIR for the results.");
        }
        Path tempDir = example ? Files.createTempDirectory("rnnrt-example") : null;
        try {
            Path modelPath = example ? extract("example_model.h5", tempDir) : model;
            List<Path> inputPaths = example ? List.of(extract("example_input.npy", tempDir)) : inputs;
            return run(out, err, dev, prec, example, modelPath, inputPaths);
        } finally {
            if (tempDir != null) {
                deleteTree(tempDir);
            }
        }
    }

    private int run(PrintStream out, PrintStream err, Device dev, String prec, boolean example, Path modelPath,
                    List<Path> inputPaths) throws IOException {
        try (Backend.Opened choice = dev.resolve(prec, err)) {
            return run(out, err, choice, prec, example, modelPath, inputPaths);
        } catch (RuntimeException | IOException e) {
            throw e;
        } catch (Exception e) {
            throw new CliException("could not release the device: " + e.getMessage(), e);
        }
    }

    private int run(PrintStream out, PrintStream err, Backend.Opened choice, String prec, boolean example,
                    Path modelPath, List<Path> inputPaths) throws IOException {
        long loadStart = System.nanoTime();
        LoadedModel loaded = ModelFiles.load(modelPath, choice.backend());
        double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
        for (String w : loaded.warnings()) {
            err.println("rnnrt: warning: " + w);
        }
        Model m = loaded.model();
        List<NpyReader> readers = openInputs(m, inputPaths);
        int n = readers.get(0).rows();
        try {
            batchSize = batchSize(m, batchSizeOption, n);
        } catch (CliException e) {
            for (NpyReader r : readers) {
                r.close();
            }
            throw e;
        }
        try (OutputFolder folder = outputDir == null ? null
                : OutputFolder.open(outputDir, overwrite, m.outputNames().size())) {
            Run result = predict(m, readers, n, folder);
            List<String> nonFinite = nonFiniteWarnings(m, example, inputPaths, readers, result);
            for (String w : nonFinite) {
                err.println("rnnrt: warning: " + w);
            }
            Map<String, Object> summary = summary(loaded, modelPath, inputPaths, readers, result, choice, prec,
                    loadSeconds, example, nonFinite);
            if (folder != null) {
                folder.complete(result.partials(),
                        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(summary));
            }
            report(out, loaded, example, inputPaths, readers, result, choice);
            return 0;
        } finally {
            for (NpyReader r : readers) {
                r.close();
            }
        }
    }

    /**
     * The batch size: {@code asked} or the default, except that a stateful model's sequence i of
     * each batch continues sequence i of the one before, so that every batch must hold the same
     * number of sequences, its fixed batch size where it has one (as Keras requires).
     */
    static int batchSize(Model m, Integer asked, int n) {
        int b = asked == null ? DEFAULT_BATCH_SIZE : asked;
        if (!m.isStateful()) {
            return b;
        }
        String why = "model '" + m.name() + "' is stateful: sequence i of each batch continues sequence i of the batch "
                + "before, so every batch holds ";
        if (m.fixedBatchSize().isPresent()) {
            int fixed = m.fixedBatchSize().getAsInt();
            if (asked != null && asked != fixed) {
                throw new CliException(why + "its fixed batch size of " + fixed + " sequences (its batch_input_shape); "
                        + "got --batch-size " + asked + ". Leave --batch-size out, or give " + fixed + ".");
            }
            b = fixed;
            if (n % b != 0) {
                throw new CliException(why + "its fixed batch size of " + b + " sequences (its batch_input_shape), but the "
                        + "input files hold " + n + " rows, not a multiple of " + b + ".");
            }
        } else if (n > b && n % b != 0) {
            throw new CliException(why + b + " sequences (" + (asked == null ? "the default batch size" : "--batch-size")
                    + "), but the input files hold " + n
                    + " rows, not a multiple of " + b + ". Give a --batch-size that divides " + n + ".");
        }
        return b;
    }

    /**
     * What a run produced: the output shapes, the outputs themselves when kept in memory (no output
     * folder) or their complete temporary files, timings, and the NaN and infinite values of each
     * input and output, counted as the batches passed.
     */
    private record Run(List<int[]> shapes, List<Tensor> kept, List<Path> partials, int sequences, double seconds,
                       List<NonFinite> inputsNonFinite, List<NonFinite> outputsNonFinite) {
    }

    private Run predict(Model m, List<NpyReader> readers, int n, OutputFolder folder) {
        int outputs = m.outputNames().size();
        List<NpyWriter> writers = new ArrayList<>();
        List<Path> partials = new ArrayList<>();
        List<List<Tensor>> kept = new ArrayList<>();
        List<int[]> shapes = new ArrayList<>();
        List<NonFinite> inputsNonFinite = new ArrayList<>();
        for (int i = 0; i < readers.size(); i++) {
            inputsNonFinite.add(new NonFinite());
        }
        List<NonFinite> outputsNonFinite = new ArrayList<>();
        // per row of a batch: whether its sequence's inputs hold a NaN or infinite value so far (a
        // stateful model's row i continues row i of the batch before, so its flag stays set)
        boolean[] nonFiniteRows = new boolean[Math.min(batchSize, n)];
        boolean stateful = m.isStateful();
        boolean progress = !quiet && System.console() != null;
        long start = System.nanoTime();
        ProgressBar bar = new ProgressBar(Main.Streams.err(), progress, n, start);
        try {
            for (int from = 0; from < n; from += batchSize) {
                int count = Math.min(batchSize, n - from);
                List<Tensor> batch = new ArrayList<>();
                if (!stateful) {
                    Arrays.fill(nonFiniteRows, false);
                }
                for (int i = 0; i < readers.size(); i++) {
                    Tensor x = readers.get(i).readRows(from, count);
                    int row = x.size() / count;
                    inputsNonFinite.get(i).addInput(x.data(), (long) from * row, row, nonFiniteRows);
                    batch.add(x);
                }
                List<Tensor> y = predictBatch(m, batch, from, count, n);
                if (from == 0) {
                    for (int k = 0; k < outputs; k++) {
                        int[] s = y.get(k).shape();
                        s[0] = n;
                        shapes.add(s);
                        kept.add(new ArrayList<>());
                        outputsNonFinite.add(new NonFinite());
                        if (folder != null) {
                            Path partial = folder.partial(k);
                            partials.add(partial);
                            writers.add(folder.writer(partial, NpyDtype.FLOAT32, s));
                        }
                    }
                }
                for (int k = 0; k < outputs; k++) {
                    Tensor yk = y.get(k);
                    int row = yk.size() / count;
                    outputsNonFinite.get(k).addOutput(yk.data(), (long) from * row, row, nonFiniteRows);
                    if (writers.isEmpty()) {
                        kept.get(k).add(yk);
                    } else {
                        writers.get(k).append(yk);
                    }
                }
                bar.update(from + count, System.nanoTime());
            }
            for (NpyWriter w : writers) {
                w.close();
            }
            writers.clear();
        } finally {
            bar.finish();
            for (NpyWriter w : writers) {
                try {
                    w.close();
                } catch (RuntimeException ignored) {
                    // the run already failed; the output folder removes the temporary file
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<Tensor> joined = new ArrayList<>();
        if (folder == null) {
            for (int k = 0; k < outputs; k++) {
                joined.add(concat(kept.get(k), shapes.get(k)));
            }
        }
        return new Run(shapes, joined, partials, n, seconds, inputsNonFinite, outputsNonFinite);
    }

    /**
     * One batch through the model. A layer's complaint about a value names its position in the
     * batch; where the input holds more than one batch, the message says which rows of the files
     * the batch holds.
     */
    private static List<Tensor> predictBatch(Model m, List<Tensor> batch, int from, int count, int n) {
        try {
            return m.predict(batch);
        } catch (InputValueException e) {
            // the place within the batch, restated as rows of the input files
            int[] at = e.position();
            int row = from + at[0];
            at[0] = row;
            throw new CliException("in row " + row + " of the input files: " + e.at("", at).getMessage().strip()
                    + " (the place counts rows of the input files)", e);
        } catch (IllegalArgumentException e) {
            if (count == n) {
                throw e;
            }
            throw new CliException("in rows " + from + " to " + (from + count - 1) + " of the input files (a position "
                    + "[b, ...] below counts b from row " + from + "): " + e.getMessage(), e);
        }
    }

    private List<NpyReader> openInputs(Model m, List<Path> paths) {
        List<String> names = m.inputNames();
        if (paths.size() != names.size()) {
            throw new CliException("model '" + m.name() + "' takes " + names.size() + " input(s) (" + String.join(", ", names)
                    + ", in that order); got " + paths.size() + " --input file(s).");
        }
        List<NpyReader> readers = new ArrayList<>();
        try {
            List<int[]> expected = m.inputShapes();
            int n = -1;
            for (int k = 0; k < paths.size(); k++) {
                NpyReader r = NpyReader.open(paths.get(k));
                readers.add(r);
                int[] s = r.shape();
                int[] e = expected.get(k);
                boolean ok = s.length == e.length + 1;
                for (int d = 0; ok && d < e.length; d++) {
                    ok = e[d] < 0 || e[d] == s[d + 1];
                }
                if (!ok) {
                    throw new CliException(paths.get(k) + " has shape " + Arrays.toString(s) + " but model input '"
                            + names.get(k) + "' takes " + Layer.shapeText(e) + ".");
                }
                if (n >= 0 && s[0] != n) {
                    throw new CliException(paths.get(k) + " holds " + s[0] + " sequences but " + paths.get(0) + " holds "
                            + n + "; every input needs the same number.");
                }
                n = s[0];
            }
            if (n == 0) {
                throw new CliException(paths.get(0) + " holds no sequences (its first axis is 0).");
            }
            return readers;
        } catch (RuntimeException e) {
            for (NpyReader r : readers) {
                r.close();
            }
            throw e;
        }
    }

    /** The warnings of {@link NonFinite#warnings} for this run's inputs and outputs. */
    private List<String> nonFiniteWarnings(Model m, boolean example, List<Path> inputPaths, List<NpyReader> readers,
                                           Run run) {
        List<String> inputFiles = new ArrayList<>();
        List<int[]> inputShapes = new ArrayList<>();
        for (int k = 0; k < readers.size(); k++) {
            NpyReader r = readers.get(k);
            // a float64 value beyond float32's range is read as ±infinity, as Keras casts it to float32
            inputFiles.add((example ? "example_input.npy" : inputPaths.get(k).toString())
                    + (r.dtype() == NpyDtype.FLOAT64 ? ", float64 read as float32" : ""));
            inputShapes.add(r.shape());
        }
        List<String> outputFiles = null;
        if (outputDir != null) {
            outputFiles = new ArrayList<>();
            for (int k = 0; k < run.shapes().size(); k++) {
                outputFiles.add("out_" + k + ".npy");
            }
        }
        return NonFinite.warnings(m.inputNames(), inputFiles, inputShapes, run.inputsNonFinite(), m.outputNames(),
                outputFiles, run.shapes(), run.outputsNonFinite());
    }

    private Map<String, Object> summary(LoadedModel loaded, Path modelPath, List<Path> inputPaths, List<NpyReader> readers,
                                        Run run, Backend.Opened choice, String prec, double loadSeconds, boolean example,
                                        List<String> nonFinite) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("rnnrt_version", Main.version());
        s.put("model", example ? "bundled example (example_model.h5)" : modelPath.toString());
        s.put("model_name", loaded.model().name());
        s.put("format", loaded.format());
        s.put("keras_version", loaded.kerasVersion());
        List<Map<String, Object>> ins = new ArrayList<>();
        for (int k = 0; k < readers.size(); k++) {
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("name", loaded.model().inputNames().get(k));
            i.put("file", example ? "example_input.npy" : inputPaths.get(k).toString());
            i.put("shape", readers.get(k).shape());
            i.put("dtype", readers.get(k).dtype().descr());
            i.put("non_finite", run.inputsNonFinite().get(k).json());
            ins.add(i);
        }
        s.put("inputs", ins);
        List<Map<String, Object>> outs = new ArrayList<>();
        for (int k = 0; k < run.shapes().size(); k++) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", loaded.model().outputNames().get(k));
            o.put("file", "out_" + k + ".npy");
            o.put("shape", run.shapes().get(k));
            o.put("non_finite", run.outputsNonFinite().get(k).json());
            outs.add(o);
        }
        s.put("outputs", outs);
        s.put("device", choice.description());
        s.put("precision", prec);
        s.put("batch_size", batchSize);
        s.put("sequences", run.sequences());
        s.put("load_time_s", round(loadSeconds));
        s.put("wall_time_s", round(run.seconds()));
        s.put("sequences_per_second", round(run.sequences() / Math.max(run.seconds(), 1e-9)));
        List<String> warnings = new ArrayList<>(loaded.warnings());
        warnings.addAll(nonFinite);
        s.put("warnings", warnings);
        return s;
    }

    private void report(PrintStream out, LoadedModel loaded, boolean example, List<Path> inputPaths,
                        List<NpyReader> readers, Run run, Backend.Opened choice) {
        Model m = loaded.model();
        if (example) {
            out.println("rnnrt predict: no --model given, so this runs the bundled example.");
            out.println("Model: a tf.keras " + loaded.kerasVersion() + " file, Bidirectional(LSTM(6)) -> relu -> "
                    + "RepeatVector(5) -> Bidirectional(LSTM(4)) -> relu.");
            out.println();
            out.print(m.summary());
            out.println();
            out.println("Input: six sine waves of four steps, shape " + Arrays.toString(readers.get(0).shape()) + ".");
        }
        for (int k = 0; k < run.shapes().size(); k++) {
            String name = m.outputNames().get(k);
            if (outputDir != null) {
                out.println("out_" + k + ".npy  " + name + "  " + Arrays.toString(run.shapes().get(k)));
            } else {
                out.println("Output " + k + " (" + name + "), shape " + Arrays.toString(run.shapes().get(k)) + ":");
                out.println(run.kept().get(k));
            }
        }
        out.println(String.format(Locale.ROOT, "%d sequences in %.3f s (%.0f sequences/s) on %s, batch size %d%s",
                run.sequences(), run.seconds(), run.sequences() / Math.max(run.seconds(), 1e-9), choice.description(),
                batchSize, outputDir == null ? "" : "; wrote " + outputDir.resolve(OutputFolder.SUMMARY_FILE)));
        if (example) {
            out.println();
            out.println("Run your own model: ./rnnrt predict --model model.h5 --input x.npy --output-dir results");
        }
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private static Tensor concat(List<Tensor> parts, int[] shape) {
        int size = 0;
        for (Tensor t : parts) {
            size += t.size();
        }
        float[] all = new float[size];
        int off = 0;
        for (Tensor t : parts) {
            System.arraycopy(t.data(), 0, all, off, t.size());
            off += t.size();
        }
        return Tensor.wrap(all, shape);
    }

    private static Path extract(String resource, Path dir) throws IOException {
        Path target = dir.resolve(resource);
        try (InputStream in = PredictCommand.class.getResourceAsStream("/dev/rnnrt/examples/" + resource)) {
            if (in == null) {
                throw new CliException("the bundled example " + resource + " is missing from this build.");
            }
            Files.copy(in, target);
        }
        return target;
    }

    private static void deleteTree(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temporary folder; the OS cleans it eventually
        }
    }
}
