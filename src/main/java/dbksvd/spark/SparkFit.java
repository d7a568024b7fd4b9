package dbksvd.spark;

import dbksvd.linalg.Blas;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.IterationMetrics;
import org.apache.spark.api.java.JavaSparkContext;

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

  public static FitLoop.Result fit(JavaSparkContext sc, RowSource source, FitParams p,
      Consumer<IterationMetrics> listener) {
    return fit(sc, source, p, -1, null, listener, null);
  }

  /**
   * Runs iterations [first, p.iterations()) starting from D0 (a checkpoint), or the whole fit from the initial D
   * when first &lt; 0.
   */
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
