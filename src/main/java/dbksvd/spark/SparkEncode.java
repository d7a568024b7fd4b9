package dbksvd.spark;

import dbksvd.config.ZeroRows;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.SparseCodes;
import dbksvd.io.AtomicDir;
import dbksvd.io.ModelDir;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * {@code encode}: codes for every row of a dataset as a Spark ML sparse vector column (length m), with the input's
 * columns carried along, written as Parquet atomically. Every row keeps its place in the output: an all-zero row
 * is refused, or with {@link ZeroRows#SKIP} gets the empty code (the code of a zero vector).
 */
public final class SparkEncode {
  private SparkEncode() {}

  static final String FILE = "__dbksvd_file";
  static final String ROW = "__dbksvd_row";

  public static long run(SparkSession spark, ModelDir.Model model, String input, String column, String output,
      String outputColumn, int chunk, boolean overwrite) throws IOException {
    return run(spark, model, input, column, output, outputColumn, chunk, overwrite, ZeroRows.REFUSE);
  }

  public static long run(SparkSession spark, ModelDir.Model model, String input, String column, String output,
      String outputColumn, int chunk, boolean overwrite, ZeroRows zeroRows) throws IOException {
    Path target = new Path(output);
    FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
    AtomicDir.checkTarget(fs, target, overwrite);
    Dataset<Row> df = RowSource.read(spark, input);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    sc.setJobDescription("encode " + input);
    try (ModelEncoding enc = ModelEncoding.broadcast(sc, model.D(), model.d(), model.m(), model.params())) {
      try {
        transform(spark, df, enc, column, outputColumn, chunk, zeroRows).write().parquet(tmp.toString());
        AtomicDir.commit(fs, tmp, target, overwrite);
      } catch (Exception e) { // a failed Spark job throws SparkException, undeclared: the partial output goes too
        awaitCancelledTasks(sc); // before the broadcast goes: cancelled tasks may still read it
        AtomicDir.deleteSettled(fs, tmp);
        throw e;
      }
    } finally {
      sc.setJobDescription(null);
    }
    return spark.read().parquet(output).count();
  }

  /**
   * The codes of every row of {@code df} as a new sparse vector column (length m) after the input's columns: the
   * encode shared by {@code encode} and {@link dbksvd.ml.DbKsvdModel#transform}. Lazy: nothing runs until the result
   * is used. Rows of a file scan are named in errors by file and row; other Datasets by partition and row.
   */
  public static Dataset<Row> transform(SparkSession spark, Dataset<Row> df, ModelEncoding model, String column,
      String outputColumn, int chunk, ZeroRows zeroRows) {
    StructType inSchema = df.schema();
    EmbeddingColumn emb = EmbeddingColumn.of(inSchema, column);
    if (Arrays.asList(inSchema.fieldNames()).contains(outputColumn)) {
      throw new BadInputException("input already has a column '" + outputColumn + "'; choose another with "
          + "--set dbksvd.encode.output-column=NAME");
    }
    int field = inSchema.fieldIndex(column);
    int width = inSchema.size();
    StructType outSchema = inSchema.add(outputColumn, SQLDataTypes.VectorType(), false);
    Dataset<Row> withLoc;
    boolean files;
    try {
      withLoc = df.select(col("*"), col("_metadata.file_path").as(FILE), col("_metadata.row_index").as(ROW));
      files = true;
    } catch (Exception e) { // AnalysisException: not a file scan; rows are named by partition and position
      withLoc = df;
      files = false;
    }
    final boolean named = files;
    int d = model.d;
    int m = model.m;
    boolean refuseZero = zeroRows == ZeroRows.REFUSE;
    JavaRDD<Row> coded = withLoc.javaRDD().mapPartitionsWithIndex((part, it) -> new Iterator<Row>() {
      final List<Row> pending = new ArrayList<>();
      Iterator<Row> out = java.util.Collections.emptyIterator();
      long seen = 0;

      @Override
      public boolean hasNext() {
        if (!out.hasNext() && it.hasNext()) {
          out = nextChunk();
        }
        return out.hasNext();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return out.next();
      }

      Iterator<Row> nextChunk() {
        pending.clear();
        while (pending.size() < chunk && it.hasNext()) {
          pending.add(it.next());
        }
        int n = pending.size();
        float[] Y = new float[n * d];
        long[] ids = new long[n];
        for (int s = 0; s < n; s++) {
          Row r = pending.get(s);
          long at = seen + s;
          EmbeddingColumn.Where where = named ? () -> "file " + r.getString(width) + " row " + r.getLong(width + 1)
              : () -> RowSource.partitionName(part) + " row " + at;
          emb.decodeRow(r, field, Y, s * d, d, where);
          if (refuseZero && EmbeddingColumn.isZero(Y, s * d, d)) {
            throw emb.zeroRow(where);
          }
          ids[s] = s;
        }
        seen += n;
        EncodedBlock eb = model.encode(Y, ids, null);
        List<Row> rows = new ArrayList<>(n);
        for (int s = 0; s < n; s++) {
          Object[] values = new Object[width + 1];
          Row r = pending.get(s);
          for (int c = 0; c < width; c++) {
            values[c] = r.get(c);
          }
          values[width] = codes(eb.codes, s, m);
          rows.add(RowFactory.create(values));
        }
        return rows.iterator();
      }
    }, true);
    return spark.createDataFrame(coded, outSchema);
  }

  /**
   * Waits (a few seconds at most) for the tasks Spark cancelled after a failed write: deleted under them, the
   * temporary output would be half re-created by their clean-up, and Hadoop's committer logs each failed delete.
   */
  static void awaitCancelledTasks(JavaSparkContext sc) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    try {
      while (System.nanoTime() < deadline && java.util.Arrays.stream(sc.sc().statusTracker().getExecutorInfos())
          .mapToInt(org.apache.spark.SparkExecutorInfo::numRunningTasks).sum() > 0) {
        Thread.sleep(20);
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sample s's code as a sparse vector of length m (indices ascending, zeros dropped). */
  static org.apache.spark.ml.linalg.Vector codes(SparseCodes codes, int s, int m) {
    int c = codes.count[s];
    int base = s * codes.capacity;
    long[] packed = new long[c];
    int t = 0;
    for (int i = 0; i < c; i++) {
      if (codes.value[base + i] != 0f) {
        packed[t++] = ((long) codes.atom[base + i] << 32) | i;
      }
    }
    packed = Arrays.copyOf(packed, t);
    Arrays.sort(packed);
    int[] idx = new int[t];
    double[] val = new double[t];
    for (int i = 0; i < t; i++) {
      idx[i] = (int) (packed[i] >>> 32);
      val[i] = codes.value[base + (int) (packed[i] & 0xffffffffL)];
    }
    return Vectors.sparse(m, idx, val);
  }
}
