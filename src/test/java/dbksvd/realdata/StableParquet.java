package dbksvd.realdata;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Util;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Copies a Parquet file with its footer made independent of the JVM that wrote it. parquet-mr collects each column
 * chunk's encodings (e.g. PLAIN_DICTIONARY and RLE) in a HashSet of enum constants, whose iteration order follows
 * identity hash codes and so changes from one run to the next: two builds of the same rows differed in exactly
 * those list orders (6 bytes of a 51.6 MB file). Sorting each list by the encoding's number gives the same bytes
 * every time; everything else in the file is copied as it is.
 */
final class StableParquet {
  private StableParquet() {}

  private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);

  static void copy(FileSystem fs, Path from, Path to) throws IOException {
    copy(fs, from, to, encodings -> encodings.sort(Comparator.comparingInt(Encoding::getValue)));
  }

  /** As {@link #copy(FileSystem, Path, Path)}, with each encodings list put in order by {@code order}. */
  static void copy(FileSystem fs, Path from, Path to, java.util.function.Consumer<List<Encoding>> order)
      throws IOException {
    long size = fs.getFileStatus(from).getLen();
    try (FSDataInputStream in = fs.open(from); FSDataOutputStream out = fs.create(to, false)) {
      byte[] tail = new byte[8];
      in.readFully(size - 8, tail);
      if (!java.util.Arrays.equals(MAGIC, java.util.Arrays.copyOfRange(tail, 4, 8))) {
        throw new IOException(from + " is not a Parquet file (no PAR1 at its end)");
      }
      int length = ByteBuffer.wrap(tail, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      long footerStart = size - 8 - length;
      byte[] footer = new byte[length];
      in.readFully(footerStart, footer);
      FileMetaData meta = Util.readFileMetaData(new ByteArrayInputStream(footer));
      for (RowGroup group : meta.getRow_groups()) {
        for (ColumnChunk chunk : group.getColumns()) {
          ColumnMetaData column = chunk.getMeta_data();
          List<Encoding> encodings = new ArrayList<>(column.getEncodings());
          order.accept(encodings);
          column.setEncodings(encodings);
        }
      }
      ByteArrayOutputStream rewritten = new ByteArrayOutputStream(length);
      Util.writeFileMetaData(meta, rewritten);
      if (rewritten.size() != length) {
        throw new IOException("the footer of " + from + " re-encodes to " + rewritten.size() + " bytes, not " + length);
      }
      in.seek(0);
      byte[] buf = new byte[1 << 20];
      for (long left = footerStart; left > 0; ) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException(from + " ended early");
        }
        out.write(buf, 0, n);
        left -= n;
      }
      rewritten.writeTo(out);
      out.write(tail);
    }
  }
}
