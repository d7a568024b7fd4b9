package dbksvd.update;

import dbksvd.encode.EncodedBlock;
import dbksvd.encode.SparseCodes;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What one atom batch needs for its K-SVD updates: the samples that use at least one of its atoms, with their
 * residual (for the batch's group) and their coefficients on the batch's atoms only. This is the unit the Spark job
 * shuffles, keyed by batch, so a sample travels once per atom batch it touches, not once per atom.
 *
 * <p>Example, d = 2, batch = atoms [9, 3] (local 0, 1); sample 17 = 0.5·d₉ + …, sample 42 = −0.2·d₃ + 0.7·d₉ + …:
 * {@code rowId = [17, 42]}, {@code R = [r₁₇ (2 floats), r₄₂ (2 floats)]}, {@code ptr = [0, 1, 3]},
 * {@code local = [0, 1, 0]}, {@code coef = [0.5, −0.2, 0.7]}. Parts from several encode tasks are merged with
 * {@link #merge}, which sorts by row id so the result does not depend on the partitioning.
 */
public final class AtomBatchBlock implements Serializable {
  private static final long serialVersionUID = 1L;

  public final int batch;
  public final int d;
  public final long[] rowId;
  /** d × rowId.length residual columns; updated in place by the Gauss-Seidel sweep. */
  public final float[] R;
  public final int[] ptr;
  public final int[] local;
  /** Coefficients; replaced in place by the updated ones. */
  public final float[] coef;

  public AtomBatchBlock(int batch, int d, long[] rowId, float[] R, int[] ptr, int[] local, float[] coef) {
    this.batch = batch;
    this.d = d;
    this.rowId = rowId;
    this.R = R;
    this.ptr = ptr;
    this.local = local;
    this.coef = coef;
  }

  public int samples() {
    return rowId.length;
  }

  /**
   * Splits an encoded block into one part per atom batch (empty batches get an empty part).
   *
   * @param D the dictionary the block was coded with (with Matryoshka groups, the residuals of the earlier groups
   *     are replayed from it)
   */
  public static AtomBatchBlock[] route(EncodedBlock eb, AtomBatches batches, float[] D) {
    int nb = batches.count();
    int d = eb.d;
    SparseCodes codes = eb.codes;
    int[] samples = new int[nb];
    int[] entries = new int[nb];
    int[] mark = new int[nb];
    Arrays.fill(mark, -1);
    for (int s = 0; s < eb.n; s++) {
      int base = s * codes.capacity;
      for (int t = 0; t < codes.count[s]; t++) {
        if (codes.value[base + t] == 0f) {
          continue;
        }
        int b = batches.batchOf[codes.atom[base + t]];
        entries[b]++;
        if (mark[b] != s) {
          mark[b] = s;
          samples[b]++;
        }
      }
    }
    long[][] rowIds = new long[nb][];
    float[][] Rs = new float[nb][];
    int[][] ptrs = new int[nb][];
    int[][] locals = new int[nb][];
    float[][] coefs = new float[nb][];
    for (int b = 0; b < nb; b++) {
      rowIds[b] = new long[samples[b]];
      Rs[b] = new float[samples[b] * d];
      ptrs[b] = new int[samples[b] + 1];
      locals[b] = new int[entries[b]];
      coefs[b] = new float[entries[b]];
    }
    int[] ns = new int[nb];
    int[] ne = new int[nb];
    // group by group, the residual columns of the samples that use the group's batches
    EncodedBlock.Residuals residuals = eb.residuals(D);
    for (int g = 0; g < eb.groups(); g++) {
      float[] R = null;
      Arrays.fill(mark, -1);
      for (int s = 0; s < eb.n; s++) {
        int base = s * codes.capacity;
        for (int t = 0; t < codes.count[s]; t++) {
          int b = batches.batchOf[codes.atom[base + t]];
          if (codes.value[base + t] == 0f || batches.group[b] != g || mark[b] == s) {
            continue;
          }
          mark[b] = s;
          R = R != null ? R : residuals.of(g);
          System.arraycopy(R, s * d, Rs[b], ns[b]++ * d, d);
        }
      }
    }
    Arrays.fill(ns, 0);
    Arrays.fill(mark, -1);
    for (int s = 0; s < eb.n; s++) {
      int base = s * codes.capacity;
      for (int t = 0; t < codes.count[s]; t++) {
        if (codes.value[base + t] == 0f) {
          continue;
        }
        int j = codes.atom[base + t];
        int b = batches.batchOf[j];
        if (mark[b] != s) {
          mark[b] = s;
          int i = ns[b]++;
          rowIds[b][i] = eb.rowId[s];
          ptrs[b][i] = ne[b];
        }
        locals[b][ne[b]] = batches.localOf[j];
        coefs[b][ne[b]++] = codes.value[base + t];
        ptrs[b][ns[b]] = ne[b];
      }
    }
    AtomBatchBlock[] out = new AtomBatchBlock[nb];
    for (int b = 0; b < nb; b++) {
      out[b] = new AtomBatchBlock(b, d, rowIds[b], Rs[b], ptrs[b], locals[b], coefs[b]);
    }
    return out;
  }

  /** Concatenates parts of the same batch and orders the samples by row id. */
  public static AtomBatchBlock merge(List<AtomBatchBlock> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("nothing to merge");
    }
    int batch = parts.get(0).batch;
    int d = parts.get(0).d;
    record Ref(long row, AtomBatchBlock part, int i) {}
    List<Ref> refs = new ArrayList<>();
    int entries = 0;
    for (AtomBatchBlock p : parts) {
      if (p.batch != batch || p.d != d) {
        throw new IllegalArgumentException("parts of different batches: " + batch + " and " + p.batch);
      }
      for (int i = 0; i < p.samples(); i++) {
        refs.add(new Ref(p.rowId[i], p, i));
      }
      entries += p.coef.length;
    }
    refs.sort(Comparator.comparingLong(Ref::row));
    int n = refs.size();
    long[] rowId = new long[n];
    float[] R = new float[n * d];
    int[] ptr = new int[n + 1];
    int[] local = new int[entries];
    float[] coef = new float[entries];
    int e = 0;
    for (int i = 0; i < n; i++) {
      Ref r = refs.get(i);
      if (i > 0 && rowId[i - 1] == r.row) {
        throw new IllegalStateException("row " + r.row + " appears twice in atom batch " + batch);
      }
      rowId[i] = r.row;
      System.arraycopy(r.part.R, r.i * d, R, i * d, d);
      ptr[i] = e;
      for (int t = r.part.ptr[r.i]; t < r.part.ptr[r.i + 1]; t++) {
        local[e] = r.part.local[t];
        coef[e++] = r.part.coef[t];
      }
    }
    ptr[n] = e;
    return new AtomBatchBlock(batch, d, rowId, R, ptr, local, coef);
  }
}
