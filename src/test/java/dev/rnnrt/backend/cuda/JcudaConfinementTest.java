package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Only backend/cuda may name JCuda: everything else must load and run on a machine without a
 * CUDA driver, which holds as long as no other class links against JCuda's.
 */
class JcudaConfinementTest {

    private static final Pattern JCUDA = Pattern.compile("\\bjcuda\\.");

    @Test
    void noMainSourceOutsideBackendCudaNamesJcuda() throws IOException {
        Path root = Path.of("src/main/java");
        Path cuda = root.resolve("dev/rnnrt/backend/cuda");
        try (Stream<Path> files = Files.walk(root)) {
            List<String> offenders = files.filter(p -> p.toString().endsWith(".java") && !p.startsWith(cuda))
                    .filter(p -> {
                        try {
                            return JCUDA.matcher(Files.readString(p)).find();
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .map(Path::toString).sorted().toList();
            assertEquals(List.of(), offenders, "these name jcuda outside backend/cuda");
        }
    }
}
