package dev.rnnrt.cli;

import dev.rnnrt.io.keras.LoadedModel;
import java.io.PrintStream;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rnnrt summary --model PATH}: what the loaded model is made of. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Prints a model's layers, output shapes, parameter counts and the options that decide its numbers.")
final class SummaryCommand implements Runnable {

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "A Keras .h5 or .keras file.")
    Path model;

    @Mixin
    VerboseOption verbose;

    @Override
    public void run() {
        CliException.requireNonEmpty("--model", model);
        LoadedModel loaded = ModelFiles.load(model, dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
        PrintStream out = Main.Streams.out();
        out.println("File: " + model + " (" + loaded.format() + ", keras_version "
                + (loaded.kerasVersion() == null ? "unknown" : loaded.kerasVersion()) + ")");
        out.print(loaded.model().summary());
        for (String w : loaded.warnings()) {
            Main.Streams.err().println("rnnrt: warning: " + w);
        }
    }
}
