package dbksvd.cluster;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on this machine for tests: a master and workers as separate JVMs, listening on
 * 127.0.0.1 only, assembled from the Maven build without downloading Spark. {@code target/classpath.txt} (written by
 * {@code mvn package}) lists every jar of Spark's run time; a temporary SPARK_HOME gets a {@code jars/} directory of
 * symlinks to them, which is all a Worker needs to launch executor JVMs ({@code WorkerCommandBuilder} puts
 * {@code SPARK_HOME/conf} and {@code SPARK_HOME/jars/*} on their class path). Typesafe Config and picocli are left
 * out, as in a real Spark distribution: the application jar must bring them (relocated) itself.
 *
 * <p>Every process it starts — master, workers, the executors the workers launch, and drivers submitted through
 * {@link #submit} — is stopped by {@link #close} (and by a shutdown hook if the test JVM exits first): SIGTERM, then
 * SIGKILL after a grace period.
 */
final class StandaloneCluster implements AutoCloseable {
  static final String EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  /**
   * JIT and GC settings for every JVM of the cluster (daemons, drivers, executors): short-lived JVMs on a small
   * machine spend most of their CPU in the C2 compiler; C1 only halves the CPU time of a test fit. Floating point
   * is strict in Java 17 whatever the tier, so results do not change (the IT's reference runs with C2).
   */
  static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  /** A process this cluster started, with its stdout and stderr files. */
  record Proc(String name, Process process, Path out, Path err) {
    String stdout() {
      return read(out);
    }

    String stderr() {
      return read(err);
    }
  }

  /** An executor JVM a worker launched, found by its command line. */
  record Executor(ProcessHandle handle, String appId, String executorId, List<String> args) {}

  final Path dir;
  final Path project;
  final Path sparkHome;
  final List<String> jvmOptions;
  final List<String> classpath;
  final Path appJar;
  private final List<Proc> daemons = new CopyOnWriteArrayList<>();
  private final List<Proc> drivers = new CopyOnWriteArrayList<>();
  private final List<Path> workDirs = new ArrayList<>();
  /** Extra JVM system properties per daemon name (the workers' GPU resources). */
  private final Map<String, List<String>> daemonProperties = new LinkedHashMap<>();
  private final Thread hook = new Thread(this::stopAll, "standalone-cluster-stop");
  private String masterUrl;

  private StandaloneCluster(Path dir) throws IOException {
    this.dir = dir;
    this.project = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    this.jvmOptions = Files.readAllLines(project.resolve("conf/jvm-options")).stream().map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    Path cpFile = project.resolve("target/classpath.txt");
    if (!Files.isRegularFile(cpFile)) {
      throw new IllegalStateException(cpFile + " is missing: run mvn package first (mvn verify does)");
    }
    this.classpath = Arrays.stream(Files.readString(cpFile).trim().split(File.pathSeparator))
        .filter(e -> !e.isBlank()).filter(e -> !isAppDependency(e)).toList();
    try (Stream<Path> s = Files.list(project.resolve("target"))) {
      this.appJar = s.filter(p -> p.getFileName().toString().matches("dbksvd-.*\\.jar")
          && !p.getFileName().toString().matches(".*-(sources|tests|javadoc)\\.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no target/dbksvd-*.jar: run mvn package first"));
    }
    this.sparkHome = dir.resolve("spark-home");
    Files.createDirectories(sparkHome.resolve("conf"));
    Path jars = Files.createDirectories(sparkHome.resolve("jars"));
    for (String entry : classpath) {
      Path jar = Path.of(entry);
      if (Files.isRegularFile(jar) && entry.endsWith(".jar")) {
        Path link = jars.resolve(jar.getFileName());
        if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          Files.createSymbolicLink(link, jar.toAbsolutePath());
        }
      }
    }
    Files.createDirectories(dir.resolve("logs"));
    Files.createDirectories(dir.resolve("local"));
  }

  /**
   * The jars our shaded application jar carries (relocated, or OpenBLAS's native libraries): not part of a Spark
   * distribution, so the executors find them only in the application jar.
   */
  static boolean isAppDependency(String classpathEntry) {
    String name = Path.of(classpathEntry).getFileName().toString();
    return name.startsWith("config-") && classpathEntry.contains("com" + File.separator + "typesafe")
        || name.startsWith("picocli-") || name.startsWith("openblas-");
  }

  /** Starts a master and {@code workers} workers ({@code cores} and {@code workerMemory} each); waits until all are up. */
  static StandaloneCluster start(Path dir, int workers, int cores, String workerMemory) throws IOException {
    StandaloneCluster c = new StandaloneCluster(dir);
    Runtime.getRuntime().addShutdownHook(c.hook);
    try {
      Proc master = c.launchDaemon("master", List.of("org.apache.spark.deploy.master.Master",
          "--host", "127.0.0.1", "--port", "0", "--webui-port", "0"));
      Pattern started = Pattern.compile("Starting Spark master at (spark://127\\.0\\.0\\.1:\\d+)");
      c.await(START_TIMEOUT, "the master to start", () -> {
        Matcher m = started.matcher(master.stderr());
        if (m.find() && master.stderr().contains("New state: ALIVE")) {
          c.masterUrl = m.group(1);
          return true;
        }
        return false;
      });
      List<Proc> ws = new ArrayList<>();
      for (int i = 1; i <= workers; i++) {
        Path work = Files.createDirectories(dir.resolve("worker-" + i));
        c.workDirs.add(work);
        // each worker offers one GPU to applications that ask for one (spark.executor.resource.gpu.amount): Spark's
        // resource scheduling runs for real, from a discovery script that names address i-1; no device is behind it
        Path discovery = dir.resolve("gpu-discovery-" + i + ".sh");
        Files.writeString(discovery, "#!/bin/sh\necho '{\"name\": \"gpu\", \"addresses\": [\"" + (i - 1)
            + "\"]}'\n");
        discovery.toFile().setExecutable(true);
        c.daemonProperties.put("worker-" + i, List.of("-Dspark.worker.resource.gpu.amount=1",
            "-Dspark.worker.resource.gpu.discoveryScript=" + discovery));
        ws.add(c.launchDaemon("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker",
            "--host", "127.0.0.1", "--port", "0", "--webui-port", "0", "--cores", Integer.toString(cores), "--memory", workerMemory,
            "--work-dir", work.toString(), c.masterUrl)));
      }
      c.await(START_TIMEOUT, workers + " workers to register", () ->
          ws.stream().allMatch(w -> w.stderr().contains("Successfully registered with master"))
          && count(master.stderr(), "Registering worker 127.0.0.1:") >= workers);
      return c;
    } catch (RuntimeException | Error e) {
      c.close();
      throw e;
    }
  }

  String masterUrl() {
    return masterUrl;
  }

  /** The environment every process gets: the fake SPARK_HOME, loopback only, no SPARK_* of the caller. */
  private Map<String, String> baseEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    System.getenv().forEach((k, v) -> {
      if (!k.startsWith("SPARK_") && !k.startsWith("PYSPARK_") && !k.equals("HADOOP_CONF_DIR")
          && !k.equals("YARN_CONF_DIR") && !k.equals("OPENBLAS_NUM_THREADS")) {
        env.put(k, v);
      }
    });
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
    env.put("SPARK_LOCAL_DIRS", dir.resolve("local").toString());
    return env;
  }

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private Proc launchDaemon(String name, List<String> mainAndArgs) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin());
    cmd.addAll(jvmOptions);
    // small daemons: they only schedule; the executors they launch get their own JVM options from Spark
    cmd.addAll(QUICK_JVM);
    cmd.addAll(daemonProperties.getOrDefault(name, List.of()));
    cmd.addAll(List.of("-Xmx256m", "-Djava.io.tmpdir=" + dir.resolve("local"),
        "-cp", sparkHome.resolve("conf") + File.pathSeparator + sparkHome.resolve("jars") + File.separator + "*"));
    cmd.addAll(mainAndArgs);
    // the workers do not get OPENBLAS_NUM_THREADS: the executors must get it from spark.executorEnv
    Proc p = launch(name, cmd, baseEnv());
    daemons.add(p);
    return p;
  }

  private Proc launch(String name, List<String> cmd, Map<String, String> env) throws IOException {
    Path logs = dir.resolve("logs");
    Path out = logs.resolve(name + ".out");
    Path err = logs.resolve(name + ".err");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment().clear();
    pb.environment().putAll(env);
    Files.writeString(logs.resolve(name + ".cmd"), String.join(" ", cmd) + "\n");
    Process process = pb.start();
    process.getOutputStream().close();
    return new Proc(name, process, out, err);
  }

  /**
   * Submits {@code dbksvd.cli.Main} with {@code args} as a client-mode driver JVM, as spark-submit does: Spark's run
   * time (without Typesafe Config and picocli) on the class path, the application jar as the primary resource.
   */
  Proc submit(String name, List<String> sparkConf, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin());
    cmd.addAll(jvmOptions);
    cmd.addAll(QUICK_JVM);
    cmd.addAll(List.of("-Xmx1g", "-Djava.io.tmpdir=" + dir.resolve("local"),
        "-cp", String.join(File.pathSeparator, classpath), "org.apache.spark.deploy.SparkSubmit",
        "--master", masterUrl, "--deploy-mode", "client", "--name", name, "--class", "dbksvd.cli.Main",
        "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.executor.extraJavaOptions=" + String.join(" ", QUICK_JVM) + " -Djava.io.tmpdir="
            + dir.resolve("local")));
    for (String kv : sparkConf) {
      cmd.add("--conf");
      cmd.add(kv);
    }
    cmd.add(appJar.toString());
    cmd.addAll(args);
    Map<String, String> env = baseEnv();
    env.put("OPENBLAS_NUM_THREADS", "1");
    Proc p = launch(name, cmd, env);
    drivers.add(p);
    return p;
  }

  /** Live executor JVMs launched from this cluster's SPARK_HOME. */
  List<Executor> executors() {
    String home = sparkHome.toString();
    return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive).map(ph -> {
      List<String> args = arguments(ph);
      if (args.contains(EXECUTOR_CLASS) && args.stream().anyMatch(a -> a.contains(home))) {
        return new Executor(ph, argAfter(args, "--app-id"), argAfter(args, "--executor-id"), args);
      }
      return null;
    }).filter(e -> e != null).toList();
  }

  /** A process's full command line (from /proc on Linux, where ProcessHandle.Info may be cut). */
  static List<String> arguments(ProcessHandle ph) {
    Path cmdline = Path.of("/proc", Long.toString(ph.pid()), "cmdline");
    try {
      if (Files.isReadable(cmdline)) {
        String s = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8);
        return Arrays.asList(s.split("\0"));
      }
    } catch (IOException e) {
      return List.of();
    }
    ProcessHandle.Info info = ph.info();
    List<String> args = new ArrayList<>();
    info.command().ifPresent(args::add);
    info.arguments().ifPresent(a -> args.addAll(Arrays.asList(a)));
    return args;
  }

  /** The processes of this cluster alive now: daemons, drivers, executors. */
  List<ProcessHandle> processes() {
    List<ProcessHandle> all = new ArrayList<>();
    Stream.concat(daemons.stream(), drivers.stream()).map(p -> p.process().toHandle())
        .filter(ProcessHandle::isAlive).forEach(all::add);
    executors().forEach(e -> all.add(e.handle()));
    return all;
  }

  /**
   * The TCP sockets of this cluster's processes that are not on the loopback interface: listening on another
   * address (or the wildcard), or connected to or from one. Read from /proc (Linux); empty elsewhere.
   */
  SocketScan scanSockets() {
    Map<String, String> socketOwner = new HashMap<>();
    for (ProcessHandle ph : processes()) {
      Path fds = Path.of("/proc", Long.toString(ph.pid()), "fd");
      try (Stream<Path> s = Files.list(fds)) {
        s.forEach(fd -> {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[")) {
              socketOwner.put(target.substring(8, target.length() - 1), Long.toString(ph.pid()));
            }
          } catch (IOException e) {
            // closed meanwhile
          }
        });
      } catch (IOException e) {
        // exited meanwhile, or no /proc
      }
    }
    List<String> bad = new ArrayList<>();
    int checked = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines;
      try {
        lines = Files.readAllLines(Path.of(table));
      } catch (IOException e) {
        continue;
      }
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 10 || !socketOwner.containsKey(f[9])) {
          continue;
        }
        checked++;
        boolean listening = f[3].equals("0A");
        String local = f[1].substring(0, f[1].indexOf(':'));
        String remote = f[2].substring(0, f[2].indexOf(':'));
        if (!isLoopback(local) || !listening && !isLoopback(remote)) {
          bad.add("pid " + socketOwner.get(f[9]) + " " + table + ": " + line.trim());
        }
      }
    }
    return new SocketScan(checked, bad);
  }

  /** TCP sockets of the cluster's processes: how many were looked at, and those off the loopback interface. */
  record SocketScan(int checked, List<String> offLoopback) {}

  /** A /proc/net/tcp{,6} address in hex: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
  static boolean isLoopback(String hex) {
    if (hex.length() == 8) {
      return hex.endsWith("7F"); // little-endian: the first octet comes last
    }
    return hex.equals("00000000000000000000000001000000")
        || hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F");
  }

  /** A process's environment (Linux /proc), or empty where it cannot be read. */
  static Optional<Map<String, String>> environment(ProcessHandle ph) {
    Path environ = Path.of("/proc", Long.toString(ph.pid()), "environ");
    try {
      Map<String, String> env = new HashMap<>();
      for (String kv : new String(Files.readAllBytes(environ), StandardCharsets.UTF_8).split("\0")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
      return Optional.of(env);
    } catch (IOException | SecurityException e) {
      return Optional.empty();
    }
  }

  private static String argAfter(List<String> args, String flag) {
    int i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : "?";
  }

  /** The stderr log a worker keeps for an executor (WORK_DIR/APP_ID/EXECUTOR_ID/stderr), if any. */
  Optional<Path> executorLog(String appId, String executorId) {
    return workDirs.stream().map(w -> w.resolve(appId).resolve(executorId).resolve("stderr"))
        .filter(Files::isRegularFile).findFirst();
  }

  /** All executor stderr logs of an application. */
  List<Path> executorLogs(String appId) {
    List<Path> logs = new ArrayList<>();
    for (Path w : workDirs) {
      Path app = w.resolve(appId);
      if (Files.isDirectory(app)) {
        try (Stream<Path> s = Files.list(app)) {
          s.map(e -> e.resolve("stderr")).filter(Files::isRegularFile).sorted().forEach(logs::add);
        } catch (IOException e) {
          // listed while the worker cleans up: skip
        }
      }
    }
    return logs;
  }

  String masterLog() {
    return daemons.isEmpty() ? "" : daemons.get(0).stderr();
  }

  /** Waits until no executor of this cluster is alive (the previous application is gone). */
  void awaitNoExecutors(Duration timeout) {
    await(timeout, "the executors of the previous application to exit", () -> executors().isEmpty());
  }

  /** Polls {@code condition} every 50 ms; after {@code timeout} fails with the tails of every log. */
  void await(Duration timeout, String what, BooleanSupplier condition) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what + "\n"
            + logTails(40));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  /** Waits for a driver to exit and returns its exit code; fails with the logs after {@code timeout}. */
  int awaitExit(Proc driver, Duration timeout) {
    try {
      if (!driver.process().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        stop(driver.process().toHandle());
        throw new AssertionError("driver " + driver.name() + " did not finish within " + timeout.toSeconds()
            + " s\n" + logTails(40));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + driver.name());
    }
    return driver.process().exitValue();
  }

  /** The last {@code lines} lines of every log (daemons, drivers, executors), for failure messages. */
  String logTails(int lines) {
    StringBuilder sb = new StringBuilder();
    List<Path> files = new ArrayList<>();
    for (Proc p : daemons) {
      files.add(p.err());
    }
    for (Proc p : drivers) {
      files.add(p.out());
      files.add(p.err());
    }
    for (Path w : workDirs) {
      try (Stream<Path> s = Files.walk(w, 3)) {
        s.filter(f -> f.getFileName().toString().equals("stderr")).sorted().forEach(files::add);
      } catch (IOException e) {
        // ignore
      }
    }
    for (Path f : files) {
      sb.append("---- ").append(dir.relativize(f)).append(" (last ").append(lines).append(" lines)\n")
          .append(tail(read(f), lines)).append('\n');
    }
    return sb.toString();
  }

  static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return all.subList(Math.max(0, all.size() - lines), all.size()).stream().collect(Collectors.joining("\n"));
  }

  static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f, StandardCharsets.ISO_8859_1) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  /** SIGTERM, then SIGKILL after the grace period; waits (bounded) until the process is gone. */
  static void stop(ProcessHandle ph) {
    if (!ph.isAlive()) {
      return;
    }
    ph.destroy();
    try {
      ph.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      ph.destroyForcibly();
      try {
        ph.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception ignored) {
        // nothing more we can do
      }
    }
  }

  /** Stops every driver still running (after a failed test, so that the next one finds the cluster free). */
  void stopDrivers() {
    drivers.forEach(p -> stop(p.process().toHandle()));
  }

  private synchronized void stopAll() {
    // drivers first (they end their executors), then every executor still there, then workers, then the master
    drivers.forEach(p -> stop(p.process().toHandle()));
    List<ProcessHandle> children = new ArrayList<>();
    for (Proc d : daemons) {
      d.process().toHandle().descendants().forEach(children::add);
    }
    executors().forEach(e -> children.add(e.handle()));
    children.forEach(ProcessHandle::destroy);
    children.forEach(StandaloneCluster::stop);
    for (int i = daemons.size() - 1; i >= 0; i--) {
      stop(daemons.get(i).process().toHandle());
    }
    executors().forEach(e -> stop(e.handle()));
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
  }
}
