package dbksvd.spark;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.linalg.Blas;
import dbksvd.loop.DictionaryStep;
import dbksvd.loop.FitLoop;
import dbksvd.loop.FitParams;
import dbksvd.loop.IterationMetrics;
import dbksvd.loop.Replacement;
import dbksvd.loop.RowOrder;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.DictionaryMetrics;
import dbksvd.util.TaskTimes;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;
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
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * DB-KSVD over a dataset too large for one machine. Per iteration:
 * <ol>
 *   <li>the driver computes G = DᵀD and broadcasts D and G (one broadcast, destroyed at the end of the iteration);</li>
 *   <li>{@code mapPartitions} reads the partition's rows of this outer batch, computes DᵀY with one GEMM per chunk,
 *       runs the encoder and keeps codes and residuals (persisted for the rest of the iteration);</li>
 *   <li>each partition splits its samples by atom batch ({@link AtomBatchBlock#route}); the blocks are shuffled keyed
 *       by atom batch, so a sample is sent once per atom batch it touches; the executors merge them and run the
 *       K-SVD updates of their atom batches (Gauss-Seidel inside a batch);</li>
 *   <li>the driver collects the updated atoms, assembles D and re-draws dead and duplicate atoms from the worst
 *       samples (a distributed top-q).</li>
 * </ol>
 * The stages call the same kernels, with the same seeds, as {@link FitLoop}: for the same data the two reach the
 * same dictionary. No math lives here.
 */
public final class SparkFit {
  private static final Logger LOG = Logger.getLogger(SparkFit.class.getName());

  private SparkFit() {}

  /** What one encode task leaves for the rest of the iteration. */
  record EncodedPart(EncodedBlock block, BatchStats stats, TaskTimes times, double termBound)
      implements Serializable {}

  /** Called after each iteration with D as it enters the next one (for checkpoints). */
  @FunctionalInterface
  public interface AfterIteration {
    void accept(int nextIteration, float[] D) throws java.io.IOException;
  }

  public static FitLoop.Result fit(JavaSparkContext sc, RowSource source, FitParams p,
      Consumer<IterationMetrics> listener) {
    return fit(sc, source, p, -1, null, listener, null);
  }

  /**
   * Runs iterations [first, p.iterations()) starting from D0 (a checkpoint), or the whole fit from the initial D
   * when first &lt; 0.
   */
  public static FitLoop.Result fit(JavaSparkContext sc, RowSource source, FitParams p, int first, float[] D0,
      Consumer<IterationMetrics> listener, AfterIteration after) {
    final int d = source.d;
    p.validateFor(d);
    Blas.announce();
    final int m = p.m();
    final RowOrder order = new RowOrder(p.seed(), source.rows, p.batchSize());
    if (p.batchSize() > source.rows) {
      LOG.warning("batch size " + p.batchSize() + " exceeds the " + source.rows + " rows of the input; each "
          + "iteration uses all rows");
    }
    final AtomGroups groups = p.groups();
    final Encoder encoder = p.newEncoder();
    final TopSingularTriplet lanczos = p.lanczos();
    final int chunk = p.encodeChunk();
    final int T = p.iterations();

    OuterBatches outer = new OuterBatches(source, order, sc.defaultParallelism());
    float[] D;
    if (first < 0) {
      sc.setJobDescription("init: D from " + p.init());
      D = init(sc, source, p, order, outer);
      first = 0;
    } else {
      if (D0.length != d * m) {
        throw new IllegalArgumentException("the checkpoint's D has " + D0.length + " floats, expected " + d * m);
      }
      D = D0.clone();
    }
    List<IterationMetrics> history = new ArrayList<>();
    BatchStats last = null;
    float[] G = null; // DᵀD of D when the last replacement step formed it already
    try {
      for (int t = first; t < T; t++) {
        String label = "iteration " + (t + 1) + "/" + T;
        IterationMetrics.Timer timer = new IterationMetrics.Timer();
        Dictionary dict = DictionaryStep.dictionary(D, d, m, G);
        double[] coherence = DictionaryMetrics.perAtomCoherence(dict.G, m);
        Broadcast<Dictionary> bDict = sc.broadcast(dict);
        timer.lap("gram");

        sc.setJobDescription(label + ": encode");
        JavaRDD<EncodedPart> encoded = outer.of(t).mapPartitions((Iterator<RowSource.Block> it) -> {
          TaskTimes times = new TaskTimes();
          long t0 = System.nanoTime();
          RowSource.Block block = it.next();
          times.add(TaskTimes.READ, System.nanoTime() - t0);
          if (block.n() == 0) {
            return java.util.Collections.emptyIterator();
          }
          EncodedBlock eb = EncodedBlock.encode(bDict.value(), groups, encoder, block.Y(), block.rowId(), chunk,
              times, TaskGemm.current());
          BatchStats stats = new BatchStats(d, m).add(eb, block.Y());
          return List.of(new EncodedPart(eb, stats, times, JacobiUpdate.termBound(eb))).iterator();
        }).setName("dbksvd encoded batch " + t).persist(StorageLevel.MEMORY_AND_DISK());
        List<EncodedPart> parts = encoded.map(e -> new EncodedPart(null, e.stats(), e.times(), e.termBound()))
            .collect();
        BatchStats stats = new BatchStats(d, m);
        TaskTimes tasks = new TaskTimes();
        double termBound = 0;
        for (EncodedPart st : parts) {
          stats.merge(st.stats());
          tasks.merge(st.times());
          termBound = Math.max(termBound, st.termBound());
        }
        last = stats;
        timer.lap("encode");

        sc.setJobDescription(label + ": update");
        boolean[] used = new boolean[m];
        float[] Dnew = p.jacobi()
            ? jacobi(sc, encoded, bDict, D, d, groups, p.updatePasses(), JacobiUpdate.exponent(termBound, stats.n), used,
                tasks)
            : gaussSeidel(sc, encoded, bDict, D, d, groups, p, t, lanczos, used, tasks);
        timer.lap("update");

        sc.setJobDescription(label + ": replace");
        DictionaryStep.Outcome out = DictionaryStep.replace(Dnew, d, m, used, p.clearThreshold(), q -> {
          List<List<Replacement.Candidate>> lists = encoded.map(part -> Replacement.worst(part.block(), q)).collect();
          return Replacement.mergeWorst(lists, q);
        });
        D = out.D();
        G = out.G();
        encoded.unpersist(false);
        bDict.destroy();
        timer.lap("replace");

        IterationMetrics im = new IterationMetrics(t, order.epochOf(t), stats.n, stats.fve(), stats.relativeError(),
            stats.meanL0(), out.dead(), out.duplicates(), out.replaced(), DictionaryMetrics.coherence(coherence),
            DictionaryMetrics.mean(coherence), timer.seconds(), tasks.asMap());
        history.add(im);
        LOG.info(label + ": " + im.toJson());
        if (listener != null) {
          listener.accept(im);
        }
        if (after != null) {
          try {
            after.accept(t + 1, D);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }
    } finally {
      outer.close();
    }
    sc.setJobDescription(null);
    return new FitLoop.Result(D, d, m, history, last == null ? null : last.usage, last == null ? 0 : last.n);
  }

  /**
   * The Gauss-Seidel update: each task splits its samples by the atom batches their codes touch
   * ({@link AtomBatchBlock#route}); the blocks are shuffled keyed by atom batch, merged in row-id order and updated
   * there, atom after atom. Returns the assembled D; fills {@code used}.
   */
  private static float[] gaussSeidel(JavaSparkContext sc, JavaRDD<EncodedPart> encoded, Broadcast<Dictionary> bDict,
      float[] D, int d, AtomGroups groups, FitParams p, int t, TopSingularTriplet lanczos, boolean[] used,
      TaskTimes tasks) {
    AtomBatches batches = AtomBatches.assign(groups, p.atomBatches(), p.seed(), t);
    DoubleAccumulator routeSeconds = sc.sc().doubleAccumulator("route seconds");
    int reducers = Math.max(1, Math.min(batches.count(), sc.defaultParallelism()));
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
          float[] current = AtomBatchUpdate.gather(bDict.value().D, d, atoms);
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
    results.sort(Comparator.comparingInt(AtomBatchUpdate.Result::batch));
    return DictionaryStep.assemble(D, d, batches, results, used);
  }

  /**
   * The Jacobi update where the batch lives: per Lanczos pass, each task sums the terms of its samples for every
   * atom, the tasks' sums are added up by {@code treeReduce} (exact sums: any tree gives the same bits), and the
   * driver takes the next Lanczos vectors ({@link JacobiUpdate.Krylov}) and broadcasts them. m·d sums per task
   * travel, instead of the samples' residuals. Returns the new atoms; fills {@code used}.
   */
  private static float[] jacobi(JavaSparkContext sc, JavaRDD<EncodedPart> encoded, Broadcast<Dictionary> bDict,
      float[] D, int d, AtomGroups groups, int passes, int exponent, boolean[] used, TaskTimes tasks) {
    final int m = D.length / d;
    final int slots = Math.max(1, sc.defaultParallelism());
    // one task per slot, each summing the blocks of several partitions: fewer partial sums to move
    JavaRDD<EncodedPart> parts = encoded.getNumPartitions() > slots ? encoded.coalesce(slots) : encoded;
    // the driver receives about four partial sums whatever the number of tasks
    int depth = Math.max(2, (int) Math.ceil(Math.log(parts.getNumPartitions()) / Math.log(4)));
    JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(D, d, m, passes);
    while (!krylov.done()) {
      final Broadcast<float[]> bq = krylov.vector() == D ? null : sc.broadcast(krylov.vector());
      final double[] align = krylov.alignment();
      DoubleAccumulator seconds = sc.sc().doubleAccumulator("update seconds");
      JacobiUpdate.Sums total = parts.map(part -> {
        long t0 = System.nanoTime();
        JacobiUpdate.Sums s = JacobiUpdate.accumulate(part.block(), groups, bq == null ? bDict.value().D : bq.value(),
            align, exponent);
        seconds.add((System.nanoTime() - t0) / 1e9);
        return s;
      }).mapPartitions(it -> {
        JacobiUpdate.Sums acc = null;
        while (it.hasNext()) {
          acc = acc == null ? it.next() : acc.add(it.next());
        }
        return acc == null ? java.util.Collections.emptyIterator() : List.of(acc).iterator();
      }).treeReduce(JacobiUpdate.Sums::add, depth);
      krylov.absorb(List.of(JacobiUpdate.Step.of(total, D)));
      tasks.add(TaskTimes.UPDATE, (long) (seconds.value() * 1e9));
      if (bq != null) {
        bq.destroy();
      }
    }
    System.arraycopy(krylov.used(), 0, used, 0, m);
    return krylov.atoms();
  }

  /**
   * The initial D: m normalised samples (the first m rows of epoch 0) or uniform entries. Those rows are the first m
   * positions of outer batch 0 when m ≤ n, so they are taken from that batch's blocks, which iteration 1 reads
   * anyway (after the epoch's staging pass, or the persisted rows of a one-batch dataset), not from another scan of
   * the dataset; with m > n they span several batches and one scan collects them.
   */
  static float[] init(JavaSparkContext sc, RowSource source, FitParams p, RowOrder order, OuterBatches outer) {
    final int d = source.d;
    final int m = p.m();
    if (p.init().equals("uniform")) {
      return DictionaryStep.uniformInit(d, m, p.seed());
    }
    if (source.rows < m) {
      throw new BadInputException("init = samples needs at least m = " + m + " rows, the input has "
          + source.rows + "; use --set dbksvd.fit.init=uniform or fewer atoms");
    }
    List<RowSource.Block> blocks;
    if (m <= order.batchSize()) {
      blocks = outer.of(0).map(b -> {
        int keep = 0;
        for (long id : b.rowId()) {
          keep += order.isInitRow(id, m) ? 1 : 0;
        }
        long[] ids = new long[keep];
        float[] Y = new float[keep * d];
        int c = 0;
        for (int s = 0; s < b.n(); s++) {
          if (order.isInitRow(b.rowId()[s], m)) {
            ids[c] = b.rowId()[s];
            System.arraycopy(b.Y(), s * d, Y, c++ * d, d);
          }
        }
        return new RowSource.Block(ids, Y);
      }).collect();
    } else {
      blocks = source.rdd().mapPartitions(it -> {
        RowSource.Block b = source.collect(it, id -> order.isInitRow(id, m));
        return List.of(b).iterator();
      }).collect();
    }
    float[] S = new float[d * m];
    for (RowSource.Block b : blocks) {
      for (int s = 0; s < b.n(); s++) {
        int pos = (int) order.position(0, b.rowId()[s]);
        System.arraycopy(b.Y(), s * d, S, pos * d, d);
      }
    }
    return DictionaryStep.samplesInit(S, d, m);
  }
}
