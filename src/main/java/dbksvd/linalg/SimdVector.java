package dbksvd.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API bodies of {@link Simd}'s kernels; only {@link Simd} calls them, and only after it found the module
 * present. Loops run over full vectors, then a scalar tail with the same arithmetic.
 *
 * <p>Two rules keep C2 from falling back to the boxed, allocating Java implementation of vector operations (10× to
 * 50× slower, and only in some compilations, which makes it look like noise): no vector value crosses a call that
 * might not be inlined (lanes are summed after {@code intoArray}, in lane order, never with
 * {@code reduceLanes(ADD)}, whose order may also differ between the interpreter and compiled code), and each loop
 * nest with many vector operations is a method of its own, so that no compilation unit reaches C2's inlining
 * cut-offs.
 */
final class SimdVector {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int L = F.length();
  /** Per-thread buffer for lane sums (8 vectors). */
  private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * L]);
  /** Per-thread accumulators of {@link #gram}, parked between row blocks. */
  private static final ThreadLocal<float[]> GRAM_ACC = ThreadLocal.withInitial(() -> new float[0]);

  private SimdVector() {}

  static String species() {
    return "FloatVector " + F.vectorBitSize() + " bits (" + L + " lanes)";
  }

  /** Sum of buf[off .. off+L) in lane order, in double. */
  private static double laneSum(float[] buf, int off) {
    double s = 0;
    for (int i = 0; i < L; i++) {
      s += buf[off + i];
    }
    return s;
  }

  /** Σ A[x+r]·B[y+r] for r in [from, to), by scalar FMAs: the rows after the last full vector. */
  private static float tail(float[] A, int x, float[] B, int y, int from, int to) {
    float t = 0f;
    for (int r = from; r < to; r++) {
      t = Math.fma(A[x + r], B[y + r], t);
    }
    return t;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // argmax |p|, ties to the smallest index, in two steps: the pass keeps only lane-wise maxima of |p|, then a scan
  // of p (in L1 by now) returns the first index whose |p| equals the maximum. Exact: max is order-free, and for
  // non-negative floats equal values are equal bits. A NaN propagates through the float max; its bits are above
  // INF, which makes the caller fall back to the scalar rule (it skips NaN). The maxima were taken on the bits of
  // |p| as integers (a FloatVector reinterpreted as an IntVector) until 2026-12-03: in about one JVM in three C2
  // compiled that reinterpretation into a path several times slower for the JVM's whole life (docs/benchmarks.md,
  // the headline rerun); the float abs and max compile to vector instructions in every JVM measured since.

  private static final int ABS = 0x7fffffff;
  /** Bits of +∞: a maximum above it is a NaN. */
  private static final int INF = 0x7f800000;

  /** The bits of |x| for a lane-wise maximum of |p|: how the scans compare it (NaN: above INF). */
  private static int bits(float x) {
    return Float.floatToRawIntBits(x) & ABS;
  }

  /**
   * First i in [0, len) with the bits of |p[off+i]| equal to best (bits of a number above the floor's), or -2 when
   * best is a NaN or nothing matches.
   */
  private static int locate(float[] p, int off, int len, int best) {
    if (best > INF) {
      return -2;
    }
    FloatVector bv = FloatVector.broadcast(F, Float.intBitsToFloat(best));
    int bound = F.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      if (FloatVector.fromArray(F, p, off + i).abs().compare(VectorOperators.EQ, bv).anyTrue()) {
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
    FloatVector m0 = FloatVector.zero(F), m1 = m0;
    int bound2 = len - len % (2 * L);
    int i = 0;
    for (; i < bound2; i += 2 * L) {
      m0 = m0.max(FloatVector.fromArray(F, p, off + i).abs());
      m1 = m1.max(FloatVector.fromArray(F, p, off + i + L).abs());
    }
    for (; i + L <= len; i += L) {
      m0 = m0.max(FloatVector.fromArray(F, p, off + i).abs());
    }
    int best = maxBitsTail(p, off, i, len, bits(m0.max(m1).reduceLanes(VectorOperators.MAX)));
    int j = len == 0 ? -1 : answer(p, off, len, best, floor);
    return j == -2 ? Simd.argmaxAbsScalar(p, off, len, floor) : j;
  }

  /** p −= a·g; returns the bits of max |p| (then {@link #locateAfterZero}). */
  static int subtractScaledMaxAbs(float[] p, int pOff, int len, float a, float[] g, int gOff) {
    FloatVector av = FloatVector.broadcast(F, a);
    FloatVector m0 = FloatVector.zero(F), m1 = m0;
    int bound2 = len - len % (2 * L);
    int i = 0;
    for (; i < bound2; i += 2 * L) {
      FloatVector v0 = FloatVector.fromArray(F, p, pOff + i).sub(FloatVector.fromArray(F, g, gOff + i).mul(av));
      FloatVector v1 = FloatVector.fromArray(F, p, pOff + i + L)
          .sub(FloatVector.fromArray(F, g, gOff + i + L).mul(av));
      v0.intoArray(p, pOff + i);
      v1.intoArray(p, pOff + i + L);
      m0 = m0.max(v0.abs());
      m1 = m1.max(v1.abs());
    }
    for (; i + L <= len; i += L) {
      FloatVector v0 = FloatVector.fromArray(F, p, pOff + i).sub(FloatVector.fromArray(F, g, gOff + i).mul(av));
      v0.intoArray(p, pOff + i);
      m0 = m0.max(v0.abs());
    }
    int best = bits(m0.max(m1).reduceLanes(VectorOperators.MAX));
    for (; i < len; i++) {
      float v = p[pOff + i] - a * g[gOff + i];
      p[pOff + i] = v;
      best = Math.max(best, Float.floatToRawIntBits(v) & ABS);
    }
    return best;
  }

  /** {@link #subtractScaledMaxAbs} of two vectors in one pass; the two maxima's bits as {@code hi << 32 | lo}. */
  static long subtractScaledMaxAbs2(float[] p, int p1Off, int p2Off, int len, float a1, float a2, float[] g,
      int g1Off, int g2Off) {
    FloatVector av1 = FloatVector.broadcast(F, a1), av2 = FloatVector.broadcast(F, a2);
    FloatVector m1 = FloatVector.zero(F), m2 = m1;
    int bound = F.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector v1 = FloatVector.fromArray(F, p, p1Off + i).sub(FloatVector.fromArray(F, g, g1Off + i).mul(av1));
      FloatVector v2 = FloatVector.fromArray(F, p, p2Off + i).sub(FloatVector.fromArray(F, g, g2Off + i).mul(av2));
      v1.intoArray(p, p1Off + i);
      v2.intoArray(p, p2Off + i);
      m1 = m1.max(v1.abs());
      m2 = m2.max(v2.abs());
    }
    int b1 = bits(m1.reduceLanes(VectorOperators.MAX)), b2 = bits(m2.reduceLanes(VectorOperators.MAX));
    for (; i < len; i++) {
      float v1 = p[p1Off + i] - a1 * g[g1Off + i];
      float v2 = p[p2Off + i] - a2 * g[g2Off + i];
      p[p1Off + i] = v1;
      p[p2Off + i] = v2;
      b1 = Math.max(b1, Float.floatToRawIntBits(v1) & ABS);
      b2 = Math.max(b2, Float.floatToRawIntBits(v2) & ABS);
    }
    return ((long) b1 << 32) | (b2 & 0xffffffffL);
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
    FloatVector m0 = FloatVector.zero(F);
    int bound = F.loopBound(len);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(F, alpha0, i);
      for (int r = 0; r < size; r++) {
        v = v.sub(FloatVector.fromArray(F, G, colOff[r] + i).mul(gamma[r]));
      }
      v.intoArray(alpha, aOff + i);
      m0 = m0.max(v.abs());
    }
    int best = bits(m0.reduceLanes(VectorOperators.MAX));
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

  static void axpyColumns(int n, float[] a, float[] x, int[] xOff, int c, float[] y, int offY) {
    int t = 0;
    for (; t + 4 <= c; t += 4) {
      axpy4(n, a[t], a[t + 1], a[t + 2], a[t + 3], x, xOff[t], xOff[t + 1], xOff[t + 2], xOff[t + 3], y, offY);
    }
    for (; t < c; t++) {
      axpy(n, a[t], x, xOff[t], y, offY);
    }
  }

  /** y = (((y + a0·x0) + a1·x1) + a2·x2) + a3·x3 entry by entry: four axpy calls' bits, four streams at once. */
  private static void axpy4(int n, float a0, float a1, float a2, float a3, float[] x, int o0, int o1, int o2, int o3,
      float[] y, int offY) {
    int bound = F.loopBound(n);
    int i = 0;
    for (; i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(F, y, offY + i);
      v = v.add(FloatVector.fromArray(F, x, o0 + i).mul(a0));
      v = v.add(FloatVector.fromArray(F, x, o1 + i).mul(a1));
      v = v.add(FloatVector.fromArray(F, x, o2 + i).mul(a2));
      v = v.add(FloatVector.fromArray(F, x, o3 + i).mul(a3));
      v.intoArray(y, offY + i);
    }
    for (; i < n; i++) {
      float v = y[offY + i];
      v += a0 * x[o0 + i];
      v += a1 * x[o1 + i];
      v += a2 * x[o2 + i];
      v += a3 * x[o3 + i];
      y[offY + i] = v;
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

  /**
   * w = Σ_i v_i·e_i by fused multiply-adds, columns in order (so the bits do not depend on the grouping), eight
   * columns per pass over w, then one at a time.
   */
  static void times(float[] A, int[] off, int c, int d, float[] v, int vOff, float[] w, int wOff) {
    java.util.Arrays.fill(w, wOff, wOff + d, 0f);
    addTimes(A, off, 0, c, d, v, vOff, w, wOff);
  }

  /** w += Σ_{i in [from, c)} v_{vOff+i}·e_i. */
  static void addTimes(float[] A, int[] off, int from, int c, int d, float[] v, int vOff, float[] w,
      int wOff) {
    int i = from;
    for (; i + 8 <= c; i += 8) {
      addTimes8(A, off, i, d, v, vOff, w, wOff);
    }
    for (; i < c; i++) {
      addTimes1(A, off[i], d, v[vOff + i], w, wOff);
    }
  }

  private static void addTimes8(float[] A, int[] off, int i, int d, float[] v, int vOff, float[] w, int wOff) {
    int o0 = off[i], o1 = off[i + 1], o2 = off[i + 2], o3 = off[i + 3];
    int o4 = off[i + 4], o5 = off[i + 5], o6 = off[i + 6], o7 = off[i + 7];
    FloatVector v0 = FloatVector.broadcast(F, v[vOff + i]), v1 = FloatVector.broadcast(F, v[vOff + i + 1]);
    FloatVector v2 = FloatVector.broadcast(F, v[vOff + i + 2]), v3 = FloatVector.broadcast(F, v[vOff + i + 3]);
    FloatVector v4 = FloatVector.broadcast(F, v[vOff + i + 4]), v5 = FloatVector.broadcast(F, v[vOff + i + 5]);
    FloatVector v6 = FloatVector.broadcast(F, v[vOff + i + 6]), v7 = FloatVector.broadcast(F, v[vOff + i + 7]);
    int bound = F.loopBound(d);
    int r = 0;
    for (; r < bound; r += L) {
      FloatVector acc = FloatVector.fromArray(F, w, wOff + r);
      acc = FloatVector.fromArray(F, A, o0 + r).fma(v0, acc);
      acc = FloatVector.fromArray(F, A, o1 + r).fma(v1, acc);
      acc = FloatVector.fromArray(F, A, o2 + r).fma(v2, acc);
      acc = FloatVector.fromArray(F, A, o3 + r).fma(v3, acc);
      acc = FloatVector.fromArray(F, A, o4 + r).fma(v4, acc);
      acc = FloatVector.fromArray(F, A, o5 + r).fma(v5, acc);
      acc = FloatVector.fromArray(F, A, o6 + r).fma(v6, acc);
      acc = FloatVector.fromArray(F, A, o7 + r).fma(v7, acc);
      acc.intoArray(w, wOff + r);
    }
    for (; r < d; r++) {
      float acc = w[wOff + r];
      for (int k = 0; k < 8; k++) {
        acc = Math.fma(A[off[i + k] + r], v[vOff + i + k], acc);
      }
      w[wOff + r] = acc;
    }
  }

  private static void addTimes1(float[] A, int o, int d, float a, float[] w, int wOff) {
    FloatVector va = FloatVector.broadcast(F, a);
    int bound = F.loopBound(d);
    int r = 0;
    for (; r < bound; r += L) {
      FloatVector.fromArray(F, A, o + r).fma(va, FloatVector.fromArray(F, w, wOff + r)).intoArray(w, wOff + r);
    }
    for (; r < d; r++) {
      w[wOff + r] = Math.fma(A[o + r], a, w[wOff + r]);
    }
  }

  /** Doubles in a vector of F's shape: half F's lanes. */
  private static final VectorSpecies<Double> D2 = VectorSpecies.of(double.class,
      jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize()));
  /** Floats in a vector of half F's shape: as many lanes as D2, so F2D widens one into one D2 (part 0, no slice). */
  private static final VectorSpecies<Float> FH = VectorSpecies.of(float.class,
      jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));

  // Until 2026-12-03 these kernels loaded a whole F vector and widened its halves (convertShape part 0, then part 1,
  // which slices): in about one JVM in ten C2 left both conversions to the Vector API's Java fallback (toArray,
  // blend) for the JVM's whole life, and a Jacobi pass took 3-4x as long (docs/benchmarks.md, "The Jacobi pass").
  // Loading half as many floats and widening them whole keeps every element's arithmetic, hence the same bits.

  static void addRounded(int n, double a, float[] x, int offX, double[] acc, int offAcc) {
    DoubleVector av = DoubleVector.broadcast(D2, a);
    DoubleVector round = DoubleVector.broadcast(D2, Simd.ROUND);
    int h = D2.length();
    int bound = n - n % h;
    int i = 0;
    for (; i < bound; i += h) {
      DoubleVector.fromArray(D2, acc, offAcc + i).add(widened(x, offX + i).fma(av, round).sub(round))
          .intoArray(acc, offAcc + i);
    }
    for (; i < n; i++) {
      acc[offAcc + i] += Simd.roundedProduct(a, x[offX + i]);
    }
  }

  /** Four columns per pass over acc (four independent streams from memory), then one at a time. */
  static void addRoundedColumns(float[] A, int[] off, int c, int d, double[] a, double[] acc, int accOff) {
    int i = 0;
    for (; i + 4 <= c; i += 4) {
      addRounded4(A, off[i], off[i + 1], off[i + 2], off[i + 3], d, a[i], a[i + 1], a[i + 2], a[i + 3], acc, accOff);
    }
    for (; i < c; i++) {
      addRounded(d, a[i], A, off[i], acc, accOff);
    }
  }

  // Columns in pairs: fma(a, x, C) = C + round(a·x) and fma(−a', x', C) = C − round(a'·x') both lie in (2^52, 2^53),
  // so their difference round(a·x) + round(a'·x') is exact (Sterbenz): one fma per product and one subtraction per
  // pair, instead of a product, the two-operation rounding and an add per product.
  private static void addRounded4(float[] A, int o0, int o1, int o2, int o3, int d, double a0, double a1, double a2,
      double a3, double[] acc, int accOff) {
    DoubleVector b0 = DoubleVector.broadcast(D2, a0), n1 = DoubleVector.broadcast(D2, -a1);
    DoubleVector b2 = DoubleVector.broadcast(D2, a2), n3 = DoubleVector.broadcast(D2, -a3);
    DoubleVector round = DoubleVector.broadcast(D2, Simd.ROUND);
    int h = D2.length();
    int bound = d - d % h;
    int r = 0;
    for (; r < bound; r += h) {
      int o = accOff + r;
      DoubleVector w = DoubleVector.fromArray(D2, acc, o);
      w = w.add(widened(A, o0 + r).fma(b0, round).sub(widened(A, o1 + r).fma(n1, round)));
      w = w.add(widened(A, o2 + r).fma(b2, round).sub(widened(A, o3 + r).fma(n3, round)));
      w.intoArray(acc, o);
    }
    for (; r < d; r++) {
      acc[accOff + r] += Simd.roundedProduct(a0, A[o0 + r]) + Simd.roundedProduct(a1, A[o1 + r])
          + Simd.roundedProduct(a2, A[o2 + r]) + Simd.roundedProduct(a3, A[o3 + r]);
    }
  }

  /** A[o .. o + D2.length()) as doubles. */
  private static DoubleVector widened(float[] A, int o) {
    return (DoubleVector) FloatVector.fromArray(FH, A, o).convertShape(VectorOperators.F2D, D2, 0);
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
    float[] buf = LANES.get();
    acc0.add(acc1).add(acc2.add(acc3)).intoArray(buf, 0);
    return laneSum(buf, 0) + tail(x, offX, y, offY, i, n);
  }

  /**
   * s_i = e_iᵀq for the c columns of E: eight columns per pass over q (9 loads per 8 FMAs), then four, then one; every
   * column by one FMA chain per lane, lanes summed in order, so a column's result is the same in any group.
   */
  static void transposeTimes(float[] A, int[] off, int c, int d, float[] q, int qOff, float[] s) {
    transposeTimes(A, off, 0, c, d, q, qOff, s);
  }

  /** s_i = e_iᵀq for the columns i in [from, c). */
  private static void transposeTimes(float[] A, int[] off, int from, int c, int d, float[] q, int qOff, float[] s) {
    float[] buf = LANES.get();
    int i = from;
    for (; i + 8 <= c; i += 8) {
      dots8(A, off, i, d, q, qOff, buf);
      sums(A, off, i, 8, d, q, qOff, buf, s);
    }
    for (; i + 4 <= c; i += 4) {
      dots4(A, off, i, d, q, qOff, buf);
      sums(A, off, i, 4, d, q, qOff, buf, s);
    }
    for (; i < c; i++) {
      dots1(A, off[i], d, q, qOff, buf);
      sums(A, off, i, 1, d, q, qOff, buf, s);
    }
  }

  /** One column with the arithmetic of one column of {@link #dots8}: a column's dot does not depend on its group. */
  private static void dots1(float[] A, int o, int d, float[] q, int qOff, float[] buf) {
    FloatVector a = FloatVector.zero(F);
    int bound = F.loopBound(d);
    for (int r = 0; r < bound; r += L) {
      a = FloatVector.fromArray(F, A, o + r).fma(FloatVector.fromArray(F, q, qOff + r), a);
    }
    a.intoArray(buf, 0);
  }

  /** s[i+k] from the accumulators in buf[k·L ..) and the scalar tail. */
  private static void sums(float[] A, int[] off, int i, int k, int d, float[] q, int qOff, float[] buf, float[] s) {
    int bound = F.loopBound(d);
    for (int t = 0; t < k; t++) {
      s[i + t] = (float) (laneSum(buf, t * L) + tail(A, off[i + t], q, qOff, bound, d));
    }
  }

  /** Accumulators of e_{i..i+7}ᵀq into buf[0 .. 8L): eight independent chains cover the FMA latency. */
  private static void dots8(float[] A, int[] off, int i, int d, float[] q, int qOff, float[] buf) {
    int o0 = off[i], o1 = off[i + 1], o2 = off[i + 2], o3 = off[i + 3];
    int o4 = off[i + 4], o5 = off[i + 5], o6 = off[i + 6], o7 = off[i + 7];
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    int bound = F.loopBound(d);
    for (int r = 0; r < bound; r += L) {
      FloatVector x = FloatVector.fromArray(F, q, qOff + r);
      a0 = FloatVector.fromArray(F, A, o0 + r).fma(x, a0);
      a1 = FloatVector.fromArray(F, A, o1 + r).fma(x, a1);
      a2 = FloatVector.fromArray(F, A, o2 + r).fma(x, a2);
      a3 = FloatVector.fromArray(F, A, o3 + r).fma(x, a3);
      a4 = FloatVector.fromArray(F, A, o4 + r).fma(x, a4);
      a5 = FloatVector.fromArray(F, A, o5 + r).fma(x, a5);
      a6 = FloatVector.fromArray(F, A, o6 + r).fma(x, a6);
      a7 = FloatVector.fromArray(F, A, o7 + r).fma(x, a7);
    }
    a0.intoArray(buf, 0);
    a1.intoArray(buf, L);
    a2.intoArray(buf, 2 * L);
    a3.intoArray(buf, 3 * L);
    a4.intoArray(buf, 4 * L);
    a5.intoArray(buf, 5 * L);
    a6.intoArray(buf, 6 * L);
    a7.intoArray(buf, 7 * L);
  }

  private static void dots4(float[] A, int[] off, int i, int d, float[] q, int qOff, float[] buf) {
    int o0 = off[i], o1 = off[i + 1], o2 = off[i + 2], o3 = off[i + 3];
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    int bound = F.loopBound(d);
    for (int r = 0; r < bound; r += L) {
      FloatVector x = FloatVector.fromArray(F, q, qOff + r);
      a0 = FloatVector.fromArray(F, A, o0 + r).fma(x, a0);
      a1 = FloatVector.fromArray(F, A, o1 + r).fma(x, a1);
      a2 = FloatVector.fromArray(F, A, o2 + r).fma(x, a2);
      a3 = FloatVector.fromArray(F, A, o3 + r).fma(x, a3);
    }
    a0.intoArray(buf, 0);
    a1.intoArray(buf, L);
    a2.intoArray(buf, 2 * L);
    a3.intoArray(buf, 3 * L);
  }

  /**
   * s = Eᵀq, then w = E·s, by blocks of 16 columns (144 KiB at d = 2304: L2) so that E is read once from L3 or
   * memory, the second use of each block coming from L2. The same bits as {@link #transposeTimes} then
   * {@link #times}.
   */
  static void gramTimes(float[] A, int[] off, int c, int d, float[] q, int qOff, float[] w, float[] s) {
    java.util.Arrays.fill(w, 0, d, 0f);
    for (int b = 0; b < c; b += 16) {
      int e = Math.min(c, b + 16);
      transposeTimes(A, off, b, e, d, q, qOff, s);
      addTimes(A, off, b, e, d, s, 0, w, 0); // s is indexed by column
    }
  }

  /** Rows per block of {@link #gram}: a block of every column (c·256 floats) mostly stays in L1 across its tiles. */
  static final int GRAM_ROWS = 256;

  /**
   * K = EᵀE by tiles of 4 × 2 columns: per vector of rows, 6 loads feed 8 FMAs into 8 accumulators (11 registers,
   * which AVX2's 16 hold). Rows go in blocks of {@link #GRAM_ROWS}, all tiles of a block before the next, so the
   * loads mostly hit L1 rather than L2; the accumulators are parked in an array between blocks, so each lane still
   * sums its rows in order and the bits do not depend on the blocking. Columns left over (c mod 4 rows of tiles,
   * c mod 2 columns) use plain dot products. With u not null, also s = Eᵀu, from a 4 × 1 tile per tile row whose
   * loads are in L1 already: the start vector of the Lanczos iteration on K, for almost nothing. Meant for c up to
   * about 64: the parked accumulators grow as c².
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
        for (int bj = bi; bj < c2; bj += 2, t += 8 * L) {
          gramTile(A, off, bi, bj, r0, r1, acc, t);
        }
        if (u != null) {
          gramTileU(A, off, bi, r0, r1, u, acc, uAcc + bi * L);
        }
      }
    }
    int t = 0;
    for (int bi = 0; bi < c4; bi += 4) {
      for (int bj = bi; bj < c2; bj += 2, t += 8 * L) {
        for (int p = 0; p < 4; p++) {
          for (int q = 0; q < 2; q++) {
            int i = bi + p, j = bj + q;
            put(K, c, i, j, laneSum(acc, t + (2 * p + q) * L) + tail(A, off[i], A, off[j], bound, d));
          }
        }
      }
      for (int j = c2; j < c; j++) {
        for (int i = bi; i < bi + 4; i++) {
          put(K, c, i, j, dot(d, A, off[i], A, off[j]));
        }
      }
    }
    for (int i = c4; i < c; i++) {
      for (int j = i; j < c; j++) {
        put(K, c, i, j, dot(d, A, off[i], A, off[j]));
      }
    }
    if (u != null) {
      for (int i = 0; i < c; i++) {
        su[i] = (float) (i < c4 ? laneSum(acc, uAcc + i * L) + tail(A, off[i], u, 0, bound, d)
            : dot(d, A, off[i], u, 0));
      }
    }
  }

  /** One 4 × 2 tile over rows [r0, r1): accumulators loaded from acc[t ..), updated, parked again. */
  private static void gramTile(float[] A, int[] off, int bi, int bj, int r0, int r1, float[] acc, int t) {
    int a0 = off[bi], a1 = off[bi + 1], a2 = off[bi + 2], a3 = off[bi + 3];
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

  /** The 4 × 1 tile of columns bi .. bi+3 against u over rows [r0, r1). */
  private static void gramTileU(float[] A, int[] off, int bi, int r0, int r1, float[] u, float[] acc, int t) {
    int a0 = off[bi], a1 = off[bi + 1], a2 = off[bi + 2], a3 = off[bi + 3];
    FloatVector s0 = FloatVector.fromArray(F, acc, t), s1 = FloatVector.fromArray(F, acc, t + L);
    FloatVector s2 = FloatVector.fromArray(F, acc, t + 2 * L), s3 = FloatVector.fromArray(F, acc, t + 3 * L);
    for (int r = r0; r < r1; r += L) {
      FloatVector y = FloatVector.fromArray(F, u, r);
      s0 = FloatVector.fromArray(F, A, a0 + r).fma(y, s0);
      s1 = FloatVector.fromArray(F, A, a1 + r).fma(y, s1);
      s2 = FloatVector.fromArray(F, A, a2 + r).fma(y, s2);
      s3 = FloatVector.fromArray(F, A, a3 + r).fma(y, s3);
    }
    s0.intoArray(acc, t);
    s1.intoArray(acc, t + L);
    s2.intoArray(acc, t + 2 * L);
    s3.intoArray(acc, t + 3 * L);
  }

  private static void put(double[] K, int c, int i, int j, double v) {
    K[i * c + j] = v;
    K[j * c + i] = v;
  }
}
