package dbksvd.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.AtomicDir;
import dbksvd.io.Checkpoints;
import dbksvd.io.InitDictionary;
import dbksvd.io.ModelDir;
import dbksvd.linalg.Blas;
import dbksvd.loop.Batching;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.IterationMetrics;
import dbksvd.loop.MemoryPlan;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code fit}: open the input, run {@link SparkFit} with checkpoints every {@code dbksvd.fit.checkpoint-interval}
 * iterations, write the model directory atomically, then drop the checkpoints. With {@code resume} it continues
 * from the newest complete checkpoint of the same fit.
 */
public final class FitJob {
  private FitJob() {}

  /**
   * @param extra an additional per-iteration listener (may be null)
   */
  public static FitLoop.Result run(Config c, SparkSession spark, String input, String output, boolean overwrite,
      boolean resume, PrintStream out, Consumer<IterationMetrics> extra) throws IOException {
    final long start = System.nanoTime(); // the time budget counts from here
    FitParams p = Settings.fitParams(c);
    final double budget = Settings.timeBudgetSeconds(c);
    String column = c.getString("dbksvd.input.column");
    int interval = c.getInt("dbksvd.fit.checkpoint-interval");
    if (interval < 0) {
      throw new IllegalArgumentException("dbksvd.fit.checkpoint-interval must be 0 (off) or more, got " + interval);
    }
    String ckDir = c.getString("dbksvd.fit.checkpoint-dir");
    Configuration hconf = spark.sparkContext().hadoopConfiguration();
    Path target = new Path(output);
    AtomicDir.checkTarget(target.getFileSystem(hconf), target, overwrite);
    RowSource source = p.batching().fromSplits()
        ? RowSource.openFileSplits(spark, input, column, Settings.zeroRows(c))
        : RowSource.open(spark, input, column, Settings.zeroRows(c));
    p.validateFor(source.d);
    MemoryPlan plan = SparkFit.plan(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, p);
    plan.check(); // before any long work: what cannot fit is refused in one line
    Checkpoints checkpoints = new Checkpoints(hconf, ckDir.isEmpty() ? Checkpoints.defaultDir(output) : ckDir);

    List<String> lines = new ArrayList<>();
    int first = -1;
    float[] D0 = null;
    final String layout = p.batching().fromSplits() ? SplitBatches.layout(source) : "";
    Checkpoints.State state = checkpoints.latest(p, input, source.rows, layout);
    if (state != null && resume) {
      first = state.next();
      D0 = state.D();
      lines.addAll(state.metrics());
      out.printf("resuming from %s at iteration %d/%d%n", checkpoints.dir(), first + 1, p.iterations());
    } else if (state != null) {
      out.printf("note: %s holds a checkpoint of this fit at iteration %d; starting over (pass --resume to "
          + "continue from it)%n", checkpoints.dir(), state.next() + 1);
    } else if (resume) {
      out.println("no checkpoint in " + checkpoints.dir() + "; starting from the beginning");
    }
    InitDictionary.Atoms given = null;
    if (first < 0 && !p.initDictionary().isEmpty()) {
      given = InitDictionary.read(hconf, p.initDictionary(), source.d, p.m());
      D0 = given.D();
      out.printf("starting from %d atoms of %s (%s)%s%n", given.rows(), p.initDictionary(), given.format(),
          given.rows() < p.m() ? "; init = " + p.init().configName() + " draws the other " + (p.m() - given.rows())
              : "");
    }
    out.printf("fit: %d rows, d=%d, m=%d, k=%d, n=%d%s, %d iterations, encoder %s, %s, BLAS %s%n", source.rows,
        source.d, p.m(), p.k(), Math.min(p.batchSize(), source.rows), p.batching() == Batching.SPLITS
            ? " (batches of whole splits: " + source.rdd().getNumPartitions() + " splits)"
            : p.batching() == Batching.WINDOW ? " (batches from windows of " + p.window() + " batches of splits: "
            + source.rdd().getNumPartitions() + " splits)" : "",
        p.iterations(), p.encoder().name(),
        plan.summary(), Blas.announce());
    long t0 = System.nanoTime();
    final int T = p.iterations();
    final int[] stoppedAt = {-1}; // the iterations done when the time budget stopped the fit
    FitLoop.Result r = SparkFit.fit(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, p, first, D0,
        im -> {
          lines.add(im.toJson());
          out.println(im.progressLine(T));
          if (extra != null) {
            extra.accept(im);
          }
        },
        new FitLoop.AfterIteration() {
          @Override
          public void accept(int next, float[] D) throws IOException {
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (budget > 0 && next < T && elapsed >= budget) {
              stoppedAt[0] = next;
              out.printf("time budget of %s s crossed after iteration %d/%d (%.1f s); writing the model%n",
                  plain(budget), next, T, elapsed);
            }
            // a fit stopped by its budget leaves a checkpoint too (kept with keep-checkpoints): --resume goes on
            if (interval > 0 && next < T && (next % interval == 0 || stoppedAt[0] == next)) {
              checkpoints.write(next, D, source.d, p.m(), p, input, source.rows, layout, lines);
            }
          }

          @Override
          public boolean stop(int next) {
            return stoppedAt[0] == next;
          }
        });
    double seconds = (System.nanoTime() - t0) / 1e9;
    ObjectNode info = ModelDir.newInfo();
    info.put("kind", "fit");
    info.put("dbksvd_version", version());
    info.put("spark_version", spark.version());
    info.put("java_version", System.getProperty("java.version"));
    info.put("blas", Blas.description());
    info.put("input", input);
    info.put("column", column);
    info.put("rows", source.rows);
    info.put("created", Instant.now().toString());
    info.put("fit_seconds", seconds);
    if (state != null && resume) {
      info.put("resumed_at_iteration", state.next());
    }
    ObjectNode stopped = info.putObject("stopped");
    stopped.put("reason", stoppedAt[0] >= 0 ? "time-budget" : "iterations");
    stopped.put("iterations_done", stoppedAt[0] >= 0 ? stoppedAt[0] : T);
    stopped.put("iterations", T);
    if (budget > 0) {
      stopped.put("time_budget_seconds", budget);
    }
    if (given != null) {
      ObjectNode init = info.putObject("init_dictionary");
      init.put("path", p.initDictionary());
      init.put("format", given.format());
      init.put("atoms", given.rows());
      init.put("sha256", given.sha256());
    }
    if (!lines.isEmpty()) {
      info.set("metrics", new ObjectMapper().readTree(lines.get(lines.size() - 1)));
    }
    ModelDir.Model model = new ModelDir.Model(r.D(), r.d(), r.m(), p, info);
    // report.html goes into the model directory; a report failure is a warning, never a lost model
    ModelDir.write(hconf, output, model, lines, overwrite,
        SparkReport.forFit(spark, source, output, model, lines, r, out));
    if (!c.getBoolean("dbksvd.fit.keep-checkpoints")) {
      checkpoints.clear();
    }
    out.printf("model written to %s (%.1f s)%n", output, seconds);
    return r;
  }

  private static String plain(double x) {
    return x == Math.rint(x) ? Long.toString((long) x) : Double.toString(x);
  }

  public static String version() {
    String v = FitJob.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }
}
