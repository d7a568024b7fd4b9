package dbksvd.metrics;

import dbksvd.encode.EncodedBlock;

import java.io.Serializable;

/**
 * Sums over the samples of a batch from which the reconstruction metrics follow; partial sums from several
 * blocks are {@link #merge}d (in a fixed order, so the totals do not depend on thread timing).
 *
 * <p>FVE = 1 − Σ‖y − Dx‖² / Σ‖y − ȳ‖², with Σ‖y − ȳ‖² = Σ‖y‖² − ‖Σy‖²/n.
 */
public final class BatchStats implements Serializable {
  private static final long serialVersionUID = 1L;

  public long n;
  public double sumYSq;
  public double sse;
  public double sumRelErr;
  public long sumL0;
  public final double[] sumY;
  /** usage[j]: samples whose code uses atom j. */
  public final long[] usage;

  public BatchStats(int d, int m) {
    sumY = new double[d];
    usage = new long[m];
  }

  /** Adds the samples of an encoded block (Y is the block's own data, d × n). */
  public BatchStats add(EncodedBlock eb, float[] Y) {
    int d = eb.d;
    for (int s = 0; s < eb.n; s++) {
      n++;
      sumYSq += eb.ySqNorm[s];
      sse += eb.rSqNorm[s];
      sumRelErr += eb.ySqNorm[s] > 0 ? Math.sqrt(eb.rSqNorm[s] / eb.ySqNorm[s]) : 0;
      for (int i = 0; i < d; i++) {
        sumY[i] += Y[s * d + i];
      }
      int base = s * eb.codes.capacity;
      for (int t = 0; t < eb.codes.count[s]; t++) {
        if (eb.codes.value[base + t] != 0f) {
          sumL0++;
          usage[eb.codes.atom[base + t]]++;
        }
      }
    }
    return this;
  }

  public BatchStats merge(BatchStats o) {
    n += o.n;
    sumYSq += o.sumYSq;
    sse += o.sse;
    sumRelErr += o.sumRelErr;
    sumL0 += o.sumL0;
    for (int i = 0; i < sumY.length; i++) {
      sumY[i] += o.sumY[i];
    }
    for (int j = 0; j < usage.length; j++) {
      usage[j] += o.usage[j];
    }
    return this;
  }

  /** Total variance Σ‖y − ȳ‖². */
  public double sst() {
    double m2 = 0;
    for (double v : sumY) {
      m2 += v * v;
    }
    return sumYSq - (n > 0 ? m2 / n : 0);
  }

  public double fve() {
    double sst = sst();
    return sst > 0 ? 1 - sse / sst : Double.NaN;
  }

  public double relativeError() {
    return n > 0 ? sumRelErr / n : Double.NaN;
  }

  public double meanL0() {
    return n > 0 ? (double) sumL0 / n : Double.NaN;
  }

  public int deadAtoms() {
    int dead = 0;
    for (long u : usage) {
      if (u == 0) {
        dead++;
      }
    }
    return dead;
  }
}
