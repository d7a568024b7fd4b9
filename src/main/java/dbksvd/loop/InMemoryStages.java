package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.GramFacts;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.BatchRefit;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;
import dbksvd.util.TaskTimes;

import java.util.ArrayList;
import java.util.List;

/**
 * The stages of {@link FitLoop} over samples held in this JVM (d × N, column-major; row id = column): the whole
 * batch is one block, coded by one call, as a Spark task codes its share. For tests, {@code bench-core} and
 * small data.
 */
public final class InMemoryStages implements FitLoop.Stages {
  private final float[] Y;
  private final int d;
  private final RowOrder order;
  private final AtomGroups groups;
  private final Encoder encoder;
  private final int chunk;
  private final TopSingularTriplet.Scratch scratch = new TopSingularTriplet.Scratch();
  private Dictionary dict;
  private EncodedBlock batch;

  public InMemoryStages(float[] Y, int d, FitParams p) {
    if (p.batching() != Batching.ROWS) {
      throw new IllegalArgumentException("dbksvd.fit.batching = " + p.batching().configName() + " plans batches from "
          + "the input splits of a Spark fit; a fit in one JVM (bench-core, FitLoop.fit) supports batching = rows only");
    }
    this.Y = Y;
    this.d = d;
    this.order = new RowOrder(p.seed(), Y.length / d, p.batchSize());
    this.groups = p.groups();
    this.encoder = p.encoder();
    this.chunk = p.encodeChunk();
  }

  @Override
  public int d() {
    return d;
  }

  @Override
  public RowOrder order() {
    return order;
  }

  @Override
  public float[] initSamples(int m) {
    float[] S = new float[d * m];
    for (int r = 0; r < order.rows(); r++) {
      long pos = order.position(0, r);
      if (pos < m) {
        System.arraycopy(Y, r * d, S, (int) pos * d, d);
      }
    }
    return S;
  }

  @Override
  public FitLoop.Encoded encode(int t, Dictionary dict) {
    TaskTimes tasks = new TaskTimes();
    long t0 = System.nanoTime();
    long[] rows = order.batchRows(t);
    float[] Yb = new float[rows.length * d];
    for (int s = 0; s < rows.length; s++) {
      System.arraycopy(Y, (int) rows[s] * d, Yb, s * d, d);
    }
    tasks.add(TaskTimes.READ, System.nanoTime() - t0);
    this.dict = dict;
    batch = EncodedBlock.encode(dict, groups, encoder, Yb, rows, order.laneKeys(order.epochOf(t), rows), chunk,
        tasks, dbksvd.gemm.CpuGemm.INSTANCE);
    BatchStats stats = new BatchStats(d, dict.m).add(batch, Yb);
    GramFacts facts = GramFacts.of(dict.G(), dict.m, 0, dict.m, 1); // coherence only
    return new FitLoop.Encoded(stats, tasks, JacobiUpdate.termBound(batch), facts);
  }

  /** The Lanczos steps here, each pass's sums over the one block. */
  @Override
  public float[] jacobi(float[] D, int passes, int exponent, boolean[] used, TaskTimes tasks) {
    int m = D.length / d;
    JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(D, d, m, passes);
    while (!krylov.done()) {
      long t0 = System.nanoTime();
      JacobiUpdate.Sums total = JacobiUpdate.accumulate(batch, groups, D, krylov.vector(), krylov.alignment(),
          exponent);
      tasks.add(TaskTimes.UPDATE, System.nanoTime() - t0);
      krylov.absorb(List.of(JacobiUpdate.Step.of(total, D)));
    }
    System.arraycopy(krylov.used(), 0, used, 0, m);
    return krylov.atoms();
  }

  /** The Lanczos steps of one atom batch here, each pass's sums over the one block (as it stands now). */
  @Override
  public float[] jacobiBatch(float[] current, int[] atoms, int passes, int exponent, boolean[] used,
      TaskTimes tasks) {
    JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(current, d, atoms.length, passes);
    while (!krylov.done()) {
      long t0 = System.nanoTime();
      JacobiUpdate.Sums total = JacobiUpdate.accumulate(batch, groups, dict.D, atoms, krylov.vector(),
          krylov.alignment(), exponent, 0, atoms.length)[0];
      tasks.add(TaskTimes.UPDATE, System.nanoTime() - t0);
      krylov.absorb(List.of(JacobiUpdate.Step.of(total, current)));
    }
    System.arraycopy(krylov.used(), 0, used, 0, atoms.length);
    return krylov.atoms();
  }

  @Override
  public double refitBatch(BatchRefit.Plan plan, TaskTimes tasks) {
    long t0 = System.nanoTime();
    batch = BatchRefit.apply(batch, plan);
    tasks.add(TaskTimes.UPDATE, System.nanoTime() - t0);
    return BatchRefit.termBound(batch);
  }

  @Override
  public List<AtomBatchUpdate.Result> updateAtomBatches(AtomBatches batches, TopSingularTriplet lanczos,
      TaskTimes tasks) {
    long t0 = System.nanoTime();
    AtomBatchBlock[] parts = AtomBatchBlock.route(batch, batches, dict.D);
    tasks.add(TaskTimes.ROUTE, System.nanoTime() - t0);
    List<AtomBatchUpdate.Result> results = new ArrayList<>();
    for (int b = 0; b < batches.count(); b++) {
      float[] atoms = AtomBatchUpdate.gather(dict.D, d, batches.atoms[b]);
      long t1 = System.nanoTime();
      results.add(AtomBatchUpdate.run(parts[b], atoms, batches.atoms[b].length, lanczos, scratch));
      tasks.add(TaskTimes.UPDATE, System.nanoTime() - t1);
    }
    return results;
  }

  @Override
  public GramFacts gramFacts(Dictionary updated, double threshold) {
    return GramFacts.of(updated.G(), updated.m, 0, updated.m, threshold);
  }

  @Override
  public List<Replacement.Candidate> worst(int q) {
    return Replacement.worst(batch, q);
  }

  @Override
  public void release() {
    batch = null;
    dict = null;
  }

  @Override
  public void close() {
    release();
  }
}
