package dbksvd.update;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.SparseCodes;
import dbksvd.linalg.Simd;
import dbksvd.linalg.SymmetricEigen;

import java.io.Serializable;

/**
 * The K-SVD update done where the batch lives: every atom j is refitted at once (Jacobi) to its own
 * E_j = R_Ω + d_j·x_jΩᵀ, all from the residual R that encoding left — KSVD.jl's {@code ParallelKSVD} — with the top
 * left singular vector of E_j approximated by T passes of Lanczos on A_j = E_jE_jᵀ started from d_j, closed by a
 * power step. One pass applies A_j to the current Lanczos vector q of every atom:
 * <pre>
 *   v_i = e_iᵀq = r_i·q + x_ij·(d_j·q)              for each sample i of Ω_j
 *   A_j q = E_j·v = Σ_i v_i·r_i + d_j·Σ_i v_i·x_ij,   qᵀA_j q = Σ_i v_i²
 * </pre>
 * ({@link #accumulate}, on the executors); the driver keeps the Lanczos vectors ({@link Krylov}). After T passes the
 * new atom is A_j·z/‖A_j·z‖ for z the top Ritz vector of span{q₁ … q_T}: with T = 1, z = d_j and this is the
 * approximate K-SVD step of Rubinstein, Zibulevsky and Elad (2008); each further pass costs one more sweep over the
 * batch's residuals. Only the atoms change: the codes of this batch are not needed again (the next batch is
 * encoded afresh), so neither X nor R is updated ({@code jacobi-batches} runs this for one atom batch at a time
 * and updates them between batches: {@link BatchRefit}).
 *
 * <p>The sums over Ω are split by block — each Spark task sums the samples it holds — and the result must not
 * depend on how the samples are split. So every term is its exact product rounded once to the grid 2^−e, one e
 * for the whole batch ({@link #exponent}), and the terms are summed as integers held in doubles: exact, hence the
 * same in any order and any grouping.
 * e leaves every sum of n terms below 2^49, about 35 bits below the largest possible term.
 *
 * <p>Example, d = 2, one atom d₀ = (1, 0), two samples using it: x = (2, −1), r₀ = (0, 0.5), r₁ = (0.1, 0). A pass
 * from q = d₀: v = (0 + 2, 0.1 − 1) = (2, −0.9); A q = 2·r₀ − 0.9·r₁ + d₀·(2·2 + 0.9·1) = (4.81, 1), qᵀAq = 4.81;
 * with T = 1 the atom becomes (4.81, 1)/‖(4.81, 1)‖.
 */
public final class JacobiUpdate {
  private JacobiUpdate() {}

  /**
   * Partial sums of one power step over some samples, for the atoms [from, to), on the grid 2^−exponent. Sums of
   * the same atoms {@link #add} exactly.
   *
   * <p>Example, atoms [4, 6), d = 3: {@code w[0..3)} holds 2^e·Σ v_i·r_i for atom 4 and {@code w[3..6)} for atom 5;
   * {@code c[0]} = 2^e·Σ v_i·x_i4; {@code vv[0]} = 2^e·Σ v_i² for atom 4; {@code omega[1]} = |Ω_5| among these
   * samples.
   */
  public static final class Sums implements Serializable {
    private static final long serialVersionUID = 1L;
    public final int d;
    public final int from;
    public final int to;
    public final int exponent;
    public final double[] w;
    public final double[] c;
    public final double[] vv;
    public final long[] omega;

    public Sums(int d, int from, int to, int exponent) {
      this.d = d;
      this.from = from;
      this.to = to;
      this.exponent = exponent;
      this.w = new double[(to - from) * d];
      this.c = new double[to - from];
      this.vv = new double[to - from];
      this.omega = new long[to - from];
    }

    /** This + o, exactly (the same atoms, on the same grid). */
    public Sums add(Sums o) {
      if (o.d != d || o.from != from || o.to != to || o.exponent != exponent) {
        throw new IllegalArgumentException("sums of different atoms or grids");
      }
      for (int i = 0; i < w.length; i++) {
        w[i] += o.w[i];
      }
      for (int j = 0; j < c.length; j++) {
        c[j] += o.c[j];
        vv[j] += o.vv[j];
        omega[j] += o.omega[j];
      }
      return this;
    }
  }

  /**
   * A bound on |v_i·r_il|, |v_i·x_ij| and v_i² over the block's samples and their atoms: |v_i| ≤ ‖r_i‖ + |x_ij| for a
   * unit q and ‖r_i‖ ≤ ‖y_i‖ for every group's residual, so 2·(‖y_i‖ + X_i)·max(‖y_i‖, X_i) with X_i = max_j |x_ij|
   * (the factor 2 covers rounding). Partition-independent: the batch's bound is the max over its blocks.
   */
  public static double termBound(EncodedBlock eb) {
    return termBound(eb, false);
  }

  /**
   * As {@link #termBound(EncodedBlock)}; with {@code refitted}, ‖r_i‖ is bounded by max(‖y_i‖, ‖r_i‖) instead of
   * ‖y_i‖ (a residual after a refit of coefficients may exceed ‖y_i‖: {@link BatchRefit}).
   */
  public static double termBound(EncodedBlock eb, boolean refitted) {
    double bound = 0;
    SparseCodes codes = eb.codes;
    for (int s = 0; s < eb.n; s++) {
      double y = Math.sqrt(refitted ? Math.max(eb.ySqNorm[s], eb.rSqNorm[s]) : eb.ySqNorm[s]);
      double x = 0;
      int base = s * codes.capacity;
      for (int t = 0; t < codes.count[s]; t++) {
        x = Math.max(x, Math.abs(codes.value[base + t]));
      }
      bound = Math.max(bound, 2 * (y + x) * Math.max(y, x));
    }
    return bound;
  }

  /**
   * The grid exponent e for a batch of n samples whose terms are all at most {@code bound}: the largest e with
   * bound·2^e < 2^51 and n·bound·2^e < 2^53 (each sum has at most n terms, one per sample).
   */
  public static int exponent(double bound, long n) {
    if (!(bound > 0) || Double.isInfinite(bound)) {
      return 0;
    }
    int e = 50 - Math.getExponent(bound * Math.max(1, n) * 4);
    return Math.max(-1000, Math.min(1000, e));
  }

  /** d_j·u_j for every atom, in double: the weight of x_ij in v_i. */
  public static double[] alignment(float[] D, float[] u, int d, int m) {
    double[] a = new double[m];
    for (int j = 0; j < m; j++) {
      a[j] = Simd.dot(d, D, j * d, u, j * d);
    }
    return a;
  }

  /**
   * One power step's sums over the samples of a block. Atom j's target is the residual of its group (plain
   * DB-KSVD: the final residual). Atom by atom, so that the atom's sums stay in cache while its samples stream by.
   *
   * @param D the dictionary the block was coded with (d × m): with Matryoshka groups, the residuals of the earlier
   *     groups are replayed from it ({@link EncodedBlock#residuals})
   * @param u d × m, the current Lanczos vector of each atom (D itself for the first pass)
   * @param align d_j·u_j ({@link #alignment})
   */
  public static Sums accumulate(EncodedBlock eb, AtomGroups groups, float[] D, float[] u, double[] align,
      int exponent) {
    return accumulate(eb, groups, D, u, align, exponent, 0, align.length)[0];
  }

  /**
   * As {@link #accumulate(EncodedBlock, AtomGroups, float[], float[], double[], int)}, split into the atom ranges
   * [bounds[r], bounds[r+1]) (one Sums each): what each reducer of the sums needs.
   */
  public static Sums[] accumulate(EncodedBlock eb, AtomGroups groups, float[] D, float[] u, double[] align,
      int exponent, int... bounds) {
    return accumulate(eb, groups, D, null, u, align, exponent, bounds);
  }

  /**
   * As above, for the atoms of a list only ({@code jacobi-batches}: one atom batch): position a of the list stands
   * for atom {@code atoms[a]}; u (d × atoms.length), align and the ranges [bounds[r], bounds[r+1]) are over the
   * positions, and so are the Sums' from and to. A null list is every atom, a = j.
   */
  public static Sums[] accumulate(EncodedBlock eb, AtomGroups groups, float[] D, int[] atoms, float[] u,
      double[] align, int exponent, int... bounds) {
    return accumulateInChunks(eb, groups, D, atoms, u, align, exponent, chunkColumns(eb.d), bounds);
  }

  /**
   * As above, an atom's columns taken {@code chunk} at a time ({@link #chunkColumns}; {@code Integer.MAX_VALUE}:
   * all at once, dot products first, then the sums — what bench-core sets beside the default). The same bits for
   * any chunk.
   */
  public static Sums[] accumulateInChunks(EncodedBlock eb, AtomGroups groups, float[] D, int[] atoms, float[] u,
      double[] align, int exponent, int chunk, int[] bounds) {
    Sums[] out = new Sums[bounds.length - 1];
    for (int r = 0; r < out.length; r++) {
      out[r] = new Sums(eb.d, bounds[r], bounds[r + 1], exponent);
    }
    return accumulateInto(out, eb, groups, D, atoms, u, align, chunk);
  }

  /**
   * As above, the block's terms added to the given sums (their ranges and grid): an executor sums all its blocks
   * into one set, instead of a new m·(d + 3) doubles per block added to it afterwards. The same bits either way
   * (every sum is exact).
   */
  public static Sums[] accumulateInto(Sums[] out, EncodedBlock eb, AtomGroups groups, float[] D, int[] atoms,
      float[] u, double[] align, int chunk) {
    if (chunk < 1) {
      throw new IllegalArgumentException("chunk must be positive, got " + chunk);
    }
    final int d = eb.d;
    final int m = atoms == null ? align.length : groups.m();
    final SparseCodes codes = eb.codes;
    final int exponent = out.length == 0 ? 0 : out[0].exponent;
    // inverted index: the entries of each atom, samples in block order
    int[] start = new int[m + 1];
    for (int s = 0; s < eb.n; s++) {
      int base = s * codes.capacity;
      for (int t = 0; t < codes.count[s]; t++) {
        start[codes.atom[base + t] + 1]++;
      }
    }
    for (int j = 0; j < m; j++) {
      start[j + 1] += start[j];
    }
    int[] sample = new int[start[m]];
    float[] coef = new float[start[m]];
    int[] fill = java.util.Arrays.copyOf(start, m);
    for (int s = 0; s < eb.n; s++) {
      int base = s * codes.capacity;
      for (int t = 0; t < codes.count[s]; t++) {
        int j = codes.atom[base + t];
        sample[fill[j]] = s;
        coef[fill[j]++] = codes.value[base + t];
      }
    }
    final double scale = Math.scalb(1.0, exponent);
    int[] groupOf = groups.groupOfAtoms();
    int most = 0;
    for (int j = 0; j < m; j++) {
      most = Math.max(most, start[j + 1] - start[j]);
    }
    int width = Math.min(chunk, most);
    int[] off = new int[width];
    float[] dots = new float[width];
    double[] vs = new double[width];
    EncodedBlock.Residuals residuals = eb.residuals(D); // atoms in increasing order: each group replayed once
    for (Sums o : out) {
      for (int a = o.from; a < o.to; a++) {
        int j = atoms == null ? a : atoms[a];
        float[] R = residuals.of(groupOf[j]);
        double cj = 0, vv = 0;
        // a chunk of the atom's columns is read from memory once: its dot products leave it in L2 for the sums
        for (int c0 = start[j]; c0 < start[j + 1]; c0 += width) {
          int c = Math.min(width, start[j + 1] - c0);
          for (int i = 0; i < c; i++) {
            off[i] = sample[c0 + i] * d;
          }
          // v_i = r_i·u_j + x_ij·(d_j·u_j), scaled to the grid; several columns per pass over u_j and the sums
          Simd.transposeTimes(R, off, c, d, u, a * d, dots);
          for (int i = 0; i < c; i++) {
            float x = coef[c0 + i];
            double v = dots[i] + x * align[a];
            vs[i] = v * scale;
            cj += Simd.roundedProduct(vs[i], x);
            vv += Simd.roundedProduct(vs[i], v);
          }
          Simd.addRoundedColumns(R, off, c, d, vs, o.w, (a - o.from) * d);
        }
        o.c[a - o.from] += cj;
        o.vv[a - o.from] += vv;
        o.omega[a - o.from] += start[j + 1] - start[j];
      }
    }
    return out;
  }

  /**
   * What a reducer of one atom range returns from a pass: A_j·q_j for the atoms [from, to) (d × (to − from), each
   * in float), q_jᵀA_j·q_j, and which of the atoms some sample used.
   */
  public record Step(int from, int to, float[] w, double[] alpha, boolean[] used) implements Serializable {
    /** From the pass's total sums and D: w_j = Σ v_i·r_i + d_j·Σ v_i·x_ij, α_j = Σ v_i². */
    public static Step of(Sums total, float[] D) {
      final int d = total.d;
      int na = total.to - total.from;
      float[] w = new float[na * d];
      double[] alpha = new double[na];
      boolean[] used = new boolean[na];
      double inv = Math.scalb(1.0, -total.exponent);
      for (int a = 0; a < na; a++) {
        int j = total.from + a;
        used[a] = total.omega[a] > 0;
        double c = total.c[a] * inv;
        for (int i = 0; i < d; i++) {
          w[a * d + i] = (float) (total.w[a * d + i] * inv + D[j * d + i] * c);
        }
        alpha[a] = total.vv[a] * inv;
      }
      return new Step(total.from, total.to, w, alpha, used);
    }
  }

  /**
   * The driver's side of T Lanczos passes for every atom at once: the Lanczos vectors q₁ … q_t (q₁ = d_j), the
   * products A_j·q_s the passes returned, and the tridiagonal T_j (α on the diagonal, β beside it). Full
   * reorthogonalisation (twice); a Krylov space that closes (β ≈ 0) leaves q = 0, which contributes nothing.
   *
   * <p>Use: {@code for t < T: send vector(); absorb(steps)}, then {@link #atoms()}.
   */
  public static final class Krylov implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int d;
    private final int m;
    private final int passes;
    private final float[] D;
    private final float[][] q;
    private final float[][] w;
    private final double[][] alpha;
    private final double[][] beta;
    private final boolean[] used;
    private int t;

    public Krylov(float[] D, int d, int m, int passes) {
      if (passes < 1) {
        throw new IllegalArgumentException("at least one pass, got " + passes);
      }
      this.d = d;
      this.m = m;
      this.passes = passes;
      this.D = D;
      this.q = new float[passes][];
      this.w = new float[passes][];
      this.alpha = new double[passes][m];
      this.beta = new double[passes][m];
      this.used = new boolean[m];
      q[0] = D;
    }

    private Krylov(Krylov o) {
      d = o.d;
      m = o.m;
      passes = o.passes;
      D = o.D;
      q = o.q.clone(); // the vectors and products of earlier passes are never written again: shared
      w = o.w.clone();
      alpha = new double[passes][];
      beta = new double[passes][];
      for (int s = 0; s < passes; s++) {
        alpha[s] = o.alpha[s].clone();
        beta[s] = o.beta[s].clone();
      }
      used = o.used.clone();
      t = o.t;
    }

    /**
     * A copy that {@link #absorb} can change while this one stays as it is (a Spark stage's state is an RDD: the
     * next pass makes a new one from it).
     */
    public Krylov copy() {
      return new Krylov(this);
    }

    /**
     * The Lanczos state of the atoms [from, to) of D (d × m) alone: its atoms are numbered 0..to−from−1, and the
     * steps it absorbs are those of {@link #absorbed} (the sums of its own range).
     */
    public static Krylov ofRange(float[] D, int d, int from, int to, int passes) {
      return new Krylov(java.util.Arrays.copyOfRange(D, from * d, to * d), d, to - from, passes);
    }

    /** Absorbs the pass's sums of this state's atom range ([from, to) of D, d × m); returns this. */
    public Krylov absorbed(Sums total, float[] D) {
      Step s = Step.of(total, D);
      absorb(java.util.List.of(new Step(0, s.to() - s.from(), s.w(), s.alpha(), s.used())));
      return this;
    }

    /** The vectors the next pass applies A_j to (d × m). */
    public float[] vector() {
      return q[t];
    }

    /** d_j·q_j for the next pass. */
    public double[] alignment() {
      return JacobiUpdate.alignment(D, q[t], d, m);
    }

    public boolean done() {
      return t == passes;
    }

    /** used[j]: some sample of the batch used atom j (known after the first pass). */
    public boolean[] used() {
      return used;
    }

    /** Takes one pass's results (every atom range once) and prepares the next Lanczos vectors. */
    public void absorb(java.util.Collection<Step> steps) {
      float[] wt = new float[d * m];
      for (Step s : steps) {
        System.arraycopy(s.w(), 0, wt, s.from() * d, s.w().length);
        System.arraycopy(s.alpha(), 0, alpha[t], s.from(), s.alpha().length);
        if (t == 0) {
          System.arraycopy(s.used(), 0, used, s.from(), s.used().length);
        }
      }
      w[t] = wt;
      t++;
      if (t < passes) {
        q[t] = nextVectors();
      }
    }

    /** q_{t+1} = (A q_t − Σ_s (q_sᵀA q_t) q_s)/β_t, orthogonalised twice against q₁ … q_t. */
    private float[] nextVectors() {
      int last = t - 1;
      float[] next = new float[d * m];
      inParallel(m, (from, to) -> {
        double[] r = new double[d];
        for (int j = from; j < to; j++) {
          nextVector(j, last, r, next);
        }
      });
      return next;
    }

    private void nextVector(int j, int last, double[] r, float[] next) {
      int o = j * d;
      for (int i = 0; i < d; i++) {
        r[i] = w[last][o + i];
      }
      for (int sweep = 0; sweep < 2; sweep++) {
        for (int s = 0; s <= last; s++) {
          double h = 0;
          for (int i = 0; i < d; i++) {
            h += q[s][o + i] * r[i];
          }
          for (int i = 0; i < d; i++) {
            r[i] -= h * q[s][o + i];
          }
        }
      }
      double nrm = 0;
      for (int i = 0; i < d; i++) {
        nrm += r[i] * r[i];
      }
      nrm = Math.sqrt(nrm);
      // closed Krylov space (to float resolution of the largest α so far): q = 0 adds nothing
      double scale = 0;
      for (int s = 0; s <= last; s++) {
        scale = Math.max(scale, alpha[s][j]);
      }
      if (!(nrm > 1e-6 * scale) || !used[j]) {
        return;
      }
      beta[last][j] = nrm;
      for (int i = 0; i < d; i++) {
        next[o + i] = (float) (r[i] / nrm);
      }
    }

    /**
     * The new atoms (d × m) after the last pass: A_j·z/‖A_j·z‖ with z the top eigenvector of T_j, signed so that
     * the atom keeps its direction (d_jᵀ·new ≥ 0). An atom no sample used, or whose E_j is zero, keeps its vector.
     */
    public float[] atoms() {
      if (!done()) {
        throw new IllegalStateException("only " + t + " of " + passes + " passes done");
      }
      float[] out = D.clone();
      inParallel(m, (from, to) -> {
        double[] T = new double[passes * passes];
        double[] V = new double[passes * passes];
        double[] z = new double[passes];
        double[] u = new double[d];
        for (int j = from; j < to; j++) {
          if (used[j]) {
            atom(j, T, V, z, u, out);
          }
        }
      });
      return out;
    }

    private void atom(int j, double[] T, double[] V, double[] z, double[] u, float[] out) {
      if (passes == 1) {
        z[0] = 1;
      } else {
        java.util.Arrays.fill(T, 0);
        for (int s = 0; s < passes; s++) {
          T[s * passes + s] = alpha[s][j];
          if (s + 1 < passes) {
            T[s * passes + s + 1] = beta[s][j];
            T[(s + 1) * passes + s] = beta[s][j];
          }
        }
        double[] lambda = SymmetricEigen.decompose(T, passes, V);
        int top = 0;
        for (int s = 1; s < passes; s++) {
          if (lambda[s] > lambda[top]) {
            top = s;
          }
        }
        for (int s = 0; s < passes; s++) {
          z[s] = V[s * passes + top];
        }
      }
      int o = j * d;
      double nrm = 0, dir = 0;
      for (int i = 0; i < d; i++) {
        double v = 0;
        for (int s = 0; s < passes; s++) {
          v += z[s] * w[s][o + i];
        }
        u[i] = v;
        nrm += v * v;
        dir += v * D[o + i];
      }
      if (!(nrm > 0) || Double.isInfinite(nrm)) {
        return;
      }
      double f = (dir < 0 ? -1 : 1) / Math.sqrt(nrm);
      for (int i = 0; i < d; i++) {
        out[o + i] = (float) (u[i] * f);
      }
    }
  }

  /** A body over atom ranges [from, to), run at once on the JVM's cores; each atom is computed on its own. */
  interface AtomRange {
    void run(int from, int to);
  }

  static void inParallel(int m, AtomRange body) {
    int chunk = 64;
    java.util.stream.IntStream.range(0, (m + chunk - 1) / chunk).parallel()
        .forEach(c -> body.run(c * chunk, Math.min(m, (c + 1) * chunk)));
  }

  /**
   * How many of an atom's residual columns {@link #accumulate} takes at a time: about 128 KiB of them (a multiple of
   * 8, at least 8), so that the chunk its dot products bring in from memory is still in L2 (256 KiB or more on the
   * x86 and Arm server cores of this decade) when the sums read it again — one read from memory per column and pass
   * instead of two. The chunk changes no bit: every sum is exact.
   */
  public static int chunkColumns(int d) {
    return Math.max(8, (32768 / Math.max(1, d)) & ~7);
  }

  /** Atom ranges [b[r], b[r+1]) splitting m atoms into {@code parts} nearly equal ones. */
  public static int[] ranges(int m, int parts) {
    int p = Math.max(1, Math.min(parts, m));
    int[] b = new int[p + 1];
    for (int r = 0; r <= p; r++) {
      b[r] = (int) ((long) m * r / p);
    }
    return b;
  }
}
