package dbksvd.encode;

import dbksvd.gemm.CpuGemm;
import dbksvd.gemm.Gemm;
import dbksvd.linalg.Blas;
import dbksvd.linalg.Simd;
import dbksvd.util.TaskTimes;

/**
 * A block of samples after encoding: their ids, codes and residuals. This is what an encode task holds and
 * what the update stage routes to atom batches.
 *
 * <p>Example, d = 3, two samples (rows 17 and 42), one group: {@code rowId = [17, 42]},
 * {@code residual = [r₁₇ (3 floats), r₄₂ (3 floats)]} = Y − D·X column by column,
 * {@code ySqNorm = [‖y₁₇‖², ‖y₄₂‖²]}, {@code rSqNorm} the final residual norms.
 *
 * <p>With Matryoshka groups, group g's atoms are updated against the residual after groups 0..g. The block keeps
 * only the final residual and the samples Y (2·d·n floats, not one residual per group): {@link #residuals} replays
 * the residual of an earlier group from Y and the codes with the operations encoding ran, so it has the same bits.
 */
public final class EncodedBlock implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  public final int d;
  public final int n;
  public final long[] rowId;
  public final SparseCodes codes;
  /** The final residual (after all groups), d × n. */
  public final float[] residual;
  /** With several groups, the samples (d × n) the residuals of the earlier groups are replayed from; else null. */
  public final float[] Y;
  /** With several groups, the first atom of each group and m (length groups + 1); else null. */
  private final int[] groupBounds;
  public final double[] ySqNorm;
  public final double[] rSqNorm;

  /** A block coded against one group of atoms, with residual R = Y − DX. */
  public EncodedBlock(int d, long[] rowId, SparseCodes codes, float[] residual, double[] ySqNorm, double[] rSqNorm) {
    this(d, rowId, codes, residual, null, null, ySqNorm, rSqNorm);
  }

  /**
   * @param Y the samples, d × n (needed with several groups, else may be null)
   * @param groups the groups the codes were made with
   */
  public EncodedBlock(int d, long[] rowId, SparseCodes codes, float[] residual, float[] Y, AtomGroups groups,
      double[] ySqNorm, double[] rSqNorm) {
    this.d = d;
    this.n = rowId.length;
    this.rowId = rowId;
    this.codes = codes;
    this.residual = residual;
    boolean several = groups != null && groups.count() > 1;
    if (several && (Y == null || Y.length != (long) d * n)) {
      throw new IllegalArgumentException("a block of several groups needs its samples, d × n = " + d + " × " + n);
    }
    this.Y = several ? Y : null;
    if (several) {
      groupBounds = java.util.Arrays.copyOf(groups.start(), groups.count() + 1);
      groupBounds[groups.count()] = groups.start()[groups.count() - 1] + groups.size(groups.count() - 1);
    } else {
      groupBounds = null;
    }
    this.ySqNorm = ySqNorm;
    this.rSqNorm = rSqNorm;
  }

  /** The final residual (after all groups), d × n. */
  public float[] finalResidual() {
    return residual;
  }

  /** The groups the codes were made with (1 without Matryoshka). */
  public int groups() {
    return groupBounds == null ? 1 : groupBounds.length - 1;
  }

  /**
   * The residuals after groups 0..g, for g in increasing order (a later call with a smaller g starts again from Y).
   * Each is d × n and valid until the next call; the last group's is {@link #residual} itself.
   *
   * @param D the dictionary the block was coded with (d × m)
   */
  public Residuals residuals(float[] D) {
    return new Residuals(D);
  }

  /** See {@link #residuals}: replays group after group into one buffer of d × n floats. */
  public final class Residuals {
    private final float[] D;
    private float[] r;
    private int done = -1; // r holds the residual after groups 0..done
    private float[] coef;
    private int[] atomOff;

    private Residuals(float[] D) {
      this.D = D;
    }

    /** The residual after groups 0..g (d × n). */
    public float[] of(int g) {
      int last = groups() - 1;
      if (g == last) {
        return residual;
      }
      if (g < 0 || g > last) {
        throw new IllegalArgumentException("group " + g + " of " + (last + 1));
      }
      if (r == null || g < done) {
        r = r == null ? new float[Y.length] : r;
        System.arraycopy(Y, 0, r, 0, Y.length);
        done = -1;
        coef = new float[codes.capacity];
        atomOff = new int[codes.capacity];
      }
      for (int h = done + 1; h <= g; h++) {
        subtractGroup(h, r, coef, atomOff);
      }
      done = g;
      return r;
    }

    /** r −= D_h X_h for every sample: one axpy per atom of group h in slot order, as {@link #encode} did. */
    private void subtractGroup(int h, float[] r, float[] coef, int[] atomOff) {
      int a0 = groupBounds[h], a1 = groupBounds[h + 1];
      for (int s = 0; s < n; s++) {
        int base = s * codes.capacity;
        int c = 0;
        for (int t = 0; t < codes.count[s]; t++) {
          int j = codes.atom[base + t];
          if (j >= a0 && j < a1) {
            coef[c] = -codes.value[base + t];
            atomOff[c++] = j * d;
          }
        }
        Simd.axpyColumns(d, coef, D, atomOff, c, r, s * d);
      }
    }
  }

  /**
   * Encodes samples Y (d × n, column-major) against every group of D in order.
   *
   * @param chunk samples per GEMM: bounds P = DᵀY to mGroup × chunk floats
   */
  public static EncodedBlock encode(Dictionary dict, AtomGroups groups, Encoder encoder, float[] Y, long[] rowId,
      int chunk) {
    return encode(dict, groups, encoder, Y, rowId, chunk, null);
  }

  /** As {@link #encode(Dictionary, AtomGroups, Encoder, float[], long[], int)}, adding stage times to {@code times}. */
  public static EncodedBlock encode(Dictionary dict, AtomGroups groups, Encoder encoder, float[] Y, long[] rowId,
      int chunk, TaskTimes times) {
    return encode(dict, groups, encoder, Y, rowId, chunk, times, CpuGemm.INSTANCE);
  }

  /** As above, with the DᵀY products on the given backend (the CPU, or a task's GPU). */
  public static EncodedBlock encode(Dictionary dict, AtomGroups groups, Encoder encoder, float[] Y, long[] rowId,
      int chunk, TaskTimes times, Gemm gemm) {
    return encode(dict, groups, encoder, Y, rowId, rowId, chunk, times, gemm);
  }

  /**
   * As above, each sample in the DᵀY lane of its {@code laneKey} ({@link GemmLanes}: any key that is a function of
   * the sample alone, not of the block; the row id above). Keys whose values in a block are consecutive fill the
   * lanes evenly: the outer batches of {@code batching = rows} key samples by their position in the epoch.
   */
  public static EncodedBlock encode(Dictionary dict, AtomGroups groups, Encoder encoder, float[] Y, long[] rowId,
      long[] laneKey, int chunk, TaskTimes times, Gemm gemm) {
    TaskTimes tt = times != null ? times : new TaskTimes();
    final int d = dict.d;
    final int n = rowId.length;
    if (Y.length < (long) d * n) {
      throw new IllegalArgumentException("Y has " + Y.length + " floats, expected d*n = " + d + "*" + n);
    }
    SparseCodes codes = new SparseCodes(n, groups.totalBudget());
    double[] ySq = new double[n];
    for (int s = 0; s < n; s++) {
      ySq[s] = Blas.sqNorm(d, Y, s * d);
    }
    double[] targetSq = ySq.clone();
    float[] target = Y;
    int maxGroup = 0;
    for (int g = 0; g < groups.count(); g++) {
      maxGroup = Math.max(maxGroup, groups.size(g));
    }
    if (laneKey.length != n) {
      throw new IllegalArgumentException(laneKey.length + " lane keys for " + n + " samples");
    }
    GemmLanes lanes = new GemmLanes(laneKey, chunk);
    // a GPU computes call c+1 while this thread codes call c: two buffers each; the CPU computes in this thread
    final boolean ahead = gemm.gpu();
    float[][] Pbuf = new float[ahead ? 2 : 1][maxGroup * lanes.maxWidth()];
    float[][] callBuf = new float[ahead ? 2 : 1][d * lanes.maxWidth()];
    for (int g = 0; g < groups.count(); g++) {
      int a0 = groups.start()[g];
      int mg = groups.size(g);
      Encoder enc = encoder.withK(groups.budget()[g]);
      Object scratch = enc.newScratch(mg);
      int[] firstSlot = new int[n];
      for (int s = 0; s < n; s++) {
        firstSlot[s] = codes.count[s];
      }
      Gemm.Pending next = null;
      if (ahead && lanes.calls() > 0) {
        gather(target, d, lanes, 0, callBuf[0]);
        next = gemm.start(dict.D, d, a0, mg, callBuf[0], 0, lanes.width(0), Pbuf[0]);
      }
      for (int c = 0; c < lanes.calls(); c++) {
        int w = lanes.width(c);
        int[] slot = lanes.samples(c);
        long t0 = System.nanoTime();
        float[] P;
        if (ahead) {
          next.await();
          P = Pbuf[c & 1];
          if (c + 1 < lanes.calls()) {
            int b = (c + 1) & 1;
            gather(target, d, lanes, c + 1, callBuf[b]);
            next = gemm.start(dict.D, d, a0, mg, callBuf[b], 0, lanes.width(c + 1), Pbuf[b]);
          }
        } else {
          P = Pbuf[0];
          gather(target, d, lanes, c, callBuf[0]);
          gemm.correlations(dict.D, d, a0, mg, callBuf[0], 0, w, P);
        }
        long t1 = System.nanoTime();
        int held = -1; // a sample waiting for a partner: samples are coded two at a time
        for (int q = 0; q < w; q++) {
          int s = slot[q];
          if (s < 0) {
            continue;
          }
          if (held < 0) {
            held = q;
            continue;
          }
          int s1 = slot[held];
          enc.encodePair(dict, a0, mg, P, held * mg, targetSq[s1], s1, q * mg, targetSq[s], s, codes, scratch);
          held = -1;
        }
        if (held >= 0) {
          enc.encode(dict, a0, mg, P, held * mg, targetSq[slot[held]], codes, slot[held], scratch);
        }
        tt.add(TaskTimes.DTY, t1 - t0);
        tt.add(TaskTimes.MP, System.nanoTime() - t1);
      }
      long tr = System.nanoTime();
      // residual after this group: target − D_g X_g, computed exactly (not from the tracked norm)
      float[] r = target.length == (long) d * n ? target.clone() : java.util.Arrays.copyOf(target, d * n);
      float[] coef = new float[codes.capacity];
      int[] atomOff = new int[codes.capacity];
      for (int s = 0; s < n; s++) {
        int base = s * codes.capacity;
        int c = 0;
        for (int t = firstSlot[s]; t < codes.count[s]; t++, c++) {
          coef[c] = -codes.value[base + t];
          atomOff[c] = codes.atom[base + t] * d;
        }
        Simd.axpyColumns(d, coef, dict.D, atomOff, c, r, s * d); // the bits of one axpy per atom, in one pass
        targetSq[s] = Blas.sqNorm(d, r, s * d);
      }
      target = r; // the next group's target; only the last one is kept
      tt.add(TaskTimes.RESIDUAL, System.nanoTime() - tr);
    }
    float[] samples = groups.count() == 1 ? null : Y.length == (long) d * n ? Y : java.util.Arrays.copyOf(Y, d * n);
    return new EncodedBlock(d, rowId, codes, target, samples, groups, ySq, targetSq);
  }

  /** The samples of GEMM call c, side by side in {@code call} (zeros where the lane is empty). */
  private static void gather(float[] target, int d, GemmLanes lanes, int c, float[] call) {
    int[] slot = lanes.samples(c);
    for (int q = 0; q < lanes.width(c); q++) {
      if (slot[q] >= 0) {
        System.arraycopy(target, slot[q] * d, call, q * d, d);
      } else {
        java.util.Arrays.fill(call, q * d, (q + 1) * d, 0f);
      }
    }
  }
}
