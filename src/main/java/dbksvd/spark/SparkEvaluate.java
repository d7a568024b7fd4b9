package dbksvd.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.AtomicFile;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitParams;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.DictionaryMetrics;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code evaluate}: encodes every row with the model and reports FVE, relative error, mean L0, dead atoms, the
 * coherence of D and, against a reference dictionary, the recovery rate.
 */
public final class SparkEvaluate {
  private SparkEvaluate() {}

  /**
   * {@code evaluate}: the model's figures over every row of {@code input} (with {@code reference}, its recovery of
   * that dictionary; with {@code probe}, k-sparse probing), printed as JSON and, with {@code json}, written to that
   * file atomically.
   */
  public static ObjectNode run(Config c, SparkSession spark, String model, String input, String reference,
      String json, SparkProbe.Options probe, PrintStream out) throws IOException {
    var hconf = spark.sparkContext().hadoopConfiguration();
    ModelDir.Model read = ModelDir.read(hconf, model);
    ModelDir.Model mdl = read.withEncoder(Settings.encoderFor(c, read.params().encoder()));
    ModelDir.Model ref = reference == null ? null : ModelDir.read(hconf, reference);
    String column = c.getString("dbksvd.input.column");
    int chunk = c.getInt("dbksvd.encode.chunk");
    RowSource source = RowSource.open(spark, input, column, Settings.zeroRows(c));
    ObjectNode o = run(JavaSparkContext.fromSparkContext(spark.sparkContext()), source, mdl, ref, chunk);
    o.put("model", model);
    o.put("input", input);
    if (probe != null) {
      o.set("probe", SparkProbe.run(spark, input, column, Settings.zeroRows(c), mdl, probe, chunk));
    }
    String text = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o);
    out.println(text);
    if (json != null) {
      AtomicFile.write(hconf, json, (text + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return o;
  }

  public static ObjectNode run(JavaSparkContext sc, RowSource source, ModelDir.Model model,
      ModelDir.Model reference, int chunk) {
    int d = model.d();
    int m = model.m();
    FitParams p = model.params();
    BatchStats stats = stats(sc, source, model, Long.MAX_VALUE, chunk, "evaluate");
    double[] coherence = DictionaryMetrics.perAtomCoherence(model.D(), d, 0, m);
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("rows", stats.n);
    o.put("d", d);
    o.put("m", m);
    o.put("k", p.k());
    o.put("encoder", p.encoder().name());
    o.put("rtol", p.rtol());
    o.put("fve", stats.fve());
    o.put("relative_error", stats.relativeError());
    o.put("mean_l0", stats.meanL0());
    o.put("dead_atoms", stats.deadAtoms());
    o.put("coherence_max", DictionaryMetrics.coherence(coherence));
    o.put("coherence_mean", DictionaryMetrics.mean(coherence));
    var hist = o.putArray("coherence_histogram");
    for (long h : DictionaryMetrics.histogram(coherence, 20)) {
      hist.add(h);
    }
    if (reference != null) {
      if (reference.d() != d) {
        throw new BadInputException("the reference dictionary has d = " + reference.d() + ", the model " + d);
      }
      o.put("recovery_rate", DictionaryMetrics.recoveryRate(reference.D(), reference.m(), model.D(), m, d, 0.01));
    }
    return o;
  }

  /**
   * The batch statistics (FVE sums, L0, usage) of every row with id below {@code rowLimit}, coded with the model;
   * per-partition sums merged in partition order, so the totals do not depend on task timing.
   */
  static BatchStats stats(JavaSparkContext sc, RowSource source, ModelDir.Model model, long rowLimit, int chunk,
      String description) {
    sc.setJobDescription(description);
    try (ModelEncoding enc = ModelEncoding.broadcast(sc, model, source.d)) {
      int d = enc.d;
      int m = enc.m;
      BatchStats total = new BatchStats(d, m);
      enc.foldPartitions(source, rowLimit, chunk, () -> new BatchStats(d, m), (st, b, coded) -> st.add(coded, b.Y()))
          .collect().forEach(total::merge);
      return total;
    } finally {
      sc.setJobDescription(null);
    }
  }
}
