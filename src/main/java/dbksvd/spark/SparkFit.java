package dbksvd.spark;

import dbksvd.io.InitDictionary;
import dbksvd.linalg.Blas;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.IterationMetrics;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * DB-KSVD over a dataset too large for one machine: {@link FitLoop}'s iteration with the Spark stages
 * ({@link SparkStages}). The same kernels and seeds as the single-machine stages, so for the same data the two reach
 * the same dictionary.
 */
public final class SparkFit {
  private static final Logger LOG = Logger.getLogger(SparkFit.class.getName());

  private SparkFit() {}

  /** The whole fit, from the given dictionary of {@code p.initDictionary()} when it names one. */
  public static FitLoop.Result fit(JavaSparkContext sc, RowSource source, FitParams p,
      Consumer<IterationMetrics> listener) {
    return fit(sc, source, p, -1, given(sc, source, p), listener, null);
  }

  /** The atoms of {@code p.initDictionary()} (d × r), or null when it names none. */
  static float[] given(JavaSparkContext sc, RowSource source, FitParams p) {
    if (p.initDictionary().isEmpty()) {
      return null;
    }
    try {
      return InitDictionary.read(sc.hadoopConfiguration(), p.initDictionary(), source.d, p.m()).D();
    } catch (IOException e) { // a path or a file that is not what it should be: the user's to fix
      throw new BadInputException(e.getMessage());
    }
  }

  /** Runs iterations [first, p.iterations()) from D0: see {@link FitLoop#fit(FitLoop.Stages, FitParams, int,
   * float[], Consumer, FitLoop.AfterIteration)}. */
  public static FitLoop.Result fit(JavaSparkContext sc, RowSource source, FitParams p, int first, float[] D0,
      Consumer<IterationMetrics> listener, FitLoop.AfterIteration after) {
    p.validateFor(source.d);
    Blas.announce();
    if (p.batchSize() > source.rows) {
      LOG.warning("batch size " + p.batchSize() + " exceeds the " + source.rows + " rows of the input; each "
          + "iteration uses all rows");
    }
    try (SparkStages stages = new SparkStages(sc, source, p)) {
      return FitLoop.fit(stages, p, first, D0, listener, after);
    }
  }
}
