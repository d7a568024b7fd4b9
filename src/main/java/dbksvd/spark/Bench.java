package dbksvd.spark;

import dbksvd.config.ZeroRows;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.linalg.Blas;
import dbksvd.linalg.BlasLibrary;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.MemoryPlan;
import dbksvd.update.Update;
import dbksvd.loop.IterationMetrics;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code bench}: the real Spark job on generated Parquet data at a given shape, its time per stage against the
 * SGEMM rate of the active BLAS measured in the same run. The roofline ratio is the iteration's wall time ÷ the
 * time its GEMM flops (2·m·d·n for DᵀY + 2·m²·d for DᵀD) take at that rate; 1.0 is the floor.
 */
public final class Bench {
  private Bench() {}

  /**
   * SGEMM GFLOP/s of the machine as the tasks use it: one GEMM of the DᵀY chunk shape per task slot, all slots at
   * once (each task runs single-threaded BLAS). Best of three.
   */
  public static double sgemmRate(int d, int m, int chunk, int slots) throws Exception {
    float[] D = gaussian(d * m, 1);
    float[] Y = gaussian(d * chunk, 2);
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    try {
      double best = 0;
      for (int rep = 0; rep < 4; rep++) {
        List<Future<?>> fs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int s = 0; s < slots; s++) {
          fs.add(pool.submit(() -> {
            float[] P = new float[m * chunk];
            Blas.correlations(D, d, 0, m, Y, 0, chunk, P);
          }));
        }
        for (Future<?> f : fs) {
          f.get();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        if (rep > 0) { // the first call warms up
          best = Math.max(best, slots * 2.0 * m * d * chunk / secs / 1e9);
        }
      }
      return best;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Per JVM: the device-resident SGEMM rate of each GPU backend, measured once. */
  private static final java.util.concurrent.ConcurrentHashMap<String, Double> GPU_RATES =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The tasks' GEMM backends (their names), how many distinct GPUs they ran on, and those GPUs' summed rate. */
  public record TaskBackends(String names, int gpus, double gpuGflops) {}

  /**
   * The GEMM backend the tasks get (one task per slot) and, where it is a GPU, the cuBLAS SGEMM rate with the
   * operands on the device, summed over the distinct GPUs (executor, device).
   */
  public static TaskBackends taskBackends(JavaSparkContext sc, int d, int m, int n, int slots) {
    sc.setJobDescription("bench: the tasks' GEMM backend");
    try {
      List<String[]> seen = sc.parallelize(java.util.stream.IntStream.range(0, slots).boxed().toList(), slots)
          .map(i -> {
            dbksvd.gemm.Gemm g = TaskGemm.current();
            String key = org.apache.spark.SparkEnv.get().executorId() + " " + g.name();
            double rate = g.gpu() ? GPU_RATES.computeIfAbsent(key, k -> g.deviceSgemmGflops(d, m, n)) : 0;
            return new String[] {g.name(), g.gpu() ? key : "", Double.toString(rate)};
          }).collect();
      java.util.Map<String, Double> perGpu = new java.util.TreeMap<>();
      java.util.Set<String> names = new java.util.TreeSet<>();
      for (String[] r : seen) {
        names.add(r[0]);
        if (!r[1].isEmpty()) {
          perGpu.put(r[1], Double.parseDouble(r[2]));
        }
      }
      return new TaskBackends(String.join(", ", names), perGpu.size(),
          perGpu.values().stream().mapToDouble(Double::doubleValue).sum());
    } finally {
      sc.setJobDescription(null);
    }
  }

  /** n standard normal floats from a fixed seed: operands for the SGEMM measurements. */
  private static float[] gaussian(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    return x;
  }

  /**
   * Reads and decodes every row of the source once (all task slots at once, blocks of 1024 rows, nothing kept):
   * the cost of getting the embeddings into float[] without any math. Returns {wall seconds, rows, CPU seconds of
   * the tasks' threads} — the CPU time stays meaningful on a machine shared with other work, the wall time does not.
   */
  public static double[] scan(JavaSparkContext sc, RowSource source) {
    sc.setJobDescription("bench: read and decode every row");
    try {
      long t0 = System.nanoTime();
      long[] rowsCpu = source.rdd().mapPartitions(it -> {
        long c0 = THREADS.getCurrentThreadCpuTime();
        long count = 0;
        var blocks = source.blocks(it, id -> true, 1024);
        while (blocks.hasNext()) {
          count += blocks.next().n();
        }
        return List.of(new long[] {count, THREADS.getCurrentThreadCpuTime() - c0}).iterator();
      }).reduce((a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
      return new double[] {(System.nanoTime() - t0) / 1e9, rowsCpu[0], rowsCpu[1] / 1e9};
    } finally {
      sc.setJobDescription(null);
    }
  }

  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  /** SGEMM GFLOP per CPU-second of one thread, at the DᵀY chunk shape (best of three after a warm-up). */
  public static double sgemmCpuRate(int d, int m, int chunk) {
    float[] D = gaussian(d * m, 1);
    float[] Y = gaussian(d * chunk, 2);
    float[] P = new float[m * chunk];
    double best = 0;
    for (int rep = 0; rep < 4; rep++) {
      long c0 = THREADS.getCurrentThreadCpuTime();
      Blas.correlations(D, d, 0, m, Y, 0, chunk, P);
      double secs = (THREADS.getCurrentThreadCpuTime() - c0) / 1e9;
      if (rep > 0) {
        best = Math.max(best, 2.0 * m * d * chunk / secs / 1e9);
      }
    }
    return best;
  }

  /** The BLAS of the run in the JSON: what {@code fit} writes to model.json, and its parts. */
  private static void putBlas(ObjectNode o, BlasLibrary.Loaded blas) {
    o.put("blas", blas.describe());
    o.put("blas_source", blas.source());
    o.put("blas_library", blas.path() == null ? null : blas.path().toString());
    o.put("openblas_version", blas.version());
    o.put("openblas_core", blas.core());
    o.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset"));
  }

  public static ObjectNode run(SparkSession spark, String data, FitParams p, PrintStream out) throws Exception {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int slots = sc.defaultParallelism();
    RowSource source = RowSource.open(spark, data, "embedding", ZeroRows.REFUSE);
    int d = source.d;
    int m = p.m();
    long n = Math.min(p.batchSize(), source.rows);
    out.printf("bench: d=%d m=%d k=%d n=%d, %d iterations, update %s%s, %d task slots, %d partitions, BLAS %s "
        + "(OPENBLAS_CORETYPE=%s)%n", d, m, p.k(), n, p.iterations(), p.update().name(),
        p.update() instanceof Update.Jacobi j ? " (" + j.passes() + " passes)"
            : p.update() instanceof Update.JacobiBatches jb
            ? " (" + jb.atomBatches() + " atom batches, " + jb.passes() + " passes)"
            : " (" + p.update().atomBatches() + " atom batches)", slots,
        source.rdd().getNumPartitions(), Blas.announce(), System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset"));
    MemoryPlan plan = SparkFit.plan(sc, source, p);
    out.println(plan.summary());
    plan.check();
    double cpuSlotsRate = sgemmRate(d, m, Math.min(1024, (int) n), slots);
    BlasLibrary.Loaded blas = BlasLibrary.current();
    out.printf("SGEMM %d x %d x %d on %d threads at once: %.1f GFLOP/s (%s, core %s, %s)%n", m, Math.min(1024, n), d,
        slots, cpuSlotsRate, blas.version() == null ? blas.describe() : "OpenBLAS " + blas.version(),
        blas.core() == null ? "unknown" : blas.core(), blas.path() == null ? blas.source() : blas.path());
    TaskBackends backends = taskBackends(sc, d, m, (int) Math.min(8192, n), slots);
    int gpus = backends.gpus();
    double gpuRate = backends.gpuGflops();
    out.printf("GEMM backend of the tasks: %s%n", backends.names());
    if (gpus > 0) {
      out.printf("cuBLAS SGEMM %d x %d x %d, operands on the device: %.1f GFLOP/s over %d GPU(s): the roofline "
          + "below is against this rate%n", m, Math.min(8192, n), d, gpuRate, gpus);
    }
    double rate = gpus > 0 ? gpuRate : cpuSlotsRate;
    scan(sc, source); // warm-up: class loading, JIT, the page cache
    double[] scan = scan(sc, source);
    double readPerBatch = scan[0] * n / scan[1];
    double gemmPerBatch = (2.0 * m * d * n + 2.0 * m * m * d) / (rate * 1e9);
    out.printf("read+decode (%s column): %d rows in %.2f s = %.2f s per batch of %d rows = %.2f x the batch's GEMM "
        + "time (%.0f MB/s of float32)%n", source.column.kind, (long) scan[1], scan[0], readPerBatch, n,
        readPerBatch / gemmPerBatch, scan[1] * d * 4 / scan[0] / 1e6);
    // the same in CPU time, which a busy machine does not distort: read CPU-seconds per batch over the CPU-seconds
    // its GEMM takes on one thread
    double cpuRate = sgemmCpuRate(d, m, Math.min(1024, (int) n));
    double readCpuPerBatch = scan[2] * n / scan[1];
    double gemmCpuPerBatch = (2.0 * m * d * n + 2.0 * m * m * d) / (cpuRate * 1e9);
    out.printf("  in CPU time: %.2f CPU-s per batch; one thread's SGEMM %.1f GFLOP per CPU-s -> GEMM %.2f CPU-s per "
        + "batch; read/GEMM = %.3f%n", readCpuPerBatch, cpuRate, gemmCpuPerBatch, readCpuPerBatch / gemmCpuPerBatch);
    if (p.iterations() == 0) {
      ObjectNode o = new ObjectMapper().createObjectNode();
      o.put("d", d);
      o.put("n", n);
      o.put("column_kind", source.column.kind.toString());
      putBlas(o, blas);
      o.put("sgemm_gflops", rate);
      o.put("scan_seconds", scan[0]);
      o.put("scan_rows", (long) scan[1]);
      o.put("read_seconds_per_batch", readPerBatch);
      o.put("read_over_gemm", readPerBatch / gemmPerBatch);
      o.put("read_cpu_seconds_per_batch", readCpuPerBatch);
      o.put("sgemm_gflops_per_cpu_second", cpuRate);
      o.put("read_over_gemm_cpu", readCpuPerBatch / gemmCpuPerBatch);
      return o;
    }
    List<IterationMetrics> its = new ArrayList<>();
    FitLoop.Result r = SparkFit.fit(sc, source, p, its::add);
    // the first iteration pays JIT warm-up and Spark's first-job costs; average the others when there are any
    List<IterationMetrics> measured = its.size() > 1 ? its.subList(1, its.size()) : its;
    Map<String, Double> wall = new LinkedHashMap<>();
    Map<String, Double> task = new LinkedHashMap<>();
    for (IterationMetrics im : measured) {
      im.seconds().forEach((k, v) -> wall.merge(k, v / measured.size(), Double::sum));
      im.taskSeconds().forEach((k, v) -> task.merge(k, v / measured.size(), Double::sum));
    }
    double total = wall.values().stream().mapToDouble(Double::doubleValue).sum();
    double gemmFlops = 2.0 * m * d * n + 2.0 * m * m * d;
    double gemmSeconds = gemmFlops / (rate * 1e9);
    // split the encode and update stages' wall time by the share of task time in each kernel
    Map<String, Double> stages = new LinkedHashMap<>();
    double encodeWall = wall.getOrDefault("encode", 0.0);
    double encTask = task.get("read") + task.get("dty") + task.get("mp") + task.get("residual");
    for (String s : new String[] {"read", "dty", "mp", "residual"}) {
      stages.put(s, encTask > 0 ? encodeWall * task.get(s) / encTask : 0);
    }
    double updateWall = wall.getOrDefault("update", 0.0);
    double updTask = (task.get("route") + task.get("merge") + task.get("update")) / slots;
    stages.put("route", task.get("route") / slots);
    stages.put("shuffle+scheduling", Math.max(0, updateWall - updTask));
    stages.put("merge", task.get("merge") / slots);
    stages.put("update", task.get("update") / slots);
    stages.put("driver (G, replace)", wall.getOrDefault("gram", 0.0) + wall.getOrDefault("replace", 0.0));
    out.println();
    out.printf("%-22s %9s %7s%n", "stage", "seconds", "share");
    for (Map.Entry<String, Double> e : stages.entrySet()) {
      out.printf("%-22s %9.3f %6.1f%%%n", e.getKey(), e.getValue(), 100 * e.getValue() / total);
    }
    out.printf("%-22s %9.3f%n", "iteration", total);
    out.printf("GEMM flops per iteration %.3f TFLOP -> %.3f s at %.1f GFLOP/s%n", gemmFlops / 1e12, gemmSeconds,
        rate);
    out.printf("roofline ratio (iteration / GEMM time): %.2f%n", total / gemmSeconds);
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("d", d);
    o.put("m", m);
    o.put("k", p.k());
    o.put("n", n);
    o.put("iterations", p.iterations());
    o.put("update", p.update().name());
    o.put("update_passes", p.update().passes());
    o.put("atom_batches", p.update().atomBatches());
    o.put("measured_iterations", measured.size());
    o.put("task_slots", slots);
    o.put("partitions", source.rdd().getNumPartitions());
    putBlas(o, blas);
    o.put("sgemm_gflops", rate);
    o.put("gemm_backend", backends.names());
    o.put("gpus", gpus);
    o.put("cpu_sgemm_gflops", cpuSlotsRate);
    o.put("gemm_seconds", gemmSeconds);
    o.put("iteration_seconds", total);
    o.put("roofline_ratio", total / gemmSeconds);
    o.put("column_kind", source.column.kind.toString());
    o.put("read_seconds_per_batch", readPerBatch);
    o.put("read_over_gemm", readPerBatch / gemmPerBatch);
    o.put("read_over_gemm_cpu", readCpuPerBatch / gemmCpuPerBatch);
    ObjectNode st = o.putObject("stages");
    stages.forEach(st::put);
    ObjectNode ts = o.putObject("task_seconds");
    task.forEach(ts::put);
    ArrayNode fve = o.putArray("fve");
    for (IterationMetrics im : its) {
      fve.add(im.fve());
    }
    o.put("final_atoms", r.m());
    return o;
  }
}
