package dev.rnnrt.io.keras;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * Two real files come with the inputs and predictions Keras itself computed for them
 * (*.inputs_and_outputs.h5): the loaded models must reproduce Keras' own numbers.
 */
class KerasGoldenDataTest {

    @Test
    void keras1TheanoLstmMatchesKerasPredictions() {
        Model model = KerasModelLoader.load(KerasTestFiles.path("keras1_lstm_theano_sequential.h5")).model();
        String golden = "keras1_lstm_theano_sequential.inputs_and_outputs.h5";
        Tensor x = KerasTestFiles.dataset(golden, "inputs/lstm_input_1");
        Tensor expected = KerasTestFiles.dataset(golden, "predictions/dense_1");
        Compare.assertClose("Keras 1 LSTM -> Dense, Keras' predictions", expected, model.predict(x), Tolerance.FP32);
    }

    @Test
    void simpleRnnFlattenMatchesKerasPredictions() {
        Model model = KerasModelLoader.load(KerasTestFiles.path("simplernn_flatten_fixedbatch_k213.h5")).model();
        String golden = "simplernn_flatten_fixedbatch_k213.inputs_and_outputs.h5";
        Tensor x = KerasTestFiles.dataset(golden, "inputs/simple_rnn_1_input");
        Tensor expected = KerasTestFiles.dataset(golden, "predictions/dense_1");
        Compare.assertClose("SimpleRNN -> Flatten -> Dense, Keras' predictions", expected, model.predict(x),
                Tolerance.FP32);
    }
}
