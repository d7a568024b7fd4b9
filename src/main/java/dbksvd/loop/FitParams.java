package dbksvd.loop;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Encoder;
import dbksvd.update.TopSingularTriplet;
import dbksvd.update.Update;

import java.io.Serializable;
import java.util.List;

/**
 * Every setting of a fit, typed and validated. Names follow the paper: m atoms, k non-zeros, n samples per outer
 * batch. Every component is a value (records, an enum, an immutable list), so equality is the record's own.
 * Build one with {@link #builder}, or change a few settings of another with {@link #toBuilder}.
 *
 * @param m number of atoms
 * @param encoder the sparse coder with its k (non-zeros per code, total over Matryoshka groups) and rtol
 * @param batchSize n, samples per outer batch (capped at the dataset's size)
 * @param iterations outer batches to fit (one encode + update each)
 * @param matryoshka nested atom groups, or {@link Matryoshka#OFF} for plain DB-KSVD
 * @param update the dictionary update scheme with its setting
 * @param seed fixes every random choice
 * @param init how D starts
 * @param clearThreshold an atom with |dᵢᵀdⱼ| above this to an earlier atom is replaced (≥ 1 disables)
 * @param lanczos settings of the top singular triplet solver (Gauss-Seidel update)
 * @param encodeChunk samples per DᵀY GEMM inside a block (bounds memory to m × chunk floats)
 * @param initDictionary a given dictionary to start from (io/InitDictionary: a model directory, .npy or
 *     .safetensors W_dec), its rows atoms 0..r−1 and {@code init} drawing the rest; empty for none
 * @param batching how outer batches are drawn: single rows ({@link RowOrder}) or whole input splits
 *     ({@link BatchPlan}, Spark only), or windows of W batches of splits ({@link WindowPlan}, Spark only)
 * @param window W, batches per window of {@code batching = window} (at least 1; ignored by the others)
 */
public record FitParams(int m, Encoder encoder, int batchSize, int iterations, Matryoshka matryoshka, Update update,
    long seed, Init init, double clearThreshold, TopSingularTriplet lanczos, int encodeChunk, String initDictionary,
    Batching batching, int window) implements Serializable {

  /**
   * Matryoshka groups: [0, 2^L), [2^L, 2^(L+1)), … up to m, each with its own budget.
   *
   * @param levels L, or -1 for none
   * @param budgets k per group; empty splits k evenly, earlier groups first
   */
  public record Matryoshka(int levels, List<Integer> budgets) implements Serializable {
    public static final Matryoshka OFF = new Matryoshka(-1, List.of());

    public Matryoshka {
      budgets = List.copyOf(budgets);
    }

    public static Matryoshka of(int levels, int... budgets) {
      return new Matryoshka(levels, budgets == null ? List.of() : java.util.Arrays.stream(budgets).boxed().toList());
    }

    public boolean on() {
      return levels >= 0;
    }

    public int[] budgetArray() {
      return budgets.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The atom groups for m atoms and k non-zeros in all; validates the budgets. */
    public AtomGroups groups(int m, int k) {
      if (!on()) {
        return AtomGroups.single(m, k);
      }
      AtomGroups g = AtomGroups.matryoshka(levels, m, k, budgetArray());
      if (!budgets.isEmpty() && g.totalBudget() != k) {
        throw new IllegalArgumentException("matryoshka budgets " + budgets + " add up to " + g.totalBudget()
            + ", not k = " + k);
      }
      return g;
    }
  }

  public FitParams {
    checkAtoms(m);
    if (encoder.k() > m) {
      throw new IllegalArgumentException("k = " + encoder.k() + " exceeds the number of atoms m = " + m);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (iterations < 0) {
      throw new IllegalArgumentException("iterations must be at least 0, got " + iterations);
    }
    if (encodeChunk < 1) {
      throw new IllegalArgumentException("encode chunk must be at least 1, got " + encodeChunk);
    }
    if (matryoshka.groups(m, encoder.k()).count() > 1 && update instanceof Update.JacobiBatches) { // validates
      throw new IllegalArgumentException("dbksvd.fit.update = jacobi-batches does not support Matryoshka groups "
          + "(dbksvd.fit.matryoshka); use jacobi or gauss-seidel with them");
    }
    initDictionary = initDictionary == null ? "" : initDictionary.trim();
    batching = batching == null ? Batching.ROWS : batching;
    if (window < 1) {
      throw new IllegalArgumentException("dbksvd.fit.window must be at least 1 batch, got " + window);
    }
  }

  private static void checkAtoms(int m) {
    if (m < 1) {
      throw new IllegalArgumentException("atoms (m) must be at least 1, got " + m);
    }
  }

  /** Plain DB-KSVD with the usual defaults (those of reference.conf). */
  public static FitParams defaults(int m, int k) {
    return builder(m, k).build();
  }

  public static Builder builder(int m, int k) {
    return new Builder(m, k);
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** k, non-zeros per code (total over Matryoshka groups). */
  public int k() {
    return encoder.k();
  }

  /** The relative residual at which the encoder stops early (0: always k). */
  public double rtol() {
    return encoder.rtol();
  }

  public AtomGroups groups() {
    return matryoshka.groups(m, encoder.k());
  }

  /**
   * Checks the settings against the data's dimension. k ≥ d is refused for every encoder: k atoms then span the
   * whole space, any dictionary codes every sample exactly and the fit learns nothing (and for OMP they are
   * linearly dependent).
   */
  public void validateFor(int d) {
    if (k() >= d) {
      throw new IllegalArgumentException("k = " + k() + " must be below the dimension d = " + d
          + " of the embeddings (with k >= d every sample is coded exactly)");
    }
  }

  /**
   * A fit's settings, starting from the defaults of reference.conf. The encoder is held as name, k and rtol until
   * {@link #build}, so that any of them can be changed alone.
   */
  public static final class Builder {
    private int m;
    private int k;
    private String encoder = "mp-refit";
    private double rtol = 0;
    private int batchSize = 65536;
    private int iterations = 40;
    private Matryoshka matryoshka = Matryoshka.OFF;
    private Update update = new Update.Jacobi(Update.DEFAULT_PASSES);
    private long seed = 0;
    private Init init = Init.SAMPLES;
    private double clearThreshold = 0.99;
    private TopSingularTriplet lanczos = TopSingularTriplet.DEFAULT;
    private int encodeChunk = 1024;
    private String initDictionary = "";
    private Batching batching = Batching.ROWS;
    private int window = 4;

    private Builder(int m, int k) {
      this.m = m;
      this.k = k;
    }

    private Builder(FitParams p) {
      m = p.m;
      k = p.k();
      encoder = p.encoder.name();
      rtol = p.rtol();
      batchSize = p.batchSize;
      iterations = p.iterations;
      matryoshka = p.matryoshka;
      update = p.update;
      seed = p.seed;
      init = p.init;
      clearThreshold = p.clearThreshold;
      lanczos = p.lanczos;
      encodeChunk = p.encodeChunk;
      initDictionary = p.initDictionary;
      batching = p.batching;
      window = p.window;
    }

    public Builder m(int v) {
      m = v;
      return this;
    }

    public Builder k(int v) {
      k = v;
      return this;
    }

    /** The encoder by name ({@link Encoder#of}: mp, mp-refit, omp); k and rtol are the builder's. */
    public Builder encoder(String name) {
      encoder = name;
      return this;
    }

    public Builder rtol(double v) {
      rtol = v;
      return this;
    }

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder iterations(int v) {
      iterations = v;
      return this;
    }

    public Builder matryoshka(Matryoshka v) {
      matryoshka = v;
      return this;
    }

    public Builder update(Update v) {
      update = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder init(Init v) {
      init = v;
      return this;
    }

    public Builder clearThreshold(double v) {
      clearThreshold = v;
      return this;
    }

    public Builder lanczos(TopSingularTriplet v) {
      lanczos = v;
      return this;
    }

    public Builder encodeChunk(int v) {
      encodeChunk = v;
      return this;
    }

    public Builder initDictionary(String path) {
      initDictionary = path;
      return this;
    }

    public Builder batching(Batching v) {
      batching = v;
      return this;
    }

    public Builder window(int v) {
      window = v;
      return this;
    }

    public FitParams build() {
      checkAtoms(m); // before the encoder's own checks of k, so that m = 0 is named first
      return new FitParams(m, Encoder.of(encoder, k, rtol), batchSize, iterations, matryoshka, update, seed, init,
          clearThreshold, lanczos, encodeChunk, initDictionary, batching, window);
    }
  }
}
