package dbksvd.spark;

import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.interpret.ModelReport;
import dbksvd.io.AtomicFile;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitLoop;
import dbksvd.metrics.BatchStats;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** {@code report}'s Spark part: atom usage measured by encoding the first rows of a dataset; the hook of fit. */
public final class SparkReport {
  private SparkReport() {}

  public static final String FILE = "report.html";

  /**
   * {@code report}: the model's report as one HTML file, written atomically; with {@code input}, atom usage measured
   * on its first {@code usageRows} rows.
   */
  public static void run(Config c, SparkSession spark, String model, String output, String input, long usageRows,
      PrintStream out) throws IOException {
    var hconf = spark.sparkContext().hadoopConfiguration();
    ModelDir.Model mdl = ModelDir.read(hconf, model);
    List<String> lines = ModelDir.readMetrics(hconf, model);
    ModelReport.Usage usage = null;
    if (input != null) {
      RowSource source = RowSource.open(spark, input, c.getString("dbksvd.input.column"), Settings.zeroRows(c));
      usage = usage(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, mdl, usageRows,
          c.getInt("dbksvd.encode.chunk"));
    }
    String html = ModelReport.html(new Path(model).getName(), mdl, lines, usage);
    AtomicFile.write(hconf, output, html.getBytes(StandardCharsets.UTF_8));
    out.println("report written to " + output);
  }

  /** Usage of every atom over the rows with id below {@code maxRows} (the first rows in file order). */
  public static ModelReport.Usage usage(JavaSparkContext sc, RowSource source, ModelDir.Model model, long maxRows,
      int chunk) {
    BatchStats stats = SparkEvaluate.stats(sc, source, model, maxRows, chunk, "report: atom usage");
    String what = stats.n < source.rows ? "the first " + stats.n + " of " + source.rows + " rows" : "all rows";
    return new ModelReport.Usage(stats.usage, stats.n, "measured on " + what + " of the input");
  }

  /**
   * fit's report, as the extra file of the model directory, or no file when it fails: a report must never cost the
   * model, so a failure is a warning only. Usage is the last iteration's, counted while it encoded its batch (no
   * extra pass over the data, which at the paper's scale would cost a read of the whole dataset); only a fit that
   * ran no iteration (a resume of a finished one) measures it on the first n rows (n = the batch size).
   */
  public static Map<String, byte[]> forFit(SparkSession spark, RowSource source, String output, ModelDir.Model model,
      List<String> lines, FitLoop.Result fit, PrintStream out) {
    try {
      ModelReport.Usage u = fit.lastUsage() != null
          ? new ModelReport.Usage(fit.lastUsage(), fit.lastBatch(), "counted on the batch of the last iteration, "
              + fit.lastBatch() + " rows, coded with the dictionary before its last update")
          : usage(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, model,
              model.params().batchSize(), 4096);
      String html = ModelReport.html(new Path(output).getName(), model, lines, u);
      return Map.of(FILE, html.getBytes(StandardCharsets.UTF_8));
    } catch (Exception | LinkageError e) { // e.g. no fonts for the charts on a bare machine
      out.println("warning: could not write " + FILE + " (" + e + "); the model is written without it");
      return Map.of();
    }
  }
}
