package dbksvd.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.MatchingPursuit;
import dbksvd.encode.OrthogonalMatchingPursuit;
import dbksvd.encode.SparseCodes;
import dbksvd.loop.FitParams;
import dbksvd.loop.Replacement;
import dbksvd.metrics.BatchStats;
import dbksvd.metrics.GramFacts;
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.BatchRefit;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.TopSingularTriplet;
import dbksvd.util.ExactSum;
import org.apache.spark.serializer.KryoRegistrator;

import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Registers dbksvd's block types with Kryo. Records go through Java serialisation inside Kryo: Spark's Kryo (4.x)
 * cannot reach a record's final fields, and each record here is a handful of primitive arrays, which Java
 * serialisation writes in bulk anyway.
 */
public final class KryoSetup implements KryoRegistrator {
  @Override
  public void registerClasses(Kryo kryo) {
    // primitive arrays as one bulk copy each (Kryo's own serializers write element by element): the broadcasts of
    // D and G, the Jacobi update's sums and the blocks are almost nothing else
    kryo.register(float[].class, new BulkFloats());
    kryo.register(double[].class, new BulkDoubles());
    kryo.register(long[].class, new BulkLongs());
    // the rows the epoch's staging pass shuffles to their batches: all N·d floats once per epoch
    kryo.register(RowSource.Block.class, new BlockSerializer());
    // a split of a window (batching = window), one block per place, when Spark spills the held window to disk
    kryo.register(RowSource.Block[].class);
    kryo.register(AtomBatchBlock.class);
    kryo.register(EncodedBlock.class);
    kryo.register(SparseCodes.class);
    kryo.register(BatchStats.class);
    kryo.register(Dictionary.class);
    kryo.register(JacobiUpdate.Sums.class);
    JavaSerializer java = new JavaSerializer();
    kryo.register(ExactSum.class);
    for (Class<?> c : new Class<?>[] {SparkStages.EncodedPart.class, SparkStages.Summary.class, GramFacts.class,
        JacobiUpdate.Krylov.class, Replacement.Candidate.class,
        AtomBatchUpdate.Result.class, JacobiUpdate.Step.class, BatchRefit.Plan.class, AtomGroups.class, MatchingPursuit.class, OrthogonalMatchingPursuit.class,
        TopSingularTriplet.class, FitParams.class}) {
      kryo.register(c, java);
    }
  }

  /** Bytes per bulk chunk: bounds the temporary buffer of a large array. */
  private static final int CHUNK = 1 << 20;

  /** Copies elements [i, i + n) of an array into (or out of) a little-endian byte buffer at its start. */
  private interface Chunk {
    void copy(ByteBuffer bb, int i, int n);
  }

  /** Writes an array's length + 1 (0 is null, as Kryo's own array serializers write it), then its bytes in chunks. */
  private static void writeBulk(Output out, int length, int width, Chunk put) {
    out.writeInt(length + 1, true);
    byte[] buf = new byte[(int) Math.min(CHUNK, (long) width * length)]; // long: width·length passes 2^31 at 2^29 floats
    ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < length; ) {
      int n = Math.min(buf.length / width, length - i);
      bb.clear();
      put.copy(bb, i, n);
      out.writeBytes(buf, 0, width * n);
      i += n;
    }
  }

  /** The length {@link #writeBulk} wrote, or -1 for null. */
  private static int readLength(Input in) {
    return in.readInt(true) - 1;
  }

  /** Reads {@code length} elements of {@code width} bytes in chunks, handing each chunk to {@code get}. */
  private static void readBulk(Input in, int length, int width, Chunk get) {
    byte[] buf = new byte[(int) Math.min(CHUNK, (long) width * length)]; // long: width·length passes 2^31 at 2^29 floats
    ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < length; ) {
      int n = Math.min(buf.length / width, length - i);
      in.readBytes(buf, 0, width * n);
      bb.clear();
      get.copy(bb, i, n);
      i += n;
    }
  }

  /** float[]: its length, then its values little-endian, copied in chunks of 1 MiB. */
  static final class BulkFloats extends Serializer<float[]> {
    @Override
    public void write(Kryo kryo, Output out, float[] a) {
      writeBulk(out, a.length, 4, (bb, i, n) -> bb.asFloatBuffer().put(a, i, n));
    }

    @Override
    public float[] read(Kryo kryo, Input in, Class<float[]> type) {
      int len = readLength(in);
      if (len < 0) {
        return null;
      }
      float[] a = new float[len];
      readBulk(in, len, 4, (bb, i, n) -> bb.asFloatBuffer().get(a, i, n));
      return a;
    }
  }

  /** double[]: as {@link BulkFloats}. */
  static final class BulkDoubles extends Serializer<double[]> {
    @Override
    public void write(Kryo kryo, Output out, double[] a) {
      writeBulk(out, a.length, 8, (bb, i, n) -> bb.asDoubleBuffer().put(a, i, n));
    }

    @Override
    public double[] read(Kryo kryo, Input in, Class<double[]> type) {
      int len = readLength(in);
      if (len < 0) {
        return null;
      }
      double[] a = new double[len];
      readBulk(in, len, 8, (bb, i, n) -> bb.asDoubleBuffer().get(a, i, n));
      return a;
    }
  }

  /** long[]: as {@link BulkFloats}. */
  static final class BulkLongs extends Serializer<long[]> {
    @Override
    public void write(Kryo kryo, Output out, long[] a) {
      writeBulk(out, a.length, 8, (bb, i, n) -> bb.asLongBuffer().put(a, i, n));
    }

    @Override
    public long[] read(Kryo kryo, Input in, Class<long[]> type) {
      int len = readLength(in);
      if (len < 0) {
        return null;
      }
      long[] a = new long[len];
      readBulk(in, len, 8, (bb, i, n) -> bb.asLongBuffer().get(a, i, n));
      return a;
    }
  }

  /** A block of rows: its ids and embeddings, each array in bulk (a record: Kryo's field serializer cannot). */
  static final class BlockSerializer extends Serializer<RowSource.Block> {
    private final BulkLongs longs = new BulkLongs();
    private final BulkFloats floats = new BulkFloats();

    @Override
    public void write(Kryo kryo, Output out, RowSource.Block b) {
      longs.write(kryo, out, b.rowId());
      floats.write(kryo, out, b.Y());
    }

    @Override
    public RowSource.Block read(Kryo kryo, Input in, Class<RowSource.Block> type) {
      long[] ids = longs.read(kryo, in, long[].class);
      return new RowSource.Block(ids, floats.read(kryo, in, float[].class));
    }
  }
}
