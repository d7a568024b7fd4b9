package dbksvd.spark;

import org.apache.spark.Partition;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionCoalescer;
import org.apache.spark.rdd.PartitionGroup;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManagerId;
import org.apache.spark.storage.RDDBlockId;
import scala.Option;
import scala.collection.immutable.Seq;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The partitions of a persisted RDD grouped by the executor that holds their blocks: one partition per executor,
 * scheduled there (its preferred location is that executor's cache). A stage over it runs one task per executor, which
 * can combine everything its executor holds before anything leaves it — so what the stage sends on grows with the
 * executors, not with the tasks or the cores.
 *
 * <p>Example: 8 cached partitions, 0–3 on executor 1 and 4–7 on executor 2: two groups, [0, 1, 2, 3] preferring
 * {@code executor_hostA_1} and [4, 5, 6, 7] preferring {@code executor_hostB_2}. A partition without a cached block
 * (lost with its executor) joins the smallest group and is recomputed there. Where the task of a group runs is
 * Spark's choice: it may run elsewhere after the locality wait, which costs a remote read, never a wrong result.
 */
final class ByExecutor implements PartitionCoalescer, Serializable {
  private static final long serialVersionUID = 1L;
  /** Per group: its preferred location and its partitions' indices. */
  private final List<String> location = new ArrayList<>();
  private final List<List<Integer>> members = new ArrayList<>();

  private ByExecutor(RDD<?> persisted) {
    int n = persisted.getNumPartitions();
    BlockId[] ids = new BlockId[n];
    for (int p = 0; p < n; p++) {
      ids[p] = new RDDBlockId(persisted.id(), p);
    }
    var where = SparkEnv.get().blockManager().master().getLocations(ids);
    Map<String, List<Integer>> byLocation = new LinkedHashMap<>();
    List<Integer> lost = new ArrayList<>();
    for (int p = 0; p < n; p++) {
      Seq<BlockManagerId> at = where.apply(p);
      if (at.isEmpty()) {
        lost.add(p);
      } else {
        BlockManagerId bm = at.apply(0);
        byLocation.computeIfAbsent("executor_" + bm.host() + "_" + bm.executorId(), k -> new ArrayList<>()).add(p);
      }
    }
    byLocation.forEach((loc, ps) -> {
      location.add(loc);
      members.add(ps);
    });
    if (members.isEmpty()) {
      location.add(null);
      members.add(new ArrayList<>());
    }
    for (int p : lost) {
      int smallest = 0;
      for (int g = 1; g < members.size(); g++) {
        if (members.get(g).size() < members.get(smallest).size()) {
          smallest = g;
        }
      }
      members.get(smallest).add(p);
    }
  }

  /** A persisted RDD, materialised, as one partition per executor that holds its blocks. */
  static <T> JavaRDD<T> group(JavaRDD<T> persisted) {
    ByExecutor groups = new ByExecutor(persisted.rdd());
    return new JavaRDD<>(persisted.rdd().coalesce(groups.members.size(), false, Option.apply(groups), null),
        persisted.classTag());
  }

  @Override
  public PartitionGroup[] coalesce(int maxPartitions, RDD<?> parent) {
    Partition[] parts = parent.partitions();
    PartitionGroup[] out = new PartitionGroup[members.size()];
    for (int g = 0; g < out.length; g++) {
      out[g] = new PartitionGroup(Option.apply(location.get(g)));
      for (int p : members.get(g)) {
        out[g].partitions().addOne(parts[p]);
      }
    }
    return out;
  }
}
