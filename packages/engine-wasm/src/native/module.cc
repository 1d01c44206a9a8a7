// N-API module of @modnas/engine-wasm's native kernels, run directly on the tfjs wasm backend's
// heap: tensors stay where tfjs keeps them (NHWC float32 in wasm linear memory); JS passes the
// heap's ArrayBuffer and the byte offsets of inputs and outputs. Batch norm (training and eval)
// and ReLU6's gradient live here; convolutions come from the linked conv_*.cc.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels.h"

namespace {

using modnas::ConvP;

// Byte offsets into the wasm heap (up to 4 GiB) arrive as int32 bit patterns: read them unsigned.
inline float* at(uint8_t* base, int32_t off) { return reinterpret_cast<float*>(base + static_cast<uint32_t>(off)); }

int threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Per-thread row ranges [lo, hi) of m rows.
inline void rows_of(int64_t m, int t, int nt, int64_t* lo, int64_t* hi) {
  *lo = m * t / nt;
  *hi = m * (t + 1) / nt;
}

// ---- batch norm, training mode, over the last axis of an [m, c] view ----
// Outputs y, the batch mean and the biased batch variance (as tfjs' moments). Sums in double:
// m runs to hundreds of thousands of rows.
void bn_forward(const float* x, const float* g, const float* b, float* y, float* mean, float* var, int64_t m, int64_t c, float eps) {
  const int nt = m * c > 65536 ? threads() : 1;
  std::vector<double> part(static_cast<size_t>(nt) * c, 0.0), mu(c);
  std::vector<float> a(c), sh(c);
#pragma omp parallel num_threads(nt)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num();
#else
    const int t = 0;
#endif
    int64_t lo, hi;
    rows_of(m, t, nt, &lo, &hi);
    double* s = part.data() + static_cast<size_t>(t) * c;
    for (int64_t i = lo; i < hi; i++) {
      const float* xr = x + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) s[j] += xr[j];
    }
#pragma omp barrier
#pragma omp single
    for (int64_t j = 0; j < c; j++) {
      double v = 0;
      for (int k = 0; k < nt; k++) v += part[static_cast<size_t>(k) * c + j], part[static_cast<size_t>(k) * c + j] = 0;
      mu[j] = v / static_cast<double>(m);
    }
    const double* pm = mu.data();
    for (int64_t i = lo; i < hi; i++) {
      const float* xr = x + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) {
        const double d = xr[j] - pm[j];
        s[j] += d * d;
      }
    }
#pragma omp barrier
#pragma omp single
    for (int64_t j = 0; j < c; j++) {
      double v = 0;
      for (int k = 0; k < nt; k++) v += part[static_cast<size_t>(k) * c + j];
      v /= static_cast<double>(m);
      mean[j] = static_cast<float>(mu[j]);
      var[j] = static_cast<float>(v);
      const double aj = g[j] / std::sqrt(v + eps);
      a[j] = static_cast<float>(aj);
      sh[j] = static_cast<float>(b[j] - mu[j] * aj);
    }
    const float* pa = a.data();
    const float* pb = sh.data();
    for (int64_t i = lo; i < hi; i++) {
      const float* xr = x + i * c;
      float* yr = y + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * pa[j] + pb[j];
    }
  }
}

// Gradient of bn_forward w.r.t. x, gamma and beta, the batch statistics differentiated through.
void bn_backward(const float* dy, const float* x, const float* g, const float* mean, const float* var, float* dx, float* dg, float* db, int64_t m, int64_t c, float eps) {
  const int nt = m * c > 65536 ? threads() : 1;
  std::vector<double> part(static_cast<size_t>(nt) * c * 2, 0.0);
  std::vector<float> inv(c), k0(c), k1(c), k2(c);
  for (int64_t j = 0; j < c; j++) inv[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[j]) + eps));
#pragma omp parallel num_threads(nt)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num();
#else
    const int t = 0;
#endif
    int64_t lo, hi;
    rows_of(m, t, nt, &lo, &hi);
    double* s1 = part.data() + static_cast<size_t>(t) * c * 2;
    double* s2 = s1 + c;
    for (int64_t i = lo; i < hi; i++) {
      const float* gr = dy + i * c;
      const float* xr = x + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) {
        s1[j] += gr[j];
        s2[j] += static_cast<double>(gr[j]) * (xr[j] - mean[j]);
      }
    }
#pragma omp barrier
#pragma omp single
    for (int64_t j = 0; j < c; j++) {
      double a1 = 0, a2 = 0;
      for (int k = 0; k < nt; k++) a1 += part[static_cast<size_t>(k) * c * 2 + j], a2 += part[static_cast<size_t>(k) * c * 2 + c + j];
      const double sdyx = a2 * inv[j];
      db[j] = static_cast<float>(a1);
      dg[j] = static_cast<float>(sdyx);
      // dx = g*inv*(dy - sdy/m - xhat*sdyx/m) = k1*dy + k2*(x - mean) + k0.
      k1[j] = g[j] * inv[j];
      k2[j] = static_cast<float>(-static_cast<double>(g[j]) * inv[j] * inv[j] * sdyx / static_cast<double>(m));
      k0[j] = static_cast<float>(-static_cast<double>(g[j]) * inv[j] * a1 / static_cast<double>(m));
    }
    const float *p0 = k0.data(), *p1 = k1.data(), *p2 = k2.data();
    for (int64_t i = lo; i < hi; i++) {
      const float* gr = dy + i * c;
      const float* xr = x + i * c;
      float* o = dx + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; j++) o[j] = p1[j] * gr[j] + p2[j] * (xr[j] - mean[j]) + p0[j];
    }
  }
}

// relu6Grad: dx = dy * (0 < x <= 6) (as tfjs' Relu6 gradient). Branch-free (a mask multiply, as
// tfjs' composition does, so NaN/Inf in dy propagate alike) so that it vectorises.
void relu6_grad(const float* dy, const float* x, float* dx, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 262144)
  for (int64_t i = 0; i < n; i++) {
    const float xi = x[i];
    dx[i] = dy[i] * static_cast<float>((xi > 0.f) & (xi <= 6.f));
  }
}

// bnInfer: y = (x - mean) / sqrt(var + eps) * scale + offset over the last axis (eval mode).
void bn_infer(const float* x, const float* mean, const float* var, const float* offset, const float* scale, float* y, int64_t m, int64_t c, float eps) {
  std::vector<float> a(c), b(c);
  for (int64_t j = 0; j < c; j++) {
    a[j] = (scale ? scale[j] : 1.f) / std::sqrt(var[j] + eps);
    b[j] = (offset ? offset[j] : 0.f) - mean[j] * a[j];
  }
  const float* pa = a.data();
  const float* pb = b.data();
#pragma omp parallel for schedule(static) if (m * c > 262144)
  for (int64_t i = 0; i < m; i++) {
    const float* xr = x + i * c;
    float* yr = y + i * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * pa[j] + pb[j];
  }
}

// ---- N-API glue ----
#define NAPI_OK(call)                                                \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, nullptr, "modnas-kernels: N-API failure"); \
      return nullptr;                                                \
    }                                                                \
  } while (0)

bool get_buf(napi_env env, napi_value v, uint8_t** base) {
  void* data = nullptr;
  size_t len = 0;
  if (napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok) return false;
  *base = static_cast<uint8_t*>(data);
  return true;
}

bool get_i32(napi_env env, napi_value v, int32_t** out, size_t* len) {
  napi_typedarray_type t;
  void* data = nullptr;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &t, len, &data, &ab, &off) != napi_ok || t != napi_int32_array) return false;
  *out = static_cast<int32_t*>(data);
  return true;
}

// Reads (heap, Int32Array params[, eps]); false (with a JS TypeError thrown) when malformed.
bool args(napi_env env, napi_callback_info info, size_t want_params, bool want_eps, const char* usage, uint8_t** base, int32_t** p, double* eps) {
  size_t argc = 3;
  napi_value argv[3];
  size_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < (want_eps ? 3u : 2u) || !get_buf(env, argv[0], base) ||
      !get_i32(env, argv[1], p, &n) || n < want_params || (want_eps && napi_get_value_double(env, argv[2], eps) != napi_ok)) {
    napi_throw_type_error(env, nullptr, usage);
    return false;
  }
  return true;
}

// conv(heap: ArrayBuffer, kind: 0|1|2, p: Int32Array[3 offsets + ConvP])
napi_value Conv(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* base;
  int32_t kind;
  int32_t* p;
  size_t n;
  if (argc < 3 || !get_buf(env, argv[0], &base) || napi_get_value_int32(env, argv[1], &kind) != napi_ok || !get_i32(env, argv[2], &p, &n) ||
      n < 3 + sizeof(ConvP) / 4) {
    napi_throw_type_error(env, nullptr, "conv(heap, kind, Int32Array params)");
    return nullptr;
  }
  ConvP cp;
  std::memcpy(&cp, p + 3, sizeof(ConvP));
  try {
    modnas::conv_run(kind, at(base, p[0]), at(base, p[1]), at(base, p[2]), cp);
  } catch (const std::exception& e) {
    napi_throw_error(env, "MODNAS_E_ENGINE_NATIVE", (std::string("native convolution failed: ") + e.what()).c_str());
  }
  return nullptr;
}

// bnForward(heap, p: Int32Array[x, gamma, beta, y, mean, var, N, C, H, W], eps)
napi_value BnForward(napi_env env, napi_callback_info info) {
  uint8_t* base;
  int32_t* p;
  double eps = 0;
  if (!args(env, info, 10, true, "bnForward(heap, Int32Array params, eps)", &base, &p, &eps)) return nullptr;
  const int64_t m = static_cast<int64_t>(p[6]) * p[8] * p[9];
  bn_forward(at(base, p[0]), at(base, p[1]), at(base, p[2]), at(base, p[3]), at(base, p[4]), at(base, p[5]), m, p[7], static_cast<float>(eps));
  return nullptr;
}

// bnBackward(heap, p: Int32Array[dy, x, gamma, mean, var, dx, dgamma, dbeta, N, C, H, W], eps)
napi_value BnBackward(napi_env env, napi_callback_info info) {
  uint8_t* base;
  int32_t* p;
  double eps = 0;
  if (!args(env, info, 12, true, "bnBackward(heap, Int32Array params, eps)", &base, &p, &eps)) return nullptr;
  const int64_t m = static_cast<int64_t>(p[8]) * p[10] * p[11];
  bn_backward(at(base, p[0]), at(base, p[1]), at(base, p[2]), at(base, p[3]), at(base, p[4]), at(base, p[5]), at(base, p[6]), at(base, p[7]), m, p[9],
              static_cast<float>(eps));
  return nullptr;
}

// relu6Grad(heap, p: Int32Array[dy, x, dx, n])
napi_value Relu6Grad(napi_env env, napi_callback_info info) {
  uint8_t* base;
  int32_t* p;
  if (!args(env, info, 4, false, "relu6Grad(heap, Int32Array params)", &base, &p, nullptr)) return nullptr;
  relu6_grad(at(base, p[0]), at(base, p[1]), at(base, p[2]), static_cast<uint32_t>(p[3]));
  return nullptr;
}

// bnInfer(heap, p: Int32Array[x, mean, var, offset|-1, scale|-1, y, M, C], eps)
napi_value BnInfer(napi_env env, napi_callback_info info) {
  uint8_t* base;
  int32_t* p;
  double eps = 0;
  if (!args(env, info, 8, true, "bnInfer(heap, Int32Array params, eps)", &base, &p, &eps)) return nullptr;
  auto f = [&](int k) { return at(base, p[k]); };
  bn_infer(f(0), f(1), f(2), p[3] == -1 ? nullptr : f(3), p[4] == -1 ? nullptr : f(4), f(5), static_cast<uint32_t>(p[6]), static_cast<uint32_t>(p[7]), static_cast<float>(eps));
  return nullptr;
}

// info() -> { version, cacheEntries, threads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, v, ce, th;
  NAPI_OK(napi_create_object(env, &obj));
  const std::string s = modnas::conv_backend();
  NAPI_OK(napi_create_string_utf8(env, s.c_str(), s.size(), &v));
  NAPI_OK(napi_set_named_property(env, obj, "version", v));
  NAPI_OK(napi_create_uint32(env, modnas::conv_cache_entries(), &ce));
  NAPI_OK(napi_set_named_property(env, obj, "cacheEntries", ce));
  NAPI_OK(napi_create_uint32(env, static_cast<uint32_t>(threads()), &th));
  NAPI_OK(napi_set_named_property(env, obj, "threads", th));
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnForward", nullptr, BnForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnBackward", nullptr, BnBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relu6Grad", nullptr, Relu6Grad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnInfer", nullptr, BnInfer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
