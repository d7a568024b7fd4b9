"""SAELens's matching-pursuit SAE (inference only), re-implemented with numpy for dbksvd's tests.

SAELens cannot be installed where dbksvd's tests run (no PyPI, no torch), so SaelensExportTest loads
`dbksvd export --format saelens` with this file instead. It is driven only by the exported directory (cfg.json and
sae_weights.safetensors), and follows SAELens v6.38.0, commit ae2d1f8a901f7f5edf9f230a36329ad8d626716c of
github.com/decoderesearch/SAELens (formerly jbloomAus/SAELens); the matching-pursuit encoder is the same since it
appeared in v6.26.0 (PR #601, commit b317d08b9c68938f60219d086cd7c1d573023124):

  sae_lens/saes/matching_pursuit_sae.py
    23-60    MatchingPursuitSAEConfig: residual_threshold = 1e-2, max_iterations = None (-> d_in),
             stop_on_duplicate_support = True, architecture "matching_pursuit"
    81-93    MatchingPursuitSAE.encode: process_sae_in, then _encode_matching_pursuit(sae_in, W_dec, ...)
    103-114  MatchingPursuitSAE.decode: acts @ W_dec, + b_dec only when apply_b_dec_to_input
    258-335  _encode_matching_pursuit                                    -> encode_matching_pursuit below
  sae_lens/saes/sae.py
    148-195  SAEConfig: d_in, d_sae, dtype "float32", device, apply_b_dec_to_input = True,
             normalize_activations = "none", reshape_activations = "none", metadata
    358-371  SAE.initialize_weights: the state dict is b_dec (d_in) and W_dec (d_sae, d_in) (MatchingPursuitSAE
             drops W_enc, lines 68-79 of matching_pursuit_sae.py)
    469-479  SAE.process_sae_in: x.to(dtype), then x - b_dec * apply_b_dec_to_input
    551-585  SAE.load_from_disk: cfg.json and sae_weights.safetensors, load_state_dict(strict, assign=True)
  sae_lens/loading/pretrained_sae_loaders.py
    153-167  sae_lens_disk_loader; 347-385 read_sae_components_from_disk (each tensor .to(cfg dtype))
    216-223  handle_config_defaulting: without metadata.sae_lens_version >= 6.0.0 the config is read as a pre-6.0 one
  sae_lens/constants.py: SAE_WEIGHTS_FILENAME = "sae_weights.safetensors", SAE_CFG_FILENAME = "cfg.json"

Torch semantics kept: float32 throughout; Tensor.max(dim=1) returns the first index of the maximum (np.argmax
too); relu(x) = max(x, 0); scatter_add_ is acts[row, index] += value; the residual update is a product then a
difference, element-wise. Not kept bit for bit: the summation order of torch's matmul and sum (numpy's BLAS and
pairwise sums here), so values agree with torch's to float32 rounding.

Usage: python3 saelens_mp.py EXPORT_DIR ROWS.npy OUT_DIR
  writes OUT_DIR/acts.npy (n, d_sae) float32, OUT_DIR/recon.npy (n, d_in) float32 (SAELens's decode of acts), and,
  when cfg.json's metadata says how to fold the activations back to dbksvd's atoms (metadata.dbksvd.m),
  OUT_DIR/codes.npy (n, m) float32 = acts[:, :m] - acts[:, m:].
"""

import json
import os
import struct
import sys

import numpy as np

SAE_WEIGHTS_FILENAME = "sae_weights.safetensors"
SAE_CFG_FILENAME = "cfg.json"
# safetensors dtype names -> numpy (little-endian); SAELens then casts every tensor to the config's dtype
_SAFETENSORS_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}


def read_safetensors(path):
    """The tensors of a safetensors file, by the format's definition: 8-byte little-endian header length N, N bytes
    of JSON (name -> dtype, shape, data_offsets; "__metadata__" -> str pairs), then the data. Checks what the
    safetensors library checks on open: known dtypes, offsets that tile the data without holes, sizes that match."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    tensors = {}
    spans = []
    for name, t in header.items():
        if name == "__metadata__":
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in t.items()):
                raise ValueError(f"{path}: __metadata__ must map strings to strings")
            continue
        if t["dtype"] not in _SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {t['dtype']}, not handled here")
        dt = np.dtype(_SAFETENSORS_DTYPES[t["dtype"]])
        start, end = t["data_offsets"]
        shape = tuple(int(s) for s in t["shape"])
        if end - start != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise ValueError(f"{path}: tensor {name} spans {end - start} bytes, shape {shape} needs "
                             f"{int(np.prod(shape)) * dt.itemsize}")
        spans.append((start, end, name))
        tensors[name] = np.frombuffer(data[start:end], dtype=dt).reshape(shape)
    pos = 0
    for start, end, name in sorted(spans):
        if start != pos:
            raise ValueError(f"{path}: tensor {name} starts at {start}, expected {pos} (no holes or overlaps)")
        pos = end
    if pos != len(data):
        raise ValueError(f"{path}: the tensors cover {pos} of {len(data)} data bytes")
    return tensors


class MatchingPursuitSAE:
    """What SAE.load_from_disk(path) builds for architecture "matching_pursuit", for encode and decode."""

    def __init__(self, path):
        with open(os.path.join(path, SAE_CFG_FILENAME)) as f:
            cfg = json.load(f)
        # handle_config_defaulting: a config without a 6.x sae_lens_version goes through handle_pre_6_0_config,
        # which keeps only SAELens's own metadata keys; an export must not depend on that path
        version = cfg.get("sae_lens_version") or (cfg.get("metadata") or {}).get("sae_lens_version")
        if not version or int(str(version).split(".")[0]) < 6:
            raise ValueError(f"cfg.json has sae_lens_version {version!r}: SAELens would read it as a pre-6.0 config")
        if cfg.get("architecture") != "matching_pursuit":
            raise ValueError(f"architecture {cfg.get('architecture')!r} is not matching_pursuit")
        self.d_in = int(cfg["d_in"])  # SAEConfig fields without defaults: from_dict fails without them
        self.d_sae = int(cfg["d_sae"])
        self.dtype = np.dtype(cfg.get("dtype", "float32"))
        if self.dtype != np.float32:
            raise ValueError(f"dtype {cfg.get('dtype')} is not float32 (the only one re-implemented here)")
        self.apply_b_dec_to_input = bool(cfg.get("apply_b_dec_to_input", True))
        norm = cfg.get("normalize_activations", "none")
        if norm not in ("none", "expected_average_only_in", "constant_norm_rescale", "layer_norm"):
            raise ValueError(f"normalize_activations {norm!r} is refused by SAEConfig.__post_init__")
        if norm != "none" or cfg.get("reshape_activations", "none") != "none":
            raise ValueError("only normalize_activations = reshape_activations = 'none' are re-implemented here")
        self.residual_threshold = float(cfg.get("residual_threshold", 1e-2))
        self.max_iterations = cfg.get("max_iterations")
        self.stop_on_duplicate_support = bool(cfg.get("stop_on_duplicate_support", True))
        self.metadata = cfg.get("metadata") or {}
        state = read_safetensors(os.path.join(path, SAE_WEIGHTS_FILENAME))
        # load_state_dict(strict=True): exactly the module's parameters, with their shapes
        if sorted(state) != ["W_dec", "b_dec"]:
            raise ValueError(f"state dict has {sorted(state)}, the module expects ['W_dec', 'b_dec']")
        if state["W_dec"].shape != (self.d_sae, self.d_in) or state["b_dec"].shape != (self.d_in,):
            raise ValueError(f"W_dec {state['W_dec'].shape}, b_dec {state['b_dec'].shape} do not match "
                             f"d_sae = {self.d_sae}, d_in = {self.d_in}")
        self.W_dec = state["W_dec"].astype(self.dtype)
        self.b_dec = state["b_dec"].astype(self.dtype)

    def process_sae_in(self, x):
        x = np.asarray(x).astype(self.dtype)
        return x - self.b_dec * np.float32(self.apply_b_dec_to_input)

    def encode(self, x):
        return encode_matching_pursuit(self.process_sae_in(x), self.W_dec, self.residual_threshold,
                                       self.max_iterations, self.stop_on_duplicate_support)

    def decode(self, acts):
        out = acts @ self.W_dec
        if self.apply_b_dec_to_input:
            out = out + self.b_dec
        return out


def encode_matching_pursuit(sae_in_centered, W_dec, residual_threshold, max_iterations, stop_on_duplicate_support):
    """_encode_matching_pursuit (matching_pursuit_sae.py lines 258-335) for a 2-D input."""
    residual = sae_in_centered.copy()
    stop_on_residual_threshold = residual_threshold > 0
    batch_size = residual.shape[0]
    d_sae, d_in = W_dec.shape
    if max_iterations is None:
        max_iterations = d_in
    acts = np.zeros((batch_size, d_sae), dtype=residual.dtype)
    prev_support = np.zeros((batch_size, d_sae), dtype=bool)
    done = np.zeros(batch_size, dtype=bool)
    rows = np.arange(batch_size)
    for _ in range(int(max_iterations)):
        # indices = (residual @ W_dec.T).relu().max(dim=1).indices: the first maximum
        indices = np.maximum(residual @ W_dec.T, np.float32(0)).argmax(axis=1)
        selected_dec = W_dec[indices]
        # values = (residual * selected_dec).sum(dim=-1, keepdim=True).relu()
        values = np.maximum((residual * selected_dec).sum(axis=-1, dtype=np.float32), np.float32(0))[:, None]
        masked_values = values * (~done)[:, None].astype(values.dtype)
        acts[rows, indices] += masked_values[:, 0]  # scatter_add_: one index per row
        residual = residual - masked_values * selected_dec
        if stop_on_duplicate_support or stop_on_residual_threshold:
            support = acts != 0
            if stop_on_duplicate_support:
                done = done | (support == prev_support).all(axis=1)
                prev_support = support
            if stop_on_residual_threshold:
                done = done | (np.linalg.norm(residual, axis=-1) < residual_threshold)
            if done.all():
                break
    return acts


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    export_dir, rows_path, out_dir = argv[1:]
    sae = MatchingPursuitSAE(export_dir)
    x = np.load(rows_path)
    acts = sae.encode(x)
    recon = sae.decode(acts)
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "acts.npy"), acts.astype(np.float32))
    np.save(os.path.join(out_dir, "recon.npy"), recon.astype(np.float32))
    fold = sae.metadata.get("dbksvd", {})
    if "m" in fold:
        m = int(fold["m"])
        np.save(os.path.join(out_dir, "codes.npy"), (acts[:, :m] - acts[:, m:2 * m]).astype(np.float32))
    print(f"saelens_mp: {x.shape[0]} rows, d_in {sae.d_in}, d_sae {sae.d_sae}, max_iterations {sae.max_iterations}, "
          f"mean L0 {(acts != 0).sum(axis=1).mean():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
