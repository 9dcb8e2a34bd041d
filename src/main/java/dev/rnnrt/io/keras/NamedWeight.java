package dev.rnnrt.io.keras;

import dev.rnnrt.api.Tensor;

/**
 * One weight array as a file stores it, with the name the file gives it (e.g.
 * "lstm/lstm_cell/kernel:0", "lstm_1_W_i", or "vars/0" in a Keras 3 archive).
 */
record NamedWeight(String name, Tensor value) {
}
