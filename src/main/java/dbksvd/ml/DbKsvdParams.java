package dbksvd.ml;

import dbksvd.config.ZeroRows;
import com.typesafe.config.ConfigFactory;
import dbksvd.config.Settings;
import dbksvd.encode.Encoder;
import dbksvd.loop.FitParams;
import dbksvd.loop.Init;
import dbksvd.spark.EmbeddingColumn;
import dbksvd.spark.RowSource;
import dbksvd.update.TopSingularTriplet;
import dbksvd.update.Update;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * The parameters {@link DbKsvd} and {@link DbKsvdModel} share (as Spark's ALSParams does for ALS). Names follow
 * Spark's own estimators where one exists ({@code inputCol}, {@code outputCol}, {@code k}, {@code maxIter},
 * {@code seed}, {@code blockSize}); the others mirror the keys of reference.conf ({@code numAtoms} =
 * dbksvd.fit.atoms, {@code batchSize} = batch-size, …), and the defaults are reference.conf's, so an estimator
 * with default settings fits what {@code dbksvd fit} fits.
 *
 * <p>A Java interface holds no fields: each implementing class keeps one {@link Fields} (the Param objects, owned by
 * its uid), and the accessors here read it. Spark finds the params by reflection on these public methods.
 */
public interface DbKsvdParams extends Params {

  /** The Param objects of one owner. */
  final class Fields implements Serializable {
    private static final long serialVersionUID = 1L;
    final Param<String> inputCol;
    final Param<String> outputCol;
    final IntParam numAtoms;
    final IntParam k;
    final IntParam batchSize;
    final IntParam maxIter;
    final Param<String> encoder;
    final DoubleParam rtol;
    final IntParam matryoshka;
    final IntArrayParam matryoshkaBudgets;
    final IntParam atomBatches;
    final Param<String> update;
    final IntParam updatePasses;
    final LongParam seed;
    final Param<String> init;
    final DoubleParam clearThreshold;
    final IntParam encodeChunk;
    final IntParam lanczosKrylov;
    final IntParam lanczosRestarts;
    final DoubleParam lanczosTol;
    final Param<String> zeroRows;
    final IntParam blockSize;

    /** @param owner its uid must be set already */
    public Fields(Params owner) {
      String uid = owner.uid();
      inputCol = new Param<>(uid, "inputCol", "the embedding column: array<float>, array<double> or a vector");
      outputCol = new Param<>(uid, "outputCol", "the codes column transform adds (sparse vector of length m)");
      numAtoms = new IntParam(uid, "numAtoms", "m, atoms of the dictionary D", ParamValidators.gtEq(1));
      k = new IntParam(uid, "k", "non-zeros per code (total over Matryoshka groups)", ParamValidators.gtEq(1));
      batchSize = new IntParam(uid, "batchSize", "n, samples per outer batch (capped at the dataset's rows)",
          ParamValidators.gtEq(1));
      maxIter = new IntParam(uid, "maxIter", "outer batches: one encode and one dictionary update each",
          ParamValidators.gtEq(0));
      encoder = new Param<>(uid, "encoder", "mp (matching pursuit), mp-refit (mp, then least squares on "
          + "its support) or omp (Batch-OMP)", ParamValidators.inArray(Encoder.NAMES));
      rtol = new DoubleParam(uid, "rtol", "stop coding a sample once ||r|| <= rtol ||y|| (0: always k steps)",
          ParamValidators.gtEq(0));
      matryoshka = new IntParam(uid, "matryoshka", "L >= 0: nested groups of 2^L, 2^L, 2^(L+1), ... atoms; -1 off",
          ParamValidators.gtEq(-1));
      matryoshkaBudgets = new IntArrayParam(owner, "matryoshkaBudgets", "k per Matryoshka group (empty: k split "
          + "evenly)");
      atomBatches = new IntParam(uid, "atomBatches", "gauss-seidel and jacobi-batches updates: atom batches per group",
          ParamValidators.gtEq(1));
      update = new Param<>(uid, "update", "jacobi (all atoms at once, where the batch lives), gauss-seidel "
          + "(samples shuffled to atom batches) or jacobi-batches (atom batches in sequence, all atoms of a batch at "
          + "once)", ParamValidators.inArray(List.of("jacobi", "gauss-seidel", "jacobi-batches")));
      updatePasses = new IntParam(uid, "updatePasses", "jacobi and jacobi-batches updates: passes over the batch's "
          + "residuals", ParamValidators.gtEq(1));
      seed = new LongParam(uid, "seed", "fixes every random choice");
      init = new Param<>(uid, "init", "samples (m normalised rows) or uniform",
          ParamValidators.inArray(List.of("samples", "uniform")));
      clearThreshold = new DoubleParam(uid, "clearThreshold", "re-draw an atom with |d_i . d_j| above this");
      encodeChunk = new IntParam(uid, "encodeChunk", "samples per D^T Y GEMM in a task", ParamValidators.gtEq(1));
      lanczosKrylov = new IntParam(uid, "lanczosKrylov", "Krylov dimension of the top singular triplet solver",
          ParamValidators.gtEq(2));
      lanczosRestarts = new IntParam(uid, "lanczosRestarts", "restarts of that solver", ParamValidators.gtEq(1));
      lanczosTol = new DoubleParam(uid, "lanczosTol", "tolerance of that solver", ParamValidators.gt(0));
      zeroRows = new Param<>(uid, "zeroRows", "an all-zero embedding: refuse or skip",
          ParamValidators.inArray(List.of("refuse", "skip")));
      blockSize = new IntParam(uid, "blockSize", "rows per encode block in transform", ParamValidators.gtEq(1));
    }
  }

  Fields fields();

  default Param<String> inputCol() {
    return fields().inputCol;
  }

  default Param<String> outputCol() {
    return fields().outputCol;
  }

  default IntParam numAtoms() {
    return fields().numAtoms;
  }

  default IntParam k() {
    return fields().k;
  }

  default IntParam batchSize() {
    return fields().batchSize;
  }

  default IntParam maxIter() {
    return fields().maxIter;
  }

  default Param<String> encoder() {
    return fields().encoder;
  }

  default DoubleParam rtol() {
    return fields().rtol;
  }

  default IntParam matryoshka() {
    return fields().matryoshka;
  }

  default IntArrayParam matryoshkaBudgets() {
    return fields().matryoshkaBudgets;
  }

  default IntParam atomBatches() {
    return fields().atomBatches;
  }

  default Param<String> update() {
    return fields().update;
  }

  default IntParam updatePasses() {
    return fields().updatePasses;
  }

  default LongParam seed() {
    return fields().seed;
  }

  default Param<String> init() {
    return fields().init;
  }

  default DoubleParam clearThreshold() {
    return fields().clearThreshold;
  }

  default IntParam encodeChunk() {
    return fields().encodeChunk;
  }

  default IntParam lanczosKrylov() {
    return fields().lanczosKrylov;
  }

  default IntParam lanczosRestarts() {
    return fields().lanczosRestarts;
  }

  default DoubleParam lanczosTol() {
    return fields().lanczosTol;
  }

  default Param<String> zeroRows() {
    return fields().zeroRows;
  }

  default IntParam blockSize() {
    return fields().blockSize;
  }

  default String getInputCol() {
    return getOrDefault(inputCol());
  }

  default String getOutputCol() {
    return getOrDefault(outputCol());
  }

  default int getNumAtoms() {
    return (Integer) getOrDefault(numAtoms());
  }

  default int getK() {
    return (Integer) getOrDefault(k());
  }

  default int getBatchSize() {
    return (Integer) getOrDefault(batchSize());
  }

  default int getMaxIter() {
    return (Integer) getOrDefault(maxIter());
  }

  default String getEncoder() {
    return getOrDefault(encoder());
  }

  default int getMatryoshka() {
    return (Integer) getOrDefault(matryoshka());
  }

  default int[] getMatryoshkaBudgets() {
    return getOrDefault(matryoshkaBudgets()).clone();
  }

  default int getAtomBatches() {
    return (Integer) getOrDefault(atomBatches());
  }

  default long getSeed() {
    return (Long) getOrDefault(seed());
  }

  default String getInit() {
    return getOrDefault(init());
  }

  default String getZeroRows() {
    return getOrDefault(zeroRows());
  }

  default int getBlockSize() {
    return (Integer) getOrDefault(blockSize());
  }

  /** The settings of a fit, validated together (k against m, Matryoshka budgets against k). */
  default FitParams fitParams() {
    return FitParams.builder(getNumAtoms(), getK())
        .batchSize(getBatchSize())
        .iterations(getMaxIter())
        .encoder(getEncoder())
        .rtol((Double) getOrDefault(rtol()))
        .matryoshka(FitParams.Matryoshka.of(getMatryoshka(), getMatryoshkaBudgets()))
        .update(Update.of((String) getOrDefault(update()), (Integer) getOrDefault(updatePasses()), getAtomBatches()))
        .seed(getSeed())
        .init(Init.of(getInit()))
        .clearThreshold((Double) getOrDefault(clearThreshold()))
        .lanczos(new TopSingularTriplet((Integer) getOrDefault(lanczosKrylov()),
            (Integer) getOrDefault(lanczosRestarts()), (Double) getOrDefault(lanczosTol())))
        .encodeChunk((Integer) getOrDefault(encodeChunk()))
        .build();
  }

  default ZeroRows zeroRowsPolicy() {
    return ZeroRows.parse(getZeroRows());
  }

  /** Defaults: those of reference.conf. */
  static void setDefaults(DbKsvdParams o) {
    var c = ConfigFactory.defaultReference();
    o.setDefault(o.inputCol(), c.getString("dbksvd.input.column"));
    o.setDefault(o.outputCol(), c.getString("dbksvd.encode.output-column"));
    o.setDefault(o.zeroRows(), c.getString("dbksvd.input.zero-rows"));
    o.setDefault(o.blockSize(), c.getInt("dbksvd.encode.chunk"));
    setAll(o, Settings.fitParams(c), true);
  }

  /** Sets (or, with {@code asDefault}, defaults) every fit parameter from p. */
  static void setAll(DbKsvdParams o, FitParams p, boolean asDefault) {
    Object[][] pairs = {
        {o.numAtoms(), p.m()}, {o.k(), p.k()}, {o.batchSize(), p.batchSize()}, {o.maxIter(), p.iterations()},
        {o.encoder(), p.encoder().name()}, {o.rtol(), p.rtol()}, {o.matryoshka(), p.matryoshka().levels()},
        {o.matryoshkaBudgets(), p.matryoshka().budgetArray()}, {o.atomBatches(), p.update().atomBatches()},
        {o.seed(), p.seed()}, {o.init(), p.init().configName()}, {o.clearThreshold(), p.clearThreshold()}, {o.encodeChunk(), p.encodeChunk()},
        {o.lanczosKrylov(), p.lanczos().maxKrylov()}, {o.lanczosRestarts(), p.lanczos().maxRestarts()},
        {o.lanczosTol(), p.lanczos().tol()}, {o.update(), p.update().name()}, {o.updatePasses(), p.update().passes()}};
    for (Object[] kv : pairs) {
      @SuppressWarnings("unchecked")
      Param<Object> param = (Param<Object>) kv[0];
      if (asDefault) {
        o.setDefault(param, kv[1]);
      } else {
        o.set(param, kv[1]);
      }
    }
  }

  /** The input schema with the codes column added; refuses a missing or mistyped input column. */
  static StructType outputSchema(DbKsvdParams o, StructType schema) {
    EmbeddingColumn.of(schema, o.getInputCol());
    if (Arrays.asList(schema.fieldNames()).contains(o.getOutputCol())) {
      throw new IllegalArgumentException("input already has a column '" + o.getOutputCol() + "'; choose another "
          + "with setOutputCol");
    }
    return schema.add(o.getOutputCol(), SQLDataTypes.VectorType(), false);
  }
}
