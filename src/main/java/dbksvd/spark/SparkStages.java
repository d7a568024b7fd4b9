package dbksvd.spark;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.loop.Batching;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.OuterOrder;
import dbksvd.loop.Replacement;
import dbksvd.loop.RowOrder;
import dbksvd.loop.WindowPlan;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.GramFacts;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.BatchRefit;
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
import java.util.Map;

/**
 * The stages of {@link FitLoop} over a dataset too large for one machine:
 * <ul>
 *   <li>encode: D is broadcast (one broadcast per iteration, destroyed by {@link #release}; G is computed once per
 *       executor JVM from it, {@link Dictionary#G}); each task reads its rows of outer batch t ({@link BatchReader}),
 *       computes DᵀY with one GEMM per chunk on the task's GEMM backend, runs the encoder and keeps codes and
 *       residuals (persisted for the rest of the iteration); one task per executor combines its executor's
 *       summaries ({@link ByExecutor});</li>
 *   <li>jacobi: per pass, one task per executor sums the terms of every sample its executor holds, for every atom,
 *       on all its cores (exact sums: any split gives the same bits); the executors' sums are shuffled keyed by atom
 *       range to the owners of the ranges' Lanczos states, and the driver gets the next vectors (m·d floats) — the
 *       bytes grow with executors, never with tasks, and residuals never move;</li>
 *   <li>jacobi-batches: per atom batch, jacobi's stages for the batch's atoms, then one map of the persisted parts
 *       to new persisted parts with the batch's coefficients refitted and residuals updated ({@link BatchRefit});</li>
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
  /** The rows order of batching = rows; null for splits. */
  private final RowOrder order;
  /** The plan of batching = splits; null for the others. */
  private final SplitBatches splits;
  /** The plan of batching = window; null for the others. */
  private final WindowBatches windows;
  private final BatchReader outer;
  private final AtomGroups groups;
  private final Encoder encoder;
  private final int chunk;
  private Dictionary dict;
  private Broadcast<Dictionary> bDict;
  /** The updated dictionary of {@link #gramFacts}, broadcast, and its G formed on the executors: the next one. */
  private Dictionary nextDict;
  private Broadcast<Dictionary> bNext;
  private JavaRDD<EncodedPart> encoded;
  /** The encoded batch as one partition per executor holding it. */
  private JavaRDD<EncodedPart> byExecutor;
  private final Traffic traffic;
  /** The refit plans of this iteration's atom batches ({@code jacobi-batches}): the refitted parts' lineage. */
  private final List<Broadcast<BatchRefit.Plan>> refits = new ArrayList<>();

  /**
   * What one encode task leaves for the rest of the iteration: its block (null when the task had no rows), the
   * block's metrics and stage times, and the facts of G for its share of the atoms (partition p of P: the atoms
   * [p·m/P, (p+1)·m/P)), so that the driver gets every atom's facts once without ever holding G.
   */
  record EncodedPart(EncodedBlock block, BatchStats stats, TaskTimes times, double termBound, GramFacts facts)
      implements Serializable {}

  /** One executor's parts, combined: the metrics (exactly), the times, the term bound and the facts of G. */
  record Summary(BatchStats stats, TaskTimes times, double termBound, List<GramFacts> facts) implements Serializable {}

  SparkStages(JavaSparkContext sc, RowSource source, FitParams p) {
    this.sc = sc;
    this.source = source;
    if (p.batching() == Batching.SPLITS) {
      sc.setJobDescription("plan the outer batches: rows per input split");
      this.order = null;
      this.splits = new SplitBatches(source, SplitBatches.plan(source, p.seed(), p.batchSize()));
      splits.warnIdleSlots(sc.defaultParallelism());
      warn(splits.plan().fewSplits());
      this.windows = null;
      this.outer = splits;
    } else if (p.batching() == Batching.WINDOW) {
      sc.setJobDescription("plan the outer batches: rows per input split");
      this.order = null;
      this.splits = null;
      this.windows = new WindowBatches(source, new WindowPlan(SplitBatches.plan(source, p.seed(), p.batchSize()),
          p.window()));
      windows.warnIdleSlots(sc.defaultParallelism());
      warn(windows.plan().plan().fewSplits());
      this.outer = windows;
    } else {
      this.order = new RowOrder(p.seed(), source.rows, p.batchSize());
      this.splits = null;
      this.windows = null;
      this.outer = new OuterBatches(source, order, sc.defaultParallelism());
    }
    this.groups = p.groups();
    this.encoder = p.encoder();
    this.chunk = p.encodeChunk();
    this.traffic = Traffic.attach(sc.sc());
  }

  private static void warn(String line) {
    if (line != null) {
      java.util.logging.Logger.getLogger(SparkStages.class.getName()).warning(line);
    }
  }

  @Override
  public int d() {
    return source.d;
  }

  @Override
  public OuterOrder order() {
    return splits != null ? splits.plan() : windows != null ? windows.plan() : order;
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
    if (splits != null) {
      return splits.initSamples(m);
    }
    if (windows != null) {
      return windows.initSamples(m);
    }
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

  /**
   * Codes outer batch t: one task per partition of the batch's rows, G computed once per executor (the broadcast
   * dictionary's, {@link Dictionary#G}); then one task per executor combines its parts' metrics and G's facts, so
   * the driver receives one summary per executor, not per task.
   */
  @Override
  public FitLoop.Encoded encode(int t, Dictionary dictionary) {
    dict = dictionary;
    if (dictionary == nextDict) { // no atom re-drawn: the executors hold its G already
      bDict = bNext;
    } else {
      dropNext();
      bDict = sc.broadcast(dictionary);
    }
    nextDict = null;
    bNext = null;
    final Broadcast<Dictionary> bd = bDict;
    final AtomGroups grp = groups;
    final Encoder enc = encoder;
    final int ch = chunk;
    final int d = source.d;
    final int m = dictionary.m;
    JavaRDD<RowSource.Block> rows = outer.of(t);
    final int P = rows.getNumPartitions();
    final RowOrder ord = order; // batching = rows: samples keyed to DᵀY lanes by position (RowOrder#laneKey)
    final long epoch = order != null ? order.epochOf(t) : 0;
    encoded = rows.mapPartitionsWithIndex((p, it) -> {
      TaskTimes times = new TaskTimes();
      long t0 = System.nanoTime();
      RowSource.Block block = it.hasNext() ? it.next() : null;
      times.add(TaskTimes.READ, System.nanoTime() - t0);
      BatchStats stats = new BatchStats(d, m);
      EncodedBlock eb = null;
      double bound = 0;
      if (block != null && block.n() > 0) {
        long[] lanes = ord == null ? block.rowId() : ord.laneKeys(epoch, block.rowId());
        eb = EncodedBlock.encode(bd.value(), grp, enc, block.Y(), block.rowId(), lanes, ch, times,
            TaskGemm.current());
        stats.add(eb, block.Y());
        bound = JacobiUpdate.termBound(eb);
      }
      GramFacts facts = GramFacts.of(bd.value().G(), m, (int) ((long) m * p / P), (int) ((long) m * (p + 1) / P), 1);
      return List.of(new EncodedPart(eb, stats, times, bound, facts)).iterator();
    }, true).setName("dbksvd encoded batch " + t).persist(StorageLevel.MEMORY_AND_DISK());
    encoded.count(); // materialised and cached: where each part lives is known from here on
    byExecutor = ByExecutor.group(encoded);
    List<Summary> summaries = byExecutor.mapPartitions(it -> {
      BatchStats st = new BatchStats(d, m);
      TaskTimes times = new TaskTimes();
      double bound = 0;
      List<GramFacts> facts = new ArrayList<>();
      while (it.hasNext()) {
        EncodedPart part = it.next();
        st.merge(part.stats());
        times.merge(part.times());
        bound = Math.max(bound, part.termBound());
        facts.add(part.facts());
      }
      return List.of(new Summary(st, times, bound, facts)).iterator();
    }).collect();
    BatchStats stats = new BatchStats(d, m);
    TaskTimes tasks = new TaskTimes();
    double termBound = 0;
    List<GramFacts> facts = new ArrayList<>();
    for (Summary s : summaries) { // exact sums: any grouping of the parts gives the same bits
      stats.merge(s.stats());
      tasks.merge(s.times());
      termBound = Math.max(termBound, s.termBound());
      facts.addAll(s.facts());
    }
    return new FitLoop.Encoded(stats, tasks, termBound, GramFacts.merge(facts, m));
  }

  /**
   * The Jacobi update where the batch lives, with what moves bounded by the executors, not the tasks. Per pass:
   * <ol>
   *   <li>one task per executor ({@link ByExecutor}) sums the terms of every sample its executor holds, on its cores
   *       at once, each core a share of the atom ranges (exact sums: any split gives the same bits);</li>
   *   <li>those sums are shuffled keyed by atom range: E·m·(d + 3)·8 bytes for E executors;</li>
   *   <li>the task that owns a range takes the Lanczos step of its atoms ({@link JacobiUpdate.Krylov}, one per range,
   *       kept as a persisted RDD from pass to pass) and returns the next Lanczos vectors, m·d floats in all, which
   *       the driver broadcasts to the next pass;</li>
   * </ol>
   * and after the last pass the owners return the new atoms (m·d floats) and which atoms were used. The driver holds
   * D and one Lanczos vector per atom; the Krylov spaces live with their ranges.
   */
  @Override
  public float[] jacobi(float[] D, int passes, int exponent, boolean[] used, TaskTimes tasks) {
    return lanczos(D, null, null, passes, exponent, used, tasks);
  }

  /**
   * One atom batch of {@code jacobi-batches}: the stages of {@link #jacobi} for the batch's atoms alone, over the
   * parts as the batches before left them; the batch's current vectors are broadcast (the encoded dictionary's may
   * be out of date), everything else is {@link #jacobi}'s.
   */
  @Override
  public float[] jacobiBatch(float[] current, int[] atoms, int passes, int exponent, boolean[] used,
      TaskTimes tasks) {
    Broadcast<float[]> bc = sc.broadcast(current);
    try {
      return lanczos(current, atoms, bc, passes, exponent, used, tasks);
    } finally {
      bc.destroy();
    }
  }

  /**
   * {@link #jacobi} for the atoms {@code atoms} (null: all), whose vectors are D (d × atoms.length) and, on the
   * executors, {@code bFitted} (null: the encoded dictionary's); the ranges, sums and Lanczos states are over the
   * positions in atoms.
   */
  private float[] lanczos(float[] D, int[] atoms, Broadcast<float[]> bFitted, int passes, int exponent,
      boolean[] used, TaskTimes tasks) {
    final int d = source.d;
    final int m = D.length / d;
    final int executors = byExecutor.getNumPartitions();
    final int threads = Math.max(1, (sc.defaultParallelism() + executors - 1) / executors);
    final int ranges = Math.max(1, Math.min(m, sc.defaultParallelism()));
    final int[] bounds = JacobiUpdate.ranges(m, ranges);
    final OuterBatches.ByKey owner = new OuterBatches.ByKey(bounds.length - 1);
    final Broadcast<Dictionary> bd = bDict;
    final AtomGroups grp = groups;
    List<Broadcast<float[]>> vectors = new ArrayList<>(); // kept to the end: a lost state is recomputed from them
    DoubleAccumulator seconds = sc.sc().doubleAccumulator("update seconds");
    JavaPairRDD<Integer, JacobiUpdate.Krylov> state = null;
    float[] u = null; // null: the first pass, from D itself (the broadcast dictionary's)
    double[] align = JacobiUpdate.alignment(D, D, d, m);
    float[] updated = null;
    try {
      for (int pass = 0; pass < passes; pass++) {
        final Broadcast<float[]> bu = u == null ? null : sc.broadcast(u);
        if (bu != null) {
          vectors.add(bu);
        }
        final double[] al = align;
        JavaPairRDD<Integer, JacobiUpdate.Sums> total = byExecutor.mapPartitionsToPair(it -> {
          List<EncodedBlock> blocks = new ArrayList<>();
          it.forEachRemaining(part -> {
            if (part.block() != null) {
              blocks.add(part.block());
            }
          });
          long t0 = System.nanoTime();
          float[] coded = bd.value().D;
          float[] fitted = bFitted == null ? coded : bFitted.value();
          JacobiUpdate.Sums[] sums = sumOnCores(blocks, grp, coded, atoms, bu == null ? fitted : bu.value(), al,
              exponent, bounds, threads);
          seconds.add(Math.min(threads, sums.length) * (System.nanoTime() - t0) / 1e9); // core-seconds
          List<Tuple2<Integer, JacobiUpdate.Sums>> out = new ArrayList<>();
          for (int r = 0; r < sums.length; r++) {
            out.add(new Tuple2<>(r, sums[r]));
          }
          return out.iterator();
        }).reduceByKey(owner, JacobiUpdate.Sums::add);
        final int P = passes;
        JavaPairRDD<Integer, JacobiUpdate.Krylov> next = state == null
            ? total.mapValues(sums -> {
              float[] fitted = bFitted == null ? bd.value().D : bFitted.value();
              return JacobiUpdate.Krylov.ofRange(fitted, d, sums.from, sums.to, P).absorbed(sums, fitted);
            })
            : total.join(state).mapValues(v -> v._2().copy().absorbed(v._1(),
                bFitted == null ? bd.value().D : bFitted.value()));
        next.setName("dbksvd Lanczos state, pass " + (pass + 1)).persist(StorageLevel.MEMORY_AND_DISK());
        if (pass + 1 < passes) {
          u = new float[d * m];
          align = new double[m];
          for (Tuple2<Integer, Tuple2<float[], double[]>> v
              : next.mapValues(k -> new Tuple2<>(k.vector(), k.alignment())).collect()) {
            int from = bounds[v._1()];
            System.arraycopy(v._2()._1(), 0, u, from * d, v._2()._1().length);
            System.arraycopy(v._2()._2(), 0, align, from, v._2()._2().length);
          }
        } else {
          updated = new float[d * m];
          for (Tuple2<Integer, Tuple2<float[], boolean[]>> v
              : next.mapValues(k -> new Tuple2<>(k.atoms(), k.used())).collect()) {
            int from = bounds[v._1()];
            System.arraycopy(v._2()._1(), 0, updated, from * d, v._2()._1().length);
            System.arraycopy(v._2()._2(), 0, used, from, v._2()._2().length);
          }
        }
        if (state != null) {
          state.unpersist(false);
        }
        state = next;
      }
    } finally {
      tasks.add(TaskTimes.UPDATE, (long) (seconds.value() * 1e9));
      if (state != null) {
        state.unpersist(false);
      }
      vectors.forEach(Broadcast::destroy);
    }
    return updated;
  }

  /**
   * One executor's sums of a pass over its blocks, for the atom ranges [bounds[r], bounds[r+1]): the ranges shared
   * out over {@code threads} threads, each summing its ranges over every block (so the executor holds one set of
   * sums, m·(d + 3) doubles, whatever its cores).
   */
  static JacobiUpdate.Sums[] sumOnCores(List<EncodedBlock> blocks, AtomGroups groups, float[] D, int[] atoms,
      float[] u, double[] align, int exponent, int[] bounds, int threads) throws Exception {
    int R = bounds.length - 1;
    int t = Math.max(1, Math.min(threads, R));
    JacobiUpdate.Sums[] out = new JacobiUpdate.Sums[R];
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(t);
    try {
      List<java.util.concurrent.Future<?>> done = new ArrayList<>();
      for (int c = 0; c < t; c++) {
        int r0 = (int) ((long) R * c / t);
        int r1 = (int) ((long) R * (c + 1) / t);
        done.add(pool.submit(() -> {
          for (int r = r0; r < r1; r++) {
            out[r] = new JacobiUpdate.Sums(u.length / align.length, bounds[r], bounds[r + 1], exponent);
          }
          JacobiUpdate.Sums[] acc = java.util.Arrays.copyOfRange(out, r0, r1);
          for (EncodedBlock eb : blocks) { // every block into the one set of sums (exact: any order, the same bits)
            JacobiUpdate.accumulateInto(acc, eb, groups, D, atoms, u, align, JacobiUpdate.chunkColumns(eb.d));
          }
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    return out;
  }

  /**
   * The batch's coefficients refitted and the residuals updated ({@link BatchRefit}) into a new persisted RDD of
   * parts, materialised by the job that returns the new term bound; the previous parts are unpersisted. Cached
   * blocks are never changed in place: a lost part is recomputed from its lineage (encode, then each batch's
   * refit, whose plans stay broadcast until {@link #release}) and comes back with the same bits.
   */
  @Override
  public double refitBatch(BatchRefit.Plan plan, TaskTimes tasks) {
    Broadcast<BatchRefit.Plan> bp = sc.broadcast(plan);
    refits.add(bp);
    DoubleAccumulator seconds = sc.sc().doubleAccumulator("refit seconds");
    JavaRDD<EncodedPart> before = encoded;
    JavaRDD<EncodedPart> after = before.map(part -> {
      if (part.block() == null) {
        return part;
      }
      long t0 = System.nanoTime();
      EncodedBlock eb = BatchRefit.apply(part.block(), bp.value());
      double bound = BatchRefit.termBound(eb);
      seconds.add((System.nanoTime() - t0) / 1e9);
      return new EncodedPart(eb, part.stats(), part.times(), bound, part.facts());
    }).setName("dbksvd refitted batch, atom batch " + refits.size()).persist(StorageLevel.MEMORY_AND_DISK());
    double bound = after.map(EncodedPart::termBound).reduce(Math::max);
    before.unpersist(false);
    encoded = after;
    byExecutor = ByExecutor.group(after);
    tasks.add(TaskTimes.UPDATE, (long) (seconds.value() * 1e9));
    return bound;
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
      if (part.block() == null) {
        return out.iterator();
      }
      AtomBatchBlock[] split = AtomBatchBlock.route(part.block(), batches, bd.value().D);
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

  /**
   * The updated dictionary broadcast, and its G formed on every executor that holds a part of the batch (one task
   * each, {@link ByExecutor}), each reporting the facts of its share of the atoms: the driver receives O(m + pairs).
   * The coded dictionary's G goes first, so that one G lives in an executor at a time.
   */
  @Override
  public GramFacts gramFacts(Dictionary updated, double threshold) {
    dropNext();
    nextDict = updated;
    bNext = sc.broadcast(updated);
    final Broadcast<Dictionary> bn = bNext;
    final Broadcast<Dictionary> coded = bDict; // alive to the iteration's end: the encoded parts' lineage holds it
    final int m = updated.m;
    final int E = byExecutor.getNumPartitions();
    List<GramFacts> parts = byExecutor.mapPartitionsWithIndex((e, it) -> {
      coded.value().dropGram(); // recomputed only if a lost part must be coded again
      return List.of(GramFacts.of(bn.value().G(), m, (int) ((long) m * e / E), (int) ((long) m * (e + 1) / E),
          threshold)).iterator();
    }, true).collect();
    return GramFacts.merge(parts, m);
  }

  private void dropNext() {
    if (bNext != null) {
      bNext.destroy();
      bNext = null;
      nextDict = null;
    }
  }

  /** Each executor's q worst samples (from its parts'), then the q worst of those: E·q candidates to the driver. */
  @Override
  public List<Replacement.Candidate> worst(int q) {
    List<List<Replacement.Candidate>> lists = byExecutor.mapPartitions(it -> {
      List<List<Replacement.Candidate>> mine = new ArrayList<>();
      it.forEachRemaining(part -> {
        if (part.block() != null) {
          mine.add(Replacement.worst(part.block(), q));
        }
      });
      return List.of(Replacement.mergeWorst(mine, q)).iterator();
    }).collect();
    return Replacement.mergeWorst(lists, q);
  }

  @Override
  public void release() {
    if (encoded != null) {
      encoded.unpersist(false);
      encoded = null;
      byExecutor = null;
    }
    if (bDict != null) {
      bDict.destroy();
      bDict = null;
    }
    refits.forEach(Broadcast::destroy);
    refits.clear();
    dict = null;
  }

  @Override
  public Map<String, Long> traffic() {
    Traffic.drain(sc.sc());
    return traffic.take();
  }

  @Override
  public void close() {
    release();
    dropNext();
    outer.close();
    traffic.close(sc.sc());
  }
}
