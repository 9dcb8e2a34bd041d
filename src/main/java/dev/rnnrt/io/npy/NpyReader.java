package dev.rnnrt.io.npy;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.io.FileErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a .npy file (format versions 1, 2 and 3) row by row along its first axis, so that a large
 * input is streamed in batches instead of loaded whole. Supported: C order, little-endian
 * float32, float64, int32, int64; anything else is refused naming what the file holds.
 *
 * <p>The header is numpy's fixed dictionary literal ({@code {'descr': '<f4', 'fortran_order':
 * False, 'shape': (3, 4), }}, its keys and strings in single quotes or, as numpy also reads, double
 * quotes), matched strictly: no other keys, no other values.
 */
public final class NpyReader implements AutoCloseable {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    // keys and strings in single quotes, as numpy.save writes them, or double quotes, which numpy
    // reads too (a Python literal) and some other writers use
    private static final Pattern DESCR = Pattern.compile("(['\"])descr\\1\\s*:\\s*(['\"])([^'\"]*)\\2");
    private static final Pattern ORDER = Pattern.compile("(['\"])fortran_order\\1\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("(['\"])shape\\1\\s*:\\s*\\(([^)]*)\\)");
    private static final Pattern KEY = Pattern.compile("(['\"])([A-Za-z_]+)\\1\\s*:");

    private final Path path;
    private final FileChannel channel;
    private final NpyDtype dtype;
    private final int[] shape;
    private final long dataOffset;
    private final long rowValues;

    private NpyReader(Path path, FileChannel channel, NpyDtype dtype, int[] shape, long dataOffset) {
        this.path = path;
        this.channel = channel;
        this.dtype = dtype;
        this.shape = shape;
        this.dataOffset = dataOffset;
        long per = 1;
        for (int k = 1; k < shape.length; k++) {
            per *= shape[k];
        }
        this.rowValues = per;
    }

    /** Opens a .npy file and checks its header and size. */
    public static NpyReader open(Path path) {
        if (Files.isDirectory(path)) {
            throw new NpyException(path + " is a folder; give a .npy file written by numpy.save.");
        }
        if (!Files.exists(path)) {
            throw new NpyException(path + ": no such file.");
        }
        if (!Files.isRegularFile(path)) {
            throw new NpyException(path + " is not a regular file (a pipe or a device); save the array to a file "
                    + "with numpy.save.");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new NpyException(path + ": cannot read the file (" + FileErrors.reason(e) + ").", e);
        }
        try {
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, pre, 0, path);
            pre.flip();
            byte[] magic = new byte[6];
            pre.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new NpyException(path + " is not a .npy file (it does not start with \\x93NUMPY). "
                        + "Save arrays with numpy.save.");
            }
            int major = pre.get() & 0xff;
            pre.get(); // minor
            long headerLen;
            int start;
            if (major == 1) {
                headerLen = pre.getShort(8) & 0xffff;
                start = 10;
            } else if (major == 2 || major == 3) {
                headerLen = pre.getInt(8) & 0xffffffffL;
                start = 12;
            } else {
                throw new NpyException(path + ": .npy format version " + major + " is not supported (1, 2 or 3).");
            }
            if (headerLen > 1 << 20 || start + headerLen > ch.size()) {
                throw new NpyException(path + ": the .npy header claims " + headerLen + " bytes; the file is corrupt.");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, start, path);
            String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).trim();
            return parse(path, ch, header, start + headerLen);
        } catch (IOException e) {
            close(ch);
            throw new NpyException(path + ": cannot read the file (" + FileErrors.reason(e) + ").", e);
        } catch (RuntimeException e) {
            close(ch);
            throw e;
        }
    }

    private static NpyReader parse(Path path, FileChannel ch, String header, long dataOffset) throws IOException {
        if (!header.startsWith("{") || !header.endsWith("}")) {
            throw new NpyException(path + ": the .npy header is not a dictionary: " + abbreviate(header));
        }
        Matcher keys = KEY.matcher(header);
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (keys.find()) {
            String k = keys.group(2);
            if (!k.equals("descr") && !k.equals("fortran_order") && !k.equals("shape")) {
                throw new NpyException(path + ": unexpected key '" + k + "' in the .npy header.");
            }
            if (!seen.add(k)) {
                // numpy would take the last one, these patterns the first: neither reading is safe
                throw new NpyException(path + ": the .npy header gives '" + k + "' twice; numpy.save writes each key "
                        + "once, so the file is corrupt. Save the array again with numpy.save.");
            }
        }
        Matcher d = DESCR.matcher(header);
        Matcher o = ORDER.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !o.find() || !s.find()) {
            throw new NpyException(path + ": the .npy header lacks descr, fortran_order or shape: " + abbreviate(header));
        }
        String descr = d.group(3);
        NpyDtype dtype = NpyDtype.of(descr.replace("|", "<"));
        if (dtype == null) {
            throw new NpyException(path + " holds dtype '" + descr + "'; rnnrt reads little-endian float32 (<f4), "
                    + "float64 (<f8), int32 (<i4) and int64 (<i8). Convert it with array.astype(numpy.float32).");
        }
        if (o.group(2).equals("True")) {
            throw new NpyException(path + " is stored in Fortran order; rnnrt reads C order. Save "
                    + "numpy.ascontiguousarray(array) instead.");
        }
        String[] parts = s.group(2).split(",");
        java.util.List<Integer> dims = new java.util.ArrayList<>();
        for (String p : parts) {
            String t = p.trim();
            if (t.isEmpty()) {
                continue;
            }
            try {
                long v = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                if (v < 0 || v > Integer.MAX_VALUE) {
                    throw new NumberFormatException();
                }
                dims.add((int) v);
            } catch (NumberFormatException e) {
                throw new NpyException(path + ": cannot read the shape (" + s.group(2) + ") in the .npy header.");
            }
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        if (shape.length == 0) {
            throw new NpyException(path + " holds a scalar; rnnrt needs an array whose first axis is the batch.");
        }
        long need;
        try {
            long count = 1;
            for (int v : shape) {
                count = Math.multiplyExact(count, (long) v);
            }
            need = Math.addExact(dataOffset, Math.multiplyExact(count, (long) dtype.bytes()));
        } catch (ArithmeticException e) {
            throw new NpyException(path + " is corrupt: its header declares shape " + java.util.Arrays.toString(shape)
                    + ", more bytes than any file holds.");
        }
        if (ch.size() < need) {
            throw new NpyException(path + " is truncated: its header declares shape " + java.util.Arrays.toString(shape)
                    + " (" + need + " bytes) but the file has " + ch.size() + " bytes.");
        }
        return new NpyReader(path, ch, dtype, shape, dataOffset);
    }

    public NpyDtype dtype() {
        return dtype;
    }

    /** The array's shape (a copy); axis 0 is the batch. */
    public int[] shape() {
        return shape.clone();
    }

    /** The number of rows (sequences), the size of axis 0. */
    public int rows() {
        return shape[0];
    }

    public Path path() {
        return path;
    }

    /**
     * Rows {@code [start, start + count)} as a float32 tensor of shape [count, shape[1:]...].
     * Integer values must be exactly representable in float32 (|v| ≤ 2^24), as ids are.
     */
    public Tensor readRows(int start, int count) {
        requireOpen();
        if (start < 0 || count < 0 || (long) start + count > shape[0]) {
            throw new IllegalArgumentException(path + ": rows [" + start + ", " + (start + count) + ") are outside [0, "
                    + shape[0] + ").");
        }
        long values = rowValues * count;
        if (values * dtype.bytes() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": " + count + " rows hold " + values + " values ("
                    + values * dtype.bytes() + " bytes), more than one batch can; use a smaller batch size.");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) (values * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        try {
            readFully(channel, buf, dataOffset + (long) start * rowValues * dtype.bytes(), path);
        } catch (IOException e) {
            throw new NpyException(path + ": cannot read rows " + start + ".." + (start + count) + " (" + FileErrors.reason(e)
                    + ").", e);
        }
        buf.flip();
        float[] out = new float[(int) values];
        for (int k = 0; k < out.length; k++) {
            switch (dtype) {
                case FLOAT32 -> out[k] = buf.getFloat();
                case FLOAT64 -> out[k] = (float) buf.getDouble();
                case INT32 -> out[k] = exact(buf.getInt(), start, k);
                case INT64 -> out[k] = exact(buf.getLong(), start, k);
                default -> throw new IllegalStateException();
            }
        }
        int[] s = shape.clone();
        s[0] = count;
        return Tensor.wrap(out, s);
    }

    /**
     * The whole array as numpy stores it: float[], double[], int[] or long[] for the four dtypes.
     */
    public Object readAll() {
        requireOpen();
        long count = rowValues * shape[0];
        if (count * dtype.bytes() > Integer.MAX_VALUE - 8) {
            throw new NpyException(path + " is too large to read whole; read it in rows.");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) (count * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        try {
            readFully(channel, buf, dataOffset, path);
        } catch (IOException e) {
            throw new NpyException(path + ": cannot read (" + FileErrors.reason(e) + ").", e);
        }
        buf.flip();
        int n = (int) count;
        switch (dtype) {
            case FLOAT32: {
                float[] a = new float[n];
                buf.asFloatBuffer().get(a);
                return a;
            }
            case FLOAT64: {
                double[] a = new double[n];
                buf.asDoubleBuffer().get(a);
                return a;
            }
            case INT32: {
                int[] a = new int[n];
                buf.asIntBuffer().get(a);
                return a;
            }
            default: {
                long[] a = new long[n];
                buf.asLongBuffer().get(a);
                return a;
            }
        }
    }

    /** Closes the file; idempotent. Reading after it throws {@link IllegalStateException}. */
    @Override
    public void close() {
        close(channel);
    }

    private void requireOpen() {
        if (!channel.isOpen()) {
            throw new IllegalStateException("The NpyReader of " + path + " was used after it was closed; open the "
                    + "file again with NpyReader.open to read it.");
        }
    }

    private float exact(long v, int start, int k) {
        if (v < -(1L << 24) || v > (1L << 24)) {
            throw new NpyException(path + ": the integer " + v + " at row " + (start + k / rowValues)
                    + " cannot be passed as float32 exactly (|v| > 2^24).");
        }
        return (float) v;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new NpyException(path + " ended early; the file is truncated.");
            }
            pos += n;
        }
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing more to do for a file opened for reading
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
