package dev.rnnrt.cli;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentOutput;
import java.io.PrintStream;
import java.util.List;
import java.util.StringJoiner;

/**
 * Two published Keras examples of return_state and return_sequences (a notebook, and the article
 * "How to use return_state or return_sequences in Keras"): a one-unit LSTM with constant initializers, run with
 * {@code return_sequences}, without it, with {@code return_state}, and with both, printed the
 * way the Keras notebook and article print them.
 *
 * <ul>
 *   <li>Keras 2.3 and later (and Keras 3): {@code recurrent_activation="sigmoid"};</li>
 *   <li>older Keras: {@code recurrent_activation="hard_sigmoid"}, Keras 2's {@code clip(0.2x + 0.5, 0, 1)}.</li>
 * </ul>
 */
public final class ReturnStateDemo {

    /** The examples' input, {@code array([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]).reshape((1, 3, 2))}. */
    public static final Tensor INPUT = Tensor.of(new float[] {0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f}, 1, 3, 2);

    private ReturnStateDemo() {
    }

    /**
     * The examples' layer: {@code LSTM(1, kernel_initializer=Constant(0.1), recurrent_initializer=Constant(0.1),
     * bias_initializer=Constant(0))} with the given recurrent activation and return modes.
     */
    public static Lstm exampleLstm(Activation recurrentActivation, boolean returnSequences, boolean returnState) {
        return Lstm.builder(1)
                .recurrentActivation(recurrentActivation)
                .kernelInitializer(Initializer.constant(0.1))
                .recurrentInitializer(Initializer.constant(0.1))
                .biasInitializer(Initializer.constant(0))
                .returnSequences(returnSequences)
                .returnState(returnState)
                .build();
    }

    /** Prints both examples. */
    public static void print(PrintStream out) {
        out.println("rnnrt demo: the Keras return_state examples, LSTM(1) with kernel and recurrent weights Constant(0.1),");
        out.println("bias Constant(0) and unit_forget_bias=True, on the input [0.1, 0.2, 0.3, 0.1, 0.2, 0.3] as (1, 3, 2).");
        out.println();
        out.println("== Keras 2.3 and later: recurrent_activation='sigmoid' (as a Keras notebook prints it) ==");
        printExample(out, Activation.SIGMOID);
        out.println();
        out.println("== Older Keras: recurrent_activation='hard_sigmoid' = clip(0.2x+0.5, 0, 1) (as the article prints it) ==");
        printExample(out, Activation.HARD_SIGMOID_KERAS2);
    }

    private static void printExample(PrintStream out, Activation recurrentActivation) {
        out.println(">>> LSTM(1, return_sequences=True)");
        Tensor seq = exampleLstm(recurrentActivation, true, false).call(INPUT).output();
        out.println(seq + " " + pythonShape(seq));
        out.println(">>> LSTM(1)");
        Tensor last = exampleLstm(recurrentActivation, false, false).call(INPUT).output();
        out.println(last + " " + pythonShape(last));
        out.println(">>> LSTM(1, return_state=True)");
        printList(out, exampleLstm(recurrentActivation, false, true).call(INPUT));
        out.println(">>> LSTM(1, return_sequences=True, return_state=True)");
        printList(out, exampleLstm(recurrentActivation, true, true).call(INPUT));
    }

    private static void printList(PrintStream out, RecurrentOutput result) {
        List<Tensor> list = result.asList();
        StringJoiner joined = new StringJoiner(", ", "[", "]");
        for (Tensor t : list) {
            joined.add("array(" + t.toString().replace("\n", "\n      ") + ", dtype=float32)");
        }
        out.println(joined);
        for (Tensor t : list) {
            out.println(pythonShape(t));
        }
    }

    /** A shape as Python prints a tuple: (1, 3, 1). */
    static String pythonShape(Tensor t) {
        StringJoiner j = new StringJoiner(", ", "(", t.rank() == 1 ? ",)" : ")");
        for (int d : t.shape()) {
            j.add(Integer.toString(d));
        }
        return j.toString();
    }
}
