package dbksvd.spark;

import dbksvd.linalg.BlasLibrary;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * The native BLAS of the driver and the executors: {@code spark.dbksvd.blas.library} (set from
 * {@code dbksvd.blas.library}, or by {@code spark-submit --conf}), one of {@code bundled}, {@code system} or a path
 * (see {@link BlasLibrary}). netlib loads one library per JVM at its first native call, so the choice travels ahead
 * of any task: as the environment variable {@code DBKSVD_BLAS_LIBRARY} of every executor JVM
 * ({@code spark.executorEnv.DBKSVD_BLAS_LIBRARY}), which {@link BlasLibrary} reads; and each task checks it again
 * against the session's setting ({@link #current()}) before its first GEMM.
 */
public final class TaskBlas {
  /** The Spark property the driver and the tasks read. */
  public static final String KEY = "spark.dbksvd.blas.library";
  /** The executors' environment variable, through Spark. */
  static final String EXECUTOR_ENV = "spark.executorEnv." + BlasLibrary.ENV;

  private TaskBlas() {}

  /**
   * On the driver, before the session starts: the setting ({@code spark.dbksvd.blas.library} when the submission set
   * it, else {@code configured}) goes to the executors' environment and is loaded here, so that a bad path fails in
   * one line before any job.
   *
   * @throws BadInputException for a malformed setting, a missing file or one that does not load as a BLAS
   */
  static void apply(SparkConf conf, String configured) {
    String setting;
    try {
      setting = BlasLibrary.check(conf.get(KEY, configured));
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage());
    }
    conf.set(KEY, setting);
    conf.setIfMissing(EXECUTOR_ENV, setting);
    try {
      BlasLibrary.use(setting);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage());
    }
  }

  /**
   * In a task: the session's setting, applied if this JVM has not loaded its BLAS yet (an executor started without
   * the environment variable, e.g. in a session dbksvd joined), else checked (a difference is logged once).
   */
  public static void current() {
    SparkEnv env = SparkEnv.get();
    if (env == null) {
      return;
    }
    String setting = env.conf().get(KEY, null);
    if (setting != null) {
      try {
        BlasLibrary.use(setting);
      } catch (IllegalArgumentException e) {
        throw new BadInputException(e.getMessage());
      }
    }
  }
}
