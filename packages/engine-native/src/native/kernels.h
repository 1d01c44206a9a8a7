// Shared declarations of the engine's native code. An addon is module.cc (N-API glue) +
// kernels.cc (batch norm, ReLU6, elementwise, reductions) + one convolution implementation:
// own_conv.cc (the project's own GEMM and direct kernels, needs only a C++ compiler) or
// dnnl_conv.cc (oneDNN, where libdnnl-dev is installed). harness.cc links the same kernels
// without N-API. x86-64 builds are compiled once per ISA level (scripts/compile.mjs); the loader
// picks one by cpu_level().
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef _WIN32
#include <malloc.h>
#endif

namespace modnas {

// OpenMP's thread count and this thread's rank (1 and 0 where the compiler has no OpenMP).
inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// 64-byte aligned memory (mingw's C runtime has no aligned_alloc; its blocks need _aligned_free).
inline void* aligned_malloc(size_t bytes) {
#ifdef _WIN32
  return _aligned_malloc(bytes, 64);
#else
  return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
#endif
}
inline void aligned_free(void* p) {
#ifdef _WIN32
  _aligned_free(p);
#else
  std::free(p);
#endif
}

// The ISA level this file was compiled for ("avx512", "avx2", "x86-64", "neon", "generic").
inline const char* isa_level() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2";
#elif defined(__x86_64__)
  return "x86-64";
#elif defined(__ARM_NEON) || defined(__aarch64__)
  return "neon";
#else
  return "generic";
#endif
}

// The best ISA level this processor runs (same names; any level is runnable on aarch64).
inline const char* cpu_level() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512cd"))
    return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) return "avx2";
  return "x86-64";
#else
  return isa_level();
#endif
}

// Conv parameter block (Int32Array from JS), after the three byte offsets. Activations NHWC,
// filters HWIO ([KH, KW, C, O]; depthwise [KH, KW, C, 1] with groups = C). dh/dw are dilations.
struct ConvP {
  int32_t N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups;
};

// kernels.cc, documented there.
void bn_forward(const float* x, const float* g, const float* b, float* y, float* mean, float* var, int64_t m, int64_t c, float eps);
void bn_backward(const float* dy, const float* x, const float* g, const float* mean, const float* var, float* dx, float* dg, float* db, int64_t m, int64_t c, float eps);
void relu6_grad(const float* dy, const float* x, float* dx, int64_t n);
void bn_infer(const float* x, const float* mean, const float* var, const float* offset, const float* scale, float* y, int64_t m, int64_t c, float eps);
void relu6(const float* x, float* y, int64_t n);
void binary(int op, const float* a, const float* b, float* c, int64_t outer, int64_t mid, int64_t inner, bool swap);
void reduce_mid(const float* x, float* y, int64_t outer, int64_t mid, int64_t inner, bool mean);

// kind 0: y = conv(a = x, b = w); 1: dx = conv_input_grad(a = dy, b = w); 2: dw = conv_filter_grad(a = x, b = dy).
// Throws std::exception for shapes it does not handle (the JS side then uses its fallback).
void conv_run(int kind, float* a, float* b, float* c, const ConvP& p);
// What the convolutions run on, for info() and the log.
std::string conv_backend();
uint32_t conv_cache_entries();

}  // namespace modnas
