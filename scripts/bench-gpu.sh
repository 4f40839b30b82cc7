#!/usr/bin/env bash
# Runs the benchmark on a machine with a real GPU (an NVIDIA H200, say) that cannot reach the
# network, in under 8 minutes. Prepare here first with `bash scripts/bench-gpu.sh --prepare`,
# which builds and packs what the run needs into .gpu-bench/ (the built bundles, the linux-x64
# Dawn bindings, and the Vulkan loader packages); copy the repository with .gpu-bench/ there and
# run `bash scripts/bench-gpu.sh [OUT_DIR]`. Needs Node 20+ on that machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--prepare" ]; then
  npm run build
  rm -rf .gpu-bench && mkdir -p .gpu-bench/node_modules/webgpu/dist .gpu-bench/gl
  cp -r dist build .gpu-bench/
  cp package.json .gpu-bench/
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu-bench/node_modules/webgpu/ 2>/dev/null || true
  cp -r node_modules/webgpu/dist/linux-x64 .gpu-bench/node_modules/webgpu/dist/
  cp node_modules/webgpu/dist/*.js .gpu-bench/node_modules/webgpu/dist/ 2>/dev/null || true
  mkdir -p .gpu-bench/node_modules/@jax-js/jax && cp node_modules/@jax-js/jax/package.json .gpu-bench/node_modules/@jax-js/jax/
  (cd .gpu-bench/gl && apt-get download libvulkan1 >/dev/null 2>&1) || echo "bench-gpu: could not download libvulkan1 (needed only if the GPU machine lacks a Vulkan loader)"
  grep -qx '/.gpu-bench/' .git/info/exclude 2>/dev/null || echo '/.gpu-bench/' >> .git/info/exclude
  du -sh .gpu-bench
  exit 0
fi

out="${1:-bench-results}"
mkdir -p "$out"
[ -d .gpu-bench ] || { echo "bench-gpu: .gpu-bench/ is missing: run 'bash scripts/bench-gpu.sh --prepare' first"; exit 1; }
command -v node >/dev/null || { echo "bench-gpu: Node 20+ is needed on this machine"; exit 1; }
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gpu-bench/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
cd .gpu-bench
timeout 480 node build/bench/bench.js --json "../$out/bench-gpu.json" --markdown "../$out/bench-gpu.md"
