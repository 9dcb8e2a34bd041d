package dev.rnnrt.io.npy;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.FileErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a .npy file (format 1.0, C order, little-endian) whose shape is known up front, in
 * chunks of rows, so that outputs are streamed to disk as they are computed. {@link #close()}
 * checks that exactly the declared number of values was written.
 */
public final class NpyWriter implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final NpyDtype dtype;
    private final long expected;
    private long written;

    private NpyWriter(Path path, FileChannel channel, NpyDtype dtype, long expected) {
        this.path = path;
        this.channel = channel;
        this.dtype = dtype;
        this.expected = expected;
    }

    /**
     * Creates (or, when {@code overwrite}, replaces) a .npy file of the given dtype and shape.
     *
     * @throws NpyException when the file exists and {@code overwrite} is false, or cannot be written
     */
    public static NpyWriter create(Path path, NpyDtype dtype, int[] shape, boolean overwrite) {
        long count = 1;
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(path + ": shape " + java.util.Arrays.toString(shape) + " has a negative size.");
            }
            count *= d;
            dims.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, Math.max(0, dims.length() - 2)) + ")";
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int unpadded = 10 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        FileChannel ch;
        try {
            ch = overwrite
                    ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)
                    : FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new NpyException(path + " already exists; pass overwrite = true to replace it.", e);
        } catch (IOException e) {
            throw new NpyException(path + ": cannot write (" + FileErrors.reason(e) + ").", e);
        }
        ByteBuffer pre = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        pre.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        pre.putShort((short) header.length());
        pre.put(header.getBytes(StandardCharsets.US_ASCII));
        pre.flip();
        NpyWriter w = new NpyWriter(path, ch, dtype, count);
        w.write(pre);
        return w;
    }

    /** Writes a whole float32 tensor to a new file. */
    public static void write(Path path, Tensor t, boolean overwrite) {
        try (NpyWriter w = create(path, NpyDtype.FLOAT32, t.shape(), overwrite)) {
            w.append(t);
        }
    }

    /** Appends rows of float32 values (the tensor's values in order). The file's dtype must be float32 or float64. */
    public void append(Tensor rows) {
        requireOpen();
        float[] v = rows.data();
        ByteBuffer buf = ByteBuffer.allocate(v.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            switch (dtype) {
                case FLOAT32 -> buf.putFloat(f);
                case FLOAT64 -> buf.putDouble(f);
                default -> throw new IllegalStateException(path + " is an integer file; append whole numbers with appendRaw.");
            }
        }
        buf.flip();
        written += v.length;
        checkNotTooMany();
        write(buf);
    }

    /** Appends values of the file's own dtype: float[], double[], int[] or long[]. */
    public void appendRaw(Object values) {
        requireOpen();
        int n = java.lang.reflect.Array.getLength(values);
        ByteBuffer buf = ByteBuffer.allocate(n * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case FLOAT32 -> buf.asFloatBuffer().put((float[]) values);
            case FLOAT64 -> buf.asDoubleBuffer().put((double[]) values);
            case INT32 -> buf.asIntBuffer().put((int[]) values);
            case INT64 -> buf.asLongBuffer().put((long[]) values);
            default -> throw new IllegalStateException();
        }
        written += n;
        checkNotTooMany();
        write(buf);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new NpyException(path + ": cannot finish writing (" + FileErrors.reason(e) + ").", e);
        }
        if (written != expected) {
            throw new NpyException(path + ": " + written + " values were written but the header declares " + expected
                    + "; the file is incomplete.");
        }
    }

    private void requireOpen() {
        if (!channel.isOpen()) {
            throw new IllegalStateException("The NpyWriter of " + path + " was used after it was closed; the file "
                    + "holds what was appended before close().");
        }
    }

    private void checkNotTooMany() {
        if (written > expected) {
            throw new NpyException(path + ": more values than the declared shape holds (" + expected + ").");
        }
    }

    private void write(ByteBuffer buf) {
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } catch (IOException e) {
            throw new NpyException(path + ": cannot write (" + FileErrors.reason(e) + ").", e);
        }
    }
}
