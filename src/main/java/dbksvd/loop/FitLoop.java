package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.DictionaryMetrics;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;
import dbksvd.update.Update;
import dbksvd.util.TaskTimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * DB-KSVD's iteration, written once. Where the samples live — this JVM's memory ({@link InMemoryStages}) or the
 * partitions of a Spark job ({@code spark/SparkStages}) — is behind {@link Stages}; this class decides what runs in
 * which order with which seeds, and holds D. For the same seed and data every placement reaches the same dictionary,
 * bit for bit.
 *
 * <p>Per iteration t:
 * <ol>
 *   <li>G = DᵀD (taken from the last replacement step when it re-drew no atom) and the coherence of D;</li>
 *   <li>{@link Stages#encode}: outer batch t ({@link RowOrder}) coded against each atom group in turn; the stages
 *       keep codes and residuals for the rest of the iteration;</li>
 *   <li>the update, as {@link FitParams#update} says: {@link Update.Jacobi} — every atom at once, Lanczos passes
 *       whose sums over the batch {@link Stages#jacobiSums} returns, the Lanczos steps here;
 *       {@link Update.GaussSeidel} — atoms shuffled into atom batches (seeded by (seed, t)), each batch refitted by
 *       {@link Stages#updateAtomBatches} and written into D here;</li>
 *   <li>dead atoms and atoms too close to an earlier one re-drawn from the worst-coded samples
 *       ({@link Stages#worst}); the metrics of the iteration reported.</li>
 * </ol>
 */
public final class FitLoop {
  private static final Logger LOG = Logger.getLogger(FitLoop.class.getName());

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

  /** What encoding a batch reports to the loop: its metrics, the tasks' stage times, the Jacobi term bound. */
  public record Encoded(BatchStats stats, TaskTimes tasks, double termBound) {}

  /**
   * The stages of an iteration over samples held somewhere. One iteration calls {@link #encode} once, then the
   * update's stage, then {@link #worst} (at most once), then {@link #release}.
   */
  public interface Stages extends AutoCloseable {
    /** Dimension of the samples. */
    int d();

    /** The outer batches over all the samples (the same order for the loop and the stages). */
    RowOrder order();

    /** Says what runs next (a Spark job description); nothing by default. */
    default void describe(String what) {}

    /** The samples at positions 0..m−1 of epoch 0 ({@link RowOrder#isInitRow}), d × m, in that order. */
    float[] initSamples(int m);

    /** Codes outer batch t against every group of {@code dict}, and keeps codes and residuals until release. */
    Encoded encode(int t, Dictionary dict);

    /**
     * One Jacobi pass: every atom's sums over the batch for the Lanczos vectors u ({@code u} is the encoded
     * dictionary's D itself on the first pass), exact ({@link JacobiUpdate#accumulate}).
     */
    JacobiUpdate.Sums jacobiSums(float[] u, double[] alignment, int exponent, TaskTimes tasks);

    /** The Gauss-Seidel update of every atom batch from the encoded dictionary's atoms, in any order. */
    List<AtomBatchUpdate.Result> updateAtomBatches(AtomBatches batches, TopSingularTriplet lanczos,
        TaskTimes tasks);

    /** The q worst-coded samples of the batch, worst first ({@link Replacement#WORST_FIRST}). */
    List<Replacement.Candidate> worst(int q);

    /** Drops what {@link #encode} kept. */
    void release();

    @Override
    void close();
  }

  /** Called after each iteration with D as it enters the next one (for checkpoints). */
  @FunctionalInterface
  public interface AfterIteration {
    void accept(int nextIteration, float[] D) throws IOException;
  }

  /** The whole fit over samples Y (d × N, column-major) in this JVM. */
  public static Result fit(float[] Y, int d, FitParams p, Consumer<IterationMetrics> listener) {
    try (InMemoryStages stages = new InMemoryStages(Y, d, p)) {
      return fit(stages, p, -1, null, listener, null);
    }
  }

  /**
   * Runs iterations [first, p.iterations()) from D0, a checkpoint's D (d × m), or, when first &lt; 0, the whole fit
   * from the initial D: D0 then holds the given atoms (d × r, r ≤ m, unit norm; {@code fit --init-dictionary}) that
   * become atoms 0..r−1, or is null.
   */
  public static Result fit(Stages stages, FitParams p, int first, float[] D0, Consumer<IterationMetrics> listener,
      AfterIteration after) {
    final int d = stages.d();
    p.validateFor(d);
    final int m = p.m();
    final RowOrder order = stages.order();
    final AtomGroups groups = p.groups();
    final int T = p.iterations();
    float[] D;
    if (first < 0) {
      stages.describe("init: D from " + (D0 != null ? "the given dictionary and " : "") + p.init().configName());
      D = init(stages, p, D0);
      first = 0;
    } else {
      if (D0.length != (long) d * m) {
        throw new IllegalArgumentException("the checkpoint's D has " + D0.length + " floats, expected " + d * m);
      }
      D = D0.clone();
    }
    List<IterationMetrics> history = new ArrayList<>();
    BatchStats last = null;
    float[] G = null; // DᵀD of D when the last replacement step formed it already
    for (int t = first; t < T; t++) {
      String label = "iteration " + (t + 1) + "/" + T;
      IterationMetrics.Timer timer = new IterationMetrics.Timer();
      Dictionary dict = DictionaryStep.dictionary(D, d, m, G);
      double[] coherence = DictionaryMetrics.perAtomCoherence(dict.G, m);
      timer.lap("gram");

      stages.describe(label + ": encode");
      Encoded encoded = stages.encode(t, dict);
      BatchStats stats = encoded.stats();
      TaskTimes tasks = encoded.tasks();
      last = stats;
      timer.lap("encode");

      stages.describe(label + ": update");
      boolean[] used = new boolean[m];
      float[] Dnew;
      if (p.update() instanceof Update.Jacobi j) {
        Dnew = jacobi(stages, D, d, m, j.passes(), JacobiUpdate.exponent(encoded.termBound(), stats.n), used, tasks);
      } else if (p.update() instanceof Update.GaussSeidel g) {
        Dnew = gaussSeidel(stages, D, d, AtomBatches.assign(groups, g.atomBatches(), p.seed(), t), p.lanczos(),
            used, tasks);
      } else {
        throw new IllegalStateException("no stages for update " + p.update());
      }
      timer.lap("update");

      stages.describe(label + ": replace");
      DictionaryStep.Outcome out = DictionaryStep.replace(Dnew, d, m, used, p.clearThreshold(), stages::worst);
      D = out.D();
      G = out.G();
      stages.release();
      timer.lap("replace");

      IterationMetrics im = new IterationMetrics(t, order.epochOf(t), stats.n, stats.fve(), stats.relativeError(),
          stats.meanL0(), out.dead(), out.duplicates(), out.replaced(), DictionaryMetrics.coherence(coherence),
          DictionaryMetrics.mean(coherence), timer.seconds(), tasks.asMap());
      history.add(im);
      LOG.info(() -> label + ": " + im.toJson());
      if (listener != null) {
        listener.accept(im);
      }
      if (after != null) {
        try {
          after.accept(t + 1, D);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    stages.describe(null);
    return new Result(D, d, m, history, last == null ? null : last.usage, last == null ? 0 : last.n);
  }

  /** The Jacobi update: D after {@code passes} Lanczos passes over the batch; fills used. */
  private static float[] jacobi(Stages stages, float[] D, int d, int m, int passes, int exponent, boolean[] used,
      TaskTimes tasks) {
    JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(D, d, m, passes);
    while (!krylov.done()) {
      JacobiUpdate.Sums total = stages.jacobiSums(krylov.vector(), krylov.alignment(), exponent, tasks);
      krylov.absorb(List.of(JacobiUpdate.Step.of(total, D)));
    }
    System.arraycopy(krylov.used(), 0, used, 0, m);
    return krylov.atoms();
  }

  /** The Gauss-Seidel update: every atom batch refitted, then written into a copy of D; fills used. */
  private static float[] gaussSeidel(Stages stages, float[] D, int d, AtomBatches batches,
      TopSingularTriplet lanczos, boolean[] used, TaskTimes tasks) {
    List<AtomBatchUpdate.Result> results = new ArrayList<>(stages.updateAtomBatches(batches, lanczos, tasks));
    results.sort(Comparator.comparingInt(AtomBatchUpdate.Result::batch));
    return DictionaryStep.assemble(D, d, batches, results, used);
  }

  /**
   * The initial D: the given atoms (when there are) first, then uniform entries or the first samples of epoch 0,
   * normalised.
   */
  private static float[] init(Stages stages, FitParams p, float[] given) {
    int m = p.m();
    int d = stages.d();
    int r = given == null ? 0 : given.length / d;
    if (given != null && (given.length % d != 0 || r > m)) {
      throw new IllegalArgumentException("the given dictionary has " + given.length + " floats, not d × r with d = "
          + d + " and r <= m = " + m);
    }
    float[] D = new float[d * m];
    if (r > 0) {
      System.arraycopy(given, 0, D, 0, r * d);
    }
    if (r == m) {
      return D;
    }
    float[] rest = switch (p.init()) {
      case UNIFORM -> DictionaryStep.uniformInit(d, m - r, p.seed());
      case SAMPLES -> {
        long rows = stages.order().rows();
        if (rows < m - r) {
          throw new IllegalArgumentException("init = samples needs at least " + (r == 0 ? "m = " + m
              : (m - r) + " (m = " + m + " less the " + r + " given atoms)") + " rows, the input has " + rows
              + "; use --set dbksvd.fit.init=uniform or fewer atoms");
        }
        yield DictionaryStep.samplesInit(stages.initSamples(m - r), d, m - r);
      }
    };
    System.arraycopy(rest, 0, D, r * d, (m - r) * d);
    return D;
  }
}
