package dbksvd.metrics;

import dbksvd.encode.EncodedBlock;
import dbksvd.util.ExactSum;

import java.io.Serializable;

/**
 * Sums over the samples of a batch from which the reconstruction metrics follow. A block's samples are summed in
 * block order, and blocks are combined exactly ({@link ExactSum}), so the totals depend on how the batch is cut into
 * blocks but not on which executor combines which blocks, nor in what order.
 *
 * <p>FVE = 1 − Σ‖y − Dx‖² / Σ‖y − ȳ‖², with Σ‖y − ȳ‖² = Σ‖y‖² − ‖Σy‖²/n.
 *
 * <p>Example: two blocks of 3 and 5 samples, d = 2: {@code n} = 8, {@code sumY} the two coordinates' sums, each an
 * exact sum of the two blocks' sums; {@code usage[j]} the samples whose code has a non-zero on atom j.
 */
public final class BatchStats implements Serializable {
  private static final long serialVersionUID = 1L;

  public long n;
  public long sumL0;
  private final ExactSum ySq = new ExactSum();
  private final ExactSum sse = new ExactSum();
  private final ExactSum relErr = new ExactSum();
  private final ExactSum[] y;
  /** usage[j]: samples whose code uses atom j. */
  public final long[] usage;

  public BatchStats(int d, int m) {
    y = new ExactSum[d];
    for (int i = 0; i < d; i++) {
      y[i] = new ExactSum();
    }
    usage = new long[m];
  }

  /** Adds the samples of an encoded block (Y is the block's own data, d × n). */
  public BatchStats add(EncodedBlock eb, float[] Y) {
    int d = eb.d;
    double blockYSq = 0, blockSse = 0, blockRel = 0;
    double[] blockY = new double[d];
    for (int s = 0; s < eb.n; s++) {
      n++;
      blockYSq += eb.ySqNorm[s];
      blockSse += eb.rSqNorm[s];
      blockRel += eb.ySqNorm[s] > 0 ? Math.sqrt(eb.rSqNorm[s] / eb.ySqNorm[s]) : 0;
      for (int i = 0; i < d; i++) {
        blockY[i] += Y[s * d + i];
      }
      int base = s * eb.codes.capacity;
      for (int t = 0; t < eb.codes.count[s]; t++) {
        if (eb.codes.value[base + t] != 0f) {
          sumL0++;
          usage[eb.codes.atom[base + t]]++;
        }
      }
    }
    ySq.add(blockYSq);
    sse.add(blockSse);
    relErr.add(blockRel);
    for (int i = 0; i < d; i++) {
      y[i].add(blockY[i]);
    }
    return this;
  }

  public BatchStats merge(BatchStats o) {
    n += o.n;
    sumL0 += o.sumL0;
    ySq.add(o.ySq);
    sse.add(o.sse);
    relErr.add(o.relErr);
    for (int i = 0; i < y.length; i++) {
      y[i].add(o.y[i]);
    }
    for (int j = 0; j < usage.length; j++) {
      usage[j] += o.usage[j];
    }
    return this;
  }

  /** Σ‖y‖². */
  public double sumYSq() {
    return ySq.value();
  }

  /** Σ‖y − Dx‖². */
  public double sse() {
    return sse.value();
  }

  /** Σy, per coordinate. */
  public double[] sumY() {
    double[] out = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      out[i] = y[i].value();
    }
    return out;
  }

  /** Total variance Σ‖y − ȳ‖². */
  public double sst() {
    double m2 = 0;
    for (double v : sumY()) {
      m2 += v * v;
    }
    return sumYSq() - (n > 0 ? m2 / n : 0);
  }

  public double fve() {
    double sst = sst();
    return sst > 0 ? 1 - sse() / sst : Double.NaN;
  }

  public double relativeError() {
    return n > 0 ? relErr.value() / n : Double.NaN;
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
