package dbksvd.linalg;

import java.util.Random;

/**
 * One Jacobi pass's arithmetic on one thread at the paper's shape: for (sample, atom) pairs in atom order, the dots
 * r_i·u_j (transposeTimes, as today) and the sums into the atom's row, today's exact rounded doubles
 * (addRoundedColumns) against float FMAs ({@code SimdVector.addTimes}: what float sums over fixed sample groups would
 * do). Residuals: one task's block (3,120 samples x 2304), so they stay in L3 as in the fit. A benchmark, not a test
 * (docs/benchmarks.md, "Where an iteration's time goes"); after {@code mvn -q test-compile}:
 * {@code java --add-modules jdk.incubator.vector -cp target/test-classes:target/classes
 * dbksvd.linalg.SumsKernelBench 6}
 */
public class SumsKernelBench {
  public static void main(String[] args) {
    int d = 2304, n = 3120, k = 20, m = 4096, chunk = 8;
    Random rnd = new Random(1);
    float[] R = new float[n * d];
    for (int i = 0; i < R.length; i++) R[i] = (float) rnd.nextGaussian();
    float[] u = new float[m * d];
    for (int i = 0; i < u.length; i++) u[i] = (float) rnd.nextGaussian() * 0.02f;
    // pairs in atom order: each atom takes about n*k/m samples
    int pairs = n * k;
    int[] start = new int[m + 1];
    int[] sample = new int[pairs];
    for (int j = 0; j < m; j++) start[j + 1] = (int) ((long) pairs * (j + 1) / m);
    for (int p = 0; p < pairs; p++) sample[p] = rnd.nextInt(n);
    double[] accD = new double[m * d];
    float[] accF = new float[m * d];
    int[] off = new int[chunk];
    float[] dots = new float[chunk];
    double[] vs = new double[chunk];
    float[] vf = new float[chunk];
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    for (int rep = 0; rep < reps; rep++) {
      for (int variant = 0; variant < 2; variant++) {
        long t0 = System.nanoTime();
        double sink = 0;
        for (int j = 0; j < m; j++) {
          for (int c0 = start[j]; c0 < start[j + 1]; c0 += chunk) {
            int c = Math.min(chunk, start[j + 1] - c0);
            for (int i = 0; i < c; i++) off[i] = sample[c0 + i] * d;
            SimdVector.transposeTimes(R, off, c, d, u, j * d, dots);
            if (variant == 0) {
              for (int i = 0; i < c; i++) {
                vs[i] = dots[i] * 1024.0;
                sink += Simd.roundedProduct(vs[i], dots[i]);
              }
              SimdVector.addRoundedColumns(R, off, c, d, vs, accD, j * d);
            } else {
              for (int i = 0; i < c; i++) {
                vf[i] = dots[i];
                sink += vf[i] * dots[i];
              }
              SimdVector.addTimes(R, off, 0, c, d, vf, 0, accF, j * d); // the project's float kernel
            }
          }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        double bytes = (double) pairs * d * 4;
        System.out.printf("rep %d %-22s %.3f s for %d pairs: %.1f ns/pair, %.1f GB/s of columns (%g)%n", rep,
            variant == 0 ? "double, rounded (today)" : "float FMA", s, pairs, s * 1e9 / pairs, bytes / s / 1e9, sink);
      }
    }
  }
}
