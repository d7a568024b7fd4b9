package dbksvd.ml;

import dbksvd.config.ZeroRows;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.IterationMetrics;
import dbksvd.spark.RowSource;
import dbksvd.spark.SparkFit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * DB-KSVD as a Spark ML {@link Estimator}: {@code fit} learns a dictionary D (d × m, unit-norm atoms) from the
 * embeddings of {@code inputCol} and returns a {@link DbKsvdModel}, whose {@code transform} adds the k-sparse codes.
 * Training is the Spark job of {@code dbksvd fit} ({@link SparkFit}, rows opened by {@link RowSource#open(
 * SparkSession, Dataset, String, ZeroRows)}); on a Parquet scan it yields the same dictionary, bit for
 * bit, as {@code dbksvd fit} with the same settings. Checkpoints and resume are the command's ({@code FitJob}).
 */
public final class DbKsvd extends Estimator<DbKsvdModel> implements DbKsvdParams, DefaultParamsWritable {
  private static final long serialVersionUID = 1L;
  private final String uid;
  private final Fields fields;

  public DbKsvd() {
    this(Identifiable$.MODULE$.randomUID("dbksvd"));
  }

  public DbKsvd(String uid) {
    this.uid = uid;
    this.fields = new Fields(this);
    DbKsvdParams.setDefaults(this);
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Fields fields() {
    return fields;
  }

  public DbKsvd setInputCol(String v) {
    set(inputCol(), v);
    return this;
  }

  public DbKsvd setOutputCol(String v) {
    set(outputCol(), v);
    return this;
  }

  public DbKsvd setNumAtoms(int v) {
    set(numAtoms(), v);
    return this;
  }

  public DbKsvd setK(int v) {
    set(k(), v);
    return this;
  }

  public DbKsvd setBatchSize(int v) {
    set(batchSize(), v);
    return this;
  }

  public DbKsvd setMaxIter(int v) {
    set(maxIter(), v);
    return this;
  }

  public DbKsvd setEncoder(String v) {
    set(encoder(), v);
    return this;
  }

  public DbKsvd setRtol(double v) {
    set(rtol(), v);
    return this;
  }

  public DbKsvd setMatryoshka(int v) {
    set(matryoshka(), v);
    return this;
  }

  public DbKsvd setMatryoshkaBudgets(int[] v) {
    set(matryoshkaBudgets(), v.clone());
    return this;
  }

  public DbKsvd setAtomBatches(int v) {
    set(atomBatches(), v);
    return this;
  }

  public DbKsvd setUpdate(String v) {
    set(update(), v);
    return this;
  }

  public DbKsvd setUpdatePasses(int v) {
    set(updatePasses(), v);
    return this;
  }

  public DbKsvd setSeed(long v) {
    set(seed(), v);
    return this;
  }

  public DbKsvd setInit(String v) {
    set(init(), v);
    return this;
  }

  public DbKsvd setClearThreshold(double v) {
    set(clearThreshold(), v);
    return this;
  }

  public DbKsvd setEncodeChunk(int v) {
    set(encodeChunk(), v);
    return this;
  }

  public DbKsvd setZeroRows(String v) {
    set(zeroRows(), v);
    return this;
  }

  public DbKsvd setBlockSize(int v) {
    set(blockSize(), v);
    return this;
  }

  /** Sets every fit parameter from p (as {@code dbksvd fit} reads them from its configuration). */
  public DbKsvd setFitParams(FitParams p) {
    DbKsvdParams.setAll(this, p, false);
    return this;
  }

  @Override
  public DbKsvdModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    FitParams p = fitParams();
    SparkSession spark = dataset.sparkSession();
    RowSource source = RowSource.open(spark, dataset.toDF(), getInputCol(), zeroRowsPolicy());
    List<IterationMetrics> history = new ArrayList<>();
    FitLoop.Result r = SparkFit.fit(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, p,
        history::add);
    DbKsvdModel model = new DbKsvdModel(uid, r.D(), r.d(), r.m(), history);
    copyValues(model, new ParamMap());
    return model.setParent(this);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return DbKsvdParams.outputSchema(this, schema);
  }

  @Override
  public DbKsvd copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  public static MLReader<DbKsvd> read() {
    return new DefaultParamsReader<>();
  }

  public static DbKsvd load(String path) {
    return read().load(path);
  }
}
