package dbksvd.spark;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.Replacement;
import dbksvd.loop.RowOrder;
import dbksvd.metrics.BatchStats;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;
import dbksvd.util.TaskTimes;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.DoubleAccumulator;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The stages of {@link FitLoop} over a dataset too large for one machine:
 * <ul>
 *   <li>encode: D and G are broadcast (one broadcast per iteration, destroyed by {@link #release}); each task reads
 *       its rows of outer batch t ({@link OuterBatches}), computes DᵀY with one GEMM per chunk on the task's GEMM
 *       backend, runs the encoder and keeps codes and residuals (persisted for the rest of the iteration);</li>
 *   <li>jacobi: per pass, each task sums its samples' terms for every atom (exact sums: any split gives the same
 *       bits), the sums are tree-reduced to the driver; m·d sums per task travel instead of the residuals;</li>
 *   <li>gauss-seidel: each task splits its samples by the atom batches their codes touch
 *       ({@link AtomBatchBlock#route}); the blocks are shuffled keyed by atom batch, merged in row-id order and
 *       updated there, atom after atom;</li>
 *   <li>worst: a distributed top-q of the worst-coded samples.</li>
 * </ul>
 * Routing only: the math is the kernels' of {@code encode} and {@code update}.
 */
final class SparkStages implements FitLoop.Stages {
  private final JavaSparkContext sc;
  private final RowSource source;
  private final RowOrder order;
  private final OuterBatches outer;
  private final AtomGroups groups;
  private final Encoder encoder;
  private final int chunk;
  private Dictionary dict;
  private Broadcast<Dictionary> bDict;
  private JavaRDD<EncodedPart> encoded;

  /** What one encode task leaves for the rest of the iteration. */
  record EncodedPart(EncodedBlock block, BatchStats stats, TaskTimes times, double termBound)
      implements Serializable {}

  SparkStages(JavaSparkContext sc, RowSource source, FitParams p) {
    this.sc = sc;
    this.source = source;
    this.order = new RowOrder(p.seed(), source.rows, p.batchSize());
    this.outer = new OuterBatches(source, order, sc.defaultParallelism());
    this.groups = p.groups();
    this.encoder = p.encoder();
    this.chunk = p.encodeChunk();
  }

  @Override
  public int d() {
    return source.d;
  }

  @Override
  public RowOrder order() {
    return order;
  }

  @Override
  public void describe(String what) {
    sc.setJobDescription(what);
  }

  /**
   * The first m rows of epoch 0. They are the first m positions of outer batch 0 when m ≤ n, so they are taken from
   * that batch's blocks, which iteration 1 reads anyway (after the epoch's staging pass, or the persisted rows of a
   * one-batch dataset), not from another scan of the dataset; with m > n they span several batches and one scan
   * collects them.
   */
  @Override
  public float[] initSamples(int m) {
    final int d = source.d;
    final RowOrder ord = order;
    List<RowSource.Block> blocks;
    if (m <= order.batchSize()) {
      blocks = outer.of(0).map(b -> {
        int keep = 0;
        for (long id : b.rowId()) {
          keep += ord.isInitRow(id, m) ? 1 : 0;
        }
        long[] ids = new long[keep];
        float[] Y = new float[keep * d];
        int c = 0;
        for (int s = 0; s < b.n(); s++) {
          if (ord.isInitRow(b.rowId()[s], m)) {
            ids[c] = b.rowId()[s];
            System.arraycopy(b.Y(), s * d, Y, c++ * d, d);
          }
        }
        return new RowSource.Block(ids, Y);
      }).collect();
    } else {
      RowSource src = source;
      blocks = src.rdd().mapPartitions(it -> List.of(src.collect(it, id -> ord.isInitRow(id, m))).iterator())
          .collect();
    }
    float[] S = new float[d * m];
    for (RowSource.Block b : blocks) {
      for (int s = 0; s < b.n(); s++) {
        int pos = (int) order.position(0, b.rowId()[s]);
        System.arraycopy(b.Y(), s * d, S, pos * d, d);
      }
    }
    return S;
  }

  @Override
  public FitLoop.Encoded encode(int t, Dictionary dictionary) {
    dict = dictionary;
    bDict = sc.broadcast(dictionary);
    final Broadcast<Dictionary> bd = bDict;
    final AtomGroups grp = groups;
    final Encoder enc = encoder;
    final int ch = chunk;
    final int d = source.d;
    final int m = dictionary.m;
    encoded = outer.of(t).mapPartitions((Iterator<RowSource.Block> it) -> {
      TaskTimes times = new TaskTimes();
      long t0 = System.nanoTime();
      RowSource.Block block = it.next();
      times.add(TaskTimes.READ, System.nanoTime() - t0);
      if (block.n() == 0) {
        return Collections.<EncodedPart>emptyIterator();
      }
      EncodedBlock eb = EncodedBlock.encode(bd.value(), grp, enc, block.Y(), block.rowId(), ch, times,
          TaskGemm.current());
      BatchStats stats = new BatchStats(d, m).add(eb, block.Y());
      return List.of(new EncodedPart(eb, stats, times, JacobiUpdate.termBound(eb))).iterator();
    }).setName("dbksvd encoded batch " + t).persist(StorageLevel.MEMORY_AND_DISK());
    List<EncodedPart> parts = encoded.map(e -> new EncodedPart(null, e.stats(), e.times(), e.termBound()))
        .collect();
    BatchStats stats = new BatchStats(d, m);
    TaskTimes tasks = new TaskTimes();
    double termBound = 0;
    for (EncodedPart part : parts) { // in partition order: the sums do not depend on task timing
      stats.merge(part.stats());
      tasks.merge(part.times());
      termBound = Math.max(termBound, part.termBound());
    }
    return new FitLoop.Encoded(stats, tasks, termBound);
  }

  /**
   * One task per slot sums the blocks of several partitions (fewer partial sums to move); the driver receives about
   * four partial sums whatever the number of tasks.
   */
  @Override
  public JacobiUpdate.Sums jacobiSums(float[] u, double[] alignment, int exponent, TaskTimes tasks) {
    final int slots = Math.max(1, sc.defaultParallelism());
    JavaRDD<EncodedPart> parts = encoded.getNumPartitions() > slots ? encoded.coalesce(slots) : encoded;
    int depth = Math.max(2, (int) Math.ceil(Math.log(parts.getNumPartitions()) / Math.log(4)));
    final Broadcast<float[]> bu = u == dict.D ? null : sc.broadcast(u); // the first pass runs on D itself
    final Broadcast<Dictionary> bd = bDict;
    final AtomGroups grp = groups;
    DoubleAccumulator seconds = sc.sc().doubleAccumulator("update seconds");
    try {
      return parts.map(part -> {
        long t0 = System.nanoTime();
        JacobiUpdate.Sums s = JacobiUpdate.accumulate(part.block(), grp, bu == null ? bd.value().D : bu.value(),
            alignment, exponent);
        seconds.add((System.nanoTime() - t0) / 1e9);
        return s;
      }).mapPartitions(it -> {
        JacobiUpdate.Sums acc = null;
        while (it.hasNext()) {
          acc = acc == null ? it.next() : acc.add(it.next());
        }
        return acc == null ? Collections.<JacobiUpdate.Sums>emptyIterator() : List.of(acc).iterator();
      }).treeReduce(JacobiUpdate.Sums::add, depth);
    } finally {
      tasks.add(TaskTimes.UPDATE, (long) (seconds.value() * 1e9));
      if (bu != null) {
        bu.destroy();
      }
    }
  }

  @Override
  public List<AtomBatchUpdate.Result> updateAtomBatches(AtomBatches batches, TopSingularTriplet lanczos,
      TaskTimes tasks) {
    DoubleAccumulator routeSeconds = sc.sc().doubleAccumulator("route seconds");
    int reducers = Math.max(1, Math.min(batches.count(), sc.defaultParallelism()));
    final Broadcast<Dictionary> bd = bDict;
    final int d = source.d;
    JavaPairRDD<Integer, AtomBatchBlock> routed = encoded.flatMapToPair(part -> {
      List<Tuple2<Integer, AtomBatchBlock>> out = new ArrayList<>();
      long t0 = System.nanoTime();
      AtomBatchBlock[] split = AtomBatchBlock.route(part.block(), batches);
      routeSeconds.add((System.nanoTime() - t0) / 1e9);
      for (AtomBatchBlock b : split) {
        if (b.samples() > 0) {
          out.add(new Tuple2<>(b.batch, b));
        }
      }
      return out.iterator();
    });
    List<Tuple2<AtomBatchUpdate.Result, TaskTimes>> updated = routed
        .groupByKey(new HashPartitioner(reducers))
        .map(kv -> {
          TaskTimes times = new TaskTimes();
          List<AtomBatchBlock> blocks = new ArrayList<>();
          kv._2().forEach(blocks::add);
          long t0 = System.nanoTime();
          AtomBatchBlock block = AtomBatchBlock.merge(blocks);
          long t1 = System.nanoTime();
          times.add(TaskTimes.MERGE, t1 - t0);
          int[] atoms = batches.atoms[kv._1()];
          float[] current = AtomBatchUpdate.gather(bd.value().D, d, atoms);
          AtomBatchUpdate.Result r = AtomBatchUpdate.run(block, current, atoms.length, lanczos,
              new TopSingularTriplet.Scratch());
          times.add(TaskTimes.UPDATE, System.nanoTime() - t1);
          return new Tuple2<>(r, times);
        }).collect();
    List<AtomBatchUpdate.Result> results = new ArrayList<>();
    for (Tuple2<AtomBatchUpdate.Result, TaskTimes> u : updated) {
      results.add(u._1());
      tasks.merge(u._2());
    }
    tasks.add(TaskTimes.ROUTE, (long) (routeSeconds.value() * 1e9));
    return results;
  }

  @Override
  public List<Replacement.Candidate> worst(int q) {
    List<List<Replacement.Candidate>> lists = encoded.map(part -> Replacement.worst(part.block(), q)).collect();
    return Replacement.mergeWorst(lists, q);
  }

  @Override
  public void release() {
    if (encoded != null) {
      encoded.unpersist(false);
      encoded = null;
    }
    if (bDict != null) {
      bDict.destroy();
      bDict = null;
    }
    dict = null;
  }

  @Override
  public void close() {
    release();
    outer.close();
  }
}
