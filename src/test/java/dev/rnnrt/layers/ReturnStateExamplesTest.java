package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every number printed by two published Keras examples of return_state and return_sequences (a
 * notebook with recent Keras, and an article with Keras before 2.3), to 1e-6, written the way a user
 * would write those examples with rnnrt.
 */
class ReturnStateExamplesTest {

    private static final double EPS = 1e-6;

    /** {@code array([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]).reshape((1, 3, 2))} */
    private static final Tensor DATA = Tensor.of(new float[] {0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f}, 1, 3, 2);

    // keras-return-state-notebook.txt: recent Keras, recurrent_activation = sigmoid
    private static final double[] NOTEBOOK_SEQUENCE = {0.00772376, 0.01633997, 0.02572775};
    private static final double NOTEBOOK_CELL = 0.05020291;
    // keras-return-state-article.txt: older Keras, recurrent_activation = hard_sigmoid (Keras 2)
    private static final double[] ARTICLE_SEQUENCE = {0.00767819, 0.01597687, 0.02480672};
    private static final double ARTICLE_CELL = 0.04864851;

    /** LSTM(units, kernel_initializer=k_init, bias_initializer=b_init, recurrent_initializer=r_init, ...) */
    private static Lstm.Builder exampleLstm() {
        return Lstm.builder(1)
                .kernelInitializer(Initializer.constant(0.1))
                .biasInitializer(Initializer.constant(0))
                .recurrentInitializer(Initializer.constant(0.1));
    }

    @Test
    void notebookReturnSequences() {
        Tensor output = exampleLstm().returnSequences(true).build().call(DATA).output();
        assertArrayEquals(new int[] {1, 3, 1}, output.shape());
        assertValues(NOTEBOOK_SEQUENCE, output);
    }

    @Test
    void notebookLastOutput() {
        Tensor preds = exampleLstm().build().call(DATA).output();
        assertArrayEquals(new int[] {1, 1}, preds.shape());
        assertValues(new double[] {0.02572775}, preds);
    }

    @Test
    void notebookReturnState() {
        List<Tensor> output = exampleLstm().returnState(true).build().call(DATA).asList();
        assertEquals(3, output.size());
        for (Tensor t : output) {
            assertArrayEquals(new int[] {1, 1}, t.shape());
        }
        assertValues(new double[] {0.02572775}, output.get(0));
        assertValues(new double[] {0.02572775}, output.get(1));
        assertValues(new double[] {NOTEBOOK_CELL}, output.get(2));
    }

    @Test
    void articleReturnSequences() {
        Tensor output = exampleLstm().recurrentActivation(Activation.HARD_SIGMOID_KERAS2).returnSequences(true)
                .build().call(DATA).output();
        assertArrayEquals(new int[] {1, 3, 1}, output.shape());
        assertValues(ARTICLE_SEQUENCE, output);
    }

    @Test
    void articleLastOutput() {
        Tensor preds = exampleLstm().recurrentActivation(Activation.HARD_SIGMOID_KERAS2).build().call(DATA).output();
        assertArrayEquals(new int[] {1, 1}, preds.shape());
        assertValues(new double[] {0.02480672}, preds);
    }

    @Test
    void articleReturnState() {
        List<Tensor> output = exampleLstm().recurrentActivation(Activation.HARD_SIGMOID_KERAS2).returnState(true)
                .build().call(DATA).asList();
        assertEquals(3, output.size());
        assertValues(new double[] {0.02480672}, output.get(0));
        assertValues(new double[] {0.02480672}, output.get(1));
        assertValues(new double[] {ARTICLE_CELL}, output.get(2));
    }

    @Test
    void articleReturnSequencesAndState() {
        List<Tensor> output = exampleLstm().recurrentActivation(Activation.HARD_SIGMOID_KERAS2).returnSequences(true)
                .returnState(true).build().call(DATA).asList();
        assertEquals(3, output.size());
        assertArrayEquals(new int[] {1, 3, 1}, output.get(0).shape());
        assertArrayEquals(new int[] {1, 1}, output.get(1).shape());
        assertArrayEquals(new int[] {1, 1}, output.get(2).shape());
        assertValues(ARTICLE_SEQUENCE, output.get(0));
        assertValues(new double[] {0.02480672}, output.get(1));
        assertValues(new double[] {ARTICLE_CELL}, output.get(2));
    }

    @Test
    void notebookReturnSequencesAndState() {
        List<Tensor> output = exampleLstm().returnSequences(true).returnState(true).build().call(DATA).asList();
        assertValues(NOTEBOOK_SEQUENCE, output.get(0));
        assertValues(new double[] {0.02572775}, output.get(1));
        assertValues(new double[] {NOTEBOOK_CELL}, output.get(2));
    }

    /** The article's Keras predates 2.3, whose default recurrent_activation was hard_sigmoid. */
    @Test
    void articleByKerasVersionDefaults() {
        Lstm lstm = exampleLstm().kerasVersion(KerasVersion.parse("2.2.4")).returnSequences(true).build();
        assertEquals(Activation.HARD_SIGMOID_KERAS2, lstm.recurrentActivation());
        assertValues(ARTICLE_SEQUENCE, lstm.call(DATA).output());
    }

    @Test
    void articleByNameInKeras2() {
        Lstm lstm = exampleLstm().kerasVersion(KerasVersion.KERAS_2).recurrentActivation("hard_sigmoid")
                .returnSequences(true).build();
        assertValues(ARTICLE_SEQUENCE, lstm.call(DATA).output());
    }

    private static void assertValues(double[] expected, Tensor actual) {
        assertEquals(expected.length, actual.size());
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], actual.data()[k], EPS, "value " + k);
        }
    }
}
