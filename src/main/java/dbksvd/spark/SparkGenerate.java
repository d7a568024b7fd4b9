package dbksvd.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.AtomicDir;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitParams;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes planted synthetic data as Parquet: columns {@code id} (long, = the row id dbksvd assigns when it reads
 * the files back) and {@code embedding}, as array&lt;float&gt; or as binary (d float32 values little-endian, the
 * layout {@link EmbeddingColumn} decodes fastest). Rows go to the writer as internal rows holding primitive arrays,
 * so no float is boxed on the way. Partition i holds a contiguous range of rows, and its file name sorts in
 * partition order. Each row comes from its own seeded stream, so the data does not depend on the number of
 * partitions.
 */
public final class SparkGenerate {
  private SparkGenerate() {}

  public static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
  public static final StructType BINARY_SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("embedding", DataTypes.BinaryType, false);

  /** As without labels, plus (for classes ≥ 2) the columns of {@link #LABEL_COLUMNS}. */
  public static final String[] LABEL_COLUMNS = {"text", "label"};

  /** How the embedding column is stored ({@code dbksvd.generate.format}). */
  public enum Format {
    ARRAY, BINARY;

    public static Format parse(String s) {
      return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "array" -> ARRAY;
        case "binary" -> BINARY;
        default -> throw new IllegalArgumentException("format must be array or binary, got '" + s + "'");
      };
    }
  }

  public static void write(SparkSession spark, String output, int d, int m, int k, long rows, double snrDb, long seed,
      int partitions, boolean overwrite) throws IOException {
    write(spark, output, d, m, k, rows, snrDb, seed, partitions, overwrite, Format.ARRAY, 0);
  }

  /**
   * With {@code classes} ≥ 2, also {@code text} (string: the row's planted atoms and coefficients, e.g.
   * "atom 3 (+1.20) atom 17 (-0.41)") and {@code label} (int: the class, marked by planted atom = class).
   */
  public static void write(SparkSession spark, String output, int d, int m, int k, long rows, double snrDb, long seed,
      int partitions, boolean overwrite, Format format, int classes) throws IOException {
    PlantedData check = new PlantedData(d, m, k, snrDb, seed); // validates before any work
    if (classes != 0) {
      check.checkClasses(classes);
    }
    if (rows < 1) {
      throw new IllegalArgumentException("samples must be at least 1, got " + rows);
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    Path target = new Path(output);
    FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
    AtomicDir.checkTarget(fs, target, overwrite);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Integer> parts = new ArrayList<>();
    for (int i = 0; i < partitions; i++) {
      parts.add(i);
    }
    final boolean binary = format == Format.BINARY;
    JavaRDD<InternalRow> data = sc.parallelize(parts, partitions).flatMap(i -> {
      PlantedData planted = new PlantedData(d, m, k, snrDb, seed);
      long from = rows * i / partitions;
      long to = rows * (i + 1) / partitions;
      return new java.util.Iterator<InternalRow>() {
        long r = from;
        final float[] y = new float[d];
        final int[] sup = new int[k];
        final float[] val = new float[k];

        @Override
        public boolean hasNext() {
          return r < to;
        }

        @Override
        public InternalRow next() {
          if (classes == 0) {
            planted.row(r, y, 0, null, null);
          } else {
            planted.row(r, y, 0, sup, val, classes);
          }
          Object embedding = binary ? EmbeddingColumn.bytesFromFloats(y, 0, d) : UnsafeArrayData.fromPrimitiveArray(y);
          if (classes == 0) {
            return new GenericInternalRow(new Object[] {r++, embedding});
          }
          StringBuilder text = new StringBuilder();
          for (int t = 0; t < k; t++) {
            text.append(t > 0 ? " " : "").append(String.format(java.util.Locale.ROOT, "atom %d (%+.2f)", sup[t],
                val[t]));
          }
          int label = planted.label(r, classes);
          return new GenericInternalRow(new Object[] {r++, embedding, UTF8String.fromString(text.toString()), label});
        }
      };
    });
    sc.setJobDescription("generate " + rows + " x " + d);
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    try {
      StructType base = binary ? BINARY_SCHEMA : SCHEMA;
      StructType schema = classes == 0 ? base : base.add(LABEL_COLUMNS[0], DataTypes.StringType, false)
          .add(LABEL_COLUMNS[1], DataTypes.IntegerType, false);
      // internalCreateDataFrame is Scala's private[sql], public in bytecode: it takes the rows as they are
      ((org.apache.spark.sql.classic.SparkSession) spark).internalCreateDataFrame(data.rdd(), schema, false)
          .write().parquet(tmp.toString());
      AtomicDir.commit(fs, tmp, target, overwrite);
    } catch (IOException | RuntimeException e) { // a failed Spark job: its cancelled tasks may still write under tmp
      SparkEncode.awaitCancelledTasks(sc);
      AtomicDir.deleteSettled(fs, tmp);
      throw e;
    } finally {
      sc.setJobDescription(null);
    }
  }

  /**
   * {@code generate}: the rows of {@code dbksvd.generate} as Parquet at {@code output} and, with {@code truth}, the
   * planted dictionary as a model directory; both checked before anything is written.
   *
   * @param classes with C &gt; 0, also the columns text and label (see {@link PlantedData#label})
   */
  public static void run(Config c, SparkSession spark, String output, String truth, boolean overwrite, int classes,
      PrintStream out) throws IOException {
    Config g = c.getConfig("dbksvd.generate");
    int d = g.getInt("dim");
    int m = g.getInt("atoms");
    int k = g.getInt("k");
    long n = g.getLong("samples");
    double snr = Settings.doubleOrInf(c, "dbksvd.generate.snr-db");
    long seed = g.getLong("seed");
    var hconf = spark.sparkContext().hadoopConfiguration();
    if (truth != null) {
      AtomicDir.checkTarget(hconf, truth, overwrite);
    }
    write(spark, output, d, m, k, n, snr, seed, g.getInt("partitions"), overwrite, Format.parse(g.getString("format")),
        classes);
    out.printf("generated %d rows of dimension %d (planted m=%d, k=%d, snr %s dB) in %s%n", n, d, m, k,
        Double.isFinite(snr) ? snr : "inf", output);
    if (truth != null) {
      PlantedData planted = new PlantedData(d, m, k, snr, seed);
      FitParams p = FitParams.builder(m, k).seed(seed).iterations(0).build();
      ObjectNode info = ModelDir.newInfo();
      info.put("kind", "planted");
      info.put("snr_db", Double.isFinite(snr) ? snr : null);
      info.put("dbksvd_version", FitJob.version());
      ModelDir.write(hconf, truth, new ModelDir.Model(planted.D, d, m, p, info), List.of(), overwrite);
      out.println("planted dictionary saved as a model in " + truth);
    }
  }
}
