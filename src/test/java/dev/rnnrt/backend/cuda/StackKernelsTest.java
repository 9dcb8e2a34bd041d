package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.testing.RandomTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The element functions of cuda/stack.cu (rnnrt_merge_at, rnnrt_dense_epilogue), compiled for the
 * host by nvcc, against the Java definitions the CPU paths use: every merge mode, with and without
 * the time reversal, and the Dense epilogue for every activation, on random values. Catches index
 * arithmetic or a code transcribed wrongly, on a machine without a GPU. Skips where nvcc is not
 * installed.
 */
class StackKernelsTest {

    private static final int B = 2;
    private static final int T = 3;
    private static final int HF = 4;
    private static final int HB = 5;

    @Test
    void mergeMatchesTheJavaMergeForEveryModeWithAndWithoutReversal(@TempDir Path dir)
            throws IOException, InterruptedException {
        assumeTrue(HostNvcc.present(), "nvcc is not on the PATH; the host build of cuda/stack.cu needs it");
        RandomTensors r = new RandomTensors(9101L);
        Tensor f = r.uniform(1, B, T, HF);
        Tensor b = r.uniform(1, B, T, HB);
        Tensor bSame = r.uniform(1, B, T, HF);
        StringBuilder body = new StringBuilder();
        body.append(array("f", f)).append(array("b", b)).append(array("bs", bSame));
        body.append("int main() {\n");
        for (StackStage.Merge merge : StackStage.Merge.values()) {
            boolean concat = merge == StackStage.Merge.CONCAT;
            int width = concat ? HF + HB : HF;
            for (int reverse = 0; reverse <= 1; reverse++) {
                // without sequences the kernel sees T = 1 and B·T rows
                int t = reverse == 1 ? T : 1;
                body.append("  for (int i = 0; i < ").append(B * T * width).append("; i++) printf(\"%a\\n\", (double) ")
                        .append("rnnrt_merge_at(i, ").append(t).append(", ").append(HF).append(", ")
                        .append(concat ? HB : HF).append(", ").append(reverse).append(", ").append(merge.ordinal())
                        .append(", f, ").append(concat ? "b" : "bs").append("));\n");
            }
        }
        body.append("  printf(\"%a\\n\", (double) rnnrt_merge_at(0, 1, 4, 4, 0, 9, f, bs));\n  return 0;\n}\n");
        List<String> lines = HostNvcc.compileAndRun(dir, "merge", "#include <cstdio>\n#include \"stack.cu\"\n" + body);
        int at = 0;
        for (StackStage.Merge merge : StackStage.Merge.values()) {
            Tensor second = merge == StackStage.Merge.CONCAT ? b : bSame;
            for (int reverse = 0; reverse <= 1; reverse++) {
                Tensor expected = merge.apply(f, reverse == 1 ? StackStage.Merge.reverseTime(second) : second);
                for (int i = 0; i < expected.size(); i++) {
                    assertEquals(expected.data()[i], Float.parseFloat(lines.get(at++)), 0f,
                            merge + (reverse == 1 ? " reversed" : "") + " element " + i);
                }
            }
        }
        assertTrue(lines.get(at).contains("nan"), "an unknown merge code gives NaN: " + lines.get(at));
    }

    @Test
    void denseEpilogueAddsTheBiasAndAppliesEveryActivation(@TempDir Path dir)
            throws IOException, InterruptedException {
        assumeTrue(HostNvcc.present(), "nvcc is not on the PATH; the host build of cuda/stack.cu needs it");
        RandomTensors r = new RandomTensors(9102L);
        int rows = 3;
        int units = 7;
        Tensor y = r.uniform(2, rows, units);
        Tensor bias = r.uniform(1, units);
        StringBuilder body = new StringBuilder(array("y", y)).append(array("bias", bias)).append("int main() {\n");
        for (Activation a : Activation.values()) {
            body.append("  for (int i = 0; i < ").append(rows * units).append("; i++) printf(\"%a %a\\n\", ")
                    .append("(double) rnnrt_dense_epilogue(i, ").append(units).append(", y, bias, ").append(a.ordinal())
                    .append("), (double) rnnrt_dense_epilogue(i, ").append(units).append(", y, nullptr, ")
                    .append(a.ordinal()).append("));\n");
        }
        body.append("  return 0;\n}\n");
        List<String> lines = HostNvcc.compileAndRun(dir, "dense", "#include <cstdio>\n#include \"stack.cu\"\n" + body);
        assertEquals(Activation.values().length * rows * units, lines.size());
        int at = 0;
        for (Activation a : Activation.values()) {
            for (int i = 0; i < rows * units; i++) {
                String[] two = lines.get(at++).split(" ");
                double withBias = a.apply(y.data()[i] + bias.data()[i % units]);
                double without = a.apply(y.data()[i]);
                assertEquals(withBias, Double.parseDouble(two[0]), 1e-6 + 2e-6 * Math.abs(withBias), a + " " + i);
                assertEquals(without, Double.parseDouble(two[1]), 1e-6 + 2e-6 * Math.abs(without),
                        a + " without bias " + i);
            }
        }
    }

    /** A C array literal of the tensor's values, exact (hex floats). */
    private static String array(String name, Tensor t) {
        List<String> v = new ArrayList<>();
        for (float x : t.data()) {
            v.add(Float.toHexString(x) + "f");
        }
        return "static const float " + name + "[] = {" + String.join(", ", v) + "};\n";
    }
}
