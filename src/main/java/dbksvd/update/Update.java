package dbksvd.update;

import java.io.Serializable;

/**
 * How the atoms are refitted to the codes of an outer batch ({@code dbksvd.fit.update}). Each scheme is a small
 * validated value; the fit loop ({@code loop/FitLoop}) runs the one it is given.
 */
public sealed interface Update extends Serializable permits Update.Jacobi, Update.GaussSeidel, Update.JacobiBatches {
  /** The defaults of the settings a scheme does not use, as model.json records them. */
  int DEFAULT_PASSES = 3, DEFAULT_ATOM_BATCHES = 4;

  /** The name in the configuration and in model.json. */
  String name();

  /**
   * {@code jacobi}: every atom refitted at once from the same residual, where the batch lives (KSVD.jl's
   * ParallelKSVD): {@code passes} Lanczos passes on E_jE_jᵀ from d_j, closed by a power step
   * ({@link JacobiUpdate}); 1 pass is the approximate K-SVD step.
   */
  record Jacobi(int passes) implements Update {
    public Jacobi {
      if (passes < 1) {
        throw new IllegalArgumentException("update passes must be at least 1, got " + passes);
      }
    }

    @Override
    public String name() {
      return "jacobi";
    }
  }

  /**
   * {@code gauss-seidel}: the atoms are shuffled into {@code atomBatches} batches per group; samples are routed to
   * the batches their codes touch; inside a batch the atoms are refitted one after the other with the exact top
   * singular triplet, each seeing the residual its predecessors left ({@link AtomBatchUpdate}); the batches are
   * independent of each other (all start from the same residual).
   */
  record GaussSeidel(int atomBatches) implements Update {
    public GaussSeidel {
      if (atomBatches < 1) {
        throw new IllegalArgumentException("atom batches must be at least 1, got " + atomBatches);
      }
    }

    @Override
    public String name() {
      return "gauss-seidel";
    }
  }

  /**
   * {@code jacobi-batches}: the paper's schedule. The atoms are shuffled (seeded by (seed, iteration)) into
   * {@code atomBatches} batches that run one after the other; inside a batch every atom is refitted at once (Jacobi)
   * by {@code passes} Lanczos passes from the residual the batches before it left ({@link JacobiUpdate} on the
   * batch's atoms); then the batch's coefficients are refitted to the new atoms and every sample's residual is
   * brought up to date ({@link BatchRefit}) before the next batch. With 1 batch: {@code jacobi} plus that refit.
   * Not with Matryoshka groups.
   */
  record JacobiBatches(int atomBatches, int passes) implements Update {
    public JacobiBatches {
      if (atomBatches < 1) {
        throw new IllegalArgumentException("atom batches must be at least 1, got " + atomBatches);
      }
      if (passes < 1) {
        throw new IllegalArgumentException("update passes must be at least 1, got " + passes);
      }
    }

    @Override
    public String name() {
      return "jacobi-batches";
    }
  }

  /** The scheme a name (config, model.json) stands for, with its settings; a setting it does not use is ignored. */
  static Update of(String name, int passes, int atomBatches) {
    return switch (name) {
      case "jacobi" -> new Jacobi(passes);
      case "gauss-seidel" -> new GaussSeidel(atomBatches);
      case "jacobi-batches" -> new JacobiBatches(atomBatches, passes);
      default -> throw new IllegalArgumentException("update must be jacobi, gauss-seidel or jacobi-batches, got '"
          + name + "'");
    };
  }

  /** Passes of a Jacobi update (its record component), else the default: what model.json's update_passes holds. */
  default int passes() {
    return DEFAULT_PASSES;
  }

  /** Atom batches of a batched update (its component), else the default: what model.json's atom_batches holds. */
  default int atomBatches() {
    return DEFAULT_ATOM_BATCHES;
  }
}
