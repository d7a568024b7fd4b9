package dbksvd.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API bodies of {@link Simd}'s kernels; only {@link Simd} calls them, and only after it found the module
 * present. Loops run over full vectors, then a scalar tail with the same arithmetic. Lane sums of reductions go
 * through a fixed tree of lane rotations ({@link #sumLanes}).
 */
final class SimdVector {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int L = F.length();
  /** Integers in a vector of F's size, for the bits of |p| in the argmax. */
  static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
  /** Doubles in a vector of F's size: half of F's lanes, so one float vector widens into two. */
  static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());

  private SimdVector() {}

  static String species() {
    return "FloatVector " + F.vectorBitSize() + " bits (" + L + " lanes)";
  }

  // Rotations by 32, 16, …, 1 lanes (those shorter than a vector): the fixed summation tree of sumLanes. Static
  // final fields, not an array, so that C2 sees each shuffle's exact class and intrinsifies rearrange; a shuffle
  // read from an array can fall back to the boxed Java implementation, some compilations but not others.
  private static final VectorShuffle<Float> R32 = rotation(32);
  private static final VectorShuffle<Float> R16 = rotation(16);
  private static final VectorShuffle<Float> R8 = rotation(8);
  private static final VectorShuffle<Float> R4 = rotation(4);
  private static final VectorShuffle<Float> R2 = rotation(2);
  private static final VectorShuffle<Float> R1 = rotation(1);

  private static VectorShuffle<Float> rotation(int by) {
    return by < L ? VectorShuffle.iota(F, by, 1, true) : null;
  }

  /**
   * Sum of the lanes by a fixed tree (v + v rotated by L/2, then by L/4, …, 1): plain lane-wise adds, so the same
   * bits in the interpreter and in compiled code, which {@code reduceLanes(ADD)} does not promise.
   */
  static float sumLanes(FloatVector v) {
    if (L > 32) {
      v = v.add(v.rearrange(R32));
    }
    if (L > 16) {
      v = v.add(v.rearrange(R16));
    }
    if (L > 8) {
      v = v.add(v.rearrange(R8));
    }
    if (L > 4) {
      v = v.add(v.rearrange(R4));
    }
    if (L > 2) {
      v = v.add(v.rearrange(R2));
    }
    if (L > 1) {
      v = v.add(v.rearrange(R1));
    }
    return v.lane(0);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // argmax |p|, ties to the smallest index, in two steps: the pass keeps only lane-wise maxima, then a scan of p (in
  // L1 by now) returns the first index whose |p| equals the maximum. The maxima are taken on the bits of |p| as
  // integers, which order non-negative floats as the floats themselves: an integer max is one cheap instruction
  // where a float max (with Math.max's NaN and −0 rules) is a chain of several, and that chain, not memory, would
  // bound the pass. Exact: max is order-free and equality of bits is equality of |p|. A NaN has larger bits than
  // any number; its maximum makes the caller fall back to the scalar rule, which skips NaN.

  private static final int ABS = 0x7fffffff;
  /** Bits of +∞: a maximum above it is a NaN. */
  private static final int INF = 0x7f800000;

  /** Bits of |v|, lane-wise. */
  private static IntVector absBits(FloatVector v) {
    return ((IntVector) v.reinterpretShape(I, 0)).and(ABS);
  }

  /**
   * First i in [0, len) with the bits of |p[off+i]| equal to best (bits of a number above the floor's), or -2 when
   * best is a NaN or nothing matches.
   */
  private static int locate(float[] p, int off, int len, int best) {
    if (best > INF) {
      return -2;
    }
    IntVector bv = IntVector.broadcast(I, best);
    int bound = F.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      if (absBits(FloatVector.fromArray(F, p, off + i)).compare(VectorOperators.EQ, bv).anyTrue()) {
        break;
      }
    }
    for (; i < len; i++) {
      if ((Float.floatToRawIntBits(p[off + i]) & ABS) == best) {
        return i;
      }
    }
    return -2;
  }

  /** The answer for a maximum of bits {@code best}: -1 when not above the floor, else located (-2: fall back). */
  private static int answer(float[] p, int off, int len, int best, float floor) {
    if (best <= INF && !(Float.intBitsToFloat(best) > floor)) {
      return -1;
    }
    return locate(p, off, len, best);
  }

  private static int maxBitsTail(float[] p, int off, int from, int len, int best) {
    for (int i = from; i < len; i++) {
      best = Math.max(best, Float.floatToRawIntBits(p[off + i]) & ABS);
    }
    return best;
  }

  static int argmaxAbs(float[] p, int off, int len, float floor) {
    IntVector m0 = IntVector.zero(I), m1 = m0;
    int bound2 = len - len % (2 * L);
    int i = 0;
    for (; i < bound2; i += 2 * L) {
      m0 = m0.max(absBits(FloatVector.fromArray(F, p, off + i)));
      m1 = m1.max(absBits(FloatVector.fromArray(F, p, off + i + L)));
    }
    for (; i + L <= len; i += L) {
      m0 = m0.max(absBits(FloatVector.fromArray(F, p, off + i)));
    }
    int best = maxBitsTail(p, off, i, len, m0.max(m1).reduceLanes(VectorOperators.MAX));
    int j = len == 0 ? -1 : answer(p, off, len, best, floor);
    return j == -2 ? Simd.argmaxAbsScalar(p, off, len, floor) : j;
  }

  /** p −= a·g; returns the bits of max |p| (then {@link #locateAfterZero}). */
  static int subtractScaledMaxAbs(float[] p, int pOff, int len, float a, float[] g, int gOff) {
    FloatVector av = FloatVector.broadcast(F, a);
    IntVector m0 = IntVector.zero(I), m1 = m0;
    int bound2 = len - len % (2 * L);
    int i = 0;
    for (; i < bound2; i += 2 * L) {
      FloatVector v0 = FloatVector.fromArray(F, p, pOff + i).sub(FloatVector.fromArray(F, g, gOff + i).mul(av));
      FloatVector v1 = FloatVector.fromArray(F, p, pOff + i + L)
          .sub(FloatVector.fromArray(F, g, gOff + i + L).mul(av));
      v0.intoArray(p, pOff + i);
      v1.intoArray(p, pOff + i + L);
      m0 = m0.max(absBits(v0));
      m1 = m1.max(absBits(v1));
    }
    for (; i + L <= len; i += L) {
      FloatVector v0 = FloatVector.fromArray(F, p, pOff + i).sub(FloatVector.fromArray(F, g, gOff + i).mul(av));
      v0.intoArray(p, pOff + i);
      m0 = m0.max(absBits(v0));
    }
    int best = m0.max(m1).reduceLanes(VectorOperators.MAX);
    for (; i < len; i++) {
      float v = p[pOff + i] - a * g[gOff + i];
      p[pOff + i] = v;
      best = Math.max(best, Float.floatToRawIntBits(v) & ABS);
    }
    return best;
  }

  /**
   * The argmax after {@link #subtractScaledMaxAbs} and the zeroing of one entry: the first entry equal to the
   * maximum seen before the zeroing is the answer; none (the maximum was the zeroed entry, or a NaN) means a full
   * search.
   */
  static int locateAfterZero(float[] p, int off, int len, int best, float floor) {
    int j = answer(p, off, len, best, floor);
    return j >= 0 ? j : Simd.argmaxAbsScalar(p, off, len, floor);
  }

  static int subtractColumnsArgmaxAbs(float[] alpha, int aOff, float[] alpha0, int len, float[] G, int[] colOff,
      float[] gamma, int size) {
    IntVector m0 = IntVector.zero(I);
    int bound = F.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(F, alpha0, i);
      for (int r = 0; r < size; r++) {
        v = v.sub(FloatVector.fromArray(F, G, colOff[r] + i).mul(gamma[r]));
      }
      v.intoArray(alpha, aOff + i);
      m0 = m0.max(absBits(v));
    }
    int best = m0.reduceLanes(VectorOperators.MAX);
    for (; i < len; i++) {
      float v = alpha0[i];
      for (int r = 0; r < size; r++) {
        v -= gamma[r] * G[colOff[r] + i];
      }
      alpha[aOff + i] = v;
      best = Math.max(best, Float.floatToRawIntBits(v) & ABS);
    }
    int j = len == 0 ? -1 : answer(alpha, aOff, len, best, 0f);
    return j == -2 ? Simd.argmaxAbsScalar(alpha, aOff, len, 0f) : j;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // element-wise

  static void axpy(int n, float a, float[] x, int offX, float[] y, int offY) {
    int bound = F.loopBound(n);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector.fromArray(F, y, offY + i).add(FloatVector.fromArray(F, x, offX + i).mul(a))
          .intoArray(y, offY + i);
    }
    for (; i < n; i++) {
      y[offY + i] += a * x[offX + i];
    }
  }

  /** y −= x·a. */
  static void subtractScaled(int n, float a, float[] x, int offX, float[] y, int offY) {
    int bound = F.loopBound(n);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector.fromArray(F, y, offY + i).sub(FloatVector.fromArray(F, x, offX + i).mul(a))
          .intoArray(y, offY + i);
    }
    for (; i < n; i++) {
      y[offY + i] -= x[offX + i] * a;
    }
  }

  static void scale(int n, float a, float[] x, int offX, float[] y, int offY) {
    int bound = F.loopBound(n);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector.fromArray(F, x, offX + i).mul(a).intoArray(y, offY + i);
    }
    for (; i < n; i++) {
      y[offY + i] = a * x[offX + i];
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // reductions

  static double dot(int n, float[] x, int offX, float[] y, int offY) {
    // four accumulators: one alone would leave the loop bound by the FMA latency
    FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int bound4 = n - n % (4 * L);
    int i = 0;
    for (; i < bound4; i += 4 * L) {
      acc0 = FloatVector.fromArray(F, x, offX + i).fma(FloatVector.fromArray(F, y, offY + i), acc0);
      acc1 = FloatVector.fromArray(F, x, offX + i + L).fma(FloatVector.fromArray(F, y, offY + i + L), acc1);
      acc2 = FloatVector.fromArray(F, x, offX + i + 2 * L).fma(FloatVector.fromArray(F, y, offY + i + 2 * L), acc2);
      acc3 = FloatVector.fromArray(F, x, offX + i + 3 * L).fma(FloatVector.fromArray(F, y, offY + i + 3 * L), acc3);
    }
    for (; i + L <= n; i += L) {
      acc0 = FloatVector.fromArray(F, x, offX + i).fma(FloatVector.fromArray(F, y, offY + i), acc0);
    }
    float tail = 0f;
    for (; i < n; i++) {
      tail = Math.fma(x[offX + i], y[offY + i], tail);
    }
    return (double) sumLanes(acc0.add(acc1).add(acc2.add(acc3))) + tail;
  }

  /** Rows per block of {@link #gram}: a block of every column (c·256 floats) mostly stays in L1 across its tiles. */
  static final int GRAM_ROWS = 256;
  private static final ThreadLocal<float[]> GRAM_ACC = ThreadLocal.withInitial(() -> new float[0]);

  /**
   * K = EᵀE by tiles of 4 × 2 columns: per vector of rows, 6 loads feed 8 FMAs into 8 accumulators (11 registers,
   * which AVX2's 16 hold). Rows go in blocks of {@link #GRAM_ROWS}, all tiles of a block before the next, so the
   * loads hit L1 rather than L2 (about 1.4× faster at |Ω| = 40, d = 2304); the accumulators are parked in an array
   * between blocks, so each lane still sums its rows in order and the bits do not depend on the blocking. Columns
   * left over (c mod 4 rows of tiles, c mod 2 columns) use plain dot products. With u not null, also s = Eᵀu, from
   * a 4 × 1 tile per tile row whose loads are in L1 already: the start vector of the Lanczos iteration on K, for
   * almost nothing.
   */
  static void gram(float[] A, int[] off, int c, int d, double[] K, float[] u, float[] su) {
    int bound = F.loopBound(d);
    int c4 = c - c % 4;
    int c2 = c - c % 2;
    int tiles = 0;
    for (int bi = 0; bi < c4; bi += 4) {
      tiles += (c2 - bi) / 2;
    }
    int uAcc = tiles * 8 * L; // then c4 accumulators of Eᵀu
    int size = uAcc + c4 * L;
    float[] acc = GRAM_ACC.get();
    if (acc.length < size) {
      acc = new float[size];
      GRAM_ACC.set(acc);
    }
    java.util.Arrays.fill(acc, 0, size, 0f);
    for (int r0 = 0; r0 < bound; r0 += GRAM_ROWS) {
      int r1 = Math.min(bound, r0 + GRAM_ROWS);
      int t = 0;
      for (int bi = 0; bi < c4; bi += 4) {
        int a0 = off[bi], a1 = off[bi + 1], a2 = off[bi + 2], a3 = off[bi + 3];
        for (int bj = bi; bj < c2; bj += 2, t += 8 * L) {
          int b0 = off[bj], b1 = off[bj + 1];
          FloatVector s00 = FloatVector.fromArray(F, acc, t), s01 = FloatVector.fromArray(F, acc, t + L);
          FloatVector s10 = FloatVector.fromArray(F, acc, t + 2 * L), s11 = FloatVector.fromArray(F, acc, t + 3 * L);
          FloatVector s20 = FloatVector.fromArray(F, acc, t + 4 * L), s21 = FloatVector.fromArray(F, acc, t + 5 * L);
          FloatVector s30 = FloatVector.fromArray(F, acc, t + 6 * L), s31 = FloatVector.fromArray(F, acc, t + 7 * L);
          for (int r = r0; r < r1; r += L) {
            FloatVector y0 = FloatVector.fromArray(F, A, b0 + r);
            FloatVector y1 = FloatVector.fromArray(F, A, b1 + r);
            FloatVector x = FloatVector.fromArray(F, A, a0 + r);
            s00 = x.fma(y0, s00);
            s01 = x.fma(y1, s01);
            x = FloatVector.fromArray(F, A, a1 + r);
            s10 = x.fma(y0, s10);
            s11 = x.fma(y1, s11);
            x = FloatVector.fromArray(F, A, a2 + r);
            s20 = x.fma(y0, s20);
            s21 = x.fma(y1, s21);
            x = FloatVector.fromArray(F, A, a3 + r);
            s30 = x.fma(y0, s30);
            s31 = x.fma(y1, s31);
          }
          s00.intoArray(acc, t);
          s01.intoArray(acc, t + L);
          s10.intoArray(acc, t + 2 * L);
          s11.intoArray(acc, t + 3 * L);
          s20.intoArray(acc, t + 4 * L);
          s21.intoArray(acc, t + 5 * L);
          s30.intoArray(acc, t + 6 * L);
          s31.intoArray(acc, t + 7 * L);
        }
        if (u != null) {
          int tu = uAcc + bi * L;
          FloatVector s0 = FloatVector.fromArray(F, acc, tu), s1 = FloatVector.fromArray(F, acc, tu + L);
          FloatVector s2 = FloatVector.fromArray(F, acc, tu + 2 * L), s3 = FloatVector.fromArray(F, acc, tu + 3 * L);
          for (int r = r0; r < r1; r += L) {
            FloatVector y = FloatVector.fromArray(F, u, r);
            s0 = FloatVector.fromArray(F, A, a0 + r).fma(y, s0);
            s1 = FloatVector.fromArray(F, A, a1 + r).fma(y, s1);
            s2 = FloatVector.fromArray(F, A, a2 + r).fma(y, s2);
            s3 = FloatVector.fromArray(F, A, a3 + r).fma(y, s3);
          }
          s0.intoArray(acc, tu);
          s1.intoArray(acc, tu + L);
          s2.intoArray(acc, tu + 2 * L);
          s3.intoArray(acc, tu + 3 * L);
        }
      }
    }
    if (u != null) {
      for (int i = 0; i < c; i++) {
        su[i] = i < c4 ? (float) ((double) sumLanes(FloatVector.fromArray(F, acc, uAcc + i * L))
            + tail(A, off[i], u, 0, bound, d)) : (float) dot(d, A, off[i], u, 0);
      }
    }
    int t = 0;
    for (int bi = 0; bi < c4; bi += 4) {
      for (int bj = bi; bj < c2; bj += 2, t += 8 * L) {
        for (int p = 0; p < 4; p++) {
          for (int q = 0; q < 2; q++) {
            int i = bi + p, j = bj + q;
            FloatVector sv = FloatVector.fromArray(F, acc, t + (2 * p + q) * L);
            put(K, c, i, j, (double) sumLanes(sv) + tail(A, off[i], A, off[j], bound, d));
          }
        }
      }
      for (int j = c2; j < c; j++) {
        for (int i = bi; i < bi + 4; i++) {
          putDot(K, c, A, off, d, i, j);
        }
      }
    }
    for (int i = c4; i < c; i++) {
      for (int j = i; j < c; j++) {
        putDot(K, c, A, off, d, i, j);
      }
    }
  }

  private static void putDot(double[] K, int c, float[] A, int[] off, int d, int i, int j) {
    put(K, c, i, j, dot(d, A, off[i], A, off[j]));
  }

  private static void put(double[] K, int c, int i, int j, double v) {
    K[i * c + j] = v;
    K[j * c + i] = v;
  }

  /** Σ A[x+r]·B[y+r] for r in [from, to), by scalar FMAs: the rows after the last full vector. */
  private static float tail(float[] A, int x, float[] B, int y, int from, int to) {
    float t = 0f;
    for (int r = from; r < to; r++) {
      t = Math.fma(A[x + r], B[y + r], t);
    }
    return t;
  }

  /**
   * s_i = e_iᵀq for the c columns of E, four columns per pass over q (5 loads per 4 FMAs instead of 2 per FMA),
   * each with two accumulators (even and odd vectors) so that 8 FMAs are in flight.
   */
  static void transposeTimes(float[] A, int[] off, int c, int d, float[] q, int qOff, float[] s) {
    int bound2 = d - d % (2 * L);
    int i = 0;
    for (; i + 4 <= c; i += 4) {
      int o0 = off[i], o1 = off[i + 1], o2 = off[i + 2], o3 = off[i + 3];
      FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      int r = 0;
      for (; r < bound2; r += 2 * L) {
        FloatVector x = FloatVector.fromArray(F, q, qOff + r);
        a0 = FloatVector.fromArray(F, A, o0 + r).fma(x, a0);
        a1 = FloatVector.fromArray(F, A, o1 + r).fma(x, a1);
        a2 = FloatVector.fromArray(F, A, o2 + r).fma(x, a2);
        a3 = FloatVector.fromArray(F, A, o3 + r).fma(x, a3);
        x = FloatVector.fromArray(F, q, qOff + r + L);
        b0 = FloatVector.fromArray(F, A, o0 + r + L).fma(x, b0);
        b1 = FloatVector.fromArray(F, A, o1 + r + L).fma(x, b1);
        b2 = FloatVector.fromArray(F, A, o2 + r + L).fma(x, b2);
        b3 = FloatVector.fromArray(F, A, o3 + r + L).fma(x, b3);
      }
      if (r + L <= d) {
        FloatVector x = FloatVector.fromArray(F, q, qOff + r);
        a0 = FloatVector.fromArray(F, A, o0 + r).fma(x, a0);
        a1 = FloatVector.fromArray(F, A, o1 + r).fma(x, a1);
        a2 = FloatVector.fromArray(F, A, o2 + r).fma(x, a2);
        a3 = FloatVector.fromArray(F, A, o3 + r).fma(x, a3);
        r += L;
      }
      s[i] = (float) ((double) sumLanes(a0.add(b0)) + tail(A, o0, q, qOff, r, d));
      s[i + 1] = (float) ((double) sumLanes(a1.add(b1)) + tail(A, o1, q, qOff, r, d));
      s[i + 2] = (float) ((double) sumLanes(a2.add(b2)) + tail(A, o2, q, qOff, r, d));
      s[i + 3] = (float) ((double) sumLanes(a3.add(b3)) + tail(A, o3, q, qOff, r, d));
    }
    for (; i < c; i++) {
      s[i] = (float) dot(d, A, off[i], q, qOff);
    }
  }

  static void times(float[] A, int[] off, int c, int d, float[] v, int vOff, float[] w, int wOff) {
    java.util.Arrays.fill(w, wOff, wOff + d, 0f);
    int bound = F.loopBound(d);
    int i = 0;
    for (; i + 4 <= c; i += 4) {
      int o0 = off[i], o1 = off[i + 1], o2 = off[i + 2], o3 = off[i + 3];
      float v0 = v[vOff + i], v1 = v[vOff + i + 1], v2 = v[vOff + i + 2], v3 = v[vOff + i + 3];
      int r = 0;
      for (; r < bound; r += L) {
        FloatVector acc = FloatVector.fromArray(F, w, wOff + r);
        acc = acc.add(FloatVector.fromArray(F, A, o0 + r).mul(v0));
        acc = acc.add(FloatVector.fromArray(F, A, o1 + r).mul(v1));
        acc = acc.add(FloatVector.fromArray(F, A, o2 + r).mul(v2));
        acc = acc.add(FloatVector.fromArray(F, A, o3 + r).mul(v3));
        acc.intoArray(w, wOff + r);
      }
      for (; r < d; r++) {
        float acc = w[wOff + r];
        acc += v0 * A[o0 + r];
        acc += v1 * A[o1 + r];
        acc += v2 * A[o2 + r];
        acc += v3 * A[o3 + r];
        w[wOff + r] = acc;
      }
    }
    for (; i < c; i++) {
      axpy(d, v[vOff + i], A, off[i], w, wOff);
    }
  }

  /** Σ x² in double lanes: each float vector is widened to two double vectors and squared there. */
  static double sqNormDouble(int n, float[] x, int off) {
    DoubleVector acc0 = DoubleVector.zero(D);
    DoubleVector acc1 = DoubleVector.zero(D);
    int bound = F.loopBound(n);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(F, x, off + i);
      DoubleVector lo = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
      DoubleVector hi = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 1);
      acc0 = lo.fma(lo, acc0);
      acc1 = hi.fma(hi, acc1);
    }
    double s = 0;
    for (; i < n; i++) {
      double v = x[off + i];
      s += v * v;
    }
    DoubleVector acc = acc0.add(acc1);
    for (int t = 0; t < D.length(); t++) {
      s += acc.lane(t);
    }
    return s;
  }
}
