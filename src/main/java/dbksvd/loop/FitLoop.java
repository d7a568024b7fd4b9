package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.DictionaryMetrics;
import dbksvd.util.TaskTimes;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * DB-KSVD on one machine, over data held in memory (d × N, column-major). The same stages, in the same order
 * and with the same seeds, as the Spark job, which routes them over partitions instead: for the same seed and
 * data both reach the same dictionary.
 *
 * <p>Per iteration t: take outer batch t ({@link RowOrder}); G = DᵀD; encode every sample against each atom group
 * in turn; route samples to the atom batches of the atoms they use; update each batch (Gauss-Seidel inside,
 * independent across batches); assemble D; re-draw dead and duplicate atoms from the worst-reconstructed samples.
 */
public final class FitLoop {
  private FitLoop() {}

  /**
   * @param lastUsage per atom, the samples of the last iteration's batch whose code used it (coded with the D that
   *     entered that iteration); null when no iteration ran
   * @param lastBatch samples in that batch
   */
  public record Result(float[] D, int d, int m, List<IterationMetrics> history, long[] lastUsage, long lastBatch) {
    public Result(float[] D, int d, int m, List<IterationMetrics> history) {
      this(D, d, m, history, null, 0);
    }
  }

  public static Result fit(float[] Y, int d, FitParams p, Consumer<IterationMetrics> listener) {
    final int N = Y.length / d;
    p.validateFor(d);
    final int m = p.m();
    final RowOrder order = new RowOrder(p.seed(), N, p.batchSize());
    final AtomGroups groups = p.groups();
    final Encoder encoder = p.newEncoder();
    float[] D = init(Y, d, N, p, order);
    List<IterationMetrics> history = new ArrayList<>();
    TopSingularTriplet.Scratch scratch = new TopSingularTriplet.Scratch();
    BatchStats last = null;
    float[] G = null; // DᵀD of D when the last replacement step formed it already
    for (int t = 0; t < p.iterations(); t++) {
      IterationMetrics.Timer timer = new IterationMetrics.Timer();
      long[] rows = batchRows(order, t, N);
      float[] Yb = new float[rows.length * d];
      for (int s = 0; s < rows.length; s++) {
        System.arraycopy(Y, (int) rows[s] * d, Yb, s * d, d);
      }
      timer.lap("read");
      Dictionary dict = DictionaryStep.dictionary(D, d, m, G);
      double[] coherence = DictionaryMetrics.perAtomCoherence(dict.G, m);
      timer.lap("gram");
      TaskTimes tasks = new TaskTimes();
      EncodedBlock eb = EncodedBlock.encode(dict, groups, encoder, Yb, rows, p.encodeChunk(), tasks);
      BatchStats stats = new BatchStats(d, m).add(eb, Yb);
      last = stats;
      timer.lap("encode");
      boolean[] used = new boolean[m];
      float[] Dnew;
      if (p.jacobi()) {
        long t0 = System.nanoTime();
        Dnew = jacobi(eb, groups, D, d, m, p.updatePasses(), JacobiUpdate.exponent(JacobiUpdate.termBound(eb), eb.n),
            used);
        tasks.add(TaskTimes.UPDATE, System.nanoTime() - t0);
        timer.lap("update");
      } else {
        AtomBatches batches = AtomBatches.assign(groups, p.atomBatches(), p.seed(), t);
        long t0 = System.nanoTime();
        AtomBatchBlock[] parts = AtomBatchBlock.route(eb, batches);
        tasks.add(TaskTimes.ROUTE, System.nanoTime() - t0);
        timer.lap("route");
        List<AtomBatchUpdate.Result> results = new ArrayList<>();
        for (int b = 0; b < batches.count(); b++) {
          float[] atoms = AtomBatchUpdate.gather(D, d, batches.atoms[b]);
          long t1 = System.nanoTime();
          results.add(AtomBatchUpdate.run(parts[b], atoms, batches.atoms[b].length, p.lanczos(), scratch));
          tasks.add(TaskTimes.UPDATE, System.nanoTime() - t1);
        }
        timer.lap("update");
        Dnew = DictionaryStep.assemble(D, d, batches, results, used);
      }
      DictionaryStep.Outcome out = DictionaryStep.replace(Dnew, d, m, used, p.clearThreshold(),
          q -> Replacement.worst(eb, q));
      D = out.D();
      G = out.G();
      timer.lap("replace");
      IterationMetrics im = new IterationMetrics(t, order.epochOf(t), stats.n, stats.fve(), stats.relativeError(),
          stats.meanL0(), out.dead(), out.duplicates(), out.replaced(), DictionaryMetrics.coherence(coherence),
          DictionaryMetrics.mean(coherence), timer.seconds(), tasks.asMap());
      history.add(im);
      if (listener != null) {
        listener.accept(im);
      }
    }
    return new Result(D, d, m, history, last == null ? null : last.usage, last == null ? 0 : last.n);
  }

  /** The Jacobi update of one block holding the whole batch: D after {@code passes} Lanczos passes; fills used. */
  static float[] jacobi(EncodedBlock eb, AtomGroups groups, float[] D, int d, int m, int passes, int exponent,
      boolean[] used) {
    JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(D, d, m, passes);
    while (!krylov.done()) {
      JacobiUpdate.Sums total = JacobiUpdate.accumulate(eb, groups, krylov.vector(), krylov.alignment(), exponent);
      krylov.absorb(List.of(JacobiUpdate.Step.of(total, D)));
    }
    System.arraycopy(krylov.used(), 0, used, 0, m);
    return krylov.atoms();
  }

  /** The row ids of outer batch t, ascending. */
  public static long[] batchRows(RowOrder order, long t, long N) {
    long[] rows = new long[order.batchSize()];
    int c = 0;
    for (long r = 0; r < N; r++) {
      if (order.inBatch(t, r)) {
        rows[c++] = r;
      }
    }
    return java.util.Arrays.copyOf(rows, c);
  }

  static float[] init(float[] Y, int d, int N, FitParams p, RowOrder order) {
    int m = p.m();
    if (p.init().equals("uniform")) {
      return DictionaryStep.uniformInit(d, m, p.seed());
    }
    if (N < m) {
      throw new IllegalArgumentException("init = samples needs at least m = " + m + " rows, the data has " + N
          + "; use init = uniform or fewer atoms");
    }
    float[] S = new float[d * m];
    for (int r = 0; r < N; r++) {
      long pos = order.position(0, r);
      if (pos < m) {
        System.arraycopy(Y, r * d, S, (int) pos * d, d);
      }
    }
    return DictionaryStep.samplesInit(S, d, m);
  }
}
