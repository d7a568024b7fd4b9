package dbksvd.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitParams;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.DictionaryMetrics;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.List;

/**
 * {@code evaluate}: encodes every row with the model and reports FVE, relative error, mean L0, dead atoms, the
 * coherence of D and, against a reference dictionary, the recovery rate.
 */
public final class SparkEvaluate {
  private SparkEvaluate() {}

  public static ObjectNode run(JavaSparkContext sc, RowSource source, ModelDir.Model model,
      ModelDir.Model reference, int chunk) {
    int d = model.d();
    int m = model.m();
    if (source.d != d) {
      throw new BadInputException("the input's embeddings have length " + source.d + " but the model's atoms have "
          + d);
    }
    FitParams p = model.params();
    Dictionary dict = new Dictionary(model.D(), d, m);
    Broadcast<Dictionary> bDict = sc.broadcast(dict);
    var groups = p.groups();
    var encoder = p.newEncoder();
    int encodeChunk = p.encodeChunk();
    sc.setJobDescription("evaluate");
    List<BatchStats> parts = source.rdd().mapPartitions(it -> {
      BatchStats st = new BatchStats(d, m);
      var blocks = source.blocks(it, id -> true, chunk);
      while (blocks.hasNext()) {
        RowSource.Block b = blocks.next();
        st.add(EncodedBlock.encode(bDict.value(), groups, encoder, b.Y(), b.rowId(), encodeChunk, null,
            TaskGemm.current()), b.Y());
      }
      return List.of(st).iterator();
    }).collect();
    bDict.destroy();
    sc.setJobDescription(null);
    BatchStats stats = new BatchStats(d, m);
    parts.forEach(stats::merge);
    double[] coherence = DictionaryMetrics.perAtomCoherence(dict.G, m);
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("rows", stats.n);
    o.put("d", d);
    o.put("m", m);
    o.put("k", p.k());
    o.put("encoder", p.encoder());
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
}
