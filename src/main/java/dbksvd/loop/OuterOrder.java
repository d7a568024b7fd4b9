package dbksvd.loop;

/**
 * What {@link FitLoop} needs to know of the outer batches: N, and how many batches make an epoch. The stages decide
 * which rows a batch holds ({@link RowOrder} for {@link Batching#ROWS}, {@link BatchPlan} for
 * {@link Batching#SPLITS}).
 */
public interface OuterOrder {
  /** N, the rows of the dataset. */
  long rows();

  /** Outer batches per epoch: every row is in exactly one of them. */
  long batchesPerEpoch();

  /** The epoch of iteration t. */
  default long epochOf(long iteration) {
    return iteration / batchesPerEpoch();
  }
}
