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
import dbksvd.update.AtomBatchBlock;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.TopSingularTriplet;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers dbksvd's block types with Kryo. Records go through Java serialisation inside Kryo: Spark's Kryo (4.x)
 * cannot reach a record's final fields, and each record here is a handful of primitive arrays, which Java
 * serialisation writes in bulk anyway.
 */
public final class KryoSetup implements KryoRegistrator {
  @Override
  public void registerClasses(Kryo kryo) {
    kryo.register(AtomBatchBlock.class);
    kryo.register(EncodedBlock.class);
    kryo.register(SparseCodes.class);
    kryo.register(BatchStats.class);
    kryo.register(Dictionary.class);
    JavaSerializer java = new JavaSerializer();
    for (Class<?> c : new Class<?>[] {RowSource.Block.class, SparkFit.EncodedPart.class, Replacement.Candidate.class,
        AtomBatchUpdate.Result.class, AtomGroups.class, MatchingPursuit.class, OrthogonalMatchingPursuit.class,
        TopSingularTriplet.class, FitParams.class}) {
      kryo.register(c, java);
    }
  }
}
