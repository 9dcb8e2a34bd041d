package dev.rnnrt.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The reason a file operation failed, in words. Java's file exceptions often carry only the path
 * ({@code AccessDeniedException: /data/out}), so that a message built from {@code getMessage()}
 * says where but not why; this adds the why.
 */
public final class FileErrors {

    private FileErrors() {
    }

    /** "PATH: permission denied", "PATH: Read-only file system", or the message of another exception. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            String where = f.getFile() == null ? ""
                    : f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
            String why = f.getReason() != null ? f.getReason() : kind(f);
            return where.isEmpty() ? why : where + ": " + why;
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private static String kind(FileSystemException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "folder not empty";
        }
        return e.getClass().getSimpleName();
    }
}
