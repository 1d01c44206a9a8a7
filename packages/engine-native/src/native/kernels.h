// Shared declarations of the engine's native addons. module.cc (N-API glue, batch norm, ReLU6)
// is linked with one convolution implementation: own_conv.cc (the project's own GEMM and direct
// kernels, needs only a C++ compiler) or dnnl_conv.cc (oneDNN, where libdnnl-dev is installed).
#pragma once

#include <cstdint>
#include <string>

#ifdef _OPENMP
#include <omp.h>
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

// Conv parameter block (Int32Array from JS), after the three byte offsets. Activations NHWC,
// filters HWIO ([KH, KW, C, O]; depthwise [KH, KW, C, 1] with groups = C). dh/dw are dilations.
struct ConvP {
  int32_t N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups;
};

// kind 0: y = conv(a = x, b = w); 1: dx = conv_input_grad(a = dy, b = w); 2: dw = conv_filter_grad(a = x, b = dy).
// Throws std::exception for shapes it does not handle (the JS side then uses its fallback).
void conv_run(int kind, float* a, float* b, float* c, const ConvP& p);
// What the convolutions run on, for info() and the log.
std::string conv_backend();
uint32_t conv_cache_entries();

}  // namespace modnas
