package dev.rnnrt.model;

import dev.rnnrt.layers.Layer;
import java.util.List;

/**
 * One call of a layer in a model, under its name (the layer's own name for its first call; a
 * shared layer's later calls have names of their own): where its inputs come from, and what it
 * outputs (shapes without the batch axis, whether each output carries a mask, and the call that
 * made that mask, or null). A call that {@code computesUnmasked} gets no masks but passes its
 * inputs' masks on ({@link ModelBuilder#computeUnmasked}).
 */
record Node(String name, Layer layer, List<Ref> inputs, List<int[]> outputShapes, List<Boolean> outputsMasked,
            List<String> maskOrigins, boolean computesUnmasked) {
}
