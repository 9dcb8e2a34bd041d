package dev.rnnrt.cli;

import picocli.CommandLine.Option;

/** {@code --verbose}: print the stack trace of an error after its one-line message. */
final class VerboseOption {
    @Option(names = "--verbose", description = "On an error, also print its stack trace.")
    boolean verbose;
}
