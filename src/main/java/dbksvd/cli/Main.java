package dbksvd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitParams;
import dbksvd.spark.BadInputException;
import dbksvd.spark.FitJob;
import dbksvd.spark.RowSource;
import dbksvd.spark.Sessions;
import dbksvd.spark.SparkEncode;
import dbksvd.spark.SparkEvaluate;
import dbksvd.spark.SparkGenerate;
import dbksvd.spark.SparkProbe;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code dbksvd <command>}: the command line. Each command reads its settings (reference.conf, --conf, --set,
 * flags), starts or joins Spark, and calls the job. Errors end in one line on stderr and a non-zero exit.
 */
@Command(name = "dbksvd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "DB-KSVD dictionary learning for embeddings on Apache Spark.",
    subcommands = {Main.Generate.class, Main.Fit.class, Main.Encode.class, Main.Evaluate.class, Main.Demo.class,
        Main.BenchCommand.class, Main.ExportCommand.class, Main.Inspect.class, Main.Report.class})
public final class Main implements Runnable {
  /** Standard output as it is when written to (so that a caller, a test, can redirect it with System.setOut). */
  static final PrintStream OUT = new PrintStream(new OutputStream() {
    @Override
    public void write(int b) {
      System.out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      System.out.write(b, off, len);
    }

    @Override
    public void flush() {
      System.out.flush();
    }
  }, true);

  @Override
  public void run() {
    new CommandLine(this).usage(OUT);
  }

  public static void main(String[] args) {
    routeJavaLoggingToSpark();
    System.exit(execute(args));
  }

  /**
   * Runs a command line and returns the exit code (0 ok, 1 failure, 2 bad input or usage). Bad input and usage
   * errors end in one line {@code dbksvd: error: ...} and no stack trace; anything else prints the stack trace.
   */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      String bad = badInput(e);
      if (bad != null) {
        System.err.println("dbksvd: error: " + bad);
        return 2;
      }
      System.err.println("dbksvd: error: " + e);
      e.printStackTrace(System.err);
      return 1;
    });
    cl.setParameterExceptionHandler((e, params) -> {
      System.err.println("dbksvd: error: " + firstLine(e.getMessage()) + " (see "
          + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
      return 2;
    });
    return cl.execute(args);
  }

  /**
   * The one line for an error caused by the input, the configuration or the paths, or null for anything else (a
   * bug, a lost executor: exit 1 with the stack trace). Failures inside Spark tasks reach the driver wrapped in
   * SparkExceptions, with the task's exception as the cause or, on a cluster, sometimes only inside the message.
   */
  static String badInput(Throwable e) {
    String bad = BadInputException.find(e);
    if (bad != null) {
      return bad;
    }
    // dbksvd's own checks on the driver: configuration, parameters, paths, model directories
    if (e instanceof IllegalArgumentException || e instanceof IOException) {
      return firstLine(e.getMessage());
    }
    String unreadable = null;
    Throwable unreadableAt = null;
    for (Throwable c = e; c != null; c = c.getCause()) {
      String msg = c.getMessage() == null ? "" : c.getMessage();
      String notParquet = lineWith(msg, "is not a Parquet file"); // names the file; corrupt or truncated
      if (notParquet != null) {
        return sparkMessage(notParquet);
      }
      if (c instanceof org.apache.spark.sql.AnalysisException) { // PATH_NOT_FOUND, UNABLE_TO_INFER_SCHEMA, ...
        return sparkMessage(msg);
      }
      if (c instanceof java.io.FileNotFoundException || c instanceof java.nio.file.AccessDeniedException
          || c instanceof org.apache.hadoop.security.AccessControlException
          || c instanceof org.apache.parquet.io.ParquetDecodingException) {
        return sparkMessage(msg);
      }
      if (unreadable == null && msg.contains("[FAILED_READ_FILE")) {
        unreadable = sparkMessage(lineWith(msg, "[FAILED_READ_FILE"));
        unreadableAt = c;
      }
    }
    if (unreadable != null) { // a file Spark could not read, for a reason not recognised above: say which and why
      Throwable root = rootCause(unreadableAt);
      return root == unreadableAt ? unreadable : unreadable + " (" + sparkMessage(root.getMessage()) + ")";
    }
    // the cause chain was cut (a cluster that could not ship the exception back): the task's error is in the text
    String msg = String.valueOf(e.getMessage());
    for (String marker : new String[] {"is not a Parquet file", "ParquetDecodingException", "FileNotFoundException",
        "[FAILED_READ_FILE"}) {
      String line = lineWith(msg, marker);
      if (line != null) {
        return sparkMessage(line);
      }
    }
    return null;
  }

  static Throwable rootCause(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /** The line of a (multi-line) message that holds {@code marker}, without the exception class before it. */
  static String lineWith(String msg, String marker) {
    if (msg == null) {
      return null;
    }
    for (String line : msg.split("\n")) {
      if (line.contains(marker)) {
        return line;
      }
    }
    return null;
  }

  private static final java.util.regex.Pattern EXCEPTION_NAME =
      java.util.regex.Pattern.compile("([\\w$]+\\.)+[\\w$]*(Exception|Error): ");

  /**
   * A Spark error message as one readable line: its first line from after the last "some.package.SomeException: "
   * in it (Spark's "Job aborted ... Lost task ...: " preamble goes too), without the "[ERROR_CLASS] " prefix and the
   * " SQLSTATE: ..." suffix.
   */
  static String sparkMessage(String msg) {
    String s = firstLine(msg).trim();
    java.util.regex.Matcher m = EXCEPTION_NAME.matcher(s);
    int from = 0;
    while (m.find()) {
      from = m.end();
    }
    s = s.substring(from);
    s = s.replaceFirst("^\\[[A-Z0-9_.]+\\] ", "");
    s = s.replaceFirst("\\s*SQLSTATE: \\w+\\s*$", "");
    return s.isEmpty() ? "(no message)" : s;
  }

  /** The numerical core logs through java.util.logging; send it to Spark's log4j so one config rules both. */
  static void routeJavaLoggingToSpark() {
    try {
      Class<?> bridge = Class.forName("org.slf4j.bridge.SLF4JBridgeHandler");
      bridge.getMethod("removeHandlersForRootLogger").invoke(null);
      bridge.getMethod("install").invoke(null);
    } catch (ReflectiveOperationException | LinkageError e) {
      // no bridge on the class path: java.util.logging prints to stderr itself
    }
  }

  static String firstLine(String s) {
    if (s == null) {
      return "(no message)";
    }
    int nl = s.indexOf('\n');
    return nl >= 0 ? s.substring(0, nl) : s;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"dbksvd " + version()};
    }
  }

  static String version() {
    return FitJob.version();
  }

  /** Options every command has. */
  static final class Common {
    @Option(names = "--conf", paramLabel = "FILE", description = "HOCON file with dbksvd.* settings")
    File conf;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "set any config key (repeatable)")
    List<String> sets = new ArrayList<>();

    Config load(Map<String, Object> flags) {
      return Settings.load(conf, sets, flags);
    }
  }

  abstract static class SparkCommand implements Callable<Integer> {
    @Mixin Common common;

    abstract Map<String, Object> flags();

    abstract int run(Config c, SparkSession spark) throws Exception;

    @Override
    public Integer call() throws Exception {
      Config c = common.load(flags());
      // a session that was running before (a test, a notebook, spark-shell) is someone else's: leave it running
      boolean joined = SparkSession.getDefaultSession().isDefined() || SparkSession.getActiveSession().isDefined();
      SparkSession spark = Sessions.start(c);
      boolean ok = false;
      try {
        int rc = run(c, spark);
        ok = true;
        return rc;
      } finally {
        if (!joined) {
          if (!ok) {
            settle(spark);
          }
          spark.stop();
        }
      }
    }
  }

  /**
   * After a failed job, lets the tasks Spark cancelled finish before the session stops (at most a few seconds):
   * stopped under running tasks, Spark logs a burst of unrelated errors and stack traces before dbksvd's one line.
   */
  static void settle(SparkSession spark) {
    var sc = spark.sparkContext();
    try {
      sc.cancelAllJobs();
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (System.nanoTime() < deadline && java.util.Arrays.stream(sc.statusTracker().getExecutorInfos())
          .mapToInt(org.apache.spark.SparkExecutorInfo::numRunningTasks).sum() > 0) {
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // the session is going anyway
    }
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      if (kv[i + 1] != null) {
        m.put((String) kv[i], kv[i + 1]);
      }
    }
    return m;
  }

  @Command(name = "generate", description = "Write synthetic data with a planted dictionary as Parquet.")
  static final class Generate extends SparkCommand {
    @Option(names = "--output", required = true, paramLabel = "DIR") String output;
    @Option(names = "--dim", paramLabel = "d") Integer dim;
    @Option(names = "--atoms", paramLabel = "m") Integer atoms;
    @Option(names = "--k") Integer k;
    @Option(names = "--samples", paramLabel = "n") Long samples;
    @Option(names = "--snr-db", paramLabel = "X", description = "noise level in dB (default: no noise)") String snrDb;
    @Option(names = "--seed") Long seed;
    @Option(names = "--partitions", description = "number of output files") Integer partitions;
    @Option(names = "--format", paramLabel = "array|binary",
        description = "embedding column as array<float> or binary float32 (faster to read)") String format;
    @Option(names = "--truth", paramLabel = "MODEL_DIR", description = "also save the planted dictionary as a model")
    String truth;
    @Option(names = "--overwrite") boolean overwrite;
    @Option(names = "--labels", paramLabel = "C", description = "also write columns text (the planted atoms) and "
        + "label (one of C classes, each marked by planted atom = its class)") Integer labels;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.generate.dim", dim, "dbksvd.generate.atoms", atoms, "dbksvd.generate.k", k,
          "dbksvd.generate.samples", samples, "dbksvd.generate.snr-db", snrDb, "dbksvd.generate.seed", seed,
          "dbksvd.generate.partitions", partitions, "dbksvd.generate.format", format);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      return generate(c, spark, output, truth, overwrite, labels == null ? 0 : labels);
    }
  }

  static int generate(Config c, SparkSession spark, String output, String truth, boolean overwrite)
      throws IOException {
    return generate(c, spark, output, truth, overwrite, 0);
  }

  static int generate(Config c, SparkSession spark, String output, String truth, boolean overwrite, int classes)
      throws IOException {
    Config g = c.getConfig("dbksvd.generate");
    int d = g.getInt("dim");
    int m = g.getInt("atoms");
    int k = g.getInt("k");
    long n = g.getLong("samples");
    double snr = Settings.doubleOrInf(c, "dbksvd.generate.snr-db");
    long seed = g.getLong("seed");
    if (truth != null) {
      AtomicCheck.target(spark, truth, overwrite);
    }
    SparkGenerate.write(spark, output, d, m, k, n, snr, seed, g.getInt("partitions"), overwrite,
        SparkGenerate.Format.parse(g.getString("format")), classes);
    OUT.printf("generated %d rows of dimension %d (planted m=%d, k=%d, snr %s dB) in %s%n", n, d, m, k,
        Double.isFinite(snr) ? snr : "inf", output);
    if (truth != null) {
      PlantedData planted = new PlantedData(d, m, k, snr, seed);
      FitParams p = FitParams.builder(m, k).seed(seed).iterations(0).build();
      ObjectNode info = ModelDir.newInfo();
      info.put("kind", "planted");
      info.put("snr_db", Double.isFinite(snr) ? snr : null);
      info.put("dbksvd_version", version());
      ModelDir.write(spark.sparkContext().hadoopConfiguration(), truth,
          new ModelDir.Model(planted.D, d, m, p, info), List.of(), overwrite);
      OUT.println("planted dictionary saved as a model in " + truth);
    }
    return 0;
  }

  /** Early checks of output paths, before any long work. */
  static final class AtomicCheck {
    static void target(SparkSession spark, String path, boolean overwrite) throws IOException {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      dbksvd.io.AtomicDir.checkTarget(fs, p, overwrite);
    }
  }

  @Command(name = "fit", description = "Learn a dictionary from a Parquet dataset of embeddings.")
  static final class Fit extends SparkCommand {
    @Option(names = "--input", required = true, paramLabel = "DATA") String input;
    @Option(names = "--output", required = true, paramLabel = "MODEL_DIR") String output;
    @Option(names = "--atoms", paramLabel = "m") Integer atoms;
    @Option(names = "--k") Integer k;
    @Option(names = "--batch-size", paramLabel = "n") Integer batchSize;
    @Option(names = "--iterations", paramLabel = "T") Integer iterations;
    @Option(names = "--encoder", paramLabel = "mp|omp") String encoder;
    @Option(names = "--matryoshka", paramLabel = "L") Integer matryoshka;
    @Option(names = "--update", paramLabel = "jacobi|gauss-seidel") String update;
    @Option(names = "--update-passes", paramLabel = "P") Integer updatePasses;
    @Option(names = "--atom-batches") Integer atomBatches;
    @Option(names = "--seed") Long seed;
    @Option(names = "--column", paramLabel = "NAME") String column;
    @Option(names = "--overwrite") boolean overwrite;
    @Option(names = "--resume", description = "continue from the newest checkpoint of this fit, if any")
    boolean resume;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.fit.atoms", atoms, "dbksvd.fit.k", k, "dbksvd.fit.batch-size", batchSize,
          "dbksvd.fit.iterations", iterations, "dbksvd.fit.encoder", encoder, "dbksvd.fit.matryoshka", matryoshka,
          "dbksvd.fit.update", update, "dbksvd.fit.update-passes", updatePasses,
          "dbksvd.fit.atom-batches", atomBatches, "dbksvd.fit.seed", seed, "dbksvd.input.column", column);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      FitJob.run(c, spark, input, output, overwrite, resume, OUT, null);
      return 0;
    }
  }

  @Command(name = "encode", description = "Sparse codes for every row, as a Spark ML vector column, to Parquet.")
  static final class Encode extends SparkCommand {
    @Option(names = "--model", required = true, paramLabel = "MODEL_DIR") String model;
    @Option(names = "--input", required = true, paramLabel = "DATA") String input;
    @Option(names = "--output", required = true, paramLabel = "CODES") String output;
    @Option(names = "--column", paramLabel = "NAME") String column;
    @Option(names = "--overwrite") boolean overwrite;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.input.column", column);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      ModelDir.Model mdl = ModelDir.read(spark.sparkContext().hadoopConfiguration(), model);
      long rows = SparkEncode.run(spark, mdl, input, c.getString("dbksvd.input.column"), output,
          c.getString("dbksvd.encode.output-column"), c.getInt("dbksvd.encode.chunk"), overwrite,
          Settings.zeroRows(c));
      OUT.printf("encoded %d rows into %s (column '%s')%n", rows, output,
          c.getString("dbksvd.encode.output-column"));
      return 0;
    }
  }

  @Command(name = "evaluate", description = "FVE, relative error, L0, dead atoms, coherence (and recovery).")
  static final class Evaluate extends SparkCommand {
    @Option(names = "--model", required = true, paramLabel = "MODEL_DIR") String model;
    @Option(names = "--input", required = true, paramLabel = "DATA") String input;
    @Option(names = "--reference", paramLabel = "MODEL_DIR") String reference;
    @Option(names = "--json", paramLabel = "FILE") String json;
    @Option(names = "--column", paramLabel = "NAME") String column;
    @Option(names = "--label-column", paramLabel = "NAME", description = "k-sparse probing of this label column")
    String labelColumn;
    @Option(names = "--split-column", paramLabel = "NAME", description = "probe split per row: train or test "
        + "(default: seeded, see --test-fraction)") String splitColumn;
    @Option(names = "--probe-k", paramLabel = "K,...", split = ",", defaultValue = "1,5,20",
        description = "atoms per probe (default: ${DEFAULT-VALUE})") int[] probeK;
    @Option(names = "--test-fraction", defaultValue = "0.2", description = "seeded split: share of rows in the "
        + "test split (default: ${DEFAULT-VALUE})") double testFraction;
    @Option(names = "--split-seed", defaultValue = "0", description = "seed of the seeded split") long splitSeed;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.input.column", column);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      if (labelColumn == null && splitColumn != null) {
        throw new IllegalArgumentException("--split-column needs --label-column");
      }
      SparkProbe.Options probe = labelColumn == null ? null
          : new SparkProbe.Options(labelColumn, splitColumn, probeK, testFraction, splitSeed);
      evaluate(c, spark, model, input, reference, json, probe);
      return 0;
    }
  }

  static ObjectNode evaluate(Config c, SparkSession spark, String model, String input, String reference, String json)
      throws IOException {
    return evaluate(c, spark, model, input, reference, json, null);
  }

  static ObjectNode evaluate(Config c, SparkSession spark, String model, String input, String reference, String json,
      SparkProbe.Options probe) throws IOException {
    var hconf = spark.sparkContext().hadoopConfiguration();
    ModelDir.Model mdl = ModelDir.read(hconf, model);
    ModelDir.Model ref = reference == null ? null : ModelDir.read(hconf, reference);
    RowSource source = RowSource.open(spark, input, c.getString("dbksvd.input.column"), Settings.zeroRows(c));
    ObjectNode o = SparkEvaluate.run(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, mdl, ref,
        c.getInt("dbksvd.encode.chunk"));
    o.put("model", model);
    o.put("input", input);
    if (probe != null) {
      o.set("probe", SparkProbe.run(spark, input, c.getString("dbksvd.input.column"), Settings.zeroRows(c), mdl,
          probe, c.getInt("dbksvd.encode.chunk")));
    }
    String text = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o);
    OUT.println(text);
    if (json != null) {
      Path p = new Path(json);
      FileSystem fs = p.getFileSystem(hconf);
      Path tmp = new Path(p.getParent(), "." + p.getName() + ".tmp");
      try (FSDataOutputStream out = fs.create(tmp, true)) {
        out.write((text + "\n").getBytes(StandardCharsets.UTF_8));
      }
      fs.delete(p, false);
      if (!fs.rename(tmp, p)) {
        throw new IOException("could not write " + json);
      }
    }
    return o;
  }

  @Command(name = "demo", description = "Generate planted data, fit, evaluate: the whole path in a few minutes.")
  static final class Demo extends SparkCommand {
    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "demo-output",
        description = "where the demo writes (default: ${DEFAULT-VALUE}; replaced on each run)")
    String dir;

    @Override
    Map<String, Object> flags() {
      return map();
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      String data = dir + "/data";
      String truth = dir + "/truth";
      String model = dir + "/model";
      String report = dir + "/evaluation.json";
      Config demo = Settings.load(common.conf, common.sets, map(), map(
          "dbksvd.generate.dim", 64, "dbksvd.generate.atoms", 128,
          "dbksvd.generate.k", 4, "dbksvd.generate.samples", 20000, "dbksvd.generate.snr-db", "30",
          "dbksvd.generate.partitions", 4, "dbksvd.fit.atoms", 128, "dbksvd.fit.k", 4,
          "dbksvd.fit.batch-size", 8192, "dbksvd.fit.iterations", 25));
      OUT.printf("== dbksvd demo: planted dictionary d=%d, m=%d, k=%d; %d rows; fit %d iterations ==%n",
          demo.getInt("dbksvd.generate.dim"), demo.getInt("dbksvd.generate.atoms"), demo.getInt("dbksvd.generate.k"),
          demo.getLong("dbksvd.generate.samples"), demo.getInt("dbksvd.fit.iterations"));
      generate(demo, spark, data, truth, true);
      FitJob.run(demo, spark, data, model, true, false, OUT, null);
      ObjectNode ev = evaluate(demo, spark, model, data, truth, report);
      OUT.println();
      OUT.println("demo outputs in " + new File(dir).getAbsolutePath() + ":");
      OUT.println("  data        " + data + "   (Parquet, column 'embedding')");
      OUT.println("  truth       " + truth + "  (the planted dictionary)");
      OUT.println("  model       " + model + "  (dictionary.npy, model.json, metrics.jsonl, report.html)");
      OUT.println("  evaluation  " + report);
      OUT.printf("recovered %.1f%% of the planted atoms; FVE %.4f%n", 100 * ev.get("recovery_rate").asDouble(),
          ev.get("fve").asDouble());
      return 0;
    }
  }

  @Command(name = "bench", description = "Time the Spark job per stage against the measured SGEMM rate.")
  static final class BenchCommand extends SparkCommand {
    @Option(names = "--dim", defaultValue = "2304", paramLabel = "d") int dim;
    @Option(names = "--atoms", defaultValue = "4096", paramLabel = "m") int atoms;
    @Option(names = "--k", defaultValue = "20") int k;
    @Option(names = "--batch-size", defaultValue = "65536", paramLabel = "n") int batchSize;
    @Option(names = "--iterations", defaultValue = "3", description = "the first one is a warm-up") int iterations;
    @Option(names = "--data", paramLabel = "DIR", description = "existing data (default: generated, one batch)")
    String data;
    @Option(names = "--partitions", defaultValue = "0", description = "files to generate (default: task slots)")
    int partitions;
    @Option(names = "--json", paramLabel = "FILE") String json;
    @Option(names = "--format", defaultValue = "binary", paramLabel = "array|binary",
        description = "embedding column of the generated data") String format;
    @Option(names = "--update", paramLabel = "jacobi|gauss-seidel") String update;
    @Option(names = "--update-passes", paramLabel = "P") Integer updatePasses;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.fit.atoms", atoms, "dbksvd.fit.k", k, "dbksvd.fit.batch-size", batchSize,
          "dbksvd.fit.iterations", iterations, "dbksvd.fit.update", update, "dbksvd.fit.update-passes", updatePasses);
    }

    @Override
    int run(Config c, SparkSession spark) throws Exception {
      String input = data;
      java.nio.file.Path tmp = null;
      if (input == null) {
        tmp = java.nio.file.Files.createTempDirectory("dbksvd-bench");
        input = tmp.resolve("data").toString();
        int files = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
        long t0 = System.nanoTime();
        SparkGenerate.write(spark, input, dim, atoms, k, batchSize, 20, 0, files, false,
            SparkGenerate.Format.parse(format), 0);
        OUT.printf("generated %d x %d as Parquet (%d files, %s column) in %.1f s%n", batchSize, dim, files, format,
            (System.nanoTime() - t0) / 1e9);
      }
      try {
        ObjectNode o = dbksvd.spark.Bench.run(spark, input, Settings.fitParams(c), OUT);
        if (json != null) {
          java.nio.file.Files.writeString(java.nio.file.Path.of(json),
              new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
          OUT.println("wrote " + json);
        }
      } finally {
        if (tmp != null) {
          org.apache.commons.io.FileUtils.deleteDirectory(tmp.toFile());
        }
      }
      return 0;
    }
  }

  @Command(name = "inspect", description = "Per atom: the rows with the largest coefficients, a sample of weaker "
      + "ones, usage and nearest atoms; an HTML page and JSON.")
  static final class Inspect extends SparkCommand {
    @Option(names = "--model", required = true, paramLabel = "MODEL_DIR") String model;
    @Option(names = "--input", required = true, paramLabel = "DATA") String input;
    @Option(names = "--output", required = true, paramLabel = "DIR") String output;
    @Option(names = "--text-column", paramLabel = "C", description = "the column to show and search") String text;
    @Option(names = "--show-columns", paramLabel = "C,...", split = ",", description = "more columns to show")
    List<String> show = new ArrayList<>();
    @Option(names = "--atoms", paramLabel = "0-99|all", defaultValue = "all",
        description = "atoms to inspect (default: ${DEFAULT-VALUE})") String atoms;
    @Option(names = "--top", defaultValue = "20", description = "strongest rows per atom (default: ${DEFAULT-VALUE})")
    int top;
    @Option(names = "--sample", defaultValue = "5", description = "weaker rows per atom (default: ${DEFAULT-VALUE})")
    int sample;
    @Option(names = "--nearest", defaultValue = "5", description = "nearest atoms shown (default: ${DEFAULT-VALUE})")
    int nearest;
    @Option(names = "--seed", defaultValue = "0", description = "seed of the weaker rows' sample") long seed;
    @Option(names = "--column", paramLabel = "NAME") String column;
    @Option(names = "--overwrite") boolean overwrite;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.input.column", column);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      long t0 = System.nanoTime();
      var hconf = spark.sparkContext().hadoopConfiguration();
      AtomicCheck.target(spark, output, overwrite);
      ModelDir.Model mdl = ModelDir.read(hconf, model);
      int[] chosen = dbksvd.interpret.Atoms.parse(atoms, mdl.m());
      List<String> columns = new ArrayList<>();
      if (text != null) {
        columns.add(text);
      }
      show.stream().filter(s -> !columns.contains(s)).forEach(columns::add);
      var rows = dbksvd.spark.LabelledRows.open(spark, input, c.getString("dbksvd.input.column"), columns,
          Settings.zeroRows(c));
      var result = dbksvd.spark.SparkInspect.run(JavaSparkContext.fromSparkContext(spark.sparkContext()), rows, mdl,
          chosen, top, sample, seed, c.getInt("dbksvd.encode.chunk"));
      float[][] cos = new float[chosen.length][];
      int[][] near = dbksvd.interpret.Atoms.nearest(mdl.D(), mdl.d(), mdl.m(), chosen, nearest, cos);
      ObjectNode header = new ObjectMapper().createObjectNode();
      header.put("model", model);
      header.put("input", input);
      header.put("d", mdl.d());
      header.put("m", mdl.m());
      header.put("text_column", text);
      var json = dbksvd.interpret.InspectPage.json(result, columns.toArray(new String[0]), near, cos,
          new dbksvd.interpret.InspectPage.Locator(rows::file, dbksvd.spark.LabelledRows::rowIndex), header);
      String html = dbksvd.interpret.InspectPage.html(json);
      Path target = new Path(output);
      FileSystem fs = target.getFileSystem(hconf);
      dbksvd.io.AtomicDir.write(fs, target, overwrite, tmp -> {
        try (FSDataOutputStream out = fs.create(new Path(tmp, "atoms.json"), false)) {
          out.write(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
        }
        try (FSDataOutputStream out = fs.create(new Path(tmp, "index.html"), false)) {
          out.write(html.getBytes(StandardCharsets.UTF_8));
        }
      });
      OUT.printf("inspected %d atoms over %d rows in %.1f s: %s/index.html, %s/atoms.json%n", chosen.length,
          result.rows, (System.nanoTime() - t0) / 1e9, output, output);
      return 0;
    }
  }

  @Command(name = "report", description = "One self-contained HTML report of a model: metrics per iteration, "
      + "coherence, atom usage, time per stage, parameters.")
  static final class Report extends SparkCommand {
    @Option(names = "--model", required = true, paramLabel = "MODEL_DIR") String model;
    @Option(names = "--output", required = true, paramLabel = "FILE") String output;
    @Option(names = "--input", paramLabel = "DATA", description = "data to measure atom usage on (optional)")
    String input;
    @Option(names = "--usage-rows", defaultValue = "65536", paramLabel = "N",
        description = "usage over the first N rows of --input (default: ${DEFAULT-VALUE})") long usageRows;
    @Option(names = "--column", paramLabel = "NAME") String column;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.input.column", column);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      var hconf = spark.sparkContext().hadoopConfiguration();
      ModelDir.Model mdl = ModelDir.read(hconf, model);
      List<String> lines = ModelDir.readMetrics(hconf, model);
      dbksvd.interpret.ModelReport.Usage usage = null;
      if (input != null) {
        RowSource source = RowSource.open(spark, input, c.getString("dbksvd.input.column"), Settings.zeroRows(c));
        usage = dbksvd.spark.SparkReport.usage(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, mdl,
            usageRows, c.getInt("dbksvd.encode.chunk"));
      }
      String html = dbksvd.interpret.ModelReport.html(new Path(model).getName(), mdl, lines, usage);
      Path p = new Path(output);
      FileSystem fs = p.getFileSystem(hconf);
      Path tmp = new Path(p.getParent(), "." + p.getName() + ".tmp");
      try (FSDataOutputStream out = fs.create(tmp, true)) {
        out.write(html.getBytes(StandardCharsets.UTF_8));
      }
      fs.delete(p, false);
      if (!fs.rename(tmp, p)) {
        throw new IOException("could not write " + output);
      }
      OUT.println("report written to " + output);
      return 0;
    }
  }

  @Command(name = "export", description = "Write a model's dictionary as npy, safetensors (+ cfg.json) or Parquet.")
  static final class ExportCommand extends SparkCommand {
    @Option(names = "--model", required = true, paramLabel = "MODEL_DIR") String model;
    @Option(names = "--format", required = true, paramLabel = "npy|safetensors|parquet") String format;
    @Option(names = "--output", required = true, paramLabel = "DIR") String output;
    @Option(names = "--input", paramLabel = "DATA", description = "parquet: count each atom's usage over these rows")
    String input;
    @Option(names = "--column", paramLabel = "NAME") String column;
    @Option(names = "--overwrite") boolean overwrite;

    @Override
    Map<String, Object> flags() {
      return map("dbksvd.input.column", column);
    }

    @Override
    int run(Config c, SparkSession spark) throws IOException {
      dbksvd.io.Export.Format f = dbksvd.io.Export.Format.parse(format);
      if (input != null && f != dbksvd.io.Export.Format.PARQUET) {
        throw new IllegalArgumentException("--input (atom usage) applies to --format parquet only");
      }
      AtomicCheck.target(spark, output, overwrite);
      ModelDir.Model mdl = ModelDir.read(spark.sparkContext().hadoopConfiguration(), model);
      long[] usage = null;
      if (input != null) {
        RowSource source = RowSource.open(spark, input, c.getString("dbksvd.input.column"), Settings.zeroRows(c));
        usage = dbksvd.spark.AtomUsage.count(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, mdl,
            c.getInt("dbksvd.encode.chunk"));
      }
      dbksvd.io.Export.write(spark, mdl, f, output, usage, overwrite);
      OUT.printf("exported %s (d=%d, m=%d) as %s to %s%n", model, mdl.d(), mdl.m(), format, output);
      return 0;
    }
  }
}
