package dbksvd.spark;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.io.ModelDir;
import dbksvd.loop.FitParams;
import dbksvd.util.TaskTimes;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.Iterator;
import java.util.List;

/**
 * A model on the executors, for the jobs that code every row of a dataset with it (encode, evaluate, inspect,
 * report, export's usage, probing): one broadcast of D and G (destroyed by {@link #close}), the model's encoder,
 * Matryoshka groups and GEMM chunk, the check of the input's dimension, and each task's GEMM backend
 * ({@link TaskGemm}). A job hands each coded block to its own accumulator with {@link #foldPartitions}.
 */
public final class ModelEncoding implements Serializable, AutoCloseable {
  private static final long serialVersionUID = 1L;
  public final int d;
  public final int m;
  private final Broadcast<Dictionary> dict;
  private final AtomGroups groups;
  private final Encoder encoder;
  private final int gemmChunk;

  private ModelEncoding(Broadcast<Dictionary> dict, int d, int m, FitParams p) {
    this.dict = dict;
    this.d = d;
    this.m = m;
    this.groups = p.groups();
    this.encoder = p.encoder();
    this.gemmChunk = p.encodeChunk();
  }

  /** Broadcasts the model for an input whose embeddings have {@code inputD} entries (refused when it is not d). */
  public static ModelEncoding broadcast(JavaSparkContext sc, ModelDir.Model model, int inputD) {
    if (inputD != model.d()) {
      throw new BadInputException("the input's embeddings have length " + inputD + " but the model's atoms have "
          + model.d());
    }
    return broadcast(sc, model.D(), model.d(), model.m(), model.params());
  }

  /** Broadcasts D (d × m) with the settings of the fit that made it; rows are checked as they are decoded. */
  public static ModelEncoding broadcast(JavaSparkContext sc, float[] D, int d, int m, FitParams p) {
    return new ModelEncoding(sc.broadcast(new Dictionary(D, d, m)), d, m, p);
  }

  /** In a task: codes samples Y (d × n) with ids (the GEMM lanes' keys), adding stage times to times. */
  public EncodedBlock encode(float[] Y, long[] ids, TaskTimes times) {
    return EncodedBlock.encode(dict.value(), groups, encoder, Y, ids, gemmChunk, times, TaskGemm.current());
  }

  /** What a job keeps of coded blocks: adds one block (its samples and their codes) to acc. */
  @FunctionalInterface
  public interface Fold<A, B> extends Serializable {
    void add(A acc, B block, EncodedBlock coded);
  }

  /** A fresh accumulator, made in each task. */
  @FunctionalInterface
  public interface Zero<A> extends Serializable {
    A get();
  }

  /**
   * Per partition one accumulator, to which every block of at most {@code rowsPerBlock} rows with id below
   * {@code rowLimit} is added once coded. Lazy: the caller collects (partition order, deterministic) or reduces.
   */
  public <A> JavaRDD<A> foldPartitions(RowSource source, long rowLimit, int rowsPerBlock, Zero<A> zero,
      Fold<A, RowSource.Block> fold) {
    return source.rdd().mapPartitions(it -> {
      A acc = zero.get();
      Iterator<RowSource.Block> blocks = source.blocks(it, id -> id < rowLimit, rowsPerBlock);
      while (blocks.hasNext()) {
        RowSource.Block b = blocks.next();
        fold.add(acc, b, encode(b.Y(), b.rowId(), null));
      }
      return List.of(acc).iterator();
    });
  }

  /** As above for rows with other columns ({@link LabelledRows}), all rows. */
  public <A> JavaRDD<A> foldPartitions(LabelledRows rows, int rowsPerBlock, Zero<A> zero,
      Fold<A, LabelledRows.Block> fold) {
    final int dim = d;
    return rows.rdd().mapPartitions(it -> {
      A acc = zero.get();
      Iterator<LabelledRows.Block> blocks = rows.blocks(it, dim, rowsPerBlock);
      while (blocks.hasNext()) {
        LabelledRows.Block b = blocks.next();
        fold.add(acc, b, encode(b.Y(), b.key(), null));
      }
      return List.of(acc).iterator();
    });
  }

  /** Destroys the broadcast (a job's result is computed by then). */
  @Override
  public void close() {
    dict.destroy();
  }
}
