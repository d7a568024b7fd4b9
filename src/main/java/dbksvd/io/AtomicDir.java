package dbksvd.io;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.UUID;

/**
 * Writes a directory so that it appears complete or not at all: the content goes to a hidden sibling
 * ({@code .name.tmp-<uuid>}), which is renamed onto the target at the end. An existing target is refused unless
 * {@code overwrite}; then it is moved aside first and deleted after the swap. On failure the partial content is
 * deleted and the old target (if any) is left in place.
 */
public final class AtomicDir {
  private AtomicDir() {}

  @FunctionalInterface
  public interface Body {
    void write(Path tmp) throws IOException;
  }

  /** Fails with a clear message when the target exists and overwrite is off. */
  public static void checkTarget(FileSystem fs, Path target, boolean overwrite) throws IOException {
    if (!overwrite && fs.exists(target)) {
      throw new IOException("output " + target + " already exists; pass --overwrite to replace it");
    }
  }

  /** As above for a path on any Hadoop file system: the early check of an output, before any long work. */
  public static void checkTarget(org.apache.hadoop.conf.Configuration conf, String path, boolean overwrite)
      throws IOException {
    Path target = new Path(path);
    checkTarget(target.getFileSystem(conf), target, overwrite);
  }

  /** A fresh hidden sibling path for target. */
  public static Path tempSibling(Path target, String kind) {
    return new Path(target.getParent(), "." + target.getName() + "." + kind + "-" + UUID.randomUUID());
  }

  public static void write(FileSystem fs, Path target, boolean overwrite, Body body) throws IOException {
    checkTarget(fs, target, overwrite);
    Path tmp = tempSibling(target, "tmp");
    try {
      fs.mkdirs(tmp);
      body.write(tmp);
      commit(fs, tmp, target, overwrite);
    } catch (IOException | RuntimeException e) {
      fs.delete(tmp, true);
      throw e;
    }
  }

  /**
   * Deletes the temporary output of a failed write and keeps it deleted: a cancelled Spark task that Spark's status
   * tracker no longer counts (its events reach the tracker late) can still re-create the directory with its
   * clean-up. Checked every 20 ms until it has stayed absent for 200 ms, five seconds at most.
   */
  public static void deleteSettled(FileSystem fs, Path tmp) throws IOException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    long absentSince = -1;
    fs.delete(tmp, true);
    try {
      while (System.nanoTime() < deadline) {
        if (fs.exists(tmp)) {
          fs.delete(tmp, true);
          absentSince = -1;
        } else if (absentSince < 0) {
          absentSince = System.nanoTime();
        } else if (System.nanoTime() - absentSince > 200_000_000L) {
          return;
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  /** Moves a completed temporary directory onto target. */
  public static void commit(FileSystem fs, Path tmp, Path target, boolean overwrite) throws IOException {
    Path old = null;
    if (fs.exists(target)) {
      checkTarget(fs, target, overwrite);
      old = tempSibling(target, "old");
      if (!fs.rename(target, old)) {
        throw new IOException("could not move the existing " + target + " aside");
      }
    }
    if (!fs.rename(tmp, target)) {
      if (old != null) {
        fs.rename(old, target);
      }
      throw new IOException("could not rename " + tmp + " to " + target);
    }
    if (old != null) {
      fs.delete(old, true);
    }
  }
}
