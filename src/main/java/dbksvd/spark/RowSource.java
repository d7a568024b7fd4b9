package dbksvd.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.unsafe.types.UTF8String;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;

/**
 * The embeddings of a file-based dataset with a stable global row id: files sorted by path, row id = rows in the
 * files before + the row's index in its file (Parquet's {@code _metadata.row_index}). The id depends on the data
 * only — not on how Spark splits the files into partitions — so batches, and hence the dictionary, are the same
 * for any number of partitions or executors. The dataset is scanned, never collected.
 */
public final class RowSource implements Serializable {
  private static final long serialVersionUID = 1L;

  public final EmbeddingColumn column;
  public final int d;
  public final long rows;
  private final Map<String, Long> fileOffset;
  private final transient JavaRDD<InternalRow> rdd;

  private RowSource(EmbeddingColumn column, int d, long rows, Map<String, Long> fileOffset, JavaRDD<InternalRow> rdd) {
    this.column = column;
    this.d = d;
    this.rows = rows;
    this.fileOffset = fileOffset;
    this.rdd = rdd;
  }

  /** Opens a file-based dataset (Parquet) and finds d, the row count and the file offsets. */
  public static RowSource open(SparkSession spark, Dataset<Row> data, String columnName) {
    EmbeddingColumn column = EmbeddingColumn.of(data.schema(), columnName);
    Dataset<Row> sel = data.select(col(columnName), col("_metadata.file_path").as("file_path"),
        col("_metadata.row_index").as("row_index"));
    List<Row> files = sel.groupBy("file_path").agg(count(lit(1)).as("n"), max("row_index").as("last"))
        .collectAsList();
    String[] paths = files.stream().map(r -> r.getString(0)).sorted().toArray(String[]::new);
    Map<String, Row> byPath = new HashMap<>();
    files.forEach(r -> byPath.put(r.getString(0), r));
    Map<String, Long> offsets = new HashMap<>();
    long total = 0;
    for (String p : paths) {
      Row r = byPath.get(p);
      if (r.getLong(1) != r.getLong(2) + 1) {
        throw new IllegalStateException("file " + p + ": " + r.getLong(1) + " rows but last row index "
            + r.getLong(2));
      }
      offsets.put(p, total);
      total += r.getLong(1);
    }
    if (total == 0) {
      throw new BadInputException("input has no rows");
    }
    Row first = sel.where(col(columnName).isNotNull()).select(col(columnName)).limit(1).collectAsList().stream()
        .findFirst().orElseThrow(() -> new BadInputException("column '" + columnName + "' is null in every row"));
    int d = dimension(first, column);
    if (d < 1) {
      throw new BadInputException("column '" + columnName + "' holds empty embeddings (length 0)");
    }
    return new RowSource(column, d, total, offsets, sel.queryExecution().toRdd().toJavaRDD());
  }

  private static int dimension(Row r, EmbeddingColumn c) {
    Object v = r.get(0);
    if (v instanceof org.apache.spark.ml.linalg.Vector vec) {
      return vec.size();
    }
    if (v instanceof scala.collection.Seq<?> s) {
      return s.size();
    }
    if (v instanceof List<?> l) {
      return l.size();
    }
    throw new BadInputException("column '" + c.name + "' holds " + v.getClass().getSimpleName());
  }

  /** The internal rows: ordinal 0 the embedding, 1 the file path, 2 the row index in the file. */
  public JavaRDD<InternalRow> rdd() {
    return rdd;
  }

  /** Rows of one partition whose id passes {@code wanted}: their ids and embeddings (d × n, column-major). */
  public record Block(long[] rowId, float[] Y) implements Serializable {
    public int n() {
      return rowId.length;
    }
  }

  /** Reads the wanted rows of a partition, decoding only those, into one block. */
  public Block collect(Iterator<InternalRow> it, LongPredicate wanted) {
    return read(it, wanted, Integer.MAX_VALUE);
  }

  /** The wanted rows of a partition in blocks of at most {@code size} rows (bounded memory). */
  public Iterator<Block> blocks(Iterator<InternalRow> it, LongPredicate wanted, int size) {
    return new Iterator<>() {
      Block pending;

      @Override
      public boolean hasNext() {
        if (pending == null && it.hasNext()) {
          pending = read(it, wanted, size);
          if (pending.n() == 0) {
            pending = null;
          }
        }
        return pending != null;
      }

      @Override
      public Block next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        Block b = pending;
        pending = null;
        return b;
      }
    };
  }

  private Block read(Iterator<InternalRow> it, LongPredicate wanted, int max) {
    int cap = Math.min(max, 1024);
    long[] ids = new long[cap];
    float[] Y = new float[cap * d];
    int n = 0;
    UTF8String lastPath = null;
    long offset = 0;
    while (n < max && it.hasNext()) {
      InternalRow row = it.next();
      UTF8String path = row.getUTF8String(1);
      if (!path.equals(lastPath)) {
        lastPath = path.clone();
        Long o = fileOffset.get(path.toString());
        if (o == null) {
          throw new IllegalStateException("file " + path + " appeared after the dataset was opened");
        }
        offset = o;
      }
      long rowIndex = row.getLong(2);
      long id = offset + rowIndex;
      if (!wanted.test(id)) {
        continue;
      }
      if (n == ids.length) {
        int grown = (int) Math.min(max, 2L * n);
        ids = Arrays.copyOf(ids, grown);
        Y = Arrays.copyOf(Y, grown * d);
      }
      final UTF8String file = lastPath;
      column.decode(row, 0, Y, n * d, d, () -> "file " + file + " row " + rowIndex);
      ids[n++] = id;
    }
    return new Block(Arrays.copyOf(ids, n), n * d == Y.length ? Y : Arrays.copyOf(Y, n * d));
  }
}
