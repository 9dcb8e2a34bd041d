package dev.rnnrt.backend;

/**
 * How the time loop runs, with Keras' meanings.
 *
 * @param goBackwards        process the steps (and the mask) in reverse time; a returned sequence
 *                           stays in processing order
 * @param returnSequences    return the output of every step, [B, T, H], instead of the last, [B, H]
 * @param zeroOutputForMask  a masked step outputs zeros instead of repeating the previous output
 */
public record LoopSpec(boolean goBackwards, boolean returnSequences, boolean zeroOutputForMask) {
}
