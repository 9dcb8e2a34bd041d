package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates real Keras files — truncation, flipped bytes, overwritten blocks — and checks that
 * every load either succeeds or fails with a ModelLoadException: never another exception, an
 * error such as OutOfMemoryError, a native crash or a hang. For a longer hunt:
 * {@code -Drnnrt.fuzz.mutations=N} per file, {@code -Drnnrt.fuzz.seed=S}.
 */
class KerasFuzzTest {

    private static final long SEED = Long.getLong("rnnrt.fuzz.seed", 20261122L);
    private static final int MUTATIONS_PER_FILE = Integer.getInteger("rnnrt.fuzz.mutations", 150);
    private static final List<String> FILES = List.of("bilstm_repeatvector_bilstm_tfk224.h5", "masking_lstm_k220.h5",
            "simplernn_flatten_fixedbatch_k213.h5", "keras1_lstm_theano_sequential.h5", "emg_2gru_k392.keras",
            "emg_reshape_lstm_unroll_k392.keras");

    @TempDir
    Path dir;

    @Test
    void everyMutationLoadsOrFailsCleanly() throws IOException {
        SplittableRandom random = new SplittableRandom(SEED);
        int refused = 0;
        int total = 0;
        for (String name : FILES) {
            byte[] original = Files.readAllBytes(KerasTestFiles.path(name));
            String ext = name.substring(name.lastIndexOf('.'));
            for (int m = 0; m < MUTATIONS_PER_FILE; m++) {
                byte[] bytes = original.clone();
                String what;
                switch (m % 3) {
                    case 0 -> {
                        int len = random.nextInt(original.length);
                        bytes = Arrays.copyOf(original, len);
                        what = "truncated to " + len + " bytes";
                    }
                    case 1 -> {
                        int flips = 1 + random.nextInt(16);
                        StringBuilder at = new StringBuilder();
                        for (int f = 0; f < flips; f++) {
                            int pos = random.nextInt(bytes.length);
                            bytes[pos] ^= (byte) (1 + random.nextInt(255));
                            at.append(pos).append(' ');
                        }
                        what = flips + " bytes flipped at " + at;
                    }
                    default -> {
                        int pos = random.nextInt(bytes.length);
                        int len = Math.min(64, bytes.length - pos);
                        Arrays.fill(bytes, pos, pos + len, (byte) 0xFF);
                        what = len + " bytes set to 0xFF at " + pos;
                    }
                }
                Path file = dir.resolve("mutant" + total + ext);
                Files.write(file, bytes);
                String context = name + " " + what + " (seed " + SEED + ", mutation " + m + ")";
                total++;
                boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                    try {
                        KerasModelLoader.load(file);
                        return true;
                    } catch (ModelLoadException e) {
                        if (e.getMessage() == null || !e.getMessage().contains("mutant")) {
                            fail(context + ": the message does not name the file: " + e.getMessage());
                        }
                        return false;
                    } catch (Throwable t) {
                        fail(context + ": " + t, t);
                        return false;
                    }
                }, context + ": took too long");
                if (!ok) {
                    refused++;
                }
                Files.delete(file);
            }
        }
        // truncations alone make a third of the mutants unreadable
        assertTrue(refused >= total / 3, refused + " of " + total + " mutants refused");
    }
}
