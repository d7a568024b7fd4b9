package dbksvd.spark;

import dbksvd.interpret.AtomTopK;
import dbksvd.io.ModelDir;
import org.apache.spark.api.java.JavaSparkContext;


/**
 * {@code inspect}'s distributed part: encodes every row with the model and keeps, per requested atom, the rows
 * with the largest |coefficient| and a seeded sample of weaker ones ({@link AtomTopK}), with the shown columns of
 * only those rows; partitions' heaps are merged with treeReduce. The dataset is never collected.
 */
public final class SparkInspect {
  private SparkInspect() {}

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
