package dev.rnnrt.backend.cpu;

/**
 * The right-hand matrix B [k, n] of a product, laid out the way one {@link Sgemm} reads it fastest:
 * panels of columns stored contiguously for {@link VectorSgemm}, the original array for
 * {@link PlainSgemm}. Made once by {@link Sgemm#pack} and reused for every step.
 *
 * @param data   the values
 * @param offset where row 0 starts (unpacked layout)
 * @param ld     the distance between rows (unpacked layout)
 * @param k      rows
 * @param n      columns
 * @param panelWidth columns per contiguous panel [k, panelWidth]; 0 for the unpacked layout
 */
public record PackedB(float[] data, int offset, int ld, int k, int n, int panelWidth) {
}
