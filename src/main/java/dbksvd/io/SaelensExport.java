package dbksvd.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.encode.AtomGroups;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * {@code export --format saelens}: a directory that SAELens (6.26 and later; its source read at v6.38.0, commit
 * ae2d1f8a901f7f5edf9f230a36329ad8d626716c, see README "export") loads with {@code SAE.load_from_disk} as its
 * inference architecture {@code "matching_pursuit"} ({@code sae_lens/saes/matching_pursuit_sae.py}).
 *
 * <p>SAELens's matching pursuit is non-negative: each step picks the row of W_dec with the largest ReLU'd
 * correlation with the residual and adds the ReLU'd coefficient. dbksvd's is signed (largest |correlation|). Signed
 * pursuit over D is exactly non-negative pursuit over [D; −D] (an atom with a negative correlation is its negation
 * with a positive one), so W_dec = [D; −D] (2m × d), b_dec = 0, {@code max_iterations} = k,
 * {@code residual_threshold} = 0 (no stop on the residual), {@code stop_on_duplicate_support} = false (signed MP may
 * pick an atom twice, which leaves the support unchanged) and {@code apply_b_dec_to_input} = false. Folded back,
 * atom j's coefficient is {@code acts[j] − acts[m + j]}.
 *
 * <p>Example, m = 2, d = 3, D's atoms a₀, a₁: W_dec rows [a₀, a₁, −a₀, −a₁], b_dec [0, 0, 0], d_sae = 4; SAELens
 * activations [0, 0.5, 1.2, 0] fold to the dbksvd code x = [0 − 1.2, 0.5 − 0] = [−1.2, 0.5].
 *
 * <p>That reproduces {@code dbksvd encode} for plain MP models (to rounding: SAELens recomputes each coefficient
 * from the residual, dbksvd updates the correlations through G). OMP codes, Matryoshka groups coded in turn and a
 * relative stop (rtol &gt; 0) have no SAELens equivalent: such a model still exports (D is still the decoder), with
 * a warning and the reasons in cfg.json's metadata.
 */
public final class SaelensExport {
  private static final Logger LOG = Logger.getLogger(Export.class.getName());
  /** The SAELens release whose source the export follows; below 6.0 SAELens would rewrite the config as a pre-6 one. */
  public static final String SAELENS_VERSION = "6.38.0";
  public static final String ARCHITECTURE = "matching_pursuit";

  private SaelensExport() {}

  /** Why SAELens's matching pursuit over the export gives other codes than {@code dbksvd encode}; empty: none. */
  public static List<String> differences(ModelDir.Model model) {
    List<String> why = new ArrayList<>();
    if ("mp-refit".equals(model.params().encoder().name())) {
      why.add("the model codes with mp-refit (matching pursuit, then a least-squares refit on its support): SAELens's "
          + "matching pursuit has no refit and gives the plain matching pursuit codes of this decoder");
    } else if (!"mp".equals(model.params().encoder().name())) {
      why.add("the model codes with " + model.params().encoder().name() + ", which is not a SAELens architecture: SAELens "
          + "gives the matching pursuit codes of this decoder");
    }
    AtomGroups g = model.groups();
    if (g.count() > 1) {
      why.add("Matryoshka groups " + Arrays.toString(g.start()) + " are coded in turn with budgets "
          + Arrays.toString(g.budget()) + "; SAELens takes k = " + g.totalBudget() + " steps over all atoms at once");
    }
    if (model.params().rtol() > 0) {
      why.add("rtol = " + model.params().rtol() + " stops when ||r|| <= rtol ||y||; SAELens's residual_threshold is "
          + "absolute, left at 0 (always k steps)");
    }
    return why;
  }

  /** cfg.json: the fields of SAELens's MatchingPursuitSAEConfig, as its SAE.save_model writes them. */
  public static ObjectNode cfg(ModelDir.Model model, String modelDir) {
    int m = model.m();
    AtomGroups g = model.groups();
    ObjectNode o = Export.JSON.createObjectNode();
    o.put("architecture", ARCHITECTURE);
    o.put("d_in", model.d());
    o.put("d_sae", 2 * m);
    o.put("dtype", "float32");
    o.put("device", "cpu");
    o.put("apply_b_dec_to_input", false);
    o.put("normalize_activations", "none");
    o.put("reshape_activations", "none");
    o.put("residual_threshold", 0.0);
    o.put("max_iterations", g.totalBudget());
    o.put("stop_on_duplicate_support", false);
    ObjectNode meta = o.putObject("metadata");
    meta.put("sae_lens_version", SAELENS_VERSION);
    ObjectNode x = meta.putObject("dbksvd");
    x.put("m", m);
    x.put("d", model.d());
    x.put("fold", "the coefficient of atom j (0 <= j < m) is acts[..., j] - acts[..., m + j]: W_dec rows 0..m-1 are "
        + "the dictionary's atoms, rows m..2m-1 their negatives");
    List<String> why = differences(model);
    x.put("same_codes_as_dbksvd_encode", why.isEmpty());
    ArrayNode diff = x.putArray("differences");
    why.forEach(diff::add);
    String version = Export.class.getPackage().getImplementationVersion();
    x.put("exported_by", "dbksvd " + (version != null ? version : "dev"));
    if (modelDir != null) {
      x.put("model_dir", modelDir);
    }
    x.put("k", model.params().k());
    x.put("encoder", model.params().encoder().name());
    x.put("rtol", model.params().rtol());
    ObjectNode groups = x.putObject("groups");
    ArrayNode start = groups.putArray("start");
    ArrayNode budget = groups.putArray("budget");
    Arrays.stream(g.start()).forEach(start::add);
    Arrays.stream(g.budget()).forEach(budget::add);
    x.put("seed", model.params().seed());
    x.set("params", ModelDir.paramsToJson(model.params()));
    // where the model came from, as its model.json says
    ObjectNode from = x.putObject("model");
    if (model.info() != null) {
      for (String key : new String[] {"kind", "dbksvd_version", "input", "column", "rows", "created"}) {
        JsonNode v = model.info().get(key);
        if (v != null && !v.isNull()) {
          from.set(key, v);
        }
      }
      JsonNode fve = model.info().at("/metrics/fve");
      if (fve.isNumber()) {
        from.set("last_fve", fve);
      }
    }
    return o;
  }

  /** sae_weights.safetensors: W_dec = [D; −D] (2m, d) and b_dec = 0 (d), float32, SAELens's state dict names. */
  static void writeWeights(OutputStream out, ModelDir.Model model) throws IOException {
    int md = model.m() * model.d();
    float[] W = Arrays.copyOf(model.D(), 2 * md);
    for (int i = 0; i < md; i++) {
      W[md + i] = -model.D()[i];
    }
    Export.writeSafetensors(out, Map.of("format", "pt"), List.of(
        new Export.Tensor("W_dec", new int[] {2 * model.m(), model.d()}, W),
        new Export.Tensor("b_dec", new int[] {model.d()}, new float[model.d()])));
  }

  /** One warning line when SAELens's codes will not be dbksvd's. */
  static void warnIfCodesDiffer(ModelDir.Model model) {
    List<String> why = differences(model);
    if (!why.isEmpty()) {
      LOG.warning("saelens export: SAELens's matching_pursuit codes will differ from dbksvd encode's (D is still "
          + "the decoder): " + String.join("; ", why));
    }
  }
}
