package dev.rnnrt.cli;

import picocli.CommandLine.Command;

/** {@code rnnrt demo}: the two seed examples, printed as the seed documents print them. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs the seed examples: a one-unit LSTM with return_sequences / return_state, "
                + "with Keras 2.3+'s sigmoid and older Keras' hard_sigmoid.")
final class DemoCommand implements Runnable {

    @Override
    public void run() {
        SeedDemo.print(Main.Streams.out());
    }
}
