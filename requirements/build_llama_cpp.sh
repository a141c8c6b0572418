#!/usr/bin/env bash
# Builds llama-cpp-python (the optional fast CPU engine) from its pinned source release for $1 (a venv's python).
#   build_llama_cpp.sh PYTHON                 install it into that python (make install)
#   build_llama_cpp.sh PYTHON --portable --wheel-dir DIR
#                                             build a wheel into DIR for other machines (the worker image)
# llama.cpp's default build targets the build machine natively; on CPUs with AMX that build crashed on
# the first evaluation (its AMX path), so the build here names the instruction sets itself: AVX2/FMA
# always, AVX-512 (with VNNI and BF16) only where the build machine's /proc/cpuinfo shows them, AMX
# never. --portable leaves AVX-512 out whatever the build machine has: an image runs on hosts other than
# the one that built it, and an AVX-512 build dies on an AVX2-only CPU (illegal instruction).
# pip's wheel cache is not used: a wheel it kept may have been built for other instruction sets.
# It is optional: if the build fails, the writer's engine `auto` falls back to CTranslate2, with one warning.
set -euo pipefail
PY=${1:?usage: build_llama_cpp.sh PYTHON [--portable] [--wheel-dir DIR]}
shift
portable=0 wheels=""
while (($#)); do
  case $1 in
    --portable) portable=1 ;;
    --wheel-dir) wheels=${2:?--wheel-dir needs a directory}; shift ;;
    *) echo "build_llama_cpp.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
VERSION=$(grep -E '^llama-cpp-python==' "$(dirname "$0")/llama-cpp.txt" | cut -d= -f3 | cut -d' ' -f1)
if ((portable)); then
  flags="avx avx2 fma f16c"  # what every x86-64 CPU since 2013 has
else
  flags=$(grep -m1 '^flags' "${CPUINFO:-/proc/cpuinfo}" 2>/dev/null || true)
fi
has() { [[ " $flags " == *" $1 "* ]] && echo ON || echo OFF; }
args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
args+=" -DGGML_AVX=$(has avx) -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma) -DGGML_F16C=$(has f16c)"
args+=" -DGGML_AVX512=$(has avx512f) -DGGML_AVX512_VNNI=$(has avx512_vnni) -DGGML_AVX512_BF16=$(has avx512_bf16)"
args+=" -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF"
echo "== building llama-cpp-python $VERSION (CMAKE_ARGS: $args); a few minutes"
step=(install)
[[ -z $wheels ]] || step=(wheel --wheel-dir "$wheels")
CMAKE_ARGS="$args" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$PY" -m pip "${step[@]}" --quiet --no-deps --no-cache-dir \
  --no-binary llama-cpp-python --require-hashes -r "$(dirname "$0")/llama-cpp.txt"
