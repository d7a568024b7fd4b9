package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Encoder;
import dbksvd.encode.MatchingPursuit;
import dbksvd.encode.OrthogonalMatchingPursuit;
import dbksvd.update.TopSingularTriplet;

import java.util.Arrays;

/**
 * Every setting of a fit, validated. Names follow the paper: m atoms, k non-zeros, n samples per outer batch.
 *
 * @param m number of atoms
 * @param k non-zeros per code (total over Matryoshka groups)
 * @param batchSize n, samples per outer batch (capped at the dataset's size)
 * @param iterations outer batches to fit (one encode + update each)
 * @param encoder "mp" or "omp"
 * @param rtol relative residual at which an encoder stops early (0: always k)
 * @param matryoshka L for groups 2^L, 2^L, 2^(L+1)…; -1 for plain DB-KSVD
 * @param budgets per-group budgets for Matryoshka (empty: k split evenly)
 * @param atomBatches atom batches per group (Jacobi across, Gauss-Seidel within)
 * @param seed fixes every random choice
 * @param init "samples" (normalised random samples) or "uniform" (U[−0.5, 0.5], normalised)
 * @param clearThreshold an atom with |dᵢᵀdⱼ| above this to an earlier atom is replaced (≥ 1 disables)
 * @param lanczos settings of the top singular triplet solver
 * @param encodeChunk samples per DᵀY GEMM inside a block (bounds memory to m × chunk floats)
 * @param update {@code "jacobi"}: every atom refitted at once from the same residual, where the batch lives, by
 *     {@code updatePasses} Lanczos passes closed by a power step ({@link dbksvd.update.JacobiUpdate});
 *     {@code "gauss-seidel"}: samples shuffled to atom batches, each batch updated atom after atom with the exact
 *     top singular triplet ({@link dbksvd.update.AtomBatchUpdate})
 * @param updatePasses passes over the batch's residuals of the Jacobi update (1: the approximate K-SVD step)
 */
public record FitParams(int m, int k, int batchSize, int iterations, String encoder, double rtol, int matryoshka,
    int[] budgets, int atomBatches, long seed, String init, double clearThreshold, TopSingularTriplet lanczos,
    int encodeChunk, String update, int updatePasses) {

  public static final String JACOBI = "jacobi", GAUSS_SEIDEL = "gauss-seidel";

  public FitParams {
    if (m < 1) {
      throw new IllegalArgumentException("atoms (m) must be at least 1, got " + m);
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1, got " + k);
    }
    if (k > m) {
      throw new IllegalArgumentException("k = " + k + " exceeds the number of atoms m = " + m);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (iterations < 0) {
      throw new IllegalArgumentException("iterations must be at least 0, got " + iterations);
    }
    if (!encoder.equals("mp") && !encoder.equals("omp")) {
      throw new IllegalArgumentException("encoder must be mp or omp, got '" + encoder + "'");
    }
    if (atomBatches < 1) {
      throw new IllegalArgumentException("atom batches must be at least 1, got " + atomBatches);
    }
    if (!init.equals("samples") && !init.equals("uniform")) {
      throw new IllegalArgumentException("init must be samples or uniform, got '" + init + "'");
    }
    if (encodeChunk < 1) {
      throw new IllegalArgumentException("encode chunk must be at least 1, got " + encodeChunk);
    }
    if (!JACOBI.equals(update) && !GAUSS_SEIDEL.equals(update)) {
      throw new IllegalArgumentException("update must be jacobi or gauss-seidel, got '" + update + "'");
    }
    if (updatePasses < 1) {
      throw new IllegalArgumentException("update passes must be at least 1, got " + updatePasses);
    }
    budgets = budgets == null ? new int[0] : budgets.clone();
    groups(m, k, matryoshka, budgets); // validates
  }

  /** Plain DB-KSVD with the usual defaults. */
  public static FitParams defaults(int m, int k) {
    return new FitParams(m, k, 65536, 40, "mp", 0, -1, new int[0], 4, 0, "samples", 0.99,
        TopSingularTriplet.DEFAULT, 1024, JACOBI, 3);
  }

  public FitParams withBatchSize(int n) {
    return new FitParams(m, k, n, iterations, encoder, rtol, matryoshka, budgets, atomBatches, seed, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withIterations(int t) {
    return new FitParams(m, k, batchSize, t, encoder, rtol, matryoshka, budgets, atomBatches, seed, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withSeed(long s) {
    return new FitParams(m, k, batchSize, iterations, encoder, rtol, matryoshka, budgets, atomBatches, s, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withEncoder(String e) {
    return new FitParams(m, k, batchSize, iterations, e, rtol, matryoshka, budgets, atomBatches, seed, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withAtomBatches(int b) {
    return new FitParams(m, k, batchSize, iterations, encoder, rtol, matryoshka, budgets, b, seed, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withMatryoshka(int L, int[] groupBudgets) {
    return new FitParams(m, k, batchSize, iterations, encoder, rtol, L, groupBudgets, atomBatches, seed, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withInit(String i) {
    return new FitParams(m, k, batchSize, iterations, encoder, rtol, matryoshka, budgets, atomBatches, seed, i,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withClearThreshold(double c) {
    return new FitParams(m, k, batchSize, iterations, encoder, rtol, matryoshka, budgets, atomBatches, seed, init,
        c, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withRtol(double r) {
    return new FitParams(m, k, batchSize, iterations, encoder, r, matryoshka, budgets, atomBatches, seed, init,
        clearThreshold, lanczos, encodeChunk, update, updatePasses);
  }

  public FitParams withUpdate(String u, int steps) {
    return new FitParams(m, k, batchSize, iterations, encoder, rtol, matryoshka, budgets, atomBatches, seed, init,
        clearThreshold, lanczos, encodeChunk, u, steps);
  }

  public boolean jacobi() {
    return JACOBI.equals(update);
  }

  private static AtomGroups groups(int m, int k, int L, int[] budgets) {
    if (L < 0) {
      return AtomGroups.single(m, k);
    }
    AtomGroups g = AtomGroups.matryoshka(L, m, k, budgets);
    if (budgets.length > 0 && g.totalBudget() != k) {
      throw new IllegalArgumentException("matryoshka budgets " + Arrays.toString(budgets) + " add up to "
          + g.totalBudget() + ", not k = " + k);
    }
    return g;
  }

  public AtomGroups groups() {
    return groups(m, k, matryoshka, budgets);
  }

  public Encoder newEncoder() {
    return encoder.equals("omp") ? new OrthogonalMatchingPursuit(k, rtol) : new MatchingPursuit(k, rtol);
  }

  /**
   * Checks the settings against the data's dimension. k ≥ d is refused for every encoder: k atoms then span the
   * whole space, any dictionary codes every sample exactly and the fit learns nothing (and for OMP they are
   * linearly dependent).
   */
  public void validateFor(int d) {
    if (k >= d) {
      throw new IllegalArgumentException("k = " + k + " must be below the dimension d = " + d
          + " of the embeddings (with k >= d every sample is coded exactly)");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FitParams p && p.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public String toString() {
    return "FitParams[m=" + m + ", k=" + k + ", batchSize=" + batchSize + ", iterations=" + iterations
        + ", encoder=" + encoder + ", rtol=" + rtol + ", matryoshka=" + matryoshka + ", budgets="
        + Arrays.toString(budgets) + ", atomBatches=" + atomBatches + ", seed=" + seed + ", init=" + init
        + ", clearThreshold=" + clearThreshold + ", lanczos=" + lanczos + ", encodeChunk=" + encodeChunk
        + ", update=" + update + ", updatePasses=" + updatePasses + "]";
  }
}
