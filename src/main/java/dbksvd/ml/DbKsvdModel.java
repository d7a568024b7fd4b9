package dbksvd.ml;

import dbksvd.config.ZeroRows;
import dbksvd.io.ModelDir;
import dbksvd.loop.IterationMetrics;
import dbksvd.spark.ModelEncoding;
import dbksvd.spark.SparkEncode;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A learned dictionary D (d × m) as a Spark ML {@link Model}: {@code transform} adds {@code outputCol}, each row's
 * k-sparse code as a sparse vector of length m, computed by the encode of {@code dbksvd encode}
 * ({@link SparkEncode#transform}). Saved in Spark's layout: {@code metadata/} (class, uid, params, as
 * {@code DefaultParamsWriter} writes them) and {@code data/}, Parquet with one row per atom ({@code atom} int,
 * {@code vector} array&lt;float&gt; of length d).
 */
public final class DbKsvdModel extends Model<DbKsvdModel> implements DbKsvdParams, MLWritable {
  private static final long serialVersionUID = 1L;
  private final String uid;
  private final Fields fields;
  private final float[] D;
  private final int d;
  private final int m;
  private final transient List<IterationMetrics> history;

  DbKsvdModel(String uid, float[] D, int d, int m, List<IterationMetrics> history) {
    if (D.length != (long) d * m) {
      throw new IllegalArgumentException("D has " + D.length + " floats, expected d * m = " + d * m);
    }
    this.uid = uid;
    this.fields = new Fields(this);
    this.D = D;
    this.d = d;
    this.m = m;
    this.history = history == null ? List.of() : List.copyOf(history);
    DbKsvdParams.setDefaults(this);
  }

  /** A model directory written by {@code dbksvd fit} as a Spark ML model, with the fit's parameters. */
  public static DbKsvdModel fromModelDir(SparkSession spark, String dir) throws IOException {
    ModelDir.Model mdl = ModelDir.read(spark.sparkContext().hadoopConfiguration(), dir);
    DbKsvdModel model = new DbKsvdModel(org.apache.spark.ml.util.Identifiable$.MODULE$.randomUID("dbksvd"),
        mdl.D(), mdl.d(), mdl.m(), null);
    DbKsvdParams.setAll(model, mdl.params(), false);
    return model;
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Fields fields() {
    return fields;
  }

  /** d, the length of an atom. */
  public int dimension() {
    return d;
  }

  /** m, the number of atoms. */
  public int atoms() {
    return m;
  }

  /** D, d × m column-major (atom j = entries [j·d, (j+1)·d)), a copy. */
  public float[] dictionary() {
    return D.clone();
  }

  /** The metrics of each training iteration (empty for a loaded model). */
  public List<IterationMetrics> trainingMetrics() {
    return history;
  }

  public DbKsvdModel setInputCol(String v) {
    set(inputCol(), v);
    return this;
  }

  public DbKsvdModel setOutputCol(String v) {
    set(outputCol(), v);
    return this;
  }

  public DbKsvdModel setBlockSize(int v) {
    set(blockSize(), v);
    return this;
  }

  public DbKsvdModel setZeroRows(String v) {
    set(zeroRows(), v);
    return this;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    SparkSession spark = dataset.sparkSession();
    // not closed here: the result is lazy; Spark's cleaner drops the broadcast once the plan is gone
    ModelEncoding model = ModelEncoding.broadcast(JavaSparkContext.fromSparkContext(spark.sparkContext()), D, d, m,
        fitParams());
    return SparkEncode.transform(spark, dataset.toDF(), model, getInputCol(), getOutputCol(), getBlockSize(),
        zeroRowsPolicy());
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return DbKsvdParams.outputSchema(this, schema);
  }

  @Override
  public DbKsvdModel copy(ParamMap extra) {
    return copyValues(new DbKsvdModel(uid, D, d, m, history), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  public static MLReader<DbKsvdModel> read() {
    return new Reader();
  }

  public static DbKsvdModel load(String path) {
    return read().load(path);
  }

  static final StructType DATA = new StructType()
      .add("atom", DataTypes.IntegerType, false)
      .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  static final class Writer extends MLWriter {
    private final DbKsvdModel model;

    Writer(DbKsvdModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
      List<Row> rows = new ArrayList<>(model.m);
      for (int j = 0; j < model.m; j++) {
        List<Float> v = new ArrayList<>(model.d);
        for (int i = 0; i < model.d; i++) {
          v.add(model.D[j * model.d + i]);
        }
        rows.add(RowFactory.create(j, v));
      }
      sparkSession().createDataFrame(rows, DATA).repartition(1).write()
          .parquet(new Path(path, "data").toString());
    }
  }

  static final class Reader extends MLReader<DbKsvdModel> {
    @Override
    public DbKsvdModel load(String path) {
      DefaultParamsReader.Metadata meta = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(),
          DbKsvdModel.class.getName());
      List<Row> rows = sparkSession().read().parquet(new Path(path, "data").toString()).orderBy("atom")
          .collectAsList();
      int m = rows.size();
      int d = rows.isEmpty() ? 0 : rows.get(0).getList(1).size();
      float[] D = new float[d * m];
      for (int j = 0; j < m; j++) {
        Row r = rows.get(j);
        List<Float> v = r.getList(1);
        if (r.getInt(0) != j || v.size() != d) {
          throw new IllegalArgumentException(path + "/data: atom " + r.getInt(0) + " of length " + v.size()
              + " where atom " + j + " of length " + d + " was expected");
        }
        for (int i = 0; i < d; i++) {
          D[j * d + i] = v.get(i);
        }
      }
      DbKsvdModel model = new DbKsvdModel(meta.uid(), D, d, m, null);
      meta.getAndSetParams(model, scala.Option.empty());
      return model;
    }
  }
}
