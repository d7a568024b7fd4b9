package dbksvd.spark;

import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.interpret.AtomTopK;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitParams;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.List;

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
    int d = model.d();
    int m = model.m();
    FitParams p = model.params();
    Broadcast<Dictionary> bDict = sc.broadcast(new Dictionary(model.D(), d, m));
    var groups = p.groups();
    var encoder = p.newEncoder();
    int encodeChunk = p.encodeChunk();
    sc.setJobDescription("inspect " + rows.input);
    try {
      return rows.rdd().mapPartitions(it -> {
        AtomTopK acc = new AtomTopK(m, atoms, top, sample, seed);
        var blocks = rows.blocks(it, d, chunk);
        while (blocks.hasNext()) {
          LabelledRows.Block b = blocks.next();
          EncodedBlock eb = EncodedBlock.encode(bDict.value(), groups, encoder, b.Y(), b.key(), encodeChunk);
          var codes = eb.codes;
          for (int s = 0; s < b.n(); s++) {
            acc.countRow();
            final Object[] values = b.values()[s];
            int base = s * codes.capacity;
            for (int t = 0; t < codes.count[s]; t++) {
              acc.offer(codes.atom[base + t], codes.value[base + t], b.key()[s], () -> shown(values));
            }
          }
        }
        return List.of(acc).iterator();
      }).treeReduce(AtomTopK::merge, 2);
    } finally {
      bDict.destroy();
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
