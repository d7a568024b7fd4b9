package dbksvd.interpret;

import java.io.Serializable;

/**
 * Per-class sums of the atoms' activations over the training rows, from which the k-sparse probe picks its atoms
 * (SAEBench's selection): the score of atom j is max over classes c of |mean_c(x_j) − mean_rest(x_j)|, the mean
 * activation of class c's rows against that of all other rows; with two classes this is |mean_1 − mean_0|.
 * An atom's activation is the magnitude |x_j| of its coefficient (0 where the code does not use the atom): K-SVD
 * codes are signed and an atom's sign is arbitrary (dⱼ and −dⱼ are the same atom), so a signed coefficient whose
 * sign varies would average out where its magnitude does not.
 */
public final class ClassMeans implements Serializable {
  private static final long serialVersionUID = 1L;
  public final int m;
  public final int classes;
  /** sum[c * m + j]: Σ over class c's rows of x_j. */
  public final double[] sum;
  public final long[] count;

  public ClassMeans(int m, int classes) {
    this.m = m;
    this.classes = classes;
    this.sum = new double[classes * m];
    this.count = new long[classes];
  }

  /** Adds one row of class c whose code has the given atoms and coefficients (entries from..to-1). */
  public void add(int c, int[] atom, float[] coef, int from, int to) {
    count[c]++;
    for (int t = from; t < to; t++) {
      sum[c * m + atom[t]] += Math.abs(coef[t]);
    }
  }

  public ClassMeans merge(ClassMeans o) {
    for (int i = 0; i < sum.length; i++) {
      sum[i] += o.sum[i];
    }
    for (int c = 0; c < classes; c++) {
      count[c] += o.count[c];
    }
    return this;
  }

  /** score[j] = max over classes with rows on both sides of |mean_c − mean_rest|. */
  public double[] scores() {
    long total = 0;
    for (long n : count) {
      total += n;
    }
    double[] all = new double[m];
    for (int c = 0; c < classes; c++) {
      for (int j = 0; j < m; j++) {
        all[j] += sum[c * m + j];
      }
    }
    double[] score = new double[m];
    for (int c = 0; c < classes; c++) {
      long rest = total - count[c];
      if (count[c] == 0 || rest == 0) {
        continue;
      }
      for (int j = 0; j < m; j++) {
        double mc = sum[c * m + j] / count[c];
        double mr = (all[j] - sum[c * m + j]) / rest;
        score[j] = Math.max(score[j], Math.abs(mc - mr));
      }
    }
    return score;
  }

  /** The k atoms with the largest scores, best first (ties: lower atom first). */
  public static int[] topAtoms(double[] score, int k) {
    Integer[] idx = new Integer[score.length];
    for (int j = 0; j < idx.length; j++) {
      idx[j] = j;
    }
    java.util.Arrays.sort(idx, (a, b) -> {
      int c = Double.compare(score[b], score[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    int n = Math.min(k, score.length);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = idx[i];
    }
    return out;
  }
}
