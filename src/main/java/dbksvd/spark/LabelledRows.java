package dbksvd.spark;

import dbksvd.config.ZeroRows;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * The embeddings of a Parquet dataset together with other columns of the same rows (text to show, a label, a
 * split), in blocks of float[] for the encoder. Each row has a key that depends on the data only: the index of its
 * file among the dataset's files sorted by path, times 2^40, plus its index in the file ({@link #file},
 * {@link #rowIndex} undo it). All-zero embeddings are refused or, with {@link ZeroRows#SKIP}, left out.
 */
public final class LabelledRows implements Serializable {
  private static final long serialVersionUID = 1L;
  static final int ROW_BITS = 40;

  public final String input;
  public final EmbeddingColumn column;
  public final String[] extra;
  public final String[] files;
  private final Map<String, Integer> fileIndex;
  private final boolean refuseZero;
  private final transient JavaRDD<Row> rdd;

  private LabelledRows(String input, EmbeddingColumn column, String[] extra, String[] files, boolean refuseZero,
      JavaRDD<Row> rdd) {
    this.input = input;
    this.column = column;
    this.extra = extra;
    this.files = files;
    this.fileIndex = new HashMap<>();
    for (int i = 0; i < files.length; i++) {
      fileIndex.put(files[i], i);
    }
    this.refuseZero = refuseZero;
    this.rdd = rdd;
  }

  /** Opens the dataset; every named column must exist (a clear error names the missing one). */
  public static LabelledRows open(SparkSession spark, String input, String embedding, List<String> extra,
      ZeroRows zeroRows) {
    Dataset<Row> df = RowSource.read(spark, input);
    EmbeddingColumn emb = EmbeddingColumn.of(df.schema(), embedding);
    List<String> names = Arrays.asList(df.schema().fieldNames());
    for (String c : extra) {
      if (!names.contains(c)) {
        throw new BadInputException("input has no column '" + c + "'; its columns are " + names);
      }
    }
    List<org.apache.spark.sql.Column> cols = new ArrayList<>();
    cols.add(col(embedding));
    for (String c : extra) {
      cols.add(col(c));
    }
    cols.add(col("_metadata.file_path"));
    cols.add(col("_metadata.row_index"));
    Dataset<Row> sel = df.select(cols.toArray(new org.apache.spark.sql.Column[0]));
    String[] files = sel.select(col("_metadata.file_path")).distinct().collectAsList().stream()
        .map(r -> r.getString(0)).sorted().toArray(String[]::new);
    if (files.length == 0) {
      throw new BadInputException("input " + input + " has no rows");
    }
    if (files.length >= (1 << (63 - ROW_BITS))) {
      throw new BadInputException("input " + input + " has " + files.length + " files; at most "
          + (1 << (63 - ROW_BITS)) + " are supported");
    }
    return new LabelledRows(input, emb, extra.toArray(new String[0]), files,
        zeroRows == ZeroRows.REFUSE, sel.javaRDD());
  }

  public JavaRDD<Row> rdd() {
    return rdd;
  }

  /** A block of rows: keys, embeddings (d × n, column-major), and the extra columns' values per row. */
  public record Block(long[] key, float[] Y, Object[][] values) {
    public int n() {
      return key.length;
    }
  }

  public String file(long key) {
    return files[(int) (key >>> ROW_BITS)];
  }

  public static long rowIndex(long key) {
    return key & ((1L << ROW_BITS) - 1);
  }

  /** A partition's rows in blocks of at most {@code size}; d is the model's dimension. */
  public Iterator<Block> blocks(Iterator<Row> it, int d, int size) {
    return RowSource.nonEmptyBlocks(it, () -> read(it, d, size), Block::n);
  }

  private Block read(Iterator<Row> it, int d, int size) {
    int width = extra.length;
    long[] keys = new long[size];
    float[] Y = new float[size * d];
    Object[][] values = new Object[size][];
    int n = 0;
    while (n < size && it.hasNext()) {
      Row r = it.next();
      String path = r.getString(width + 1);
      long rowIndex = r.getLong(width + 2);
      EmbeddingColumn.Where where = () -> "file " + path + " row " + rowIndex;
      column.decodeRow(r, 0, Y, n * d, d, where);
      if (EmbeddingColumn.isZero(Y, n * d, d)) {
        if (refuseZero) {
          throw column.zeroRow(where);
        }
        continue; // left out (zero-rows = skip)
      }
      Object[] v = new Object[width];
      for (int c = 0; c < width; c++) {
        v[c] = r.get(c + 1);
      }
      values[n] = v;
      keys[n] = ((long) fileIndex.get(path) << ROW_BITS) | rowIndex;
      n++;
    }
    return new Block(Arrays.copyOf(keys, n), n * d == Y.length ? Y : Arrays.copyOf(Y, n * d),
        Arrays.copyOf(values, n));
  }
}
