package dbksvd.linalg;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Random;

/**
 * Matching pursuit's steps on one thread at the paper's m = 4096 (a multiple of every vector length), k = 20: per
 * step p -= a·G[:, j] fused with the max |p| of the next step's argmax, then the argmax located. G read as floats (today: 16 KiB a column) against G
 * kept as bfloat16 (8 KiB, widened on the fly), to bound what halving the bytes of G would buy — not what dbksvd runs.
 * A benchmark, not a test (docs/benchmarks.md, "Where an iteration's time goes"); after {@code mvn -q test-compile}:
 * {@code java --add-modules jdk.incubator.vector -cp target/test-classes:target/classes dbksvd.linalg.MpGramBench 6}
 */
public class MpGramBench {
  // the machine's widest floats; ints of the same shape, shorts of half of it (so S2I widens one into one)
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
  static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
      jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
  static final int L = F.length();

  /** p -= a·G[col] over m entries, G as floats; returns max |p| after the update. */
  static float stepFloat(float[] G, int col, int m, float a, float[] p) {
    FloatVector av = FloatVector.broadcast(F, a);
    FloatVector mx = FloatVector.zero(F);
    for (int r = 0; r < m; r += L) {
      FloatVector v = FloatVector.fromArray(F, G, col + r).mul(av.neg()).add(FloatVector.fromArray(F, p, r));
      v.intoArray(p, r);
      mx = mx.max(v.abs());
    }
    return mx.reduceLanes(VectorOperators.MAX);
  }

  /** The same with G as bfloat16 (the top 16 bits of each float). */
  static float stepBf16(short[] G, int col, int m, float a, float[] p) {
    FloatVector av = FloatVector.broadcast(F, a);
    FloatVector mx = FloatVector.zero(F);
    for (int r = 0; r < m; r += L) {
      FloatVector g = ((IntVector) ShortVector.fromArray(S, G, col + r).convertShape(VectorOperators.S2I, I, 0))
          .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v = g.mul(av.neg()).add(FloatVector.fromArray(F, p, r));
      v.intoArray(p, r);
      mx = mx.max(v.abs());
    }
    return mx.reduceLanes(VectorOperators.MAX);
  }

  static int locate(float[] p, float max) {
    for (int r = 0; r < p.length; r += L) {
      int first = FloatVector.fromArray(F, p, r).abs().compare(VectorOperators.EQ, max).firstTrue();
      if (first < L) {
        return r + first;
      }
    }
    return 0;
  }

  public static void main(String[] args) {
    int m = 4096, d = 256, k = 20, n = 4096;
    Random rnd = new Random(3);
    float[] D = new float[d * m];
    for (int i = 0; i < D.length; i++) D[i] = (float) rnd.nextGaussian();
    for (int j = 0; j < m; j++) {
      double s = 0;
      for (int i = 0; i < d; i++) s += D[j * d + i] * D[j * d + i];
      for (int i = 0; i < d; i++) D[j * d + i] /= (float) Math.sqrt(s);
    }
    float[] G = Blas.gram(D, d, m);
    short[] Gb = new short[G.length];
    for (int i = 0; i < G.length; i++) Gb[i] = (short) (Float.floatToRawIntBits(G[i]) >>> 16);
    float[][] P0 = new float[n][m];
    for (float[] p : P0) for (int i = 0; i < m; i++) p[i] = (float) rnd.nextGaussian();
    float[] p = new float[m];
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 6;
    for (int rep = 0; rep < reps; rep++) {
      for (int variant = 0; variant < 2; variant++) {
        long t0 = System.nanoTime();
        long sink = 0;
        for (int s = 0; s < n; s++) {
          System.arraycopy(P0[s], 0, p, 0, m);
          float mx = 0;
          for (float v : p) mx = Math.max(mx, Math.abs(v));
          for (int t = 0; t < k; t++) {
            int j = locate(p, mx);
            float a = p[j];
            mx = variant == 0 ? stepFloat(G, j * m, m, a, p) : stepBf16(Gb, j * m, m, a, p);
            sink += j;
          }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        System.out.printf("rep %d %-14s %.3f s: %.0f ns per step (%d)%n", rep, variant == 0 ? "G float" : "G bfloat16",
            sec, sec * 1e9 / ((double) n * k), sink);
      }
    }
  }
}
