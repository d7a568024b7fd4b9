package dbksvd.bench;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.encode.MatchingPursuit;
import dbksvd.encode.SparseCodes;
import dbksvd.linalg.Blas;
import dbksvd.linalg.Simd;
import dbksvd.loop.DictionaryStep;
import dbksvd.synth.PlantedData;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Where one DB-KSVD iteration spends its time on one machine, stage by stage, against what the BLAS could do: the
 * only O(m·n·d) work is the DᵀY GEMM (plus G = DᵀD), so the "roofline ratio" = total ÷ (GEMM flops at the measured
 * SGEMM rate) says how far the whole iteration is from GEMM-bound.
 *
 * <p>Stages, in iteration order, each timed alone: G = DᵀD; P = DᵀY (chunked as in {@link EncodedBlock}); MP with
 * k steps over all n samples on the precomputed P; residuals R = Y − DX; routing to atom batches; the K-SVD update of
 * every atom batch. The Java stages run on one thread, like one Spark task; the BLAS (the GEMMs, and the small SGEMVs
 * of the update's Lanczos) uses OPENBLAS_NUM_THREADS threads. Use --reps 2 to leave JIT warm-up out of the figures.
 *
 * <p>Samples come from a planted dictionary; the learned D starts from m other normalised samples (init = samples),
 * so each atom's |Ω| is realistic, ≈ n·k/m.
 *
 * <pre>bin/bench-core --dim 2304 --atoms 4096 --samples 8192 --k 20 [--seed 0] [--batches 4] [--chunk 1024]
 *     [--snr 20] [--reps 1] [--json FILE] [--tol 1e-7]</pre>
 *
 * <p>Then the encoders side by side ({@link #encoderCosts}): mp, mp-refit and omp, each with k and rtol = 0 over the
 * same P, coded in pairs as {@link EncodedBlock} does; per-sample time as a ratio to mp's and to the DᵀY GEMM's per
 * sample (2·m·d flops at the measured SGEMM rate), the best of {@link #RUNS} interleaved runs per slice of samples.
 *
 * <p>After the stage table: the update's own split (forming E in place, the top-triplet solver and within it
 * forming K = EᵀE on the Gram path, the final downdate R = E − u·xᵀ) and the solver's counters. {@code --tol} sets
 * the Lanczos tolerance (default that of {@link TopSingularTriplet#DEFAULT}) to see its effect on time and on the
 * batch SSE.
 */
public final class CoreBenchmark {
  private CoreBenchmark() {}

  /** The benchmark's settings; names as in the paper. */
  record Params(int d, int m, int n, int k, long seed, int atomBatches, int chunk, double snrDb, int reps,
      String json, double tol, String update, int updatePasses) {
    static Params parse(String[] args) {
      int d = 2304, m = 4096, n = 8192, k = 20, batches = 4, chunk = 1024, reps = 1;
      long seed = 0;
      double snr = 20;
      double tol = TopSingularTriplet.DEFAULT.tol();
      String json = null;
      String update = "gauss-seidel";
      int updatePasses = 1;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("-h") || a.equals("--help")) {
          System.out.println("usage: CoreBenchmark [--dim d] [--atoms m] [--samples n] [--k k] [--seed s]"
              + " [--batches atomBatches] [--chunk samplesPerGemm] [--snr dB|inf] [--reps r] [--json FILE]"
              + " [--tol lanczosTol] [--update gauss-seidel|jacobi] [--update-passes T]\n"
              + "       CoreBenchmark --jit-check JVMS [--samples n]   (the hot kernels in JVMS fresh JVMs)");
          System.exit(0);
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value after " + a);
        }
        String v = args[++i];
        switch (a) {
          case "--dim" -> d = Integer.parseInt(v);
          case "--atoms" -> m = Integer.parseInt(v);
          case "--samples" -> n = Integer.parseInt(v);
          case "--k" -> k = Integer.parseInt(v);
          case "--seed" -> seed = Long.parseLong(v);
          case "--batches" -> batches = Integer.parseInt(v);
          case "--chunk" -> chunk = Integer.parseInt(v);
          case "--snr" -> snr = v.startsWith("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
          case "--reps" -> reps = Integer.parseInt(v);
          case "--json" -> json = v;
          case "--tol" -> tol = Double.parseDouble(v);
          case "--update" -> update = v;
          case "--update-passes" -> updatePasses = Integer.parseInt(v);
          default -> throw new IllegalArgumentException("unknown option " + a + " (see --help)");
        }
      }
      if (!update.equals("gauss-seidel") && !update.equals("jacobi")) {
        throw new IllegalArgumentException("--update takes gauss-seidel or jacobi, got " + update);
      }
      if (d < 1 || m < 1 || n < 1 || k < 1 || k > m || batches < 1 || chunk < 1 || reps < 1 || !(tol > 0)
          || updatePasses < 1) {
        throw new IllegalArgumentException("need positive d, m, n, batches, chunk, reps and 1 ≤ k ≤ m");
      }
      if ((long) m * n > Integer.MAX_VALUE || (long) d * (n + m) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("m·n and d·(n+m) must fit in one Java array");
      }
      return new Params(d, m, n, k, seed, batches, chunk, snr, reps, json, tol, update, updatePasses);
    }
  }

  /** One timed stage; flops > 0 only for GEMM stages. */
  record Stage(String name, double seconds, double flops) {
    double gflops() {
      return flops > 0 ? flops / seconds / 1e9 : Double.NaN;
    }
  }

  /**
   * What one pass over the stages measured, plus sanity figures (not timed) and the update's own split (time forming
   * E, in the solver, of which forming K = EᵀE, and in the downdate; solver counters). With the Jacobi update: the
   * seconds of each pass's sums with the columns in chunks and with all of an atom's columns at once, the bytes of
   * residual columns a pass reads from memory at least (one column per (sample, atom) pair), and the rate at which
   * all cores read memory in a plain sweep over the residuals, measured in the same run.
   */
  record Pass(List<Stage> stages, double relErr, double meanOmega, int maxOmega, int atomsUsed,
      double updateSseRatio, TopSingularTriplet.Scratch update, double[] jacobiPassSeconds,
      double[] jacobiWholePassSeconds, double jacobiPassBytes, double readBytesPerSecond) {
    double total() {
      return stages.stream().mapToDouble(Stage::seconds).sum();
    }

    double stage(String name) {
      return stages.stream().filter(s -> s.name.equals(name)).mapToDouble(Stage::seconds).sum();
    }
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length > 0 && args[0].equals("--jit-check")) {
      // --jit-check JVMS [--samples n]: the kernels in JVMS fresh JVMs (KernelLottery); exit 3 if some were slow
      int jvms = args.length > 1 ? Integer.parseInt(args[1]) : 20;
      int n = args.length > 3 && args[2].equals("--samples") ? Integer.parseInt(args[3]) : 16384;
      System.exit(KernelLottery.run(jvms, n) > 0 ? 3 : 0);
    }
    Params p = Params.parse(args);
    int cores = Runtime.getRuntime().availableProcessors();
    String threads = System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "(unset)");
    String coretype = System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(unset)");
    Blas.announce();
    System.out.printf(Locale.ROOT, "BLAS                 %s (native: %s)%n", Blas.description(), Blas.isNative());
    System.out.printf(Locale.ROOT, "OPENBLAS_NUM_THREADS %s%nOPENBLAS_CORETYPE    %s%ncores                %d%n",
        threads, coretype, cores);
    System.out.printf(Locale.ROOT, "SIMD                 %s%n", Simd.describe());
    System.out.printf(Locale.ROOT, "shape                d=%d m=%d n=%d k=%d, %d atom batches, chunk %d, snr %s dB,"
        + " seed %d%n", p.d, p.m, p.n, p.k, p.atomBatches, p.chunk, p.snrDb, p.seed);

    // data: n samples from a planted dictionary; the learned D from m further samples (rows n .. n+m)
    long t0 = System.nanoTime();
    PlantedData planted = new PlantedData(p.d, p.m, p.k, p.snrDb, p.seed);
    float[] Y = planted.rows(0, p.n);
    float[] D = DictionaryStep.samplesInit(planted.rows(p.n, p.m), p.d, p.m);
    System.out.printf(Locale.ROOT, "data                 generated in %.2f s%n", (System.nanoTime() - t0) / 1e9);

    double gemmFlops = 2.0 * p.m * p.n * p.d;
    double[] runs = sgemmRuns(D, Y, p);
    double best = Double.MAX_VALUE;
    for (double r : runs) {
      best = Math.min(best, r);
    }
    double rate = gemmFlops / best; // flop/s
    System.out.printf(Locale.ROOT, "SGEMM %dx%dx%d (T,N) best of %d: %.3f s = %.1f GFLOP/s (runs:", p.m, p.n, p.d,
        runs.length, best, rate / 1e9);
    for (double r : runs) {
      System.out.printf(Locale.ROOT, " %.3f", r);
    }
    System.out.println(")");

    Pass pass = null;
    for (int rep = 0; rep < p.reps; rep++) { // earlier passes only warm the JIT; the last one is reported
      pass = runPass(D, Y, p);
    }
    double total = pass.total();
    double gemmOnly = (2.0 * p.m * p.m * p.d + gemmFlops) / rate;
    double roofline = total / gemmOnly;

    System.out.println();
    System.out.printf(Locale.ROOT, "%-10s %9s %7s %9s%n", "stage", "seconds", "share", "GFLOP/s");
    for (Stage s : pass.stages) {
      System.out.printf(Locale.ROOT, "%-10s %9.3f %6.1f%% %9s%n", s.name, s.seconds, 100 * s.seconds / total,
          s.flops > 0 ? String.format(Locale.ROOT, "%.1f", s.gflops()) : "-");
    }
    System.out.printf(Locale.ROOT, "%-10s %9.3f %6.1f%%%n", "total", total, 100.0);
    System.out.printf(Locale.ROOT, "GEMM-only time at %.1f GFLOP/s (DtD + DtY): %.3f s%n", rate / 1e9, gemmOnly);
    System.out.printf(Locale.ROOT, "roofline ratio (total / GEMM-only): %.2f%n", roofline);
    System.out.printf(Locale.ROOT, "check: |Y-DX|/|Y| after MP %.4f; |omega| mean %.1f (n*k/m = %.1f), max %d;"
            + " atoms used %d/%d; batch SSE after/before update %.4f%n", pass.relErr, pass.meanOmega,
        (double) p.n * p.k / p.m, pass.maxOmega, pass.atomsUsed, p.m, pass.updateSseRatio);
    TopSingularTriplet.Scratch u = pass.update;
    double form = u.formNanos / 1e9, solve = u.solveNanos / 1e9, gramK = u.gramNanos / 1e9;
    double down = u.downdateNanos / 1e9;
    System.out.printf(Locale.ROOT, "update split: form E %.3f s, solver %.3f s (K = EtE %.3f s, Lanczos and u = Ev"
        + " %.3f s), downdate %.3f s, other %.3f s%n", form, solve, gramK, solve - gramK, down,
        pass.stage("update") - form - solve - down);
    System.out.printf(Locale.ROOT, "update solver: %d atoms, %d on the Gram path (|omega| <= %d), %d Lanczos steps"
            + " (%.1f per atom), %d restarts, %d fresh starts; tol %.0e%n", u.calls, u.gramCalls,
        TopSingularTriplet.GRAM_MAX, u.steps, (double) u.steps / Math.max(1, u.calls), u.restarts, u.freshStarts,
        p.tol);

    if (pass.jacobiPassSeconds.length > 0) {
      double chunked = Arrays.stream(pass.jacobiPassSeconds).sum();
      double whole = Arrays.stream(pass.jacobiWholePassSeconds).sum();
      System.out.printf(Locale.ROOT, "jacobi passes on %d cores, columns in chunks of %d (s):%s; all of an atom's"
              + " columns at once:%s; chunks/whole %.2f (same bits)%n", cores, JacobiUpdate.chunkColumns(p.d),
          seconds(pass.jacobiPassSeconds), seconds(pass.jacobiWholePassSeconds), chunked / whole);
      double mean = chunked / pass.jacobiPassSeconds.length;
      System.out.printf(Locale.ROOT, "a pass reads at least n*k*d*4 = %.2f GB of residual columns: %.1f GB/s in"
              + " chunks = %.2f x a plain sweep over memory on all cores in this run (%.1f GB/s)%n",
          pass.jacobiPassBytes / 1e9, pass.jacobiPassBytes / mean / 1e9,
          pass.jacobiPassBytes / mean / pass.readBytesPerSecond, pass.readBytesPerSecond / 1e9);
    }

    List<EncoderCost> encoders = encoderCosts(D, Y, p);
    double gemmPerSample = 2.0 * p.m * p.d / rate;
    System.out.println();
    System.out.printf(Locale.ROOT, "%-9s %11s %7s %11s %8s %7s%n", "encoder", "us/sample", "x mp", "x DtY GEMM",
        "|r|/|y|", "atoms");
    for (EncoderCost e : encoders) {
      System.out.printf(Locale.ROOT, "%-9s %11.2f %7.2f %11.2f %8.4f %7.2f%n", e.name, 1e6 * e.seconds / p.n,
          e.seconds / encoders.get(0).seconds, e.seconds / p.n / gemmPerSample, e.relErr, e.meanAtoms);
    }
    System.out.printf(Locale.ROOT, "(per sample, k=%d steps/atoms, rtol 0, best of %d per slice; the DtY GEMM's share per sample:"
        + " 2*m*d flops = %.2f us at %.1f GFLOP/s)%n", p.k, RUNS, 1e6 * gemmPerSample, rate / 1e9);

    if (p.json != null) {
      Files.writeString(Path.of(p.json), json(p, cores, threads, coretype, runs, rate, pass, gemmOnly, roofline,
          encoders),
          StandardCharsets.UTF_8);
      System.out.println("wrote " + p.json);
    }
  }

  /** One warm-up, then three timed runs of P = DᵀY as a single GEMM. */
  static double[] sgemmRuns(float[] D, float[] Y, Params p) {
    float[] P = new float[p.m * p.n];
    Blas.sgemm("T", "N", p.m, p.n, p.d, 1f, D, 0, p.d, Y, 0, p.d, 0f, P, 0, p.m);
    double[] runs = new double[3];
    for (int r = 0; r < runs.length; r++) {
      long t = System.nanoTime();
      Blas.sgemm("T", "N", p.m, p.n, p.d, 1f, D, 0, p.d, Y, 0, p.d, 0f, P, 0, p.m);
      runs[r] = (System.nanoTime() - t) / 1e9;
    }
    return runs;
  }

  /** Timed runs per encoder and slice of samples, interleaved; the best is kept. */
  static final int RUNS = 5;
  /** Samples per timed slice: short enough that a burst of other load spoils one run of one slice, not all. */
  static final int SLICE = 256;

  /** One encoder's time over all n samples (best of the timed runs) and its ‖Y − DX‖/‖Y‖ from the returned norms. */
  record EncoderCost(String name, double seconds, double relErr, double meanAtoms) {}

  /**
   * Each encoder (mp first: the ratios' base) over the same P = DᵀY, k and rtol 0, samples coded in pairs as
   * {@link EncodedBlock} codes them; the JIT warmed on the first samples, then slice by slice of {@link #SLICE}
   * samples, {@link #RUNS} runs of each encoder in turn, the best per slice and encoder summed (robust to other load on
   * the machine). P is restored (outside the timer) before every run: the encoders overwrite it.
   */
  static List<EncoderCost> encoderCosts(float[] D, float[] Y, Params p) {
    final int d = p.d, m = p.m, n = p.n;
    Dictionary dict = new Dictionary(D, d, m);
    float[] P0 = new float[m * n];
    for (int s0 = 0; s0 < n; s0 += p.chunk) {
      int nc = Math.min(p.chunk, n - s0);
      Blas.sgemm("T", "N", m, nc, d, 1f, D, 0, d, Y, s0 * d, d, 0f, P0, s0 * m, m);
    }
    double[] ySq = new double[n];
    double sumY = 0;
    for (int s = 0; s < n; s++) {
      ySq[s] = Blas.sqNorm(d, Y, s * d);
      sumY += ySq[s];
    }
    List<Encoder> encoders = List.of(Encoder.of("mp", p.k, 0), Encoder.of("mp-refit", p.k, 0),
        Encoder.of("omp", p.k, 0));
    float[] P = new float[m * n];
    int e3 = encoders.size();
    double[] rSum = new double[e3];
    double[] atoms = new double[e3];
    double[] total = new double[e3];
    SparseCodes[] X = new SparseCodes[e3];
    Object[] scratch = new Object[e3];
    for (int e = 0; e < e3; e++) {
      X[e] = new SparseCodes(n, p.k);
      scratch[e] = encoders.get(e).newScratch(m);
      System.arraycopy(P0, 0, P, 0, m * Math.min(n, 512)); // JIT warm-up
      codeRange(encoders.get(e), dict, P, ySq, 0, Math.min(n, 512), m, X[e], scratch[e]);
    }
    // slice by slice, each encoder RUNS times in turn on the same slice; the best time per slice and encoder kept
    for (int s0 = 0; s0 < n; s0 += SLICE) {
      int s1 = Math.min(n, s0 + SLICE);
      double[] best = new double[e3];
      java.util.Arrays.fill(best, Double.MAX_VALUE);
      for (int run = 0; run < RUNS; run++) {
        for (int e = 0; e < e3; e++) {
          System.arraycopy(P0, s0 * m, P, s0 * m, (s1 - s0) * m);
          java.util.Arrays.fill(X[e].count, s0, s1, 0);
          long t = System.nanoTime();
          codeRange(encoders.get(e), dict, P, ySq, s0, s1, m, X[e], scratch[e]);
          best[e] = Math.min(best[e], (System.nanoTime() - t) / 1e9);
        }
      }
      for (int e = 0; e < e3; e++) {
        total[e] += best[e];
      }
    }
    List<EncoderCost> out = new ArrayList<>();
    for (int e = 0; e < e3; e++) {
      rSum[e] = residualSum(D, Y, X[e], d, n);
      long l0 = 0;
      for (int s = 0; s < n; s++) {
        l0 += X[e].l0(s);
      }
      atoms[e] = (double) l0 / n;
      out.add(new EncoderCost(encoders.get(e).name(), total[e], Math.sqrt(rSum[e] / sumY), atoms[e]));
    }
    return out;
  }

  /** Codes samples s0..s1−1 of P (in pairs, the last alone when the count is odd). */
  static void codeRange(Encoder enc, Dictionary dict, float[] P, double[] ySq, int s0, int s1, int m,
      SparseCodes X, Object scratch) {
    int s = s0;
    for (; s + 1 < s1; s += 2) {
      enc.encodePair(dict, 0, m, P, s * m, ySq[s], s, (s + 1) * m, ySq[s + 1], s + 1, X, scratch);
    }
    if (s < s1) {
      enc.encode(dict, 0, m, P, s * m, ySq[s], X, s, scratch);
    }
  }

  /**
   * Bytes per second at which {@code threads} threads read A once from memory, each a contiguous share, summing
   * its floats (best of 3): the memory-bound ceiling for a kernel that streams A.
   */
  static double readRate(float[] A, int threads) {
    double best = Double.MAX_VALUE;
    double[] sink = new double[threads];
    for (int run = 0; run < 3; run++) {
      long t0 = System.nanoTime();
      java.util.stream.IntStream.range(0, threads).parallel().forEach(c -> {
        int from = (int) ((long) A.length * c / threads), to = (int) ((long) A.length * (c + 1) / threads);
        sink[c] += Simd.dot(to - from, A, from, A, from);
      });
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
    }
    return sink[0] == -1 ? 0 : (double) A.length * Float.BYTES / best;
  }

  /** Σ‖y − Dx‖² over the n samples, the residuals formed as {@link EncodedBlock} forms them. */
  private static double residualSum(float[] D, float[] Y, SparseCodes X, int d, int n) {
    float[] r = new float[d];
    float[] coef = new float[X.capacity];
    int[] atomOff = new int[X.capacity];
    double sum = 0;
    for (int s = 0; s < n; s++) {
      System.arraycopy(Y, s * d, r, 0, d);
      int base = s * X.capacity;
      for (int e = 0; e < X.count[s]; e++) {
        coef[e] = -X.value[base + e];
        atomOff[e] = X.atom[base + e] * d;
      }
      Simd.axpyColumns(d, coef, D, atomOff, X.count[s], r, 0);
      sum += Blas.sqNorm(d, r, 0);
    }
    return sum;
  }

  /** The stages of one iteration, from the same D and Y each time. */
  static Pass runPass(float[] D, float[] Y, Params p) {
    final int d = p.d, m = p.m, n = p.n;
    List<Stage> stages = new ArrayList<>();
    double[] ySq = new double[n];
    for (int s = 0; s < n; s++) {
      ySq[s] = Blas.sqNorm(d, Y, s * d);
    }

    float[] P = new float[m * n]; // allocated (and zeroed) outside the timers: EncodedBlock reuses one chunk

    long t = System.nanoTime();
    Dictionary dict = new Dictionary(D, d, m);
    dict.G(); // formed on first use: here, so that the stage times it
    t = lap(stages, "gram", t, 2.0 * m * m * d);

    // P = DᵀY in chunks of samples, as EncodedBlock does, but kept whole so MP can be timed on its own
    for (int s0 = 0; s0 < n; s0 += p.chunk) {
      int nc = Math.min(p.chunk, n - s0);
      Blas.sgemm("T", "N", m, nc, d, 1f, D, 0, d, Y, s0 * d, d, 0f, P, s0 * m, m);
    }
    t = lap(stages, "DtY", t, 2.0 * m * n * d);

    MatchingPursuit mp = new MatchingPursuit(p.k, 0);
    SparseCodes X = new SparseCodes(n, p.k);
    for (int s = 0; s < n; s++) {
      mp.encode(dict, 0, m, P, s * m, ySq[s], X, s, null);
    }
    t = lap(stages, "mp", t, 0);

    // R = Y − DX, exactly as EncodedBlock computes it
    float[] R = Y.clone();
    double[] rSq = new double[n];
    float[] coef = new float[p.k];
    int[] atomOff = new int[p.k];
    for (int s = 0; s < n; s++) {
      int base = s * X.capacity;
      for (int e = 0; e < X.count[s]; e++) {
        coef[e] = -X.value[base + e];
        atomOff[e] = X.atom[base + e] * d;
      }
      Simd.axpyColumns(d, coef, D, atomOff, X.count[s], R, s * d);
      rSq[s] = Blas.sqNorm(d, R, s * d);
    }
    t = lap(stages, "residual", t, 0);

    long[] rowId = new long[n];
    for (int s = 0; s < n; s++) {
      rowId[s] = s;
    }
    EncodedBlock eb = new EncodedBlock(d, rowId, X, R, ySq, rSq);
    TopSingularTriplet.Scratch scratch = new TopSingularTriplet.Scratch();
    double sseBefore = 0, sseAfter = 0;
    List<Double> passSeconds = new ArrayList<>();
    List<Double> wholePassSeconds = new ArrayList<>();
    double readRate = Double.NaN;
    if (p.update.equals("jacobi")) {
      // the Jacobi update: Lanczos passes from the current atoms on every E_j at once, sums exact on a fixed grid
      t = System.nanoTime();
      AtomGroups groups = AtomGroups.single(m, p.k);
      int exponent = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), n);
      JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(D, d, m, p.updatePasses);
      // as an executor sums a pass: the atom ranges shared out over the cores, each over every sample
      int cores = Runtime.getRuntime().availableProcessors();
      int[] bounds = JacobiUpdate.ranges(m, cores);
      // each pass twice, in alternating order: columns in L2-sized chunks (the default) and all of an atom's columns
      // at once (dot products, then the sums: before the chunks); the same bits either way, checked
      double excluded = 0;
      int chunk = JacobiUpdate.chunkColumns(d);
      for (int pass = 0; !krylov.done(); pass++) {
        float[] v = krylov.vector();
        double[] align = krylov.alignment();
        JacobiUpdate.Sums[] chunked = null, whole = null;
        for (int order = 0; order < 2; order++) {
          boolean inChunks = (order + pass) % 2 == 0;
          long q0 = System.nanoTime();
          JacobiUpdate.Sums[] sums = java.util.stream.IntStream.range(0, bounds.length - 1).parallel()
              .mapToObj(r -> JacobiUpdate.accumulateInChunks(eb, groups, D, null, v, align, exponent,
                  inChunks ? chunk : Integer.MAX_VALUE, new int[] {bounds[r], bounds[r + 1]})[0])
              .toArray(JacobiUpdate.Sums[]::new);
          double seconds = (System.nanoTime() - q0) / 1e9;
          if (inChunks) {
            chunked = sums;
            passSeconds.add(seconds);
          } else {
            whole = sums;
            wholePassSeconds.add(seconds);
            excluded += seconds;
          }
        }
        for (int r = 0; r < chunked.length; r++) {
          if (!Arrays.equals(chunked[r].w, whole[r].w) || !Arrays.equals(chunked[r].vv, whole[r].vv)
              || !Arrays.equals(chunked[r].c, whole[r].c)) {
            throw new IllegalStateException("jacobi sums differ between chunked and whole columns in pass " + pass);
          }
        }
        List<JacobiUpdate.Step> steps = new ArrayList<>();
        for (JacobiUpdate.Sums x : chunked) {
          steps.add(JacobiUpdate.Step.of(x, D));
        }
        krylov.absorb(steps);
      }
      float[] u = krylov.atoms();
      lap(stages, "update", t + (long) (excluded * 1e9), 0); // the stage counts the chunked passes only
      readRate = readRate(R, cores);
      sseBefore = Blas.sqNorm(R.length, R, 0);
      sseAfter = jacobiSse(Y, X, u, d, n);
    } else {
      t = System.nanoTime();
      AtomBatches batches = AtomBatches.assign(AtomGroups.single(m, p.k), p.atomBatches, p.seed, 0);
      AtomBatchBlock[] parts = AtomBatchBlock.route(eb, batches, D);
      t = lap(stages, "route", t, 0);
      for (AtomBatchBlock part : parts) {
        sseBefore += Blas.sqNorm(part.R.length, part.R, 0);
      }
      scratch.profile = true;
      TopSingularTriplet d0 = TopSingularTriplet.DEFAULT;
      TopSingularTriplet lanczos = new TopSingularTriplet(d0.maxKrylov(), d0.maxRestarts(), p.tol);
      t = System.nanoTime();
      for (int b = 0; b < batches.count(); b++) {
        float[] atoms = AtomBatchUpdate.gather(D, d, batches.atoms[b]);
        sseAfter += AtomBatchUpdate.run(parts[b], atoms, batches.atoms[b].length, lanczos, scratch).sse();
      }
      lap(stages, "update", t, 0);
    }

    // sanity figures: reconstruction error and |Ω| per atom
    double sumY = 0, sumR = 0;
    for (int s = 0; s < n; s++) {
      sumY += ySq[s];
      sumR += rSq[s];
    }
    int[] omega = new int[m];
    long nnz = 0;
    for (int s = 0; s < n; s++) {
      for (int e = 0; e < X.count[s]; e++) {
        if (X.value[s * X.capacity + e] != 0f) {
          omega[X.atom[s * X.capacity + e]]++;
          nnz++;
        }
      }
    }
    int maxOmega = 0, used = 0;
    for (int c : omega) {
      maxOmega = Math.max(maxOmega, c);
      used += c > 0 ? 1 : 0;
    }
    return new Pass(stages, Math.sqrt(sumR / sumY), (double) nnz / m, maxOmega, used,
        sseBefore > 0 ? sseAfter / sseBefore : Double.NaN, scratch,
        passSeconds.stream().mapToDouble(Double::doubleValue).toArray(),
        wholePassSeconds.stream().mapToDouble(Double::doubleValue).toArray(), (double) nnz * d * Float.BYTES,
        readRate);
  }

  /**
   * Σ‖y − D'x'‖² with the new atoms D' and each code refitted on its support with the atoms fixed (x'_j = x_j +
   * r·d'_j for the atoms of the support, one at a time): the batch SSE the Jacobi update's atoms allow, comparable
   * to the Gauss-Seidel update's own SSE after its refit (not timed).
   */
  private static double jacobiSse(float[] Y, SparseCodes X, float[] Dn, int d, int n) {
    double sse = 0;
    float[] r = new float[d];
    for (int s = 0; s < n; s++) {
      System.arraycopy(Y, s * d, r, 0, d);
      int base = s * X.capacity;
      for (int e = 0; e < X.count[s]; e++) {
        Blas.axpy(d, -X.value[base + e], Dn, X.atom[base + e] * d, r, 0);
      }
      for (int e = 0; e < X.count[s]; e++) {
        float c = (float) Simd.dot(d, r, 0, Dn, X.atom[base + e] * d);
        Blas.axpy(d, -c, Dn, X.atom[base + e] * d, r, 0);
      }
      sse += Blas.sqNorm(d, r, 0);
    }
    return sse;
  }

  private static long lap(List<Stage> stages, String name, long since, double flops) {
    long now = System.nanoTime();
    stages.add(new Stage(name, (now - since) / 1e9, flops));
    return now;
  }

  static String json(Params p, int cores, String threads, String coretype, double[] runs, double rate, Pass pass,
      double gemmOnly, double roofline, List<EncoderCost> encoders) {
    StringBuilder sb = new StringBuilder("{");
    sb.append(kv("blas", Blas.description())).append(',').append(kv("native", Blas.isNative())).append(',')
        .append(kv("openblas_num_threads", threads)).append(',').append(kv("openblas_coretype", coretype))
        .append(',').append(kv("cores", cores)).append(',').append(kv("d", p.d)).append(',')
        .append(kv("m", p.m)).append(',').append(kv("n", p.n)).append(',').append(kv("k", p.k)).append(',')
        .append(kv("seed", p.seed)).append(',').append(kv("atom_batches", p.atomBatches)).append(',')
        .append(kv("chunk", p.chunk)).append(',').append(kv("snr_db", p.snrDb)).append(',')
        .append(kv("reps", p.reps)).append(',').append(kv("lanczos_tol", p.tol)).append(',')
        .append(kv("update", p.update)).append(',').append(kv("update_passes", p.updatePasses)).append(',').append(kv("sgemm_gflops", rate / 1e9)).append(',')
        .append("\"sgemm_runs_s\":[");
    for (int i = 0; i < runs.length; i++) {
      sb.append(i > 0 ? "," : "").append(num(runs[i]));
    }
    sb.append("],\"stages\":[");
    double total = pass.total();
    for (int i = 0; i < pass.stages.size(); i++) {
      Stage s = pass.stages.get(i);
      sb.append(i > 0 ? "," : "").append('{').append(kv("stage", s.name)).append(',')
          .append(kv("seconds", s.seconds)).append(',').append(kv("share", s.seconds / total)).append(',')
          .append(kv("gflops", s.gflops())).append('}');
    }
    sb.append("],").append(kv("total_s", total)).append(',').append(kv("gemm_only_s", gemmOnly)).append(',')
        .append(kv("roofline_ratio", roofline)).append(',').append(kv("rel_err_after_mp", pass.relErr))
        .append(',').append(kv("omega_mean", pass.meanOmega)).append(',').append(kv("omega_max", pass.maxOmega))
        .append(',').append(kv("atoms_used", pass.atomsUsed)).append(',')
        .append(kv("update_sse_ratio", pass.updateSseRatio)).append(',')
        .append(kv("update_form_s", pass.update.formNanos / 1e9)).append(',')
        .append(kv("update_solver_s", pass.update.solveNanos / 1e9)).append(',')
        .append(kv("update_gram_s", pass.update.gramNanos / 1e9)).append(',')
        .append(kv("update_downdate_s", pass.update.downdateNanos / 1e9)).append(',')
        .append(kv("update_gram_path_atoms", pass.update.gramCalls)).append(',')
        .append(kv("update_lanczos_steps", pass.update.steps)).append(',')
        .append("\"jacobi_pass_s\":").append(Arrays.toString(Arrays.stream(pass.jacobiPassSeconds)
            .mapToObj(CoreBenchmark::num).toArray())).append(',')
        .append("\"jacobi_whole_pass_s\":").append(Arrays.toString(Arrays.stream(pass.jacobiWholePassSeconds)
            .mapToObj(CoreBenchmark::num).toArray())).append(',')
        .append(kv("jacobi_chunk_columns", JacobiUpdate.chunkColumns(p.d))).append(',')
        .append(kv("jacobi_pass_bytes", pass.jacobiPassBytes)).append(',')
        .append(kv("memory_read_gbps", pass.readBytesPerSecond / 1e9)).append(',')
        .append(kv("simd", Simd.describe())).append(",\"encoders\":[");
    double gemmPerSample = 2.0 * p.m * p.d / rate;
    for (int i = 0; i < encoders.size(); i++) {
      EncoderCost e = encoders.get(i);
      sb.append(i > 0 ? "," : "").append('{').append(kv("encoder", e.name)).append(',')
          .append(kv("seconds", e.seconds)).append(',').append(kv("us_per_sample", 1e6 * e.seconds / p.n))
          .append(',').append(kv("vs_mp", e.seconds / encoders.get(0).seconds)).append(',')
          .append(kv("vs_dty_gemm", e.seconds / p.n / gemmPerSample)).append(',')
          .append(kv("rel_err", e.relErr)).append(',').append(kv("mean_atoms", e.meanAtoms)).append('}');
    }
    sb.append("]}\n");
    return sb.toString();
  }

  private static String seconds(double[] xs) {
    StringBuilder sb = new StringBuilder();
    for (double x : xs) {
      sb.append(String.format(Locale.ROOT, " %.3f", x));
    }
    return sb.toString();
  }

  private static String kv(String key, Object value) {
    String v;
    if (value instanceof Double x) {
      v = num(x);
    } else if (value instanceof Number || value instanceof Boolean) {
      v = value.toString();
    } else {
      v = "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
    return "\"" + key + "\":" + v;
  }

  /** JSON has no NaN or infinity: those become null. */
  private static String num(double x) {
    return Double.isFinite(x) ? String.format(Locale.ROOT, "%.6g", x) : "null";
  }
}
