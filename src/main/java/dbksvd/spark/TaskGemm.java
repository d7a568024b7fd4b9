package dbksvd.spark;

import dbksvd.gemm.Backends;
import dbksvd.gemm.Gemm;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The GEMM backend of the running task: {@code spark.dbksvd.gemm.backend} (set from {@code dbksvd.gemm.backend}, or
 * by {@code spark-submit --conf}) and the GPUs Spark assigned to this task ({@code TaskContext.resources()}); see
 * {@link Backends}. Outside a task (the driver) there are none: the CPU.
 */
public final class TaskGemm {
  /** The Spark property tasks read. */
  public static final String KEY = "spark.dbksvd.gemm.backend";

  private TaskGemm() {}

  public static Gemm current() {
    TaskBlas.current(); // the session's native BLAS, before this task's first GEMM
    SparkEnv env = SparkEnv.get();
    String backend = env == null ? "auto" : env.conf().get(KEY, "auto");
    String[] gpus = new String[0];
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      scala.Option<ResourceInformation> gpu = tc.resources().get("gpu");
      if (gpu.isDefined()) {
        gpus = gpu.get().addresses();
      }
    }
    try {
      return Backends.choose(backend, gpus).gemm();
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage());
    }
  }

  /**
   * The driver's check before any job, so that a wrong backend fails in one line rather than in every task: the
   * configured name ({@code dbksvd.gemm.backend}) and the session's ({@code spark.dbksvd.gemm.backend}) must be
   * auto, cpu or cuda, and cuda needs Spark to give the tasks GPUs ({@code spark.task.resource.gpu.amount}; local
   * mode never does).
   */
  public static void check(SparkConf conf, String configured) {
    for (String b : new String[] {configured, conf.get(KEY, "auto")}) {
      String v;
      try {
        v = Backends.name(b);
      } catch (IllegalArgumentException e) {
        throw new BadInputException(e.getMessage());
      }
      if (v.equals("cuda") && (!conf.contains("spark.task.resource.gpu.amount")
          || conf.get("spark.master", "").startsWith("local"))) {
        throw new BadInputException("dbksvd.gemm.backend = cuda, but Spark gives the tasks no GPU (master "
            + conf.get("spark.master", "?") + ", spark.task.resource.gpu.amount "
            + conf.get("spark.task.resource.gpu.amount", "unset") + "; see deploy/gpu/README.md)");
      }
    }
  }
}
