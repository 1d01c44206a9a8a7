// The engine's non-convolution kernels (batch norm, ReLU6, elementwise, reductions): plain C++
// over float arrays, no N-API, so that module.cc (the addon's glue) and harness.cc (the test
// harness run under qemu-user and wine) share them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace modnas {
namespace {

// The scaffold of both batch-norm kernels over an [m, c] view, on all threads: each thread sums
// two per-channel quantities over its rows (sums(lo, hi, s1, s2), in double: m runs to hundreds
// of thousands of rows), finish(j, t1, t2) runs once per channel on the totals, then each thread
// writes its rows (write(lo, hi)).
template <class Sums, class Finish, class Write>
void per_channel(int64_t m, int64_t c, Sums sums, Finish finish, Write write) {
  const int nt = m * c > 65536 ? max_threads() : 1;
  std::vector<double> part(static_cast<size_t>(nt) * c * 2, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = thread_id();
    const int64_t lo = m * t / nt, hi = m * (t + 1) / nt;
    double* s1 = part.data() + static_cast<size_t>(t) * c * 2;
    sums(lo, hi, s1, s1 + c);
#pragma omp barrier
#pragma omp single
    for (int64_t j = 0; j < c; j++) {
      double t1 = 0, t2 = 0;
      for (int k = 0; k < nt; k++) t1 += part[static_cast<size_t>(k) * c * 2 + j], t2 += part[static_cast<size_t>(k) * c * 2 + c + j];
      finish(j, t1, t2);
    }
    write(lo, hi);
  }
}

// ---- batch norm, training mode, over the last axis of an [m, c] view ----
// Outputs y, the batch mean and the biased batch variance (as tfjs' moments). One pass for the
// sums of x and x^2 (in double, so the variance as E[x^2] - E[x]^2 loses nothing that matters in
// float32), one pass to normalise.
}  // namespace

void bn_forward(const float* x, const float* g, const float* b, float* y, float* mean, float* var, int64_t m, int64_t c, float eps) {
  std::vector<float> a(c), sh(c);
  per_channel(
      m, c,
      [&](int64_t lo, int64_t hi, double* s1, double* s2) {
        for (int64_t i = lo; i < hi; i++) {
          const float* xr = x + i * c;
#pragma omp simd
          for (int64_t j = 0; j < c; j++) {
            const double v = xr[j];
            s1[j] += v;
            s2[j] += v * v;
          }
        }
      },
      [&](int64_t j, double t1, double t2) {
        const double mu = t1 / static_cast<double>(m);
        const double v = std::max(0.0, t2 / static_cast<double>(m) - mu * mu);
        mean[j] = static_cast<float>(mu);
        var[j] = static_cast<float>(v);
        const double aj = g[j] / std::sqrt(v + eps);
        a[j] = static_cast<float>(aj);
        sh[j] = static_cast<float>(b[j] - mu * aj);
      },
      [&](int64_t lo, int64_t hi) {
        const float* pa = a.data();
        const float* pb = sh.data();
        for (int64_t i = lo; i < hi; i++) {
          const float* xr = x + i * c;
          float* yr = y + i * c;
#pragma omp simd
          for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * pa[j] + pb[j];
        }
      });
}

// Gradient of bn_forward w.r.t. x, gamma and beta, the batch statistics differentiated through.
void bn_backward(const float* dy, const float* x, const float* g, const float* mean, const float* var, float* dx, float* dg, float* db, int64_t m, int64_t c, float eps) {
  std::vector<float> inv(c), k0(c), k1(c), k2(c);
  for (int64_t j = 0; j < c; j++) inv[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[j]) + eps));
  per_channel(
      m, c,
      [&](int64_t lo, int64_t hi, double* s1, double* s2) {
        for (int64_t i = lo; i < hi; i++) {
          const float* gr = dy + i * c;
          const float* xr = x + i * c;
#pragma omp simd
          for (int64_t j = 0; j < c; j++) {
            s1[j] += gr[j];
            s2[j] += static_cast<double>(gr[j]) * (xr[j] - mean[j]);
          }
        }
      },
      [&](int64_t j, double sdy, double sdyxc) {
        const double sdyx = sdyxc * inv[j];
        db[j] = static_cast<float>(sdy);
        dg[j] = static_cast<float>(sdyx);
        // dx = g*inv*(dy - sdy/m - xhat*sdyx/m) = k1*dy + k2*(x - mean) + k0.
        k1[j] = g[j] * inv[j];
        k2[j] = static_cast<float>(-static_cast<double>(g[j]) * inv[j] * inv[j] * sdyx / static_cast<double>(m));
        k0[j] = static_cast<float>(-static_cast<double>(g[j]) * inv[j] * sdy / static_cast<double>(m));
      },
      [&](int64_t lo, int64_t hi) {
        const float *p0 = k0.data(), *p1 = k1.data(), *p2 = k2.data();
        for (int64_t i = lo; i < hi; i++) {
          const float* gr = dy + i * c;
          const float* xr = x + i * c;
          float* o = dx + i * c;
#pragma omp simd
          for (int64_t j = 0; j < c; j++) o[j] = p1[j] * gr[j] + p2[j] * (xr[j] - mean[j]) + p0[j];
        }
      });
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

// ---- elementwise kernels of the native backend (tfjs' cpu backend runs them as scalar JS) ----
// relu6: y = min(max(x, 0), 6) (NaN stays NaN, as tfjs' clip does).
void relu6(const float* x, float* y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 262144)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = v != v ? v : (v < 0.f ? 0.f : (v > 6.f ? 6.f : v));
  }
}

// c = a op b with a viewed as [outer, mid, inner] and b as [outer, inner] (repeated along mid):
// same shapes (mid 1), a scalar b (outer = inner = 1), per-channel b (outer 1), b = [N, 1, 1, C]
// against [N, H, W, C] (mean's gradient). swap: c = b op a. op 0 add, 1 sub, 2 mul, 3 div.
template <int OP>
inline float apply(float x, float y) {
  if (OP == 0) return x + y;
  if (OP == 1) return x - y;
  if (OP == 2) return x * y;
  return x / y;
}
template <int OP, bool SWAP>
void binary_op(const float* a, const float* b, float* c, int64_t outer, int64_t mid, int64_t inner) {
  [[maybe_unused]] const int64_t n = outer * mid * inner;  // read by the OpenMP if-clauses only
  if (inner == 1) {
    // b is one value per outer row: a scalar broadcast along each row
#pragma omp parallel for schedule(static) if (n > 262144)
    for (int64_t o = 0; o < outer; o++) {
      const float s = b[o];
      const float* ar = a + o * mid;
      float* cr = c + o * mid;
#pragma omp simd
      for (int64_t m = 0; m < mid; m++) cr[m] = SWAP ? apply<OP>(s, ar[m]) : apply<OP>(ar[m], s);
    }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static) if (n > 262144)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t m = 0; m < mid; m++) {
      const float* br = b + o * inner;
      const float* ar = a + (o * mid + m) * inner;
      float* cr = c + (o * mid + m) * inner;
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) cr[j] = SWAP ? apply<OP>(br[j], ar[j]) : apply<OP>(ar[j], br[j]);
    }
}
template <int OP>
void binary_sw(const float* a, const float* b, float* c, int64_t outer, int64_t mid, int64_t inner, bool swap) {
  if (swap) binary_op<OP, true>(a, b, c, outer, mid, inner);
  else binary_op<OP, false>(a, b, c, outer, mid, inner);
}
void binary(int op, const float* a, const float* b, float* c, int64_t outer, int64_t mid, int64_t inner, bool swap) {
  switch (op) {
    case 0: return binary_sw<0>(a, b, c, outer, mid, inner, swap);
    case 1: return binary_sw<1>(a, b, c, outer, mid, inner, swap);
    case 2: return binary_sw<2>(a, b, c, outer, mid, inner, swap);
    default: return binary_sw<3>(a, b, c, outer, mid, inner, swap);
  }
}

// y[o, c] = mean (or sum) over the middle axis of x viewed as [outer, mid, inner].
void reduce_mid(const float* x, float* y, int64_t outer, int64_t mid, int64_t inner, bool mean) {
#pragma omp parallel for schedule(static) if (outer * mid * inner > 262144 && outer > 1)
  for (int64_t o = 0; o < outer; o++) {
    std::vector<double> acc(inner, 0.0);
    double* pa = acc.data();
    for (int64_t m = 0; m < mid; m++) {
      const float* xr = x + (o * mid + m) * inner;
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) pa[j] += xr[j];
    }
    const double k = mean ? 1.0 / static_cast<double>(mid) : 1.0;
    for (int64_t j = 0; j < inner; j++) y[o * inner + j] = static_cast<float>(pa[j] * k);
  }
}

}  // namespace modnas
