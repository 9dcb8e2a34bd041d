package dev.rnnrt.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code rnnrt info}: versions, the CPU, and whether CUDA can be used here. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Prints versions, the CPU, and whether CUDA, a device, cuBLAS and rnnrt's kernels are usable here.")
final class InfoCommand implements Runnable {

    @Mixin
    VerboseOption verbose;

    @Override
    public void run() {
        PrintStream out = Main.Streams.out();
        out.println("rnnrt " + Main.version());
        out.println("Java  " + System.getProperty("java.vm.name") + " " + Runtime.version() + " ("
                + System.getProperty("java.vendor") + ")");
        out.println("OS    " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        out.println("CPU   " + cpuModel().orElse("unknown") + ", " + Runtime.getRuntime().availableProcessors()
                + " cores available to the JVM");
        out.println("Backends:");
        out.println("  cpu   available: " + dev.rnnrt.backend.cpu.RecurrentCpu.INSTANCE.name()
                + (dev.rnnrt.backend.cpu.Sgemm.best() instanceof dev.rnnrt.backend.cpu.VectorSgemm ? ""
                : " (start the JVM with --add-modules jdk.incubator.vector for the Vector API SGEMM, about 7x faster)"));
        out.println("  cpu-reference  available: plain loops, float64 accumulation (the ground truth)");
        dev.rnnrt.backend.cuda.CudaStatus cuda = dev.rnnrt.backend.cuda.CudaProbe.status();
        out.println("  cuda  " + (cuda.usable() ? "available: " : "not available: ") + cuda.describe());
        out.println("        driver: " + (cuda.driver() ? "loaded" : "not loaded") + "; device: "
                + (cuda.device() == null ? "none" : cuda.device()) + "; cuBLAS 12: "
                + (cuda.cublas() ? "loaded" : "not loaded (rnnrt's SGEMM kernel is used)") + "; kernels: "
                + (cuda.kernels() ? "in this build" : "missing"));
    }

    static Optional<String> cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return Optional.of(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
