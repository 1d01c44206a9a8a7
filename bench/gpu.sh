#!/usr/bin/env bash
# The GPU figures, on a machine with a GPU, in one go (under 8 minutes on 16 cores): builds the
# workspace, adds Dawn's `webgpu` package (WebGPU for Node; not a dependency of @modnas, 132 MB with
# every platform's binary), then
#   1. the step benchmark (bench/run.mjs): workloads a, b, c_bingate and d on the native engine and
#      on @modnas/engine-webgpu, each beside PyTorch, on CUDA where torch.cuda is available (else
#      on the CPU, and said so), every step timed to the end of the GPU's work;
#   2. a short search (the quickstart, quick: true) with backend: webgpu, its time and accuracy
#      (it reads no tensor synchronously that the host does not have: tfjs' WebGPU backend cannot
#      in Node; checked on the cpu backend by examples/predefined/src/async-reads.test.ts, never
#      yet on a GPU; the script goes on if it fails and says so).
# Run from the repository root: bash bench/gpu.sh [--write]   (--write puts the step table into
# bench/RESULTS.md's engine section, as bench/run.mjs --write does).
# Nothing is installed outside the repository: Dawn goes to bench/out/gpu-deps (git-ignored) and is
# linked into packages/engine-webgpu/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM=(npx -y pnpm@9.15.9)
t0=$(date +%s)
say() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }

say "machine"
nproc
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: none"
PY=${BENCH_PYTHON:-python3}
if "$PY" -c 'import torch' 2>/dev/null; then
  "$PY" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.cuda.is_available() and torch.cuda.get_device_name(0))'
else
  echo "PyTorch: not installed ($PY); the benchmark runs without the reference (pip install torch for the ratios)"
fi

say "install and build"
"${PNPM[@]}" install --frozen-lockfile --reporter=silent
"${PNPM[@]}" exec turbo run build --output-logs=errors-only

say "Dawn (the webgpu package)"
deps=bench/out/gpu-deps
mkdir -p "$deps" packages/engine-webgpu/node_modules
[ -d "$deps/node_modules/webgpu" ] || npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$deps" webgpu@0.6.2
ln -sfn "$PWD/$deps/node_modules/webgpu" packages/engine-webgpu/node_modules/webgpu
node --input-type=module -e "
const { hardwareAdapter, adapterName } = await import('./packages/engine-webgpu/dist/index.js');
try { console.log('WebGPU adapter:', adapterName(await hardwareAdapter())); }
catch (e) { console.log('WebGPU: no hardware adapter:', e.message); }"

say "step benchmark (native, webgpu; PyTorch on cuda)"
BENCH_PYTHON="$PY" node bench/run.mjs --engines default,webgpu --workloads a,b,c_bingate,d --rounds 3 --steps 2 --torch-device cuda "$@"

say "short search on webgpu (quickstart, quick: true)"
start=$(date +%s)
node packages/cli/dist/bin.js run examples/quickstart/search.yaml -o quick=true -o backend=webgpu -o name=gpu-quick || echo "search on webgpu failed (exit $?)"
echo "search: $(($(date +%s) - start)) s"

say "done"
