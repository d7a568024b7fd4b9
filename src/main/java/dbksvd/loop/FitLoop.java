package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.DictionaryMetrics;
import dbksvd.metrics.GramFacts;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.BatchRefit;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;
import dbksvd.update.Update;
import dbksvd.util.TaskTimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
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
 *   <li>{@link Stages#encode}: outer batch t ({@link RowOrder}, or {@link BatchPlan} for batches of whole splits)
 *       coded against each atom group in turn, with G = DᵀD computed where the batch is coded (never on the
 *       driver); the stages keep codes and residuals for the rest of the iteration and report the batch's metrics
 *       and the coherence of D;</li>
 *   <li>the update, as {@link FitParams#update} says: {@link Update.Jacobi} — every atom at once, Lanczos passes
 *       over the batch ({@link Stages#jacobi}); {@link Update.GaussSeidel} — atoms shuffled into atom batches
 *       (seeded by (seed, t)), each batch refitted by {@link Stages#updateAtomBatches} and written into D here;
 *       {@link Update.JacobiBatches} — the same seeded atom batches run one after the other, each a Jacobi update of
 *       its atoms ({@link Stages#jacobiBatch}) followed by the refit of its coefficients and residuals
 *       ({@link Stages#refitBatch}), so that the worst-coded samples of step 3 see the final residual;</li>
 *   <li>atoms no sample used, and atoms that repeat an earlier one in the updated D ({@link Stages#gramFacts}, G of
 *       the updated D where the next batch is coded: reused there when no atom is re-drawn), re-drawn from the
 *       worst-coded samples ({@link Stages#worst}); the metrics of the iteration reported.</li>
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

  /**
   * What encoding a batch reports to the loop: its metrics, the tasks' stage times, the Jacobi term bound, and the
   * facts of the G it was coded with (coherence, near-repeated atoms) over all m atoms.
   */
  public record Encoded(BatchStats stats, TaskTimes tasks, double termBound, GramFacts facts) {}

  /**
   * The stages of an iteration over samples held somewhere. One iteration calls {@link #encode} once, then the
   * update's stage, then {@link #worst} (at most once), then {@link #release}.
   */
  public interface Stages extends AutoCloseable {
    /** Dimension of the samples. */
    int d();

    /** The outer batches over all the samples (the same order for the loop and the stages). */
    OuterOrder order();

    /** Says what runs next (a Spark job description); nothing by default. */
    default void describe(String what) {}

    /**
     * The samples at positions 0..m−1 of epoch 0 ({@link RowOrder#isInitRow}, {@link BatchPlan#initTake}), d × m,
     * in that order.
     */
    float[] initSamples(int m);

    /**
     * Codes outer batch t against every group of {@code dict}, and keeps codes and residuals until release; reports
     * the batch's metrics and the per-atom coherence of dict ({@link GramFacts} without pairs).
     */
    Encoded encode(int t, Dictionary dict);

    /**
     * The Jacobi update of the encoded batch from D (the encoded dictionary's atoms): {@code passes} Lanczos passes
     * on E_jE_jᵀ for every atom at once ({@link JacobiUpdate}: exact sums on the grid 2^−exponent, the Lanczos steps
     * of {@link JacobiUpdate.Krylov}); returns the new atoms and fills used (atoms some sample used).
     */
    float[] jacobi(float[] D, int passes, int exponent, boolean[] used, TaskTimes tasks);

    /**
     * One atom batch of {@code jacobi-batches}: the Jacobi update ({@link #jacobi}) of the atoms {@code atoms}
     * (increasing) alone, whose current vectors are {@code current} (d × atoms.length), from the residuals as the
     * batches before left them ({@link #refitBatch}); returns their new vectors in the same order and fills used
     * (per position in atoms). Matryoshka groups are refused before this runs ({@link FitParams}).
     */
    float[] jacobiBatch(float[] current, int[] atoms, int passes, int exponent, boolean[] used, TaskTimes tasks);

    /**
     * After {@link #jacobiBatch}: the batch's coefficients refitted to the new atoms and every residual updated
     * ({@link BatchRefit}), for the next batch and for {@link #worst}; returns the term bound of the blocks as they
     * are now ({@link BatchRefit#termBound}).
     */
    double refitBatch(BatchRefit.Plan plan, TaskTimes tasks);

    /** The Gauss-Seidel update of every atom batch from the encoded dictionary's atoms, in any order. */
    List<AtomBatchUpdate.Result> updateAtomBatches(AtomBatches batches, TopSingularTriplet lanczos,
        TaskTimes tasks);

    /**
     * The facts of G = DᵀD of the updated dictionary (coherence, and the pairs above {@code threshold}), computed
     * where the next batch will be coded: if {@code updated} is the next iteration's dictionary (no atom re-drawn),
     * its G is not computed again.
     */
    GramFacts gramFacts(Dictionary updated, double threshold);

    /** The q worst-coded samples of the batch, worst first ({@link Replacement#WORST_FIRST}). */
    List<Replacement.Candidate> worst(int q);

    /** Drops what {@link #encode} kept. */
    void release();

    /** The bytes moved between JVMs since the last call (names to counts), where the stages measure it. */
    default Map<String, Long> traffic() {
      return Map.of();
    }

    @Override
    void close();
  }

  /** Called after each iteration with D as it enters the next one (for checkpoints). */
  @FunctionalInterface
  public interface AfterIteration {
    void accept(int nextIteration, float[] D) throws IOException;

    /**
     * Asked after {@link #accept} when iterations remain: whether the fit ends here all the same (a time budget
     * crossed); the loop then returns D as it stands. Never, by default.
     */
    default boolean stop(int nextIteration) {
      return false;
    }
  }

  /** The whole fit over samples Y (d × N, column-major) in this JVM. */
  public static Result fit(float[] Y, int d, FitParams p, Consumer<IterationMetrics> listener) {
    try (InMemoryStages stages = new InMemoryStages(Y, d, p)) {
      return fit(stages, p, -1, null, listener, null);
    }
  }

  /**
   * Runs iterations [first, p.iterations()) from D0 (or fewer, when {@code after} says stop), a checkpoint's D
   * (d × m), or, when first &lt; 0, the whole fit from the initial D: D0 then holds the given atoms (d × r, r ≤ m,
   * unit norm; {@code fit --init-dictionary}) that become atoms 0..r−1, or is null.
   */
  public static Result fit(Stages stages, FitParams p, int first, float[] D0, Consumer<IterationMetrics> listener,
      AfterIteration after) {
    final int d = stages.d();
    p.validateFor(d);
    final int m = p.m();
    final OuterOrder order = stages.order();
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
    Dictionary dict = new Dictionary(D, d, m); // its G is computed where the batch is coded
    for (int t = first; t < T; t++) {
      String label = "iteration " + (t + 1) + "/" + T;
      IterationMetrics.Timer timer = new IterationMetrics.Timer();

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
        Dnew = stages.jacobi(D, j.passes(), JacobiUpdate.exponent(encoded.termBound(), stats.n), used, tasks);
      } else if (p.update() instanceof Update.GaussSeidel g) {
        Dnew = gaussSeidel(stages, D, d, AtomBatches.assign(groups, g.atomBatches(), p.seed(), t), p.lanczos(),
            used, tasks);
      } else if (p.update() instanceof Update.JacobiBatches jb) {
        Dnew = jacobiBatches(stages, D, d, AtomBatches.assign(groups, jb.atomBatches(), p.seed(), t), jb.passes(),
            encoded.termBound(), stats.n, used, tasks);
      } else {
        throw new IllegalStateException("no stages for update " + p.update());
      }
      timer.lap("update");

      stages.describe(label + ": replace");
      dict.dropGram(); // coded and updated: one G per JVM from here on, the updated D's
      Dictionary updated = new Dictionary(Dnew, d, m);
      GramFacts facts = stages.gramFacts(updated, p.clearThreshold());
      DictionaryStep.Outcome out = DictionaryStep.replace(Dnew, d, facts, used, stages::worst);
      D = out.D();
      dict = D == Dnew ? updated : new Dictionary(D, d, m); // unchanged: its G is where the stages computed it
      stages.release();
      timer.lap("replace");

      IterationMetrics im = new IterationMetrics(t, order.epochOf(t), stats.n, stats.fve(), stats.relativeError(),
          stats.meanL0(), out.dead(), out.duplicates(), out.replaced(),
          DictionaryMetrics.coherence(encoded.facts().coherence()), DictionaryMetrics.mean(encoded.facts().coherence()), timer.seconds(), tasks.asMap(), stages.traffic());
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
        if (t + 1 < T && after.stop(t + 1)) {
          LOG.info(() -> "stopping after " + label + " (told to stop)");
          break;
        }
      }
    }
    stages.describe(null);
    return new Result(D, d, m, history, last == null ? null : last.usage, last == null ? 0 : last.n);
  }

  /**
   * The paper's schedule ({@link Update.JacobiBatches}): the atom batches one after the other; per batch, the Jacobi
   * passes for its atoms from the current residual ({@link Stages#jacobiBatch}), the new atoms written into a copy of
   * D, then the batch's coefficients refitted and the residuals updated where the samples live
   * ({@link Stages#refitBatch}), which also gives the next batch's term bound. Fills used.
   */
  private static float[] jacobiBatches(Stages stages, float[] D, int d, AtomBatches batches, int passes,
      double termBound, long n, boolean[] used, TaskTimes tasks) {
    float[] current = D.clone();
    double bound = termBound;
    for (int b = 0; b < batches.count(); b++) {
      int[] atoms = batches.atoms[b].clone();
      java.util.Arrays.sort(atoms); // the atoms' order inside a batch does not matter: increasing, for locality
      float[] before = AtomBatchUpdate.gather(current, d, atoms);
      boolean[] batchUsed = new boolean[atoms.length];
      float[] after = stages.jacobiBatch(before, atoms, passes, JacobiUpdate.exponent(bound, n), batchUsed, tasks);
      for (int a = 0; a < atoms.length; a++) {
        used[atoms[a]] = batchUsed[a];
        System.arraycopy(after, a * d, current, atoms[a] * d, d);
      }
      bound = stages.refitBatch(BatchRefit.Plan.of(d, used.length, atoms, before, after), tasks);
    }
    return current;
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
