package dbksvd.spark;

import dbksvd.loop.RowOrder;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionPruningRDD;
import scala.Tuple2;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The rows of outer batch t, as blocks per task. Two ways to get them:
 * <ul>
 *   <li><b>scan</b> (one batch per epoch, i.e. n ≥ N): every task reads its rows and keeps them all; the decoded
 *       blocks are persisted (memory, spilling to disk) for the whole fit, since every iteration uses the same
 *       rows — the one batch this job holds;</li>
 *   <li><b>staged</b> (several batches per epoch): once per epoch, one pass over the dataset sends each row to the
 *       batch it belongs to in that epoch (a shuffle keyed by (batch, slot)); iteration t then reads only the
 *       shuffle blocks of its batch, spread over {@code slots} tasks. An epoch of ⌈N/n⌉ iterations thus reads the
 *       dataset once instead of ⌈N/n⌉ times.</li>
 * </ul>
 * A staged task's block is sorted by row id; a scanned one holds its partition's rows in the order Spark reads them.
 * Which task codes a row, and in which order, changes nothing in the result (see {@link dbksvd.encode.GemmLanes}).
 */
final class OuterBatches implements BatchReader {
  private final RowSource source;
  private final RowOrder order;
  private final int slots;
  private long stagedEpoch = -1;
  private JavaPairRDD<Integer, RowSource.Block> staged;
  private JavaRDD<RowSource.Block> whole;

  OuterBatches(RowSource source, RowOrder order, int slots) {
    this.source = source;
    this.order = order;
    this.slots = Math.max(1, slots);
  }

  boolean staging() {
    return order.batchesPerEpoch() > 1;
  }

  @Override
  public JavaRDD<RowSource.Block> of(long t) {
    if (!staging()) {
      if (whole == null) {
        RowSource src = source;
        whole = src.rdd().mapPartitions(it -> once(() -> src.collect(it, id -> true)))
            .setName("dbksvd rows (the whole dataset: one outer batch)")
            .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
      }
      return whole;
    }
    long epoch = order.epochOf(t);
    if (epoch != stagedEpoch) {
      staged = stage(epoch);
      stagedEpoch = epoch;
    }
    int b = (int) (t % order.batchesPerEpoch());
    PartitionPruningRDD<Tuple2<Integer, RowSource.Block>> pruned = PartitionPruningRDD.create(staged.rdd(),
        new InBatch(b, slots));
    final int d = source.d;
    return new JavaRDD<>(pruned, ClassTag$.MODULE$.apply(Tuple2.class)).map(kv -> kv._2())
        .mapPartitions(it -> once(() -> merge(it, d)));
  }

  /**
   * One block, read when the consumer asks for it (not when Spark hands the iterator over), so that the encode
   * task's read timer sees the reading and decoding of its rows.
   */
  static <T> java.util.Iterator<T> once(java.util.function.Supplier<T> read) {
    return new java.util.Iterator<>() {
      boolean done;

      @Override
      public boolean hasNext() {
        return !done;
      }

      @Override
      public T next() {
        if (done) {
          throw new java.util.NoSuchElementException();
        }
        done = true;
        return read.get();
      }
    };
  }

  /** Drops the persisted rows. */
  @Override
  public void close() {
    if (whole != null) {
      whole.unpersist(false);
      whole = null;
    }
  }

  /** One pass over the dataset: each row to (its batch in this epoch, a slot by its position in the batch). */
  private JavaPairRDD<Integer, RowSource.Block> stage(long epoch) {
    final RowSource src = source;
    final RowOrder ord = order;
    final int p = slots;
    final long n = order.batchSize();
    final int batches = (int) order.batchesPerEpoch();
    JavaPairRDD<Integer, RowSource.Block> keyed = src.rdd().mapPartitionsToPair(it -> {
      RowSource.Block all = src.collect(it, id -> true);
      int d = src.d;
      int[] key = new int[all.n()];
      int[] count = new int[batches * p];
      for (int s = 0; s < all.n(); s++) {
        long pos = ord.position(epoch, all.rowId()[s]);
        int b = (int) (pos / n);
        int slot = (int) ((pos - b * n) * p / n);
        key[s] = b * p + slot;
        count[key[s]]++;
      }
      List<Tuple2<Integer, RowSource.Block>> out = new ArrayList<>();
      long[][] ids = new long[batches * p][];
      float[][] ys = new float[batches * p][];
      int[] fill = new int[batches * p];
      for (int s = 0; s < all.n(); s++) {
        int k = key[s];
        if (ids[k] == null) {
          ids[k] = new long[count[k]];
          ys[k] = new float[count[k] * d];
        }
        ids[k][fill[k]] = all.rowId()[s];
        System.arraycopy(all.Y(), s * d, ys[k], fill[k]++ * d, d);
      }
      for (int k = 0; k < ids.length; k++) {
        if (ids[k] != null) {
          out.add(new Tuple2<>(k, new RowSource.Block(ids[k], ys[k])));
        }
      }
      return out.iterator();
    });
    return keyed.partitionBy(new ByKey(batches * p)).setName("dbksvd rows by outer batch, epoch " + epoch);
  }

  /** The blocks of one task, concatenated and sorted by row id. */
  private static RowSource.Block merge(java.util.Iterator<RowSource.Block> it, int d) {
    List<RowSource.Block> parts = new ArrayList<>();
    it.forEachRemaining(parts::add);
    int n = parts.stream().mapToInt(RowSource.Block::n).sum();
    long[][] order = new long[n][];
    int i = 0;
    for (int p = 0; p < parts.size(); p++) {
      for (int s = 0; s < parts.get(p).n(); s++) {
        order[i++] = new long[] {parts.get(p).rowId()[s], p, s};
      }
    }
    Arrays.sort(order, Comparator.comparingLong(o -> o[0]));
    long[] ids = new long[n];
    float[] Y = new float[n * d];
    for (int s = 0; s < n; s++) {
      ids[s] = order[s][0];
      System.arraycopy(parts.get((int) order[s][1]).Y(), (int) order[s][2] * d, Y, s * d, d);
    }
    return new RowSource.Block(ids, Y);
  }

  /** Key k goes to partition k: batch b owns partitions [b·slots, (b+1)·slots). */
  static final class ByKey extends Partitioner {
    private final int partitions;

    ByKey(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ByKey b && b.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  static final class InBatch extends AbstractFunction1<Object, Object> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int batch;
    private final int slots;

    InBatch(int batch, int slots) {
      this.batch = batch;
      this.slots = slots;
    }

    @Override
    public Object apply(Object partition) {
      return (Integer) partition / slots == batch;
    }
  }
}
