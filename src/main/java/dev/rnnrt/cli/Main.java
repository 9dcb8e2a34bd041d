package dev.rnnrt.cli;

import java.io.PrintStream;

/** The {@code rnnrt} command. */
public final class Main {

    private static final String USAGE = String.join("\n",
            "usage: rnnrt [demo]",
            "",
            "  demo   run the two seed examples (LSTM return_sequences / return_state) and print them",
            "         as Keras prints them; the default when no command is given");

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command; returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "demo" : args[0];
        switch (command) {
            case "demo":
                if (args.length > 1) {
                    err.println("rnnrt demo takes no arguments; got: " + String.join(" ", args).substring(5));
                    return 2;
                }
                SeedDemo.print(out);
                return 0;
            case "-h":
            case "--help":
            case "help":
                out.println(USAGE);
                return 0;
            default:
                err.println("rnnrt: unknown command '" + command + "'.");
                err.println(USAGE);
                return 2;
        }
    }
}
