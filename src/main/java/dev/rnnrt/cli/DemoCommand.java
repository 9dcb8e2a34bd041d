package dev.rnnrt.cli;

import picocli.CommandLine.Command;

/** {@code rnnrt demo}: the two Keras return_state examples, printed as their write-ups print them. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs two published Keras examples: a one-unit LSTM with return_sequences / return_state, "
                + "with Keras 2.3+'s sigmoid and older Keras' hard_sigmoid.")
final class DemoCommand implements Runnable {

    @Override
    public void run() {
        ReturnStateDemo.print(Main.Streams.out());
    }
}
