package dbksvd.encode;

import java.util.Arrays;

/**
 * The k-sparse codes X of a block of n samples, in fixed-width slots: sample s owns slots
 * {@code [s*capacity, s*capacity + count[s])} of {@code atom} and {@code value}.
 *
 * <p>Example, n = 2, capacity = 3: sample 0 = 0.8·d₇ − 0.1·d₂, sample 1 = 1.2·d₄ gives
 * {@code atom = [7, 2, _, 4, _, _]}, {@code value = [0.8, −0.1, _, 1.2, _, _]}, {@code count = [2, 1]}.
 * An atom appears at most once per sample: re-selecting it accumulates its coefficient.
 */
public final class SparseCodes implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  public final int n;
  public final int capacity;
  public final int[] atom;
  public final float[] value;
  public final int[] count;

  public SparseCodes(int n, int capacity) {
    this.n = n;
    this.capacity = capacity;
    this.atom = new int[n * capacity];
    this.value = new float[n * capacity];
    this.count = new int[n];
  }

  /** Adds {@code a} to the coefficient of {@code atomId} in sample s (a new slot if the atom is new to s). */
  public void accumulate(int s, int atomId, float a) {
    int base = s * capacity;
    int c = count[s];
    for (int t = 0; t < c; t++) {
      if (atom[base + t] == atomId) {
        value[base + t] += a;
        return;
      }
    }
    if (c == capacity) {
      throw new IllegalStateException("sample " + s + " already holds " + capacity + " atoms");
    }
    atom[base + c] = atomId;
    value[base + c] = a;
    count[s] = c + 1;
  }

  /** The coefficient of atomId in sample s, 0 when absent. */
  public float get(int s, int atomId) {
    int base = s * capacity;
    for (int t = 0; t < count[s]; t++) {
      if (atom[base + t] == atomId) {
        return value[base + t];
      }
    }
    return 0f;
  }

  /** Number of non-zero coefficients of sample s. */
  public int l0(int s) {
    int base = s * capacity;
    int l = 0;
    for (int t = 0; t < count[s]; t++) {
      if (value[base + t] != 0f) {
        l++;
      }
    }
    return l;
  }

  /** Dense column of sample s, length m (for tests and small exports). */
  public float[] dense(int s, int m) {
    float[] x = new float[m];
    int base = s * capacity;
    for (int t = 0; t < count[s]; t++) {
      x[atom[base + t]] += value[base + t];
    }
    return x;
  }

  @Override
  public String toString() {
    return "SparseCodes{n=" + n + ", capacity=" + capacity + ", count=" + Arrays.toString(
        Arrays.copyOf(count, Math.min(n, 8))) + (n > 8 ? "…" : "") + "}";
  }
}
