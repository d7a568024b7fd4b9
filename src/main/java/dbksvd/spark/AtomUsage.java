package dbksvd.spark;

import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.io.ModelDir;
import dbksvd.metrics.BatchStats;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.List;

/** Per atom, the rows of a dataset whose code uses it (a non-zero coefficient): what {@code export} reports. */
public final class AtomUsage {
  private AtomUsage() {}

  public static long[] count(JavaSparkContext sc, RowSource source, ModelDir.Model model, int chunk) {
    int d = model.d();
    int m = model.m();
    if (source.d != d) {
      throw new BadInputException("the input's embeddings have length " + source.d + " but the model's atoms have "
          + d);
    }
    Broadcast<Dictionary> bDict = sc.broadcast(new Dictionary(model.D(), d, m));
    var groups = model.groups();
    var encoder = model.params().newEncoder();
    int encodeChunk = model.params().encodeChunk();
    sc.setJobDescription("atom usage");
    try {
      List<long[]> parts = source.rdd().mapPartitions(it -> {
        BatchStats st = new BatchStats(d, m);
        var blocks = source.blocks(it, id -> true, chunk);
        while (blocks.hasNext()) {
          RowSource.Block b = blocks.next();
          st.add(EncodedBlock.encode(bDict.value(), groups, encoder, b.Y(), b.rowId(), encodeChunk), b.Y());
        }
        return List.of(st.usage).iterator();
      }).collect();
      long[] usage = new long[m];
      for (long[] u : parts) {
        for (int j = 0; j < m; j++) {
          usage[j] += u[j];
        }
      }
      return usage;
    } finally {
      bDict.destroy();
      sc.setJobDescription(null);
    }
  }
}
