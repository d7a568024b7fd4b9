package dbksvd.interpret;

import dbksvd.util.Seeds;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * For each requested atom, the rows with the largest |coefficient| (a bounded min-heap of K) and a seeded sample
 * of its other rows (the S + K rows that use the atom with the smallest hash of (seed, row key): a uniform sample,
 * mergeable in any order), plus every atom's usage count. Partial results from partitions are {@link #merge}d;
 * the result is the same whatever the partitioning or merge order, since both orders are total (ties by row key).
 *
 * <p>The "weaker" rows shown for an atom are that sample less the top K: rows whose code uses the atom
 * (coefficient ≠ 0) but that are not among its strongest, drawn uniformly, shown by |coefficient| descending.
 * Each entry carries its row key and a payload (the columns to show), so the winners need no join back.
 */
public final class AtomTopK implements Serializable {
  private static final long serialVersionUID = 1L;

  public final int m;
  public final int[] atoms;
  public final int top;
  public final int sample;
  public final long seed;
  /** usage[j]: rows whose code uses atom j (all m atoms, requested or not). */
  public final long[] usage;
  public long rows;
  private final int[] slotOf;
  // top heaps: slot s holds entries [s*top, s*top + topSize[s]), a min-heap on (|coef|, -key)
  private final float[] topCoef;
  private final long[] topKey;
  private final Object[] topPayload;
  private final int[] topSize;
  // sample heaps: capacity top + sample, a max-heap on (priority, key): keeps the smallest priorities
  private final int sampleCap;
  private final long[] samplePri;
  private final float[] sampleCoef;
  private final long[] sampleKey;
  private final Object[] samplePayload;
  private final int[] sampleSize;

  public AtomTopK(int m, int[] atoms, int top, int sample, long seed) {
    if (top < 1) {
      throw new IllegalArgumentException("--top must be at least 1, got " + top);
    }
    if (sample < 0) {
      throw new IllegalArgumentException("the sample size must be 0 or more, got " + sample);
    }
    this.m = m;
    this.atoms = atoms.clone();
    this.top = top;
    this.sample = sample;
    this.seed = seed;
    this.usage = new long[m];
    this.slotOf = new int[m];
    Arrays.fill(slotOf, -1);
    for (int s = 0; s < atoms.length; s++) {
      if (atoms[s] < 0 || atoms[s] >= m) {
        throw new IllegalArgumentException("atom " + atoms[s] + " is out of range 0.." + (m - 1));
      }
      slotOf[atoms[s]] = s;
    }
    int a = atoms.length;
    topCoef = new float[a * top];
    topKey = new long[a * top];
    topPayload = new Object[a * top];
    topSize = new int[a];
    sampleCap = sample > 0 ? sample + top : 0;
    samplePri = new long[a * sampleCap];
    sampleCoef = new float[a * sampleCap];
    sampleKey = new long[a * sampleCap];
    samplePayload = new Object[a * sampleCap];
    sampleSize = new int[a];
  }

  /** Counts one row (call once per row, before its {@link #offer}s). */
  public void countRow() {
    rows++;
  }

  /**
   * Offers row {@code key}'s coefficient on atom j. {@code payload} is only asked for when the row enters a heap.
   */
  public void offer(int j, float coef, long key, java.util.function.Supplier<Object> payload) {
    if (coef == 0f) {
      return;
    }
    usage[j]++;
    int s = slotOf[j];
    if (s < 0) {
      return;
    }
    Object p = null;
    if (topLess(s, coef, key)) {
      p = payload.get();
      pushTop(s, coef, key, p);
    }
    if (sampleCap > 0) {
      long pri = Seeds.derive(seed, key);
      if (sampleSize[s] < sampleCap || sampleBefore(pri, key, samplePri[s * sampleCap], sampleKey[s * sampleCap])) {
        pushSample(s, pri, coef, key, p != null ? p : payload.get());
      }
    }
  }

  /** Whether (coef, key) would enter slot s's top heap. */
  private boolean topLess(int s, float coef, long key) {
    if (topSize[s] < top) {
      return true;
    }
    int root = s * top;
    return topBefore(topCoef[root], topKey[root], coef, key);
  }

  /** Order of the top heap: a before b when a is weaker (smaller |coef|, or equal and larger key). */
  private static boolean topBefore(float ca, long ka, float cb, long kb) {
    float a = Math.abs(ca);
    float b = Math.abs(cb);
    return a < b || (a == b && ka > kb);
  }

  /** Order of the sample: a before b when a has the smaller (priority, key). */
  private static boolean sampleBefore(long pa, long ka, long pb, long kb) {
    return pa < pb || (pa == pb && ka < kb);
  }

  private void pushTop(int s, float coef, long key, Object payload) {
    int base = s * top;
    int n = topSize[s];
    if (n < top) { // sift up
      int i = n;
      topSize[s] = n + 1;
      while (i > 0) {
        int parent = (i - 1) / 2;
        if (!topBefore(coef, key, topCoef[base + parent], topKey[base + parent])) {
          break;
        }
        moveTop(base, parent, i);
        i = parent;
      }
      setTop(base, i, coef, key, payload);
      return;
    }
    // replace the root (the weakest) and sift down
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      if (l >= n) {
        break;
      }
      int c = l + 1 < n && topBefore(topCoef[base + l + 1], topKey[base + l + 1], topCoef[base + l], topKey[base + l])
          ? l + 1 : l;
      if (!topBefore(topCoef[base + c], topKey[base + c], coef, key)) {
        break;
      }
      moveTop(base, c, i);
      i = c;
    }
    setTop(base, i, coef, key, payload);
  }

  private void moveTop(int base, int from, int to) {
    topCoef[base + to] = topCoef[base + from];
    topKey[base + to] = topKey[base + from];
    topPayload[base + to] = topPayload[base + from];
  }

  private void setTop(int base, int i, float coef, long key, Object payload) {
    topCoef[base + i] = coef;
    topKey[base + i] = key;
    topPayload[base + i] = payload;
  }

  private void pushSample(int s, long pri, float coef, long key, Object payload) {
    int base = s * sampleCap;
    int n = sampleSize[s];
    if (n < sampleCap) { // sift up in a max-heap
      int i = n;
      sampleSize[s] = n + 1;
      while (i > 0) {
        int parent = (i - 1) / 2;
        if (!sampleBefore(samplePri[base + parent], sampleKey[base + parent], pri, key)) {
          break;
        }
        moveSample(base, parent, i);
        i = parent;
      }
      setSample(base, i, pri, coef, key, payload);
      return;
    }
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      if (l >= n) {
        break;
      }
      int c = l + 1 < n && sampleBefore(samplePri[base + l], sampleKey[base + l], samplePri[base + l + 1],
          sampleKey[base + l + 1]) ? l + 1 : l;
      if (!sampleBefore(pri, key, samplePri[base + c], sampleKey[base + c])) {
        break;
      }
      moveSample(base, c, i);
      i = c;
    }
    setSample(base, i, pri, coef, key, payload);
  }

  private void moveSample(int base, int from, int to) {
    samplePri[base + to] = samplePri[base + from];
    sampleCoef[base + to] = sampleCoef[base + from];
    sampleKey[base + to] = sampleKey[base + from];
    samplePayload[base + to] = samplePayload[base + from];
  }

  private void setSample(int base, int i, long pri, float coef, long key, Object payload) {
    samplePri[base + i] = pri;
    sampleCoef[base + i] = coef;
    sampleKey[base + i] = key;
    samplePayload[base + i] = payload;
  }

  /** Adds another partial result (same atoms, K, S and seed) into this one. */
  public AtomTopK merge(AtomTopK o) {
    if (o.m != m || !Arrays.equals(o.atoms, atoms) || o.top != top || o.sample != sample || o.seed != seed) {
      throw new IllegalArgumentException("merging top-k results of different shapes");
    }
    rows += o.rows;
    for (int j = 0; j < m; j++) {
      usage[j] += o.usage[j];
    }
    for (int s = 0; s < atoms.length; s++) {
      for (int i = 0; i < o.topSize[s]; i++) {
        int at = s * top + i;
        if (topLess(s, o.topCoef[at], o.topKey[at])) {
          pushTop(s, o.topCoef[at], o.topKey[at], o.topPayload[at]);
        }
      }
      for (int i = 0; i < o.sampleSize[s]; i++) {
        int at = s * sampleCap + i;
        if (sampleSize[s] < sampleCap || sampleBefore(o.samplePri[at], o.sampleKey[at], samplePri[s * sampleCap],
            sampleKey[s * sampleCap])) {
          pushSample(s, o.samplePri[at], o.sampleCoef[at], o.sampleKey[at], o.samplePayload[at]);
        }
      }
    }
    return this;
  }

  /** One shown row: its key, coefficient and payload. */
  public record Entry(long key, float coef, Object payload) {}

  /** Slot s's top rows, strongest first (by |coef| descending, ties by key ascending). */
  public List<Entry> top(int s) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < topSize[s]; i++) {
      int at = s * top + i;
      out.add(new Entry(topKey[at], topCoef[at], topPayload[at]));
    }
    out.sort(STRONGEST_FIRST);
    return out;
  }

  /** Slot s's sample of weaker rows: up to S rows using the atom that are not in its top, strongest first. */
  public List<Entry> weaker(int s) {
    java.util.Set<Long> inTop = new java.util.HashSet<>();
    for (int i = 0; i < topSize[s]; i++) {
      inTop.add(topKey[s * top + i]);
    }
    List<long[]> order = new ArrayList<>(); // (priority, key, index) to take the S smallest priorities
    for (int i = 0; i < sampleSize[s]; i++) {
      int at = s * sampleCap + i;
      if (!inTop.contains(sampleKey[at])) {
        order.add(new long[] {samplePri[at], sampleKey[at], at});
      }
    }
    order.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < Math.min(sample, order.size()); i++) {
      int at = (int) order.get(i)[2];
      out.add(new Entry(sampleKey[at], sampleCoef[at], samplePayload[at]));
    }
    out.sort(STRONGEST_FIRST);
    return out;
  }

  static final java.util.Comparator<Entry> STRONGEST_FIRST = (a, b) -> {
    int c = Float.compare(Math.abs(b.coef()), Math.abs(a.coef()));
    return c != 0 ? c : Long.compare(a.key(), b.key());
  };
}
