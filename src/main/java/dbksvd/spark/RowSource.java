package dbksvd.spark;

import dbksvd.config.ZeroRows;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.unsafe.types.UTF8String;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
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
 *
 * <p>All-zero embeddings are refused when read ({@link ZeroRows#REFUSE}, the default: a zero row usually means a
 * broken upstream step) or left out ({@link ZeroRows#SKIP}): then {@link #open} finds them in one scan and the row
 * ids number the other rows only, so batches, {@code rows} and {@code init = samples} never see them.
 */
public final class RowSource implements Serializable {
  private static final long serialVersionUID = 1L;

  public final EmbeddingColumn column;
  public final int d;
  public final long rows;
  private final String dFrom;
  private final ZeroRows zeroRows;
  private final Map<String, Long> fileOffset;
  /** SKIP only: per file, the all-zero rows as runs {first[], last[], zero rows before the run[]}. */
  private final Map<String, long[][]> zeroRuns;
  private final transient JavaRDD<InternalRow> rdd;
  /** The rows of each partition of {@link #rdd}, once {@link SplitBatches#rowsPerSplit} has found them (driver). */
  transient long[] rowsPerSplit;
  /** True when the "files" are the partitions of a Dataset (see {@link #open(SparkSession, Dataset, String, ZeroRows)}). */
  private final boolean positional;

  private RowSource(EmbeddingColumn column, int d, long rows, String dFrom, ZeroRows zeroRows,
      Map<String, Long> fileOffset, Map<String, long[][]> zeroRuns, JavaRDD<InternalRow> rdd) {
    this(column, d, rows, dFrom, zeroRows, fileOffset, zeroRuns, rdd, false);
  }

  private RowSource(EmbeddingColumn column, int d, long rows, String dFrom, ZeroRows zeroRows,
      Map<String, Long> fileOffset, Map<String, long[][]> zeroRuns, JavaRDD<InternalRow> rdd, boolean positional) {
    this.positional = positional;
    this.column = column;
    this.d = d;
    this.rows = rows;
    this.dFrom = dFrom;
    this.zeroRows = zeroRows;
    this.fileOffset = fileOffset;
    this.zeroRuns = zeroRuns;
    this.rdd = rdd;
  }

  /**
   * Reads a Parquet dataset, turning Spark's analysis errors about the path into a line that names it (Spark's own
   * message for a directory without data files does not).
   */
  public static Dataset<Row> read(SparkSession spark, String input) {
    try {
      return spark.read().parquet(input);
    } catch (Exception e) { // AnalysisException is checked in Java's eyes but not declared
      String msg = String.valueOf(e.getMessage());
      if (msg.contains("UNABLE_TO_INFER_SCHEMA")) {
        throw new BadInputException("input " + input + " holds no Parquet files");
      }
      throw sneaky(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static <E extends Exception> RuntimeException sneaky(Exception e) throws E {
    throw (E) e;
  }

  /** Opens a Parquet dataset by path (local, hdfs://, s3a://). */
  public static RowSource open(SparkSession spark, String input, String columnName, ZeroRows zeroRows) {
    return open(spark, read(spark, input), columnName, zeroRows, input);
  }

  /**
   * Opens a Parquet dataset by path with every file in its own partitions (one, or one per
   * {@code spark.sql.files.maxPartitionBytes} of a larger file): the splits of {@code dbksvd.fit.batching = splits}.
   * Spark packs small files into one partition up to a size that depends on the cores
   * ({@code spark.sql.files.minPartitionNum}, default the parallelism); raising {@code spark.sql.files.openCostInBytes}
   * to maxPartitionBytes for this scan turns that off, so the splits depend on the files and maxPartitionBytes only.
   */
  public static RowSource openFileSplits(SparkSession spark, String input, String columnName, ZeroRows zeroRows) {
    String key = "spark.sql.files.openCostInBytes";
    scala.Option<String> before = spark.conf().getOption(key);
    long open = spark.sessionState().conf().filesOpenCostInBytes();
    long maxPartition = spark.sessionState().conf().filesMaxPartitionBytes();
    spark.conf().set(key, Long.toString(Math.max(open, maxPartition)));
    try {
      return open(spark, input, columnName, zeroRows); // the scan's partitions are fixed when its RDD is made
    } finally {
      if (before.isDefined()) {
        spark.conf().set(key, before.get());
      } else {
        spark.conf().unset(key);
      }
    }
  }

  /** Opens a file-based dataset (Parquet); all-zero rows are refused. */
  public static RowSource open(SparkSession spark, Dataset<Row> data, String columnName) {
    return open(spark, data, columnName, ZeroRows.REFUSE, null);
  }

  /**
   * Opens a file-based dataset (Parquet) and finds d, the row count and the file offsets.
   *
   * @param input the path the user gave, for messages (null: unknown)
   */
  static RowSource open(SparkSession spark, Dataset<Row> data, String columnName, ZeroRows zeroRows, String input) {
    return open(spark, data, columnName, zeroRows, input, true);
  }

  /**
   * Opens any Dataset (the Spark ML estimator's entry point). A scan of Parquet or other files, also under
   * projections such as a VectorAssembler's, keeps the file-based ids of {@link #open(SparkSession, String, String,
   * ZeroRows)}: the estimator then trains on exactly the batches {@code fit --input} uses, for any partitioning.
   * Any other Dataset (local data, a join, a filtered scan whose rows no longer number 0..count-1 per file) gets
   * positional ids: partition p's rows follow all rows of partitions before it, in their order — what
   * {@code zipWithIndex} gives, without its extra job. We chose this over copying the Dataset to a temporary
   * Parquet directory (a full write of N·d floats) or persisting it (memory the caller may not have): the ids are
   * stable as long as recomputing the Dataset yields its partitions in the same order, which holds for scans,
   * projections, local data and sorts; a Dataset from a non-deterministic plan should be persisted by the caller,
   * as Spark advises for its own iterative estimators (KMeans, ALS).
   */
  public static RowSource open(SparkSession spark, Dataset<Row> data, String columnName, ZeroRows zeroRows) {
    EmbeddingColumn.of(data.schema(), columnName); // a missing or mistyped column is named before anything runs
    boolean files;
    try {
      data.select(col("_metadata.file_path"), col("_metadata.row_index")).schema();
      files = true;
    } catch (Exception e) { // AnalysisException: not a file scan (or a plan that hides its metadata column)
      files = false;
    }
    if (files) {
      RowSource s = open(spark, data, columnName, zeroRows, null, false);
      if (s != null) {
        return s;
      }
    }
    return openPositional(data, columnName, zeroRows);
  }

  /** Name of partition p as the "file" of positional ids (what error messages show). */
  static String partitionName(int p) {
    return "partition " + p;
  }

  private static RowSource openPositional(Dataset<Row> data, String columnName, ZeroRows zeroRows) {
    EmbeddingColumn column = EmbeddingColumn.of(data.schema(), columnName);
    JavaRDD<InternalRow> base = data.select(col(columnName)).queryExecution().toRdd().toJavaRDD();
    // ordinal 0 the embedding, 1 the partition's name, 2 the row's index in its partition: the layout of a file
    // scan, so everything downstream (decode, zero runs, messages) is shared
    JavaRDD<InternalRow> rdd = base.mapPartitionsWithIndex((p, it) -> {
      UTF8String name = UTF8String.fromString(partitionName(p));
      return new Iterator<InternalRow>() {
        long i = 0;

        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        public InternalRow next() {
          InternalRow r = it.next();
          // Spark reuses the row it hands out: keep a copy (getBinary copies already)
          Object v = r.isNullAt(0) ? null : switch (column.kind) {
            case VECTOR -> r.getStruct(0, 4).copy();
            case FLOAT32_BINARY -> r.getBinary(0);
            default -> r.getArray(0).copy();
          };
          return new org.apache.spark.sql.catalyst.expressions.GenericInternalRow(new Object[] {v, name, i++});
        }
      };
    }, true);
    // per partition: rows, and the index and length of its first non-null embedding (-1 when none)
    List<long[]> parts = rdd.mapPartitionsWithIndex((p, it) -> {
      long n = 0;
      long first = -1;
      long len = -1;
      while (it.hasNext()) {
        InternalRow r = it.next();
        if (first < 0 && !r.isNullAt(0)) {
          first = n;
          len = column.length(r, 0);
        }
        n++;
      }
      return List.of(new long[] {p, n, first, len}).iterator();
    }, true).collect();
    long[][] sorted = parts.stream().sorted(Comparator.comparingLong(a -> a[0])).toArray(long[][]::new);
    Map<String, long[][]> zeroRuns = zeroRows == ZeroRows.SKIP ? findZeroRuns(rdd, column) : Map.of();
    Map<String, Long> offsets = new HashMap<>();
    long total = 0;
    long zeros = 0;
    long[] firstRow = null;
    for (long[] a : sorted) {
      String name = partitionName((int) a[0]);
      offsets.put(name, total);
      long z = zeroCount(zeroRuns.get(name));
      zeros += z;
      total += a[1] - z;
      if (firstRow == null && a[2] >= 0) {
        firstRow = a;
      }
    }
    if (sorted.length == 0 || total + zeros == 0) {
      throw new BadInputException("the input has no rows");
    }
    if (total == 0) {
      throw new BadInputException("the input: all " + zeros + " rows are all-zero embeddings "
          + "(zero rows = skip leaves them out)");
    }
    if (firstRow == null) {
      throw new BadInputException("the input: column '" + columnName + "' is null in every row");
    }
    int d = (int) firstRow[3];
    String where = partitionName((int) firstRow[0]) + " row " + firstRow[2];
    if (d < 1) {
      throw new BadInputException(where + ": column '" + columnName + "' is empty (length 0)");
    }
    return new RowSource(column, d, total, "the length of " + where, zeroRows, offsets, zeroRuns, rdd, true);
  }

  /** @param strict refuse files whose rows do not number 0..count-1 (else: null, the caller numbers rows itself) */
  private static RowSource open(SparkSession spark, Dataset<Row> data, String columnName, ZeroRows zeroRows,
      String input, boolean strict) {
    String name = input == null ? "the input" : "input " + input;
    EmbeddingColumn column = EmbeddingColumn.of(data.schema(), columnName);
    Dataset<Row> sel = data.select(col(columnName), col("_metadata.file_path").as("file_path"),
        col("_metadata.row_index").as("row_index"));
    JavaRDD<InternalRow> rdd = sel.queryExecution().toRdd().toJavaRDD();
    List<Row> files = sel.groupBy("file_path").agg(count(lit(1)).as("n"), max("row_index").as("last"))
        .collectAsList();
    if (files.isEmpty()) {
      throw new BadInputException(name + " has no rows");
    }
    Map<String, long[][]> zeroRuns = zeroRows == ZeroRows.SKIP ? findZeroRuns(rdd, column) : Map.of();
    String[] paths = files.stream().map(r -> r.getString(0)).sorted().toArray(String[]::new);
    Map<String, Row> byPath = new HashMap<>();
    files.forEach(r -> byPath.put(r.getString(0), r));
    Map<String, Long> offsets = new HashMap<>();
    long total = 0;
    long zeros = 0;
    for (String p : paths) {
      Row r = byPath.get(p);
      if (r.getLong(1) != r.getLong(2) + 1) {
        if (!strict) {
          return null;
        }
        throw new IllegalStateException("file " + p + ": " + r.getLong(1) + " rows but last row index "
            + r.getLong(2));
      }
      offsets.put(p, total);
      long z = zeroCount(zeroRuns.get(p));
      zeros += z;
      total += r.getLong(1) - z;
    }
    if (total == 0) {
      throw new BadInputException(name + ": all " + zeros + " rows are all-zero embeddings (dbksvd.input.zero-rows = "
          + "skip leaves them out)");
    }
    // d is the length of the first non-null embedding of the first file (of any file if that one has none)
    List<Row> first = sel.where(col("file_path").equalTo(paths[0]).and(col(columnName).isNotNull()))
        .select(col(columnName), col("file_path"), col("row_index")).limit(1).collectAsList();
    if (first.isEmpty()) {
      first = sel.where(col(columnName).isNotNull()).select(col(columnName), col("file_path"), col("row_index"))
          .limit(1).collectAsList();
    }
    if (first.isEmpty()) {
      throw new BadInputException(name + ": column '" + columnName + "' is null in every row");
    }
    Row r0 = first.get(0);
    int d = dimension(r0, column, () -> "file " + r0.getString(1) + " row " + r0.getLong(2));
    String dFrom = "the length of file " + r0.getString(1) + " row " + r0.getLong(2);
    if (d < 1) {
      throw new BadInputException("file " + r0.getString(1) + " row " + r0.getLong(2) + ": column '" + columnName
          + "' is empty (length 0)");
    }
    return new RowSource(column, d, total, dFrom, zeroRows, offsets, zeroRuns, rdd);
  }

  /** One run of consecutive all-zero rows of a file, as a task sees it (a class: Kryo cannot write records). */
  static final class ZeroRun implements Serializable {
    private static final long serialVersionUID = 1L;
    final String path;
    final long first;
    final long last;

    ZeroRun(String path, long first, long last) {
      this.path = path;
      this.first = first;
      this.last = last;
    }
  }

  /** Scans the dataset once for all-zero rows; per file, the merged runs and the zero rows before each run. */
  private static Map<String, long[][]> findZeroRuns(JavaRDD<InternalRow> rdd, EmbeddingColumn column) {
    List<ZeroRun> found = rdd.mapPartitions((Iterator<InternalRow> it) -> {
      List<ZeroRun> out = new ArrayList<>();
      String path = null;
      long first = -1;
      long last = -2;
      while (it.hasNext()) {
        InternalRow row = it.next();
        if (!column.isZero(row, 0)) {
          continue;
        }
        String p = row.getUTF8String(1).toString();
        long i = row.getLong(2);
        if (p.equals(path) && i == last + 1) {
          last = i;
          continue;
        }
        if (path != null) {
          out.add(new ZeroRun(path, first, last));
        }
        path = p;
        first = i;
        last = i;
      }
      if (path != null) {
        out.add(new ZeroRun(path, first, last));
      }
      return out.iterator();
    }).collect();
    Map<String, List<ZeroRun>> byFile = new HashMap<>();
    for (ZeroRun z : found) {
      byFile.computeIfAbsent(z.path, k -> new ArrayList<>()).add(z);
    }
    Map<String, long[][]> runs = new HashMap<>();
    byFile.forEach((path, list) -> {
      list.sort(Comparator.comparingLong(z -> z.first));
      List<long[]> merged = new ArrayList<>();
      for (ZeroRun z : list) { // a run split across two tasks is joined again
        long[] top = merged.isEmpty() ? null : merged.get(merged.size() - 1);
        if (top != null && z.first <= top[1] + 1) {
          top[1] = Math.max(top[1], z.last);
        } else {
          merged.add(new long[] {z.first, z.last});
        }
      }
      long[] firsts = new long[merged.size()];
      long[] lasts = new long[merged.size()];
      long[] before = new long[merged.size() + 1];
      for (int i = 0; i < merged.size(); i++) {
        firsts[i] = merged.get(i)[0];
        lasts[i] = merged.get(i)[1];
        before[i + 1] = before[i] + lasts[i] - firsts[i] + 1;
      }
      runs.put(path, new long[][] {firsts, lasts, before});
    });
    return runs;
  }

  private static long zeroCount(long[][] runs) {
    return runs == null ? 0 : runs[2][runs[0].length];
  }

  /** The zero rows of a file with an index below rowIndex. */
  static long zerosBelow(long[][] runs, long rowIndex) {
    if (runs == null) {
      return 0;
    }
    int i = Arrays.binarySearch(runs[0], rowIndex);
    i = i >= 0 ? i - 1 : -i - 2; // the last run starting before rowIndex
    if (i < 0) {
      return 0;
    }
    return runs[2][i] + Math.min(runs[1][i], rowIndex - 1) - runs[0][i] + 1;
  }

  /** The zero rows of a file before rowIndex, or -1 when rowIndex itself is an all-zero row. */
  private static long zerosBefore(long[][] runs, long rowIndex) {
    if (runs == null) {
      return 0;
    }
    int i = Arrays.binarySearch(runs[0], rowIndex);
    if (i < 0) {
      i = -i - 2; // the last run starting before rowIndex
    }
    if (i < 0) {
      return 0;
    }
    return rowIndex <= runs[1][i] ? -1 : runs[2][i + 1];
  }

  private static int dimension(Row r, EmbeddingColumn c, EmbeddingColumn.Where where) {
    Object v = r.get(0);
    if (v instanceof byte[] b) {
      return c.binaryDimension(b.length, where);
    }
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

  /**
   * The rows of each partition of {@link #rdd} without a job: whole files from their row counts, a part of a file
   * (a file larger than maxPartitionBytes) from its Parquet footer — the row groups Spark's reader takes for the
   * range, by the same filter ({@code ParquetFooterReader}, a row group belongs to the range holding its midpoint),
   * less the all-zero rows among them when they are left out. Null when a partition is not a file scan's or a
   * footer cannot be read as Parquet (the caller then counts with a job). Footers are read on the driver, a few at
   * a time (they are small: one or two reads each, also on S3). Driver only.
   *
   * @param conf the Hadoop configuration to read footers with; null: whole files only (null for any part)
   */
  long[] splitRows(org.apache.hadoop.conf.Configuration conf) {
    if (positional) {
      return null;
    }
    String[] paths = fileOffset.keySet().stream().sorted().toArray(String[]::new);
    Map<String, Long> fileRows = new HashMap<>();
    for (int i = 0; i < paths.length; i++) { // offsets were given in this order, all-zero rows left out
      long end = i + 1 < paths.length ? fileOffset.get(paths[i + 1]) : rows;
      fileRows.put(paths[i], end - fileOffset.get(paths[i]));
    }
    org.apache.spark.Partition[] parts = rdd.rdd().partitions();
    long[] out = new long[parts.length];
    List<java.util.concurrent.Callable<Long>> footers = new ArrayList<>();
    List<Integer> footerPart = new ArrayList<>();
    for (int i = 0; i < parts.length; i++) {
      if (!(parts[i] instanceof org.apache.spark.sql.execution.datasources.FilePartition fp)) {
        return null;
      }
      for (org.apache.spark.sql.execution.datasources.PartitionedFile f : fp.files()) {
        String key = scanName(f);
        Long n = fileRows.get(key);
        if (n == null) {
          return null;
        }
        if (f.start() == 0 && f.length() == f.fileSize()) {
          out[i] += n;
        } else if (conf == null) {
          return null;
        } else {
          long[][] runs = zeroRuns.get(key);
          footers.add(() -> rangeRows(conf, f, runs));
          footerPart.add(i);
        }
      }
    }
    if (footers.isEmpty()) {
      return out;
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
        Math.min(8, footers.size()), r -> {
          Thread t = new Thread(r, "dbksvd-footers");
          t.setDaemon(true);
          return t;
        });
    try {
      List<java.util.concurrent.Future<Long>> got = pool.invokeAll(footers);
      for (int j = 0; j < got.size(); j++) {
        out[footerPart.get(j)] += got.get(j).get();
      }
      return out;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof java.io.IOException || e.getCause() instanceof RuntimeException) {
        // not Parquet, or unreadable now: the counting job reads the files (and names what fails)
        java.util.logging.Logger.getLogger(RowSource.class.getName()).info("no row counts from the Parquet "
            + "footers (" + e.getCause() + "): a job counts the rows of the splits");
        return null;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading Parquet footers", e);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A file's name as its rows' {@code _metadata.file_path} give it, the key of the file offsets: Spark makes a Hadoop
   * Path of the file's URL-encoded path and prints that, which keeps the encoding and one slash after the scheme
   * ("file:/data/a%20b/part-0.parquet"; {@code urlEncodedPath()} has "file:///", {@code toPath().toString()} decodes).
   */
  static String scanName(org.apache.spark.sql.execution.datasources.PartitionedFile f) {
    return new org.apache.hadoop.fs.Path(f.urlEncodedPath()).toString();
  }

  /** The bytes of the files' ranges that make the partitions of {@link #rdd}; -1 when it is not a file scan's. */
  long inputBytes() {
    long bytes = 0;
    for (org.apache.spark.Partition p : rdd.rdd().partitions()) {
      if (!(p instanceof org.apache.spark.sql.execution.datasources.FilePartition fp)) {
        return -1;
      }
      for (org.apache.spark.sql.execution.datasources.PartitionedFile f : fp.files()) {
        bytes += f.length();
      }
    }
    return bytes;
  }

  /** The rows with a row id in a part of a file: its row groups' rows by the reader's filter, less zero rows. */
  private static long rangeRows(org.apache.hadoop.conf.Configuration conf,
      org.apache.spark.sql.execution.datasources.PartitionedFile f, long[][] runs) throws java.io.IOException {
    List<org.apache.parquet.hadoop.metadata.BlockMetaData> groups =
        org.apache.spark.sql.execution.datasources.parquet.ParquetFooterReader.readFooter(conf, f,
            org.apache.spark.sql.execution.datasources.parquet.ParquetFooterReader.WITH_ROW_GROUPS).getBlocks();
    long n = 0;
    for (org.apache.parquet.hadoop.metadata.BlockMetaData g : groups) {
      long first = g.getRowIndexOffset();
      if (runs != null && first < 0) {
        throw new IllegalStateException("no row index offset in the footer of " + f.toPath());
      }
      n += g.getRowCount() - (runs == null ? 0 : zerosBelow(runs, first + g.getRowCount()) - zerosBelow(runs, first));
    }
    return n;
  }

  /** The rows of a partition that have a row id (all but the all-zero rows left out), without decoding any. */
  public long countRows(Iterator<InternalRow> it) {
    long n = 0;
    UTF8String lastPath = null;
    long[][] runs = null;
    while (it.hasNext()) {
      InternalRow row = it.next();
      if (!zeroRuns.isEmpty()) {
        UTF8String path = row.getUTF8String(1);
        if (!path.equals(lastPath)) {
          lastPath = path.clone();
          runs = zeroRuns.get(path.toString());
        }
        if (zerosBefore(runs, row.getLong(2)) < 0) {
          continue;
        }
      }
      n++;
    }
    return n;
  }

  /** The wanted rows of a partition in blocks of at most {@code size} rows (bounded memory). */
  public Iterator<Block> blocks(Iterator<InternalRow> it, LongPredicate wanted, int size) {
    return nonEmptyBlocks(it, () -> read(it, wanted, size), Block::n);
  }

  /**
   * The blocks {@code read} makes while {@code rows} has rows, without the empty ones (a reader fills a block until
   * it is full or the rows run out, so an empty block means the rows are gone).
   */
  static <B> Iterator<B> nonEmptyBlocks(Iterator<?> rows, java.util.function.Supplier<B> read,
      java.util.function.ToIntFunction<B> size) {
    return new Iterator<>() {
      B pending;

      @Override
      public boolean hasNext() {
        while (pending == null && rows.hasNext()) {
          pending = read.get();
          if (size.applyAsInt(pending) == 0) {
            pending = null;
          }
        }
        return pending != null;
      }

      @Override
      public B next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        B b = pending;
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
    long[][] runs = null;
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
        runs = zeroRuns.get(path.toString());
      }
      long rowIndex = row.getLong(2);
      long skipped = zerosBefore(runs, rowIndex);
      if (skipped < 0) {
        continue; // an all-zero row, left out (SKIP)
      }
      long id = offset + rowIndex - skipped;
      if (!wanted.test(id)) {
        continue;
      }
      if (n == ids.length) {
        int grown = (int) Math.min(max, 2L * n);
        ids = Arrays.copyOf(ids, grown);
        Y = Arrays.copyOf(Y, grown * d);
      }
      final UTF8String file = lastPath;
      EmbeddingColumn.Where where = positional ? () -> file + " row " + rowIndex
          : () -> "file " + file + " row " + rowIndex;
      column.decode(row, 0, Y, n * d, d, where, dFrom);
      if (zeroRows == ZeroRows.REFUSE && EmbeddingColumn.isZero(Y, n * d, d)) {
        throw column.zeroRow(where);
      }
      ids[n++] = id;
    }
    return new Block(Arrays.copyOf(ids, n), n * d == Y.length ? Y : Arrays.copyOf(Y, n * d));
  }
}
