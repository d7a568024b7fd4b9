package dbksvd.bench;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.encode.SparseCodes;
import dbksvd.linalg.Blas;
import dbksvd.linalg.Simd;
import dbksvd.synth.PlantedData;
import dbksvd.update.JacobiUpdate;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Whether the JIT compiled the hot Java kernels well, over many JVMs. Twice C2 has compiled a Vector API kernel into
 * its Java fallback in a fraction of JVMs only, and the kernel then ran 3–6× slower for the JVM's whole life
 * (2026-12-03: the argmax's integer reinterpretation in about one JVM in three, the Jacobi sums' float-to-double
 * widening in about one in ten; docs/benchmarks.md). One JVM's benchmark cannot show it; on a cluster, where the
 * slowest executor holds up every stage, one such JVM in ten is felt by most fits.
 *
 * <p>{@code bin/bench-core --jit-check JVMS} starts JVMS JVMs one after the other (the same java, JVM options and
 * class path as this one); each times, on one thread and on seeded synthetic data of the paper's shape (d = 2304,
 * m = 4096, k = 20), a Jacobi pass over a block of n samples ({@link JacobiUpdate#accumulate}) and the mp and
 * mp-refit encoders over 4096 samples, {@link #REPS} times each, and reports the median of its last
 * {@link #REPS} − {@link #WARM} reps. Printed: each JVM's times, then per kernel the median over the JVMs, the
 * slowest and how many JVMs took more than {@link #SLOW}× the median.
 */
public final class KernelLottery {
  private KernelLottery() {}

  static final int REPS = 6;
  static final int WARM = 2;
  static final double SLOW = 2.0;
  static final String[] KERNELS = {"jacobi-pass", "mp", "mp-refit"};
  private static final String PREFIX = "kernel-lottery";

  /** Runs {@code jvms} child JVMs; returns how many had some kernel above {@link #SLOW}× its median. */
  public static int run(int jvms, int n) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelLottery.class.getName(),
        Integer.toString(n)));
    System.out.printf(Locale.ROOT, "JIT check: %d JVMs, each a Jacobi pass over %d samples and mp, mp-refit over"
        + " 4096 (d = 2304, m = 4096, k = 20, one thread), median of reps %d-%d in seconds%n", jvms, n, WARM + 1,
        REPS);
    double[][] t = new double[jvms][];
    for (int v = 0; v < jvms; v++) {
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String line = null;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          if (l.startsWith(PREFIX)) {
            line = l;
          }
        }
      }
      if (p.waitFor() != 0 || line == null) {
        throw new IllegalStateException("JVM " + (v + 1) + " of the JIT check failed (exit " + p.exitValue() + ")");
      }
      t[v] = parse(line);
      System.out.printf(Locale.ROOT, "JVM %3d %s%n", v + 1, line.substring(PREFIX.length()).trim());
    }
    return summarize(t);
  }

  /** The kernels' seconds from a child's line. */
  static double[] parse(String line) {
    String[] f = line.substring(PREFIX.length()).trim().split("\\s+");
    double[] s = new double[KERNELS.length];
    for (int i = 0; i < KERNELS.length; i++) {
      String[] kv = f[i].split("=");
      if (!kv[0].equals(KERNELS[i])) {
        throw new IllegalArgumentException("expected " + KERNELS[i] + " in: " + line);
      }
      s[i] = Double.parseDouble(kv[1]);
    }
    return s;
  }

  /** Prints the summary per kernel; returns the JVMs with some kernel above SLOW × that kernel's median. */
  static int summarize(double[][] t) {
    boolean[] slowJvm = new boolean[t.length];
    for (int i = 0; i < KERNELS.length; i++) {
      double[] col = new double[t.length];
      for (int v = 0; v < t.length; v++) {
        col[v] = t[v][i];
      }
      double median = median(col);
      int slow = 0;
      double worst = 0;
      for (int v = 0; v < t.length; v++) {
        worst = Math.max(worst, col[v]);
        if (col[v] > SLOW * median) {
          slow++;
          slowJvm[v] = true;
        }
      }
      System.out.printf(Locale.ROOT, "%-12s median %.4f s, slowest %.4f s (%.2fx), %d of %d JVMs above %.1fx the"
          + " median%n", KERNELS[i], median, worst, worst / median, slow, t.length, SLOW);
    }
    int any = 0;
    for (boolean b : slowJvm) {
      any += b ? 1 : 0;
    }
    return any;
  }

  static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    int h = s.length / 2;
    return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
  }

  /** A child JVM: times the kernels, prints one line. */
  public static void main(String[] args) {
    int n = Integer.parseInt(args[0]);
    final int d = 2304, m = 4096, k = 20;
    SplittableRandom rng = new SplittableRandom(7);
    float[] D = new float[m * d];
    for (int j = 0; j < m; j++) {
      double ss = 0;
      for (int i = 0; i < d; i++) {
        D[j * d + i] = (float) PlantedData.gaussian(rng);
        ss += D[j * d + i] * D[j * d + i];
      }
      float inv = (float) (1 / Math.sqrt(ss));
      for (int i = 0; i < d; i++) {
        D[j * d + i] *= inv;
      }
    }
    double jacobi = jacobiPass(D, d, m, k, n, rng);
    double mp = encoder("mp", D, d, m, k, 4096, new SplittableRandom(8));
    double refit = encoder("mp-refit", D, d, m, k, 4096, new SplittableRandom(8));
    System.out.printf(Locale.ROOT, "%s %s=%.4f %s=%.4f %s=%.4f%n", PREFIX, KERNELS[0], jacobi, KERNELS[1], mp,
        KERNELS[2], refit);
  }

  /** One-thread Jacobi passes over a block of n samples with k random atoms each and a random residual. */
  private static double jacobiPass(float[] D, int d, int m, int k, int n, SplittableRandom rng) {
    SparseCodes X = new SparseCodes(n, k);
    for (int s = 0; s < n; s++) {
      for (int t = 0; t < k; t++) {
        X.accumulate(s, rng.nextInt(m), (float) PlantedData.gaussian(rng)); // a repeated atom adds to its coefficient
      }
    }
    float[] R = new float[n * d];
    double[] ySq = new double[n];
    double[] rSq = new double[n];
    for (int s = 0; s < n; s++) {
      for (int i = 0; i < d; i++) {
        R[s * d + i] = (float) (0.02 * PlantedData.gaussian(rng));
        rSq[s] += R[s * d + i] * R[s * d + i];
      }
      ySq[s] = 1 + rSq[s];
    }
    EncodedBlock eb = new EncodedBlock(d, new long[n], X, R, ySq, rSq);
    double[] align = JacobiUpdate.alignment(D, D, d, m);
    int e = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), n);
    AtomGroups groups = AtomGroups.single(m, k);
    double[] t = new double[REPS];
    for (int r = 0; r < REPS; r++) {
      long t0 = System.nanoTime();
      JacobiUpdate.accumulate(eb, groups, D, D, align, e);
      t[r] = (System.nanoTime() - t0) / 1e9;
    }
    return median(Arrays.copyOfRange(t, WARM, REPS));
  }

  /** An encoder over n samples, each k random atoms plus noise, coded in pairs as EncodedBlock codes them. */
  private static double encoder(String name, float[] D, int d, int m, int k, int n, SplittableRandom rng) {
    float[] Y = new float[n * d];
    for (int s = 0; s < n; s++) {
      for (int t = 0; t < k; t++) {
        Simd.axpy(d, (float) PlantedData.gaussian(rng), D, rng.nextInt(m) * d, Y, s * d);
      }
      for (int i = 0; i < d; i++) {
        Y[s * d + i] += (float) (0.01 * PlantedData.gaussian(rng));
      }
    }
    Dictionary dict = new Dictionary(D, d, m);
    dict.G();
    float[] P0 = new float[m * n];
    Blas.sgemm("T", "N", m, n, d, 1f, D, 0, d, Y, 0, d, 0f, P0, 0, m);
    double[] ySq = new double[n];
    for (int s = 0; s < n; s++) {
      ySq[s] = Blas.sqNorm(d, Y, s * d);
    }
    Encoder enc = Encoder.of(name, k, 0);
    Object scratch = enc.newScratch(m);
    float[] P = new float[m * n];
    double[] t = new double[REPS];
    for (int r = 0; r < REPS; r++) {
      System.arraycopy(P0, 0, P, 0, P.length);
      SparseCodes X = new SparseCodes(n, k);
      long t0 = System.nanoTime();
      CoreBenchmark.codeRange(enc, dict, P, ySq, 0, n, m, X, scratch);
      t[r] = (System.nanoTime() - t0) / 1e9;
    }
    return median(Arrays.copyOfRange(t, WARM, REPS));
  }
}
