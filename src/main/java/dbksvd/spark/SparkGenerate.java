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

  public static void write(SparkSession spark, String output, int d, int m, int k, long rows, double snrDb, long seed,
      int partitions, boolean overwrite) throws IOException {
    PlantedData check = new PlantedData(d, m, k, snrDb, seed); // validates before any work
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
          planted.row(r, y, 0, null, null);
          return RowFactory.create(r++, y);
        }
      };
    });
    sc.setJobDescription("generate " + rows + " x " + d);
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    try {
      spark.createDataFrame(data, SCHEMA).write().parquet(tmp.toString());
      AtomicDir.commit(fs, tmp, target, overwrite);
    } catch (IOException | RuntimeException e) {
      fs.delete(tmp, true);
      throw e;
    } finally {
      sc.setJobDescription(null);
    }
  }
}
