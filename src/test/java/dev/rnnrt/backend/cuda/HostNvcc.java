package dev.rnnrt.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builds small host programs from cuda/ code with nvcc and runs them, for tests without a GPU. */
final class HostNvcc {

    private HostNvcc() {
    }

    /** Whether nvcc is on the PATH. */
    static boolean present() {
        try {
            run(List.of("nvcc", "--version"));
            return true;
        } catch (IOException | InterruptedException | IllegalStateException e) {
            return false;
        }
    }

    /** Compiles {@code source} (cuda/ on the include path) in {@code dir}, runs it, returns its output lines. */
    static List<String> compileAndRun(Path dir, String name, String source) throws IOException, InterruptedException {
        Path src = dir.resolve(name + ".cu");
        Files.writeString(src, source);
        Path exe = dir.resolve(name);
        run(List.of("nvcc", "-I", Path.of("cuda").toAbsolutePath().toString(), "-o", exe.toString(), src.toString()));
        return run(List.of(exe.toString())).lines().toList();
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(command.get(0) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
