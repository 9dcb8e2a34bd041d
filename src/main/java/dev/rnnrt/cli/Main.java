package dev.rnnrt.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code rnnrt} command: {@code predict}, {@code summary}, {@code info}, {@code demo}.
 * Errors are one line on stderr and a non-zero exit code (1: the run failed, 2: the command line
 * was wrong); {@code --verbose} adds the stack trace.
 */
@Command(name = "rnnrt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs Keras recurrent models (SimpleRNN, LSTM, GRU, Bidirectional, …) with exact Keras semantics.",
        subcommands = {PredictCommand.class, SummaryCommand.class, InfoCommand.class, DemoCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command line; returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean verbose = parsed.hasMatchedOption("--verbose")
                    || (parsed.subcommand() != null && parsed.subcommand().hasMatchedOption("--verbose"));
            cmd.getErr().println("rnnrt: " + oneLine(e));
            if (verbose) {
                e.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return e instanceof CliException c ? c.exitCode() : CliException.FAILED;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("rnnrt: " + oneLine(e) + " (see: " + cmd.getCommandSpec().qualifiedName() + " --help)");
            cmd.getErr().flush();
            return CliException.USAGE;
        });
        Streams.set(out, err);
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("rnnrt: out of memory (the Java heap holds at most " + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MiB): use a smaller --batch-size, or give Java more memory, e.g. JAVA_OPTS=-Xmx8g ./rnnrt ...");
            if (java.util.Arrays.asList(args).contains("--verbose")) {
                e.printStackTrace(err);
            }
            err.flush();
            return CliException.FAILED;
        } finally {
            Streams.clear();
        }
    }

    /** Without a subcommand: the usage. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.replace('\n', ' ');
    }

    /** The version from the jar manifest, or "development" when run from classes. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"rnnrt " + version()};
        }
    }

    /** The streams of the current run, so that commands print where the caller asked. */
    static final class Streams {
        private static final ThreadLocal<PrintStream[]> CURRENT = new ThreadLocal<>();

        static void set(PrintStream out, PrintStream err) {
            CURRENT.set(new PrintStream[] {out, err});
        }

        static void clear() {
            CURRENT.remove();
        }

        static PrintStream out() {
            PrintStream[] s = CURRENT.get();
            return s == null ? System.out : s[0];
        }

        static PrintStream err() {
            PrintStream[] s = CURRENT.get();
            return s == null ? System.err : s[1];
        }
    }
}
