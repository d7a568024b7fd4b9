package dbksvd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dbksvd.cli.Main;
import dbksvd.cluster.StandaloneCluster.Executor;
import dbksvd.cluster.StandaloneCluster.Proc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code fit} submitted to a real Spark standalone cluster — a master and two one-core workers as separate JVMs on
 * 127.0.0.1 ({@link StandaloneCluster}), the driver a separate JVM started as spark-submit starts it — ends with the
 * same dictionary, bit for bit, as the same fit in local mode; also when an executor is killed with SIGKILL in the
 * middle of an iteration, and when the driver is killed after a checkpoint and the fit is resumed with --resume.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  static final int ITERATIONS = 8;
  static final Duration FIT_TIMEOUT = Duration.ofSeconds(300);
  static final Duration EXECUTORS_GONE = Duration.ofSeconds(60);
  static final Pattern PROGRESS = Pattern.compile("(?m)^iteration (\\d+)/" + ITERATIONS + "\\b");

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) static Path tmp;
  static CompletableFuture<StandaloneCluster> clusterStart;
  static StandaloneCluster cluster;
  static volatile double clusterSeconds;
  static String data;
  static byte[] reference;
  static final List<String> report = new ArrayList<>();

  @BeforeAll
  static void dataReferenceAndCluster() throws Exception {
    data = tmp.resolve("data").toString();
    long t0 = System.nanoTime();
    // the cluster starts in the background while this JVM writes the data and fits the reference
    clusterStart = CompletableFuture.supplyAsync(() -> {
      try {
        StandaloneCluster c = StandaloneCluster.start(tmp.resolve("cluster"), 2, 2, "1536m");
        clusterSeconds = s(t0, System.nanoTime());
        return c;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    // data and the reference fit in local mode, in this JVM, through the command line as bin/dbksvd runs them
    // (failsafe tests the shaded jar: only the command line is called, no relocated type)
    String[] local = {"--set", "dbksvd.spark.master=local[2]", "--set", "dbksvd.spark.ui=false"};
    List<String> gen = new ArrayList<>(List.of("generate", "--output", data, "--dim", "32", "--atoms", "64",
        "--k", "3", "--samples", "6000", "--partitions", "4", "--snr-db", "30", "--seed", "5"));
    gen.addAll(List.of(local));
    assertEquals(0, Main.execute(gen.toArray(String[]::new)), "generate");
    long t1 = System.nanoTime();
    String model = tmp.resolve("model-local").toString();
    List<String> fit = new ArrayList<>(fitArgs(model));
    fit.addAll(List.of(local));
    assertEquals(0, Main.execute(fit.toArray(String[]::new)), "local fit");
    reference = Files.readAllBytes(Path.of(model, "dictionary.npy"));
    long t2 = System.nanoTime();
    cluster = clusterStart.get(150, TimeUnit.SECONDS);
    long t3 = System.nanoTime();
    double cpu = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 1e3).orElse(Double.NaN);
    note("generate (local[2], in-process): %.1f s; local fit (local[2], in-process): %.1f s (this JVM: %.0f s CPU "
        + "so far); cluster (master + 2 workers, started alongside): up after %.1f s, waited %.1f s for it; master %s; "
        + "temp dir %s", s(t0, t1), s(t1, t2), cpu, clusterSeconds, s(t2, t3), cluster.masterUrl(), tmp);
  }

  @AfterEach
  void stopDrivers() {
    if (cluster != null) {
      cluster.stopDrivers();
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster == null && clusterStart != null) {
      try {
        cluster = clusterStart.get(150, TimeUnit.SECONDS);
      } catch (Exception e) {
        // start failed: it stopped what it had started
      }
    }
    if (cluster != null) {
      cluster.close();
      assertTrue(cluster.executors().isEmpty(), "executors left running");
    }
    System.out.println("==== StandaloneClusterIT summary");
    report.forEach(l -> System.out.println("  " + l));
  }

  static List<String> fitArgs(String output) {
    return List.of("fit", "--input", data, "--output", output, "--atoms", "64", "--k", "3", "--batch-size", "2000",
        "--iterations", Integer.toString(ITERATIONS), "--seed", "7", "--set", "dbksvd.fit.checkpoint-interval=2");
  }

  /**
   * What a user passes to spark-submit, plus one input file per partition: 4 partitions over the two executors,
   * where the local reference run (local[2]) packs the 4 small files into 2.
   */
  static List<String> sparkConf() {
    return sparkConf(1);
  }

  /** Two executors (one per worker) of {@code cores} cores each. */
  static List<String> sparkConf(int cores) {
    return List.of("spark.executor.memory=1g", "spark.executor.cores=" + cores, "spark.cores.max=" + 2 * cores,
        "spark.executorEnv.OPENBLAS_NUM_THREADS=1", "spark.ui.enabled=false", "spark.sql.files.maxPartitionBytes=4m");
  }

  @Test
  @Order(1)
  void clusterFitEqualsLocalFit() throws Exception {
    String out = tmp.resolve("model-cluster").toString();
    cluster.awaitNoExecutors(EXECUTORS_GONE);
    long t0 = System.nanoTime();
    Proc driver = cluster.submit("fit-cluster", sparkConf(), fitArgs(out));
    // once the first iteration is done, every process is up and connected: look at the executors and the sockets
    cluster.await(FIT_TIMEOUT, "iteration 1 in the driver's output",
        () -> lastIteration(driver.stdout()) >= 1 || !driver.process().isAlive());
    List<Executor> executors = cluster.executors();
    assertEquals(2, executors.size(), () -> "executors " + executors + "\n" + cluster.logTails(30));
    for (Executor e : executors) {
      assertTrue(e.args().containsAll(cluster.jvmOptions), () -> "executor " + e.executorId()
          + " lacks JVM options of conf/jvm-options: " + e.args());
      Optional<Map<String, String>> env = StandaloneCluster.environment(e.handle());
      env.ifPresent(m -> assertEquals("1", m.get("OPENBLAS_NUM_THREADS"),
          "executor environment has OPENBLAS_NUM_THREADS from spark.executorEnv"));
    }
    int processCount = cluster.processes().size();
    StandaloneCluster.SocketScan sockets = cluster.scanSockets();
    assertTrue(sockets.offLoopback().isEmpty(), () -> "sockets off the loopback interface:\n"
        + String.join("\n", sockets.offLoopback()));
    if (Files.isDirectory(Path.of("/proc/net"))) {
      assertTrue(sockets.checked() >= 2 * processCount, "sockets found: " + sockets.checked());
    }
    int rc = cluster.awaitExit(driver, FIT_TIMEOUT);
    long t1 = System.nanoTime();
    assertEquals(0, rc, () -> "fit on the cluster failed\n" + cluster.logTails(60));
    String stdout = driver.stdout();
    assertTrue(stdout.contains("iteration " + ITERATIONS + "/" + ITERATIONS) && stdout.contains("model written to"),
        stdout);
    assertSameDictionary(out, "cluster fit vs local fit");

    String appId = executors.get(0).appId();
    List<Path> logs = cluster.executorLogs(appId);
    long busy = logs.stream().filter(l -> StandaloneCluster.read(l).contains("Running task")).count();
    assertEquals(2, busy, "both executors ran tasks: " + logs);
    assertTrue(logs.stream().anyMatch(l -> StandaloneCluster.read(l).contains("Running task 3.0 in stage")),
        "4 partitions (a task for partition 3)");
    // each executor JVM loaded the OpenBLAS of the application jar (the cluster's class path has none), the
    // driver's library and core
    String fitLine = stdout.lines().filter(x -> x.startsWith("fit:")).findFirst().orElse("");
    String driverBlas = fitLine.substring(fitLine.indexOf(", BLAS ") + ", BLAS ".length());
    assertTrue(driverBlas.contains("OpenBLAS") && driverBlas.endsWith("(bundled)"), fitLine);
    for (Path l : logs) {
      String log = StandaloneCluster.read(l);
      List<String> blas = log.lines().filter(x -> x.contains("BLAS: dev.ludovic.netlib")).toList();
      assertEquals(1, blas.size(), () -> "one BLAS line in " + l + ":\n" + StandaloneCluster.tail(log, 40));
      assertTrue(blas.get(0).contains("BLAS: " + driverBlas + ", "), blas.get(0) + " vs the driver's " + driverBlas);
    }
    note("(a) cluster fit %s: %.1f s (driver JVM, start to exit); dictionary identical to local mode; "
        + "tasks per executor %s; %d TCP sockets of %d processes, all on 127.0.0.1; last line: %s", appId,
        s(t0, t1), tasksPerLog(logs), sockets.checked(), processCount, lastProgress(stdout));
  }

  @Test
  @Order(2)
  void executorKilledMidIterationFitStillFinishesWithSameDictionary() throws Exception {
    String out = tmp.resolve("model-executor-killed").toString();
    cluster.awaitNoExecutors(EXECUTORS_GONE);
    long t0 = System.nanoTime();
    Proc driver = cluster.submit("fit-executor-killed", sparkConf(), fitArgs(out));
    cluster.await(FIT_TIMEOUT, "iteration 3 in the driver's output",
        () -> lastIteration(driver.stdout()) >= 3 || !driver.process().isAlive());
    assertTrue(driver.process().isAlive(), () -> "the fit ended before the kill\n" + cluster.logTails(40));

    // Prefer an executor in the middle of a task: its log has a "Running task" without its "Finished task" (tasks
    // here last milliseconds, so the task may still finish before the signal lands: the driver's "Lost task" says).
    Executor victim = null;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    boolean midTask = false;
    while (victim == null && System.nanoTime() < until && driver.process().isAlive()) {
      for (Executor e : cluster.executors()) {
        Optional<Path> log = cluster.executorLog(e.appId(), e.executorId());
        if (log.isPresent() && !runningTasks(StandaloneCluster.read(log.get())).isEmpty()) {
          victim = e;
          midTask = true;
          break;
        }
      }
      if (victim == null) {
        Thread.sleep(5);
      }
    }
    if (victim == null) {
      List<Executor> all = cluster.executors();
      assertFalse(all.isEmpty(), () -> "no executor to kill\n" + cluster.logTails(40));
      victim = all.get(0);
    }
    String atKill = lastProgress(driver.stdout());
    victim.handle().destroyForcibly(); // SIGKILL, as kill -9
    long tKill = System.nanoTime();
    assertTrue(victim.handle().onExit().get(30, TimeUnit.SECONDS) != null);
    assertFalse(atKill.startsWith("iteration " + ITERATIONS + "/"), "killed before the last iteration ended");

    int rc = cluster.awaitExit(driver, FIT_TIMEOUT);
    long t1 = System.nanoTime();
    assertEquals(0, rc, () -> "fit with a killed executor failed\n" + cluster.logTails(60));
    assertTrue(driver.stdout().contains("model written to"), driver.stdout());
    assertSameDictionary(out, "fit with a killed executor vs local fit");

    String appId = victim.appId();
    String err = driver.stderr();
    assertTrue(err.contains("Lost executor " + victim.executorId()),
        () -> "the driver did not report the lost executor\n" + StandaloneCluster.tail(err, 40));
    int launched = StandaloneCluster.count(cluster.masterLog(), "Launching executor " + appId + "/");
    assertTrue(launched >= 3, "the master launched a replacement executor (" + launched + " launches)");
    String lost = err.lines().filter(l -> l.contains("Lost executor") || l.contains("Lost task")).limit(2)
        .map(l -> l.replaceAll("^\\S+ \\S+ ", "")).reduce((a, b) -> a + " | " + b).orElse("");
    note("(b) executor %s (pid %d) killed %.1f s after submit, %s, after \"%s\"; %d executor launches; lost "
            + "tasks %d; fit %.1f s; dictionary identical to local mode; driver: %s", victim.executorId(),
        victim.handle().pid(), s(t0, tKill), midTask ? "its log showing a task running" : "between its tasks",
        atKill.replaceAll("\\s+fve.*", ""), launched, StandaloneCluster.count(err, "Lost task"), s(t0, t1), lost);
  }

  @Test
  @Order(3)
  void driverKilledAfterCheckpointResumeEndsWithSameDictionary() throws Exception {
    String out = tmp.resolve("model-driver-killed").toString();
    Path checkpoints = tmp.resolve(".model-driver-killed.checkpoints");
    cluster.awaitNoExecutors(EXECUTORS_GONE);
    long t0 = System.nanoTime();
    Proc driver = cluster.submit("fit-driver-killed", sparkConf(), fitArgs(out));
    cluster.await(FIT_TIMEOUT, "a checkpoint and a later iteration", () -> {
      int ck = newestCheckpoint(checkpoints);
      return ck > 0 && lastIteration(driver.stdout()) > ck || !driver.process().isAlive();
    });
    assertTrue(driver.process().isAlive(), () -> "the fit ended before the kill\n" + cluster.logTails(40));
    String atKill = lastProgress(driver.stdout());
    driver.process().destroyForcibly(); // SIGKILL
    assertTrue(driver.process().waitFor(30, TimeUnit.SECONDS), "driver gone");
    long tKill = System.nanoTime();
    assertEquals(137, driver.process().exitValue(), "killed by SIGKILL");
    assertFalse(Files.exists(Path.of(out)), "no model directory after the driver was killed");
    int ck = newestCheckpoint(checkpoints);
    assertTrue(ck > 0, "a checkpoint is left: " + checkpoints);

    cluster.awaitNoExecutors(EXECUTORS_GONE);
    long t1 = System.nanoTime();
    List<String> resumeArgs = new ArrayList<>(fitArgs(out));
    resumeArgs.add("--resume");
    Proc resumed = cluster.submit("fit-resumed", sparkConf(), resumeArgs);
    int rc = cluster.awaitExit(resumed, FIT_TIMEOUT);
    long t2 = System.nanoTime();
    assertEquals(0, rc, () -> "resumed fit failed\n" + cluster.logTails(60));
    String stdout = resumed.stdout();
    assertTrue(stdout.contains("resuming from") && stdout.contains("at iteration " + (ck + 1) + "/" + ITERATIONS),
        stdout);
    Matcher first = PROGRESS.matcher(stdout);
    assertTrue(first.find() && Integer.parseInt(first.group(1)) == ck + 1, "first iteration run is " + (ck + 1)
        + ":\n" + stdout);
    assertSameDictionary(out, "resumed fit vs local fit");
    assertFalse(Files.exists(checkpoints), "checkpoints removed after the model was written");
    note("(c) driver killed %.1f s after submit, after \"%s\", newest checkpoint iter-%06d; resumed at iteration "
            + "%d/%d: %.1f s; dictionary identical to local mode", s(t0, tKill),
        atKill.replaceAll("\\s+fve.*", ""), ck, ck + 1, ITERATIONS, s(t1, t2));
  }

  /**
   * GPUs through Spark's resource scheduling: each worker offers one GPU address, the application asks one per
   * executor, and its two tasks at a time share it (half a GPU per task, on executors of 2 cores: the fit of 2 cores
   * per executor that {@link #trafficDoesNotGrowWithCoresPerExecutor} measures). This build has no CUDA backend, so
   * every task falls back to the CPU, says so once in its executor's log, and the dictionary is the local one bit for
   * bit; asking for cuda instead fails in one line.
   */
  @Test
  @Order(4)
  void gpuResourcesAssignedToTasksFallBackToCpu() throws Exception {
    List<String> gpuConf = new ArrayList<>(sparkConf(2));
    gpuConf.addAll(List.of("spark.executor.resource.gpu.amount=1", "spark.task.resource.gpu.amount=0.5"));
    String out = tmp.resolve("model-gpu-fallback").toString();
    cluster.awaitNoExecutors(EXECUTORS_GONE);
    long t0 = System.nanoTime();
    Proc driver = cluster.submit("fit-gpu-auto", gpuConf, fitArgs(out));
    cluster.await(FIT_TIMEOUT, "iteration 1 in the driver's output",
        () -> lastIteration(driver.stdout()) >= 1 || !driver.process().isAlive());
    String appId = cluster.executors().isEmpty() ? "?" : cluster.executors().get(0).appId();
    int rc = cluster.awaitExit(driver, FIT_TIMEOUT);
    long t1 = System.nanoTime();
    assertEquals(0, rc, () -> "fit with GPU resources failed\n" + cluster.logTails(60));
    assertSameDictionary(out, "fit with GPU resources (CPU fall-back) vs local fit");
    List<Path> logs = cluster.executorLogs(appId);
    Set<String> reasons = new HashSet<>();
    for (Path l : logs) {
      String log = StandaloneCluster.read(l);
      List<String> lines = log.lines().filter(x -> x.contains("GEMM backend:")).toList();
      assertEquals(1, lines.size(), () -> "one backend line in " + l + ":\n" + StandaloneCluster.tail(log, 40));
      assertTrue(lines.get(0).contains("GEMM backend: cpu") && lines.get(0).contains("assigned, but this build has "
          + "no CUDA backend"), lines.get(0));
      reasons.add(lines.get(0).replaceAll("^.*GEMM backend: ", ""));
    }
    assertEquals(2, logs.size(), "two executors: " + logs);
    assertTrue(reasons.stream().anyMatch(r -> r.contains("GPU 0 ")) && reasons.stream().anyMatch(r -> r.contains(
        "GPU 1 ")), "each executor got its worker's GPU address: " + reasons);

    cluster.awaitNoExecutors(EXECUTORS_GONE);
    List<String> cudaArgs = new ArrayList<>(fitArgs(tmp.resolve("model-gpu-cuda").toString()));
    cudaArgs.addAll(List.of("--set", "dbksvd.gemm.backend=cuda"));
    Proc cuda = cluster.submit("fit-gpu-cuda", gpuConf, cudaArgs);
    int rcCuda = cluster.awaitExit(cuda, FIT_TIMEOUT);
    List<String> errors = cuda.stderr().lines().filter(l -> l.startsWith("dbksvd: error:")).toList();
    assertEquals(2, rcCuda, () -> "backend cuda without a CUDA build\n" + StandaloneCluster.tail(cuda.stderr(), 40));
    assertEquals(1, errors.size(), () -> StandaloneCluster.tail(cuda.stderr(), 40));
    assertTrue(errors.get(0).contains("dbksvd.gemm.backend = cuda, but this build has no CUDA backend"),
        errors.get(0));
    assertFalse(Files.exists(tmp.resolve("model-gpu-cuda")), "nothing at the output path");
    note("(d) GPU resources (1 per executor of 2 cores, 0.5 per task): fit %.1f s, dictionary identical to local "
        + "mode; executors said: %s; with dbksvd.gemm.backend=cuda: exit 2, %s", s(t0, t1), reasons, errors.get(0));
  }

  /**
   * What the fit moves grows with the executors, not with their cores: the same fit with two executors of 1 and of 2
   * cores each moves (shuffle + task results, Spark's metrics per iteration in metrics.jsonl) at most 1.25 × as much
   * with 2 cores, and ends with the local dictionary both times. The fits are the first test's (1 core per executor)
   * and the GPU test's (2 cores, GPU resources that change nothing the fit moves) when those ran.
   */
  @Test
  @Order(5)
  void trafficDoesNotGrowWithCoresPerExecutor() throws Exception {
    long[] moved = new long[2];
    long[] broadcast = new long[2];
    for (int cores = 1; cores <= 2; cores++) {
      String out = tmp.resolve("model-traffic-" + cores).toString();
      Path earlier = tmp.resolve(cores == 1 ? "model-cluster" : "model-gpu-fallback");
      if (Files.exists(earlier.resolve("metrics.jsonl"))) {
        out = earlier.toString();
      } else {
        cluster.awaitNoExecutors(EXECUTORS_GONE);
        Proc driver = cluster.submit("fit-traffic-" + cores, sparkConf(cores), fitArgs(out));
        int rc = cluster.awaitExit(driver, FIT_TIMEOUT);
        assertEquals(0, rc, () -> "fit with " + driver + "\n" + cluster.logTails(60));
      }
      assertSameDictionary(out, "fit with 2 executors of " + cores + " cores vs local fit");
      for (String line : Files.readAllLines(Path.of(out, "metrics.jsonl"))) {
        var b = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).path("bytes");
        moved[cores - 1] += b.path("shuffle").asLong() + b.path("results").asLong();
        broadcast[cores - 1] += b.path("broadcast").asLong();
      }
    }
    note("(e) 2 executors of 1 and 2 cores: shuffle + results %d and %d bytes over %d iterations (ratio %.3f); "
        + "broadcast fetched by executors %d and %d bytes", moved[0], moved[1], ITERATIONS,
        (double) moved[1] / moved[0], broadcast[0], broadcast[1]);
    assertTrue(moved[1] <= 1.25 * moved[0], moved[0] + " and " + moved[1] + " bytes with 1 and 2 cores");
  }

  // ---- helpers

  static void assertSameDictionary(String model, String what) throws IOException {
    byte[] got = Files.readAllBytes(Path.of(model, "dictionary.npy"));
    if (!java.util.Arrays.equals(reference, got)) {
      fail(what + ": dictionary.npy differs (" + differingFloats(reference, got) + ")");
    }
  }

  /** How many float32 values differ between two .npy files of the same shape, and the largest difference. */
  static String differingFloats(byte[] a, byte[] b) {
    if (a.length != b.length) {
      return "sizes " + a.length + " and " + b.length + " bytes";
    }
    int header = 10 + (ByteBuffer.wrap(a, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff);
    ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int n = 0;
    double max = 0;
    for (int i = header; i + 4 <= a.length; i += 4) {
      float u = x.getFloat(i);
      float v = y.getFloat(i);
      if (Float.floatToIntBits(u) != Float.floatToIntBits(v)) {
        n++;
        max = Math.max(max, Math.abs(u - v));
      }
    }
    return n + " of " + (a.length - header) / 4 + " floats differ, max |diff| " + max;
  }

  static int lastIteration(String stdout) {
    Matcher m = PROGRESS.matcher(stdout);
    int last = 0;
    while (m.find()) {
      last = Integer.parseInt(m.group(1));
    }
    return last;
  }

  static String lastProgress(String stdout) {
    return stdout.lines().filter(l -> l.startsWith("iteration ")).reduce((a, b) -> b).orElse("(none)");
  }

  /** The iteration number of the newest complete checkpoint (iter-NNNNNN), 0 if none. */
  static int newestCheckpoint(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("iter-\\d{6}"))
          .mapToInt(n -> Integer.parseInt(n.substring(5))).max().orElse(0);
    } catch (IOException e) {
      return 0; // listed while the driver renames a checkpoint into place
    }
  }

  static final Pattern RUNNING = Pattern.compile("Running task .*\\(TID (\\d+)\\)");
  static final Pattern FINISHED = Pattern.compile("Finished task .*\\(TID (\\d+)\\)");

  /** Task ids an executor log shows started and not finished. */
  static Set<String> runningTasks(String log) {
    Set<String> running = new HashSet<>();
    Matcher r = RUNNING.matcher(log);
    while (r.find()) {
      running.add(r.group(1));
    }
    Matcher f = FINISHED.matcher(log);
    while (f.find()) {
      running.remove(f.group(1));
    }
    return running;
  }

  static String tasksPerLog(List<Path> logs) {
    return logs.stream().map(l -> Integer.toString(StandaloneCluster.count(StandaloneCluster.read(l),
        "Running task"))).toList().toString();
  }

  static double s(long from, long to) {
    return (to - from) / 1e9;
  }

  static void note(String format, Object... args) {
    String line = String.format(format, args);
    report.add(line);
    System.out.println("[StandaloneClusterIT] " + line);
  }
}
