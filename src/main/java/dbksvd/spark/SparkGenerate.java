package dbksvd.spark;

import dbksvd.io.AtomicDir;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes planted synthetic data as Parquet: columns {@code id} (long, = the row id dbksvd assigns when it reads
 * the files back) and {@code embedding}, as array&lt;float&gt; or as binary (d float32 values little-endian, the
 * layout {@link EmbeddingColumn} decodes fastest). Rows go to the writer as internal rows holding primitive arrays,
 * so no float is boxed on the way. Partition i holds a contiguous range of rows, and its
 * file name sorts in partition order. Each row comes from its own seeded stream, so the data does not depend on the
 * number of partitions.
 */
public final class SparkGenerate {
  private SparkGenerate() {}

  public static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
  public static final StructType BINARY_SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("embedding", DataTypes.BinaryType, false);

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
    write(spark, output, d, m, k, rows, snrDb, seed, partitions, overwrite, Format.ARRAY);
  }

  public static void write(SparkSession spark, String output, int d, int m, int k, long rows, double snrDb, long seed,
      int partitions, boolean overwrite, Format format) throws IOException {
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
    final boolean binary = format == Format.BINARY;
    JavaRDD<InternalRow> data = sc.parallelize(parts, partitions).flatMap(i -> {
      PlantedData planted = new PlantedData(d, m, k, snrDb, seed);
      long from = rows * i / partitions;
      long to = rows * (i + 1) / partitions;
      return new java.util.Iterator<InternalRow>() {
        long r = from;
        final float[] y = new float[d];

        @Override
        public boolean hasNext() {
          return r < to;
        }

        @Override
        public InternalRow next() {
          planted.row(r, y, 0, null, null);
          Object embedding = binary ? EmbeddingColumn.bytesFromFloats(y, 0, d) : UnsafeArrayData.fromPrimitiveArray(y);
          return new GenericInternalRow(new Object[] {r++, embedding});
        }
      };
    });
    sc.setJobDescription("generate " + rows + " x " + d);
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    try {
      // internalCreateDataFrame is Scala's private[sql], public in bytecode: it takes the rows as they are
      ((org.apache.spark.sql.classic.SparkSession) spark)
          .internalCreateDataFrame(data.rdd(), binary ? BINARY_SCHEMA : SCHEMA, false)
          .write().parquet(tmp.toString());
      AtomicDir.commit(fs, tmp, target, overwrite);
    } catch (IOException | RuntimeException e) {
      fs.delete(tmp, true);
      throw e;
    } finally {
      sc.setJobDescription(null);
    }
  }
}
