package dev.rnnrt.io.npy;

/** The .npy element types rnnrt reads and writes: little-endian float32, float64, int32, int64. */
public enum NpyDtype {
    FLOAT32("<f4", 4), FLOAT64("<f8", 8), INT32("<i4", 4), INT64("<i8", 8);

    private final String descr;
    private final int bytes;

    NpyDtype(String descr, int bytes) {
        this.descr = descr;
        this.bytes = bytes;
    }

    /** numpy's descr string, e.g. "&lt;f4". */
    public String descr() {
        return descr;
    }

    public int bytes() {
        return bytes;
    }

    /** The dtype of a descr, or null when rnnrt does not support it. */
    static NpyDtype of(String descr) {
        for (NpyDtype d : values()) {
            if (d.descr.equals(descr)) {
                return d;
            }
        }
        return null;
    }
}
