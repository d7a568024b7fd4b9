package dbksvd.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/**
 * Writes one file (any Hadoop file system) so that it appears complete or not at all: the bytes go to a hidden
 * sibling ({@code .name.tmp-<uuid>}, as {@link AtomicDir} names them), which is renamed onto the target at the end; an
 * existing file is replaced. On failure the partial sibling is deleted and the old file left as it was.
 */
public final class AtomicFile {
  private AtomicFile() {}

  public static void write(Configuration conf, String path, byte[] bytes) throws IOException {
    Path target = new Path(path);
    FileSystem fs = target.getFileSystem(conf);
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    try {
      try (FSDataOutputStream out = fs.create(tmp, false)) {
        out.write(bytes);
      }
      // Hadoop's rename does not replace an existing file on every file system: delete it first
      if (fs.exists(target) && !fs.delete(target, false)) {
        throw new IOException("could not replace " + path);
      }
      if (!fs.rename(tmp, target)) {
        throw new IOException("could not write " + path);
      }
    } catch (IOException | RuntimeException e) {
      fs.delete(tmp, false);
      throw e;
    }
  }
}
