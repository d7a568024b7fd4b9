package dbksvd.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.interpret.AtomTopK;
import dbksvd.interpret.Atoms;
import dbksvd.interpret.InspectPage;
import dbksvd.io.AtomicDir;
import dbksvd.io.ModelDir;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;


/**
 * {@code inspect}'s distributed part: encodes every row with the model and keeps, per requested atom, the rows
 * with the largest |coefficient| and a seeded sample of weaker ones ({@link AtomTopK}), with the shown columns of
 * only those rows; partitions' heaps are merged with treeReduce. The dataset is never collected.
 */
public final class SparkInspect {
  private SparkInspect() {}

  /** What {@code inspect} shows: the atoms, how many rows of each kind, the columns, the seed of the sample. */
  public record Request(String model, String input, String output, String textColumn, List<String> showColumns,
      String atoms, int top, int sample, int nearest, long seed, boolean overwrite) {}

  /**
   * {@code inspect}: per requested atom the strongest rows, a seeded sample of weaker ones, usage and the nearest
   * atoms, written atomically as {@code output/atoms.json} and {@code output/index.html}.
   */
  public static void run(Config c, SparkSession spark, Request r, PrintStream out) throws IOException {
    long t0 = System.nanoTime();
    var hconf = spark.sparkContext().hadoopConfiguration();
    AtomicDir.checkTarget(hconf, r.output(), r.overwrite());
    ModelDir.Model mdl = ModelDir.read(hconf, r.model());
    int[] chosen = Atoms.parse(r.atoms(), mdl.m());
    List<String> columns = new ArrayList<>();
    if (r.textColumn() != null) {
      columns.add(r.textColumn());
    }
    r.showColumns().stream().filter(s -> !columns.contains(s)).forEach(columns::add);
    LabelledRows rows = LabelledRows.open(spark, r.input(), c.getString("dbksvd.input.column"), columns,
        Settings.zeroRows(c));
    AtomTopK result = run(JavaSparkContext.fromSparkContext(spark.sparkContext()), rows, mdl, chosen, r.top(),
        r.sample(), r.seed(), c.getInt("dbksvd.encode.chunk"));
    float[][] cos = new float[chosen.length][];
    int[][] near = Atoms.nearest(mdl.D(), mdl.d(), mdl.m(), chosen, r.nearest(), cos);
    ObjectNode header = new ObjectMapper().createObjectNode();
    header.put("model", r.model());
    header.put("input", r.input());
    header.put("d", mdl.d());
    header.put("m", mdl.m());
    header.put("text_column", r.textColumn());
    ObjectNode json = InspectPage.json(result, columns.toArray(new String[0]), near, cos,
        new InspectPage.Locator(rows::file, LabelledRows::rowIndex), header);
    String html = InspectPage.html(json);
    Path target = new Path(r.output());
    FileSystem fs = target.getFileSystem(hconf);
    AtomicDir.write(fs, target, r.overwrite(), tmp -> {
      try (FSDataOutputStream o = fs.create(new Path(tmp, "atoms.json"), false)) {
        o.write(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
      }
      try (FSDataOutputStream o = fs.create(new Path(tmp, "index.html"), false)) {
        o.write(html.getBytes(StandardCharsets.UTF_8));
      }
    });
    out.printf("inspected %d atoms over %d rows in %.1f s: %s/index.html, %s/atoms.json%n", chosen.length,
        result.rows, (System.nanoTime() - t0) / 1e9, r.output(), r.output());
  }

  /** Longest text kept per shown value (the page shows snippets, and the heaps stay small). */
  static final int MAX_TEXT = 1000;

  public static AtomTopK run(JavaSparkContext sc, LabelledRows rows, ModelDir.Model model, int[] atoms, int top,
      int sample, long seed, int chunk) {
    sc.setJobDescription("inspect " + rows.input);
    try (ModelEncoding enc = ModelEncoding.broadcast(sc, model.D(), model.d(), model.m(), model.params())) {
      int m = enc.m;
      return enc.foldPartitions(rows, chunk, () -> new AtomTopK(m, atoms, top, sample, seed), (acc, b, coded) -> {
        var codes = coded.codes;
        for (int s = 0; s < b.n(); s++) {
          acc.countRow();
          final Object[] values = b.values()[s];
          int base = s * codes.capacity;
          for (int t = 0; t < codes.count[s]; t++) {
            acc.offer(codes.atom[base + t], codes.value[base + t], b.key()[s], () -> shown(values));
          }
        }
      }).treeReduce(AtomTopK::merge, 2);
    } finally {
      sc.setJobDescription(null);
    }
  }

  /** The shown columns of a row as strings (null stays null), each cut to {@link #MAX_TEXT} characters. */
  static String[] shown(Object[] values) {
    String[] out = new String[values.length];
    for (int c = 0; c < values.length; c++) {
      if (values[c] != null) {
        String s = values[c] instanceof scala.collection.Seq<?> seq ? seq.mkString("[", ", ", "]")
            : String.valueOf(values[c]);
        out[c] = s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "…" : s;
      }
    }
    return out;
  }
}
