package dev.rnnrt;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import javax.tools.DiagnosticCollector;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The javadoc of every class builds with the JDK's doclint on (all its checks but the one for missing
 * comments): references resolve, the HTML is well formed ({@code <} written as {@code &lt;}), tags are
 * used where they belong. A broken comment would otherwise only show when someone builds the docs.
 */
class JavadocTest {

    @Test
    void javadocBuildsWithDoclint(@TempDir Path out) {
        DocumentationTool javadoc = ToolProvider.getSystemDocumentationTool();
        assertNotNull(javadoc, "a JDK's javadoc tool");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter log = new StringWriter();
        List<String> options = List.of("-quiet", "-Xdoclint:all,-missing", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), "-sourcepath", "src/main/java", "-subpackages", "dev.rnnrt",
                "-d", out.toString());
        boolean ok = javadoc.getTask(log, null, diagnostics, null, options, null).call();
        StringBuilder problems = new StringBuilder();
        diagnostics.getDiagnostics().stream()
                .filter(d -> d.getKind() == javax.tools.Diagnostic.Kind.ERROR
                        || d.getKind() == javax.tools.Diagnostic.Kind.WARNING
                        && !String.valueOf(d.getMessage(null)).contains("incubat"))
                .forEach(d -> problems.append(d).append('\n'));
        assertTrue(ok && problems.length() == 0, "javadoc reports:\n" + problems + log);
    }
}
