package dev.rnnrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java example in README.md compiles as written against rnnrt: its imports included, with only
 * the values it leaves to the reader (inputs, weights, earlier layers) declared around it, as method
 * parameters of fully qualified types, so that every name the example itself uses needs its imports.
 */
class ReadmeExamplesTest {

    private static final String TENSOR = "dev.rnnrt.api.Tensor";
    private static final String TENSORS = "java.util.List<dev.rnnrt.api.Tensor>";

    /** Each example in README order: a line it holds, and the values it leaves to the reader. */
    private static final String[][] EXAMPLES = {
        {"RecurrentOutput out = lstm.call(x);",
            TENSOR + " kernel, " + TENSOR + " recurrentKernel, " + TENSOR + " bias, " + TENSOR + " x"},
        {"Model tagger = Model.sequential(\"tagger\")",
            TENSOR + " x, " + TENSOR + " encoderInput, " + TENSOR + " decoderInput"},
        {"RecurrentOutput step = decoderLstm.step(inputs, states);",
            TENSOR + " startToken, " + TENSORS + " encoderStates, int maxDecoderSeqLength, dev.rnnrt.layers.Lstm "
                    + "decoderLstm, dev.rnnrt.layers.Dense decoderDense, " + TENSORS + " allOutputs"},
        {"LoadedModel loaded = KerasModelLoader.load(", TENSOR + " x"},
    };

    @Test
    void everyJavaExampleCompilesAsWritten(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        List<String> examples = new ArrayList<>();
        while (m.find()) {
            examples.add(m.group(1));
        }
        assertEquals(EXAMPLES.length, examples.size(), "Java examples in README.md (list each one here)");
        List<File> sources = new ArrayList<>();
        for (int k = 0; k < examples.size(); k++) {
            String example = examples.get(k);
            assertTrue(example.contains(EXAMPLES[k][0]), "README example " + k + " is not the one that holds '"
                    + EXAMPLES[k][0] + "':\n" + example);
            StringBuilder imports = new StringBuilder();
            StringBuilder body = new StringBuilder();
            for (String line : example.split("\n")) {
                (line.startsWith("import ") ? imports : body).append(line).append('\n');
            }
            Path source = dir.resolve("ReadmeExample" + k + ".java");
            Files.writeString(source, imports + "\nclass ReadmeExample" + k + " {\n    void run(" + EXAMPLES[k][1]
                    + ") throws Exception {\n" + body + "    }\n}\n");
            sources.add(source.toFile());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK's compiler");
        String classes = Path.of(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, null)) {
            boolean ok = javac.getTask(null, files, diagnostics, List.of("-proc:none", "-cp", classes, "-d",
                    dir.toString()), null, files.getJavaFileObjectsFromFiles(sources)).call();
            StringBuilder errors = new StringBuilder();
            diagnostics.getDiagnostics().forEach(d -> errors.append(d).append('\n'));
            assertTrue(ok, "README's Java examples do not compile:\n" + errors);
        }
    }
}
