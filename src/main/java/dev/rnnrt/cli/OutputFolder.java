package dev.rnnrt.cli;

import dev.rnnrt.io.FileErrors;
import dev.rnnrt.io.npy.NpyDtype;
import dev.rnnrt.io.npy.NpyWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The folder {@code predict} writes its results to: out_0.npy, out_1.npy, … and summary.json.
 *
 * <p>What it guarantees: one run at a time writes to a folder (a lock, {@code .rnnrt-predict.lock},
 * held for the run and removed after, and within one JVM a registry of the folders held; a link or
 * any other file under that name is refused, never followed or overwritten); outputs are written
 * to temporary files of their own and put
 * in place only when every one is complete; summary.json is written last, so a folder whose
 * summary.json is missing holds no complete run, and one that has it holds exactly that run's
 * outputs (with {@code --overwrite}, the old summary.json goes first and out_k.npy files of an
 * earlier run with more outputs go before the new summary is written). Without {@code --overwrite}
 * nothing that is there is replaced. A failed or interrupted run removes its temporary files, and
 * the folders it created if they are still empty; the temporary files of a run killed outright
 * (kill -9) are removed by the next run that writes to the folder.
 */
final class OutputFolder implements AutoCloseable {

    static final String SUMMARY_FILE = "summary.json";
    static final String LOCK_FILE = ".rnnrt-predict.lock";
    /** The names rnnrt gives outputs: out_0.npy, out_1.npy, … (no leading zeros). */
    private static final Pattern OUTPUT = Pattern.compile("out_(0|[1-9]\\d{0,8})\\.npy");
    /** The names of rnnrt's temporary files: .out_0.npy.&lt;UUID&gt;.partial, .summary.json.&lt;UUID&gt;.partial. */
    private static final String UUID_TEXT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final Pattern PARTIAL = Pattern.compile(
            "\\.(out_(0|[1-9]\\d{0,8})\\.npy|summary\\.json)\\." + UUID_TEXT + "\\.partial");
    /** What a run writes into its lock file: a UUID of its own. */
    private static final Pattern TOKEN = Pattern.compile(UUID_TEXT);
    private static final int TOKEN_LENGTH = 36;
    /**
     * The folders the live OutputFolders of this JVM hold, by the folder's identity: its file key
     * (device and inode), which every name of the folder shares (a link, another mount, another case
     * on a case-insensitive file system, a new name after a move), or its real path where the file
     * system has no file key. A second one for such a folder is refused before it opens the lock file
     * at all: closing its descriptor of the file would drop the first one's lock, a POSIX record lock,
     * which the kernel drops when the process closes any descriptor of the file.
     */
    private static final Set<Object> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final boolean overwrite;
    private final List<Path> created = new ArrayList<>();
    private final List<Path> partials = new CopyOnWriteArrayList<>();
    /** An earlier run's out_k.npy beyond this run's outputs: removed with --overwrite. */
    private final List<Path> stale = new ArrayList<>();
    /** Cleans up when the JVM is stopped (Ctrl-C, kill) during the run. */
    private final Thread cleanup = new Thread(this::close, "rnnrt-cleanup");
    private FileChannel lockChannel;
    private FileLock lock;
    /**
     * The lock file opened a second time, through its path, to read the token back. It stays open until
     * the lock is released: the lock is a POSIX record lock, which the kernel drops as soon as the
     * process closes any descriptor of the file, not only the one that took it.
     */
    private FileChannel lockCheck;
    /** This folder's entry in {@link #HELD}, while it has one; null before and after. */
    private Object held;
    private boolean complete;
    /**
     * Set by the first {@link #close()}, the run's own or the shutdown hook's. complete(), partial(),
     * writer() and close() hold this object's monitor, so a hook that runs while the outputs are being
     * put in place waits until they all are, and one that ran first leaves nothing for them to place
     * and no file to make again: the lock is never let go of while a result is still moving into the
     * folder.
     */
    private boolean closed;

    private OutputFolder(Path dir, boolean overwrite) {
        this.dir = dir;
        this.overwrite = overwrite;
    }

    /**
     * Creates the folder (and missing parents), takes its lock and checks that the run may write
     * {@code outputs} outputs there.
     */
    static OutputFolder open(Path dir, boolean overwrite, int outputs) {
        OutputFolder f = new OutputFolder(dir, overwrite);
        try {
            f.prepare(outputs);
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private void prepare(int outputs) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new CliException("--output-dir " + dir + " is a file, not a folder.");
        }
        try {
            List<Path> missing = new ArrayList<>();
            for (Path p = dir.toAbsolutePath(); p != null && !Files.exists(p); p = p.getParent()) {
                missing.add(0, p);
            }
            for (Path p : missing) {
                try {
                    Files.createDirectory(p);
                    created.add(0, p);
                } catch (FileAlreadyExistsException e) {
                    // "a/.." or "a/." of a folder just created: there already, as mkdir -p takes it
                    if (!Files.isDirectory(p)) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            throw new CliException("cannot create the output folder " + dir + " (" + FileErrors.reason(e) + ").", e);
        }
        lock();
        List<String> existing = new ArrayList<>();
        for (int k = 0; k < outputs; k++) {
            checkReplaceable(output(k));
        }
        checkReplaceable(dir.resolve(SUMMARY_FILE));
        for (Path p : outputsThere()) {
            existing.add(p.getFileName().toString());
            if (outputIndex(p) >= outputs) {
                checkReplaceable(p);
                stale.add(p);
            }
        }
        if (Files.exists(dir.resolve(SUMMARY_FILE))) {
            existing.add(SUMMARY_FILE);
        }
        if (!existing.isEmpty() && !overwrite) {
            throw new CliException(dir + " already holds " + String.join(", ", existing)
                    + "; pass --overwrite to replace them, or choose another --output-dir.");
        }
        removeLeftPartials();
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Removes the temporary files of a run that was killed outright (kill -9, a crash), which could not
     * remove its own: a run holds the lock as long as it has any, so those found under the lock are
     * left by a run that is gone.
     */
    private void removeLeftPartials() {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (PARTIAL.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new CliException("cannot remove the temporary files a stopped run left in " + dir + " ("
                    + FileErrors.reason(e) + ").", e);
        }
    }

    /**
     * Takes the folder's lock. A run that ends removes the lock file while it holds the lock, so a run
     * that opened the file just before may lock a file no longer there: each run writes a token of
     * its own into the file it locked and reads it back through the path, and tries again if the path
     * shows another file.
     */
    private void lock() {
        Path lockPath = dir.resolve(LOCK_FILE);
        Object key;
        try {
            Object fileKey = Files.readAttributes(dir, BasicFileAttributes.class).fileKey();
            key = fileKey != null ? fileKey : dir.toRealPath();
        } catch (IOException e) {
            throw new CliException("cannot read the output folder " + dir + " (" + FileErrors.reason(e) + ").", e);
        }
        if (!HELD.add(key)) {
            throw busy();                       // another OutputFolder of this JVM: its lock file is left untouched
        }
        held = key;
        String token = java.util.UUID.randomUUID().toString();
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                refuseIfNotALockFile(lockPath);
                try {
                    // no link is followed, so a link planted under this name cannot make us write elsewhere
                    lockChannel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    refuseIfNotALockFile(lockPath);     // it became one meanwhile
                    throw e;
                }
                try {
                    lock = lockChannel.tryLock();
                } catch (OverlappingFileLockException e) {
                    lock = null;
                }
                if (lock == null) {
                    unlock();
                    throw busy();
                }
                String notOurs = notALockFile(lockPath, lockChannel);
                if (notOurs != null) {
                    throw notALockFile(lockPath, notOurs);
                }
                lockChannel.truncate(0);
                lockChannel.write(ByteBuffer.wrap(token.getBytes(StandardCharsets.US_ASCII)), 0);
                lockChannel.force(false);
                if (token.equals(readBack(lockPath))) {
                    return;         // lockCheck stays open with the lock
                }
                unlock();           // a file the run before removed: try the one there now
            } catch (CliException e) {
                unlock();           // leaves the file there as it is
                throw e;
            } catch (IOException e) {
                unlock();
                throw new CliException("the output folder " + dir + " is not writable (" + FileErrors.reason(e) + ").", e);
            }
        }
        throw new CliException("cannot take the lock of the output folder " + dir + " (" + LOCK_FILE + " keeps "
                + "changing); is another rnnrt predict starting there?");
    }

    /** The refusal of a folder another run holds, whether of this process or another. */
    private CliException busy() {
        return new CliException("another rnnrt predict is writing to " + dir + "; wait for it to finish, "
                + "or choose another --output-dir.");
    }

    /** Refuses a lock path that is there as something other than a plain file (a link, a folder, a pipe). */
    private void refuseIfNotALockFile(Path lockPath) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(lockPath, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (a.isSymbolicLink()) {
            throw notALockFile(lockPath, "is a symbolic link");
        }
        if (!a.isRegularFile()) {
            throw notALockFile(lockPath, "is not a file");
        }
    }

    /**
     * Why the locked file is not an rnnrt lock file, or null if it is one: a lock file holds nothing
     * (new) or one run's token, and has no other name (a hard link would make its other name's
     * contents ours to overwrite). Only then may the run write its token into it.
     */
    private static String notALockFile(Path lockPath, FileChannel ch) throws IOException {
        Object links;
        try {
            links = Files.getAttribute(lockPath, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            links = null;       // no link count on this file system: the contents decide
        }
        if (links instanceof Integer n && n > 1) {
            return "is one of " + n + " names of a file (a hard link)";
        }
        long size = ch.size();
        if (size != 0) {
            ByteBuffer buf = ByteBuffer.allocate(TOKEN_LENGTH);
            while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
                // read what is there, up to a token's length
            }
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
            if (size != TOKEN_LENGTH || !TOKEN.matcher(text).matches()) {
                return "holds something else (" + size + " bytes, not a run's token)";
            }
        }
        return null;
    }

    private CliException notALockFile(Path lockPath, String why) {
        return new CliException(lockPath + " " + why + "; rnnrt keeps its lock for the folder in a file of that name and "
                + "will not write to this one. Move it away, or choose another --output-dir.");
    }

    /** Lets go of the lock (if taken) and closes the lock file's channels; leaves the file where it is. */
    private void unlock() {
        try {
            if (lock != null) {
                lock.release();
            }
        } catch (IOException ignored) {
            // closing the channel below releases it too
        }
        lock = null;
        for (FileChannel ch : new FileChannel[] {lockChannel, lockCheck}) {
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
        lockChannel = null;
        lockCheck = null;
    }

    /**
     * The token in the file the lock path names now, or null if there is none; opens it as
     * {@link #lockCheck}, which is kept open (see there) and not closed here.
     */
    private String readBack(Path lockPath) throws IOException {
        try {
            lockCheck = FileChannel.open(lockPath, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            refuseIfNotALockFile(lockPath);     // a link put there since: not ours
            throw e;
        }
        ByteBuffer buf = ByteBuffer.allocate(TOKEN_LENGTH + 1);
        while (buf.hasRemaining() && lockCheck.read(buf, buf.position()) > 0) {
            // one byte past a token, so that a longer file does not match
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
    }

    private void checkReplaceable(Path p) {
        if (Files.exists(p) && !Files.isRegularFile(p)) {
            throw new CliException(p + " is there and is not a file; move it away, or choose another --output-dir.");
        }
    }

    private List<Path> outputsThere() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> OUTPUT.matcher(p.getFileName().toString()).matches()).sorted().toList();
        } catch (IOException e) {
            throw new CliException("cannot list the output folder " + dir + " (" + FileErrors.reason(e) + ").", e);
        }
    }

    /** Where output {@code k} ends up. */
    Path output(int k) {
        return dir.resolve("out_" + k + ".npy");
    }

    /** A new temporary file beside output {@code k}, removed unless the run completes. */
    synchronized Path partial(int k) {
        if (closed) {
            throw new CliException("the run was stopped; no more results go into " + dir + ".");
        }
        try {
            return newPartial(".out_" + k + ".npy.");
        } catch (IOException e) {
            throw new CliException("cannot write to the output folder " + dir + " (" + FileErrors.reason(e) + ").", e);
        }
    }

    /**
     * Opens a writer on a temporary file {@link #partial} made, under the same monitor as close(): a
     * shutdown hook that removed the file first cannot have it made again by the writer, to be left
     * behind once the lock is gone.
     */
    synchronized NpyWriter writer(Path partial, NpyDtype dtype, int[] shape) {
        if (closed || !partials.contains(partial)) {
            throw new CliException("the run was stopped; no more results go into " + dir + ".");
        }
        return NpyWriter.create(partial, dtype, shape, true);
    }

    /**
     * Puts the complete outputs in place (partial k becomes out_k.npy), removes an earlier run's
     * summary.json first and its extra out_k.npy after, then writes summary.json.
     */
    synchronized void complete(List<Path> done, byte[] summary) {
        if (closed) {
            throw new CliException("the run was stopped before its results were put in place in " + dir + ".");
        }
        Path summaryPath = dir.resolve(SUMMARY_FILE);
        try {
            if (overwrite) {
                Files.deleteIfExists(summaryPath);
            }
            for (int k = 0; k < done.size(); k++) {
                place(done.get(k), output(k));
            }
            for (Path p : stale) {
                Files.deleteIfExists(p);
            }
            Path temp = newPartial(".summary.json.");
            Files.write(temp, summary);
            place(temp, summaryPath);
        } catch (IOException e) {
            throw new CliException("cannot write the results in " + dir + ": " + (e instanceof FileAlreadyExistsException
                    ? e.getMessage() + " appeared during the run" : FileErrors.reason(e)), e);
        }
        complete = true;
    }

    /**
     * A new file of a name no other run uses, created as the output files are (their permissions
     * follow the umask, not a temporary file's owner-only ones).
     */
    private Path newPartial(String prefix) throws IOException {
        Path p = dir.resolve(prefix + java.util.UUID.randomUUID() + ".partial");
        Files.createFile(p);
        partials.add(p);
        return p;
    }

    private static int outputIndex(Path p) {
        return Integer.parseInt(p.getFileName().toString().replaceAll("\\D", ""));
    }

    private void place(Path from, Path to) throws IOException {
        if (overwrite) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Files.move(from, to);       // fails if something appeared there meanwhile
        }
        partials.remove(from);
    }

    private void removePartials() {
        for (Path p : partials) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort while the run is being stopped
            }
        }
    }

    /** Removes what an unfinished run left (temporary files, folders it created that are empty) and the lock. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        removePartials();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException | IllegalArgumentException ignored) {
            // shutting down, or the hook was never added
        }
        try {
            if (lock != null) {
                Files.deleteIfExists(dir.resolve(LOCK_FILE));
            }
        } catch (IOException ignored) {
            // the lock goes with the process
        }
        unlock();
        if (held != null) {
            HELD.remove(held);
            held = null;
        }
        if (!complete) {
            for (Path p : created) {
                try {
                    Files.deleteIfExists(p);    // only while empty
                } catch (IOException ignored) {
                    // not empty: something else is there now
                }
            }
        }
    }
}
