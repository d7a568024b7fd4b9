package dbksvd.util;

import java.util.SplittableRandom;

/**
 * Derived seeds: every random choice in dbksvd is drawn from a generator seeded by (seed, purpose, …), never from
 * time or thread order, so a seed fixes the result whatever the partitioning.
 */
public final class Seeds {
  private Seeds() {}

  /** SplitMix64's finalizer: a bijective mix of 64 bits. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A seed derived from a base seed and any number of coordinates (purpose, iteration, partition, …). */
  public static long derive(long seed, long... coords) {
    long h = mix(seed ^ 0x9e3779b97f4a7c15L);
    for (long c : coords) {
      h = mix(h + 0x9e3779b97f4a7c15L + mix(c));
    }
    return h;
  }

  public static SplittableRandom rng(long seed, long... coords) {
    return new SplittableRandom(derive(seed, coords));
  }

  /** Purposes, so that two uses of the same (seed, iteration) never share a stream. */
  public static final long INIT = 1, ATOM_BATCHES = 2, ROW_ORDER = 3, GENERATE = 4, SPLIT = 5,
      SPLIT_ORDER = 6, WINDOW_ROWS = 7;

  /** A seeded Fisher-Yates permutation of 0..n-1. */
  public static int[] permutation(int n, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
