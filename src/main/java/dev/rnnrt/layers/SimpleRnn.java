package dev.rnnrt.layers;

import dev.rnnrt.backend.CellKind;

/** Keras {@code SimpleRNN}: {@code h' = act(x·W + h·U + b)}; kernel [I, H], recurrent kernel [H, H], bias [H]. */
public final class SimpleRnn extends RecurrentLayer {

    private SimpleRnn(Builder b) {
        super(CellKind.SIMPLE_RNN, b, null);
    }

    /** A builder with Keras' defaults for {@code units} units. */
    public static Builder builder(int units) {
        return new Builder(units);
    }

    @Override
    SimpleRnn recreate(String name, LoopOptions loop) {
        return copyInto(builder(units()), name, loop).build();
    }

    @Override
    int[] biasShape() {
        return new int[] {units()};
    }

    /** SimpleRNN arguments; see {@link RecurrentLayerBuilder}. */
    public static final class Builder extends RecurrentLayerBuilder<Builder> {
        Builder(int units) {
            super(CellKind.SIMPLE_RNN, units);
        }

        @Override
        Builder self() {
            return this;
        }

        @Override
        public SimpleRnn build() {
            return new SimpleRnn(this);
        }
    }
}
