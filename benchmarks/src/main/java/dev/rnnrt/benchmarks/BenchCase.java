package dev.rnnrt.benchmarks;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.npy.NpyReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One benchmark shape's weights, input and ONNX model, made by peers/make_case.py so that every
 * backend and peer runs the same numbers. Cases are cached under benchmarks/target/cases.
 */
final class BenchCase {

    final Path dir;
    final Tensor kernel;
    final Tensor recurrentKernel;
    final Tensor bias;
    final Tensor x;

    private BenchCase(Path dir) {
        this.dir = dir;
        this.kernel = read(dir.resolve("kernel.npy"));
        this.recurrentKernel = read(dir.resolve("recurrent_kernel.npy"));
        this.bias = read(dir.resolve("bias.npy"));
        this.x = read(dir.resolve("x.npy"));
    }

    static BenchCase make(String cell, int units, int batch, int time) throws IOException, InterruptedException {
        Path root = Path.of(System.getProperty("rnnrt.bench.cases", "target/cases"));
        Path dir = root.resolve(cell + "_H" + units + "_B" + batch + "_T" + time);
        if (!Files.exists(dir.resolve("model.onnx"))) {
            String script = System.getProperty("rnnrt.bench.peers", "peers") + "/make_case.py";
            Process p = new ProcessBuilder("/usr/bin/python3", script, cell, Integer.toString(units),
                    Integer.toString(units), Integer.toString(batch), Integer.toString(time), "20261122", dir.toString())
                    .inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(script + " failed for " + dir + "; it needs python3-numpy and python3-onnx");
            }
        }
        return new BenchCase(dir);
    }

    private static Tensor read(Path p) {
        try (NpyReader r = NpyReader.open(p)) {
            return r.readRows(0, r.rows());
        }
    }
}
