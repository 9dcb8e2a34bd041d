package dev.rnnrt.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every recurrent backend must compute: the Keras layer outputs in
 * fixtures/recurrent/recurrent_cases.json, made independently with PyTorch by make_fixtures.py
 * (LSTM, GRU with reset_after True and False, SimpleRNN; return modes, go_backwards,
 * initial_state, masks with zero_output_for_mask, use_bias, activations). One subclass per backend.
 */
public abstract class RecurrentBackendContract {

    /** The backend under test. */
    protected abstract RecurrentBackend backend();

    /** The threshold for ‖out − expected‖ / ‖expected‖ against the float64 fixtures. */
    protected abstract double threshold();

    static Stream<Arguments> cases() {
        List<Arguments> args = new ArrayList<>();
        for (JsonNode c : Fixtures.json("fixtures/recurrent/recurrent_cases.json").get("cases")) {
            args.add(Arguments.of(c.get("name").asText(), c));
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesIndependentFixture(String name, JsonNode fixture) {
        RecurrentLayer layer = layerFor(fixture, backend());
        JsonNode weights = fixture.get("weights");
        List<Tensor> w = new ArrayList<>();
        w.add(Fixtures.tensor(weights.get("kernel")));
        w.add(Fixtures.tensor(weights.get("recurrent_kernel")));
        if (weights.has("bias")) {
            w.add(Fixtures.tensor(weights.get("bias")));
        }
        layer.setWeights(w);

        RecurrentOutput out = layer.call(Fixtures.tensor(fixture.get("input")),
                Fixtures.tensors(fixture.get("initial_state")), Fixtures.mask(fixture.get("mask")));

        List<Tensor> actual = out.asList();
        JsonNode expected = fixture.get("expected");
        Assertions.assertEquals(expected.size(), actual.size(), name + ": number of returned tensors");
        for (int k = 0; k < actual.size(); k++) {
            Compare.assertClose(name + " [" + backend().name() + "] return value " + k,
                    Fixtures.shape(expected.get(k)), Fixtures.doubles(expected.get(k)), actual.get(k), threshold());
        }
    }

    /** Builds the layer a fixture describes, through the public builders, as a user would. */
    static RecurrentLayer layerFor(JsonNode fixture, RecurrentBackend backend) {
        JsonNode cfg = fixture.get("config");
        int units = cfg.get("units").asInt();
        KerasVersion version = KerasVersion.parse(cfg.get("keras_version").asText());
        String activation = cfg.get("activation").asText();
        String recurrentActivation = cfg.get("recurrent_activation").asText();
        boolean useBias = cfg.get("use_bias").asBoolean();
        boolean seq = cfg.get("return_sequences").asBoolean();
        boolean state = cfg.get("return_state").asBoolean();
        boolean back = cfg.get("go_backwards").asBoolean();
        boolean zero = cfg.get("zero_output_for_mask").asBoolean();
        switch (fixture.get("layer").asText()) {
            case "LSTM":
                return Lstm.builder(units).kerasVersion(version).activation(activation)
                        .recurrentActivation(recurrentActivation).useBias(useBias).returnSequences(seq)
                        .returnState(state).goBackwards(back).zeroOutputForMask(zero).backend(backend).build();
            case "GRU":
                return Gru.builder(units).kerasVersion(version).activation(activation)
                        .recurrentActivation(recurrentActivation).resetAfter(cfg.get("reset_after").asBoolean())
                        .useBias(useBias).returnSequences(seq).returnState(state).goBackwards(back)
                        .zeroOutputForMask(zero).backend(backend).build();
            case "SimpleRNN":
                return SimpleRnn.builder(units).kerasVersion(version).activation(activation).useBias(useBias)
                        .returnSequences(seq).returnState(state).goBackwards(back).zeroOutputForMask(zero)
                        .backend(backend).build();
            default:
                throw new IllegalArgumentException("Unknown layer in fixture: " + fixture.get("layer"));
        }
    }
}
