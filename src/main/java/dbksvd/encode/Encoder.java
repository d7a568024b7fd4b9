package dbksvd.encode;

/**
 * Sparse coding of samples against a contiguous range of atoms of a dictionary, from the precomputed
 * correlations P = D_rangeᵀ·Y and the Gram matrix G. No matrix-vector product with D inside the loop.
 */
public interface Encoder extends java.io.Serializable {
  /** The names {@link #of} takes, as in the config. */
  java.util.List<String> NAMES = java.util.List.of("mp", "mp-refit", "omp");

  /** Short name, as in the config ({@code mp}, {@code mp-refit}, {@code omp}). */
  String name();

  /** Largest number of atoms selected per sample. */
  int k();

  /** Relative residual tolerance: stop when ‖r‖ ≤ rtol·‖y‖ (0 = always take k steps). */
  double rtol();

  /** The same encoder with another budget (Matryoshka groups each have their own). */
  Encoder withK(int k);

  /**
   * Encodes one sample.
   *
   * @param dict the dictionary (only G is read)
   * @param atomOffset first atom of the range
   * @param mAtoms number of atoms in the range
   * @param p the correlations of this sample with the range, length mAtoms, at {@code p[pOff..]}; may be overwritten
   * @param ySqNorm ‖y‖² of the sample (of the target being coded)
   * @param codes where the selected (global atom id, coefficient) pairs are accumulated
   * @param s the sample's index in {@code codes}
   * @param scratch per-thread work space from {@link #newScratch}
   * @return the residual's squared norm as tracked by the encoder
   */
  double encode(Dictionary dict, int atomOffset, int mAtoms, float[] p, int pOff, double ySqNorm,
      SparseCodes codes, int s, Object scratch);

  /**
   * Encodes two samples, s1 (correlations at {@code p1Off}) and s2 (at {@code p2Off}): the same codes, bit for bit,
   * as two calls of {@link #encode}. An encoder may run the two in step, so that the memory traffic of one (its
   * columns of G) overlaps that of the other.
   */
  default void encodePair(Dictionary dict, int atomOffset, int mAtoms, float[] p, int p1Off, double y1SqNorm, int s1,
      int p2Off, double y2SqNorm, int s2, SparseCodes codes, Object scratch) {
    encode(dict, atomOffset, mAtoms, p, p1Off, y1SqNorm, codes, s1, scratch);
    encode(dict, atomOffset, mAtoms, p, p2Off, y2SqNorm, codes, s2, scratch);
  }

  /** Work space for one thread encoding against up to mAtoms atoms. */
  Object newScratch(int mAtoms);

  /** The encoder a name (config, model.json) stands for. */
  static Encoder of(String name, int k, double rtol) {
    return switch (name) {
      case "mp" -> new MatchingPursuit(k, rtol);
      case "mp-refit" -> new RefitMatchingPursuit(k, rtol);
      case "omp" -> new OrthogonalMatchingPursuit(k, rtol);
      default -> throw new IllegalArgumentException("encoder must be mp, mp-refit or omp, got '" + name + "'");
    };
  }
}
