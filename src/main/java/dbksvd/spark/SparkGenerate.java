package dbksvd.spark;

import dbksvd.io.AtomicDir;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes planted synthetic data as Parquet: columns {@code id} (long, = the row id dbksvd assigns when it reads
 * the files back) and {@code embedding} (array&lt;float&gt;). Partition i holds a contiguous range of rows, and its
 * file name sorts in partition order. Each row comes from its own seeded stream, so the data does not depend on the
 * number of partitions.
 */
public final class SparkGenerate {
  private SparkGenerate() {}

  public static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  /** As without labels, plus (for classes ≥ 2) the columns of {@link #LABEL_COLUMNS}. */
  public static final String[] LABEL_COLUMNS = {"text", "label"};

  public static void write(SparkSession spark, String output, int d, int m, int k, long rows, double snrDb, long seed,
      int partitions, boolean overwrite) throws IOException {
    write(spark, output, d, m, k, rows, snrDb, seed, partitions, overwrite, 0);
  }

  /**
   * With {@code classes} ≥ 2, also {@code text} (string: the row's planted atoms and coefficients, e.g.
   * "atom 3 (+1.20) atom 17 (-0.41)") and {@code label} (int: the class, marked by planted atom = class).
   */
  public static void write(SparkSession spark, String output, int d, int m, int k, long rows, double snrDb, long seed,
      int partitions, boolean overwrite, int classes) throws IOException {
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
    JavaRDD<Row> data = sc.parallelize(parts, partitions).flatMap(i -> {
      PlantedData planted = new PlantedData(d, m, k, snrDb, seed);
      long from = rows * i / partitions;
      long to = rows * (i + 1) / partitions;
      return new java.util.Iterator<Row>() {
        long r = from;

        @Override
        public boolean hasNext() {
          return r < to;
        }

        @Override
        public Row next() {
          float[] y = new float[d];
          if (classes == 0) {
            planted.row(r, y, 0, null, null);
            return RowFactory.create(r++, y);
          }
          int[] sup = new int[k];
          float[] val = new float[k];
          planted.row(r, y, 0, sup, val, classes);
          StringBuilder text = new StringBuilder();
          for (int t = 0; t < k; t++) {
            text.append(t > 0 ? " " : "").append(String.format(java.util.Locale.ROOT, "atom %d (%+.2f)", sup[t],
                val[t]));
          }
          int label = planted.label(r, classes);
          return RowFactory.create(r++, y, text.toString(), label);
        }
      };
    });
    sc.setJobDescription("generate " + rows + " x " + d);
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    try {
      StructType schema = classes == 0 ? SCHEMA : SCHEMA.add(LABEL_COLUMNS[0], DataTypes.StringType, false)
          .add(LABEL_COLUMNS[1], DataTypes.IntegerType, false);
      spark.createDataFrame(data, schema).write().parquet(tmp.toString());
      AtomicDir.commit(fs, tmp, target, overwrite);
    } catch (IOException | RuntimeException e) {
      fs.delete(tmp, true);
      throw e;
    } finally {
      sc.setJobDescription(null);
    }
  }
}
