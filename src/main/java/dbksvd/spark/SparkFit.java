package dbksvd.spark;

import dbksvd.io.InitDictionary;
import dbksvd.linalg.Blas;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.IterationMetrics;
import dbksvd.loop.MemoryPlan;
import org.apache.spark.SparkConf;
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

  /**
   * The memory plan of a fit on this session: in local mode one JVM (its heap, the task slots as cores); on a
   * cluster {@code spark.executor.memory}, {@code spark.executor.instances} (else the executors registered now) and
   * the task slots shared among them. Also raises {@code spark.driver.maxResultSize} to what the fit's largest result
   * needs, unless the user set it.
   */
  public static MemoryPlan plan(JavaSparkContext sc, RowSource source, FitParams p) {
    SparkConf conf = sc.sc().conf();
    boolean local = sc.isLocal();
    int slots = Math.max(1, sc.defaultParallelism());
    int executors = 1;
    if (!local) {
      executors = conf.getInt("spark.executor.instances", 0);
      if (executors <= 0) {
        executors = Math.max(1, sc.sc().statusTracker().getExecutorInfos().length - 1); // less the driver
      }
    }
    long heap = Runtime.getRuntime().maxMemory();
    long executorBytes = local ? heap : conf.getSizeAsBytes("spark.executor.memory", "1g");
    MemoryPlan plan = MemoryPlan.of(p, source.d, source.rows, executors, Math.max(1, slots / executors),
        executorBytes, heap, local);
    if (!conf.contains("spark.driver.maxResultSize")) {
      conf.set("spark.driver.maxResultSize", Long.toString(Math.max(1L << 30, plan.maxResultBytes())));
    }
    return plan;
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
    plan(sc, source, p).check();
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
