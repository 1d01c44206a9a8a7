// The engine's own convolutions (no external library): forward, input gradient and filter
// gradient of dense convolutions as im2col + a packed, cache-blocked SIMD GEMM; depthwise
// convolutions as direct loops vectorised over channels. NHWC activations, HWIO filters, as tfjs
// keeps them. Compiled once per ISA level (scripts/compile.mjs: x86-64-v4, -v3 and plain x86-64; aarch64),
// OpenMP where the compiler has it; GCC/Clang vector extensions give AVX-512, AVX2, SSE or NEON
// code from one source.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels.h"

namespace modnas {
namespace {

#if defined(__AVX512F__)
constexpr int VW = 16;
constexpr const char* kIsa = "AVX-512";
#elif defined(__AVX2__)
constexpr int VW = 8;
constexpr const char* kIsa = "AVX2";
#elif defined(__ARM_NEON)
constexpr int VW = 8;
constexpr const char* kIsa = "NEON";
#elif defined(__x86_64__)
constexpr int VW = 8;
constexpr const char* kIsa = "SSE2";
#else
constexpr int VW = 8;
constexpr const char* kIsa = "generic SIMD";
#endif

typedef float vf __attribute__((vector_size(VW * sizeof(float))));

// Micro-tile MR x NR held in 2*MR vector registers; blocks sized for L1/L2.
constexpr int MR = 6;
constexpr int NR = 2 * VW;
constexpr int64_t KC = 256;
constexpr int64_t MC = 120;   // multiple of MR
constexpr int64_t NC = 3072;  // multiple of NR

inline vf ld(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void st(float* p, vf v) { std::memcpy(p, &v, sizeof v); }


// A strided matrix view: element (i, j) at p[i * rs + j * cs] (a transpose swaps rs and cs).
struct View {
  const float* p;
  int64_t rs, cs;
  const float* at(int64_t i, int64_t j) const { return p + i * rs + j * cs; }
};

// Aligned scratch that grows and is kept per thread (packing buffers are reused every call).
struct Scratch {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t want) {
    if (want > n) {
      aligned_free(p);
      p = static_cast<float*>(aligned_malloc(want * sizeof(float)));
      if (!p) throw std::runtime_error("out of memory for packing buffers");
      n = want;
    }
    return p;
  }
  ~Scratch() { aligned_free(p); }
};
thread_local Scratch tl_a, tl_b;

// A[i0.., k0..] (mc x kc) into MR-row panels, k-major inside a panel, zero-padded to MR rows.
void pack_a(const View& A, int64_t i0, int64_t k0, int64_t mc, int64_t kc, float* dst) {
  for (int64_t r = 0; r < mc; r += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - r);
    float* d = dst + r * kc;
    if (A.cs == 1) {
      for (int64_t i = 0; i < MR; i++) {
        if (i < mr) {
          const float* s = A.at(i0 + r + i, k0);
          for (int64_t k = 0; k < kc; k++) d[k * MR + i] = s[k];
        } else {
          for (int64_t k = 0; k < kc; k++) d[k * MR + i] = 0.f;
        }
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const float* s = A.at(i0 + r, k0 + k);
        for (int64_t i = 0; i < MR; i++) d[k * MR + i] = i < mr ? s[i * A.rs] : 0.f;
      }
    }
  }
}

// B[k0.., j0..] (kc x nc) into NR-column panels, k-major inside a panel, zero-padded to NR.
void pack_b_panel(const View& B, int64_t k0, int64_t j0, int64_t kc, int64_t nr, float* d) {
  if (B.cs == 1) {
    for (int64_t k = 0; k < kc; k++) {
      const float* s = B.at(k0 + k, j0);
      float* o = d + k * NR;
      int64_t j = 0;
      for (; j < nr; j++) o[j] = s[j];
      for (; j < NR; j++) o[j] = 0.f;
    }
  } else {
    for (int64_t j = 0; j < NR; j++) {
      if (j < nr) {
        const float* s = B.at(k0, j0 + j);
        for (int64_t k = 0; k < kc; k++) d[k * NR + j] = s[k * B.rs];
      } else {
        for (int64_t k = 0; k < kc; k++) d[k * NR + j] = 0.f;
      }
    }
  }
}

// C[mr x nr] (+)= a-panel * b-panel over kc.
void micro(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc, int64_t mr, int64_t nr, bool acc) {
  vf c00{}, c01{}, c10{}, c11{}, c20{}, c21{}, c30{}, c31{}, c40{}, c41{}, c50{}, c51{};
  for (int64_t k = 0; k < kc; k++) {
    const vf b0 = ld(b), b1 = ld(b + VW);
    vf ai;
    ai = vf{} + a[0], c00 += ai * b0, c01 += ai * b1;
    ai = vf{} + a[1], c10 += ai * b0, c11 += ai * b1;
    ai = vf{} + a[2], c20 += ai * b0, c21 += ai * b1;
    ai = vf{} + a[3], c30 += ai * b0, c31 += ai * b1;
    ai = vf{} + a[4], c40 += ai * b0, c41 += ai * b1;
    ai = vf{} + a[5], c50 += ai * b0, c51 += ai * b1;
    a += MR;
    b += NR;
  }
  const vf rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++) {
      float* ci = c + i * ldc;
      if (acc) {
        st(ci, ld(ci) + rows[i][0]);
        st(ci + VW, ld(ci + VW) + rows[i][1]);
      } else {
        st(ci, rows[i][0]);
        st(ci + VW, rows[i][1]);
      }
    }
    return;
  }
  float tmp[MR][NR];
  for (int i = 0; i < MR; i++) st(tmp[i], rows[i][0]), st(tmp[i] + VW, rows[i][1]);
  for (int64_t i = 0; i < mr; i++)
    for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = (acc ? c[i * ldc + j] : 0.f) + tmp[i][j];
}

// One thread: C[m x n] (+)= A * B.
void gemm_serial(int64_t m, int64_t n, int64_t k, const View& A, const View& B, float* C, int64_t ldc, bool accumulate) {
  float* bp = tl_b.get(static_cast<size_t>(KC) * (std::min(NC, (n + NR - 1) / NR * NR)));
  float* ap = tl_a.get(static_cast<size_t>(KC) * MC);
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc);
      for (int64_t jr = 0; jr < nc; jr += NR) pack_b_panel(B, pc, jc + jr, kc, std::min<int64_t>(NR, nc - jr), bp + jr * kc);
      const bool acc = accumulate || pc > 0;
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = std::min(MC, m - ic);
        pack_a(A, ic, pc, mc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            micro(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr), acc);
      }
    }
  }
}

// C[m x n] (+)= A[m x k] * B[k x n] on all threads. Tall problems split the rows of C; short
// ones with a long k (filter gradients) split k and add the partial products.
void gemm(int64_t m, int64_t n, int64_t k, const View& A, const View& B, float* C, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; i++) std::memset(C + i * ldc, 0, n * sizeof(float));
    return;
  }
  const int nt = max_threads();
  const double flops = 2.0 * m * n * k;
  if (nt == 1 || flops < 2e6) return gemm_serial(m, n, k, A, B, C, ldc, accumulate);
  if (m >= 2 * MC || m >= nt * 4 * MR) {
    // Row blocks of C, each thread packing its own A block and the B panels it needs.
    const int64_t rb = std::max<int64_t>(MR, ((m + nt * 2 - 1) / (nt * 2) + MR - 1) / MR * MR);
    const int64_t blocks = (m + rb - 1) / rb;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t bi = 0; bi < blocks; bi++) {
      const int64_t i0 = bi * rb;
      const View Ai{A.at(i0, 0), A.rs, A.cs};
      gemm_serial(std::min(rb, m - i0), n, k, Ai, B, C + i0 * ldc, ldc, accumulate);
    }
    return;
  }
  // Split k: thread t computes its share into a private buffer, then the buffers are summed.
  std::vector<float> part(static_cast<size_t>(nt) * m * n);
#pragma omp parallel num_threads(nt)
  {
    const int t = thread_id();
    const int64_t k0 = k * t / nt, k1 = k * (t + 1) / nt;
    float* P = part.data() + static_cast<size_t>(t) * m * n;
    const View At{A.at(0, k0), A.rs, A.cs}, Bt{B.at(k0, 0), B.rs, B.cs};
    gemm_serial(m, n, k1 - k0, At, Bt, P, n, false);
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m; i++) {
      float* ci = C + i * ldc;
      for (int64_t j = 0; j < n; j++) {
        float s = accumulate ? ci[j] : 0.f;
        for (int u = 0; u < nt; u++) s += part[(static_cast<size_t>(u) * m + i) * n + j];
        ci[j] = s;
      }
    }
  }
}

// ---- dense convolutions ----
bool is_pointwise(const ConvP& p) {
  return p.KH == 1 && p.KW == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.OH == p.H && p.OW == p.W;
}

// Images per im2col chunk: the column buffer stays near 16 MiB.
int64_t chunk_images(const ConvP& p) {
  const int64_t per = static_cast<int64_t>(p.OH) * p.OW * p.KH * p.KW * p.C;
  return std::max<int64_t>(1, std::min<int64_t>(p.N, (int64_t{4} << 20) / std::max<int64_t>(per, 1)));
}

// col[(n, oh, ow), (kh, kw, c)] for images [n0, n0 + nb).
void im2col(const float* x, const ConvP& p, int64_t n0, int64_t nb, float* col) {
  const int64_t C = p.C, KK = static_cast<int64_t>(p.KH) * p.KW;
  const int64_t rows = nb * p.OH * p.OW;
#pragma omp parallel for schedule(static) if (rows * KK * C > 32768)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t n = n0 + r / (p.OH * p.OW), oh = (r / p.OW) % p.OH, ow = r % p.OW;
    float* d = col + r * KK * C;
    for (int kh = 0; kh < p.KH; kh++) {
      const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
      for (int kw = 0; kw < p.KW; kw++, d += C) {
        const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
        if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) std::memset(d, 0, C * sizeof(float));
        else std::memcpy(d, x + ((n * p.H + ih) * p.W + iw) * C, C * sizeof(float));
      }
    }
  }
}

// dx[n0..] += col2im(dcol) for images [n0, n0 + nb); one image per thread, so no races.
void col2im(const float* dcol, const ConvP& p, int64_t n0, int64_t nb, float* dx) {
  const int64_t C = p.C, KK = static_cast<int64_t>(p.KH) * p.KW;
#pragma omp parallel for schedule(static) if (nb > 1)
  for (int64_t b = 0; b < nb; b++) {
    const int64_t n = n0 + b;
    float* img = dx + n * p.H * p.W * C;
    std::memset(img, 0, p.H * p.W * C * sizeof(float));
    for (int64_t oh = 0; oh < p.OH; oh++)
      for (int64_t ow = 0; ow < p.OW; ow++) {
        const float* s = dcol + ((b * p.OH + oh) * p.OW + ow) * KK * C;
        for (int kh = 0; kh < p.KH; kh++) {
          const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
          for (int kw = 0; kw < p.KW; kw++, s += C) {
            const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            float* d = img + (ih * p.W + iw) * C;
#pragma omp simd
            for (int64_t c = 0; c < C; c++) d[c] += s[c];
          }
        }
      }
  }
}

thread_local std::vector<float> tl_col;

void dense_forward(const float* x, const float* w, float* y, const ConvP& p) {
  const int64_t C = p.C, O = p.O, K = static_cast<int64_t>(p.KH) * p.KW * C;
  if (is_pointwise(p)) return gemm(static_cast<int64_t>(p.N) * p.H * p.W, O, C, View{x, C, 1}, View{w, O, 1}, y, O, false);
  const int64_t per = static_cast<int64_t>(p.OH) * p.OW, cb = chunk_images(p);
  tl_col.resize(static_cast<size_t>(cb * per * K));
  for (int64_t n0 = 0; n0 < p.N; n0 += cb) {
    const int64_t nb = std::min<int64_t>(cb, p.N - n0);
    im2col(x, p, n0, nb, tl_col.data());
    gemm(nb * per, O, K, View{tl_col.data(), K, 1}, View{w, O, 1}, y + n0 * per * O, O, false);
  }
}

void dense_input_grad(const float* dy, const float* w, float* dx, const ConvP& p) {
  const int64_t C = p.C, O = p.O, K = static_cast<int64_t>(p.KH) * p.KW * C;
  // W^T as a view: (o, q) -> w[q * O + o].
  const View wt{w, 1, O};
  if (is_pointwise(p)) return gemm(static_cast<int64_t>(p.N) * p.H * p.W, C, O, View{dy, O, 1}, wt, dx, C, false);
  const int64_t per = static_cast<int64_t>(p.OH) * p.OW, cb = chunk_images(p);
  tl_col.resize(static_cast<size_t>(cb * per * K));
  for (int64_t n0 = 0; n0 < p.N; n0 += cb) {
    const int64_t nb = std::min<int64_t>(cb, p.N - n0);
    gemm(nb * per, K, O, View{dy + n0 * per * O, O, 1}, wt, tl_col.data(), K, false);
    col2im(tl_col.data(), p, n0, nb, dx);
  }
}

void dense_filter_grad(const float* x, const float* dy, float* dw, const ConvP& p) {
  const int64_t C = p.C, O = p.O, K = static_cast<int64_t>(p.KH) * p.KW * C;
  if (is_pointwise(p)) return gemm(C, O, static_cast<int64_t>(p.N) * p.H * p.W, View{x, 1, C}, View{dy, O, 1}, dw, O, false);
  const int64_t per = static_cast<int64_t>(p.OH) * p.OW, cb = chunk_images(p);
  tl_col.resize(static_cast<size_t>(cb * per * K));
  for (int64_t n0 = 0; n0 < p.N; n0 += cb) {
    const int64_t nb = std::min<int64_t>(cb, p.N - n0);
    im2col(x, p, n0, nb, tl_col.data());
    // dW[K x O] (+)= col^T * dy.
    gemm(K, O, nb * per, View{tl_col.data(), 1, K}, View{dy + n0 * per * O, O, 1}, dw, O, n0 > 0);
  }
}

// ---- depthwise convolutions (channel multiplier 1): loops over taps, SIMD over channels ----
void dw_forward(const float* x, const float* w, float* y, const ConvP& p) {
  const int64_t C = p.C, CV = C / VW * VW;
  // Each output pixel's channels in vector registers across all taps: the output is written once.
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < p.N; n++)
    for (int64_t oh = 0; oh < p.OH; oh++) {
      int kh0 = 0, kh1 = p.KH;
      while (kh0 < kh1 && oh * p.sh - p.pt + kh0 * p.dh < 0) kh0++;
      while (kh1 > kh0 && oh * p.sh - p.pt + (kh1 - 1) * p.dh >= p.H) kh1--;
      for (int64_t ow = 0; ow < p.OW; ow++) {
        int kw0 = 0, kw1 = p.KW;
        while (kw0 < kw1 && ow * p.sw - p.pl + kw0 * p.dw < 0) kw0++;
        while (kw1 > kw0 && ow * p.sw - p.pl + (kw1 - 1) * p.dw >= p.W) kw1--;
        float* o = y + ((n * p.OH + oh) * p.OW + ow) * C;
        const float* xb = x + ((n * p.H + (oh * p.sh - p.pt)) * p.W + (ow * p.sw - p.pl)) * C;
        int64_t c = 0;
        for (; c < CV; c += VW) {
          vf acc{};
          for (int kh = kh0; kh < kh1; kh++)
            for (int kw = kw0; kw < kw1; kw++) acc += ld(xb + (static_cast<int64_t>(kh) * p.dh * p.W + static_cast<int64_t>(kw) * p.dw) * C + c) * ld(w + (kh * p.KW + kw) * C + c);
          st(o + c, acc);
        }
        for (; c < C; c++) {
          float acc = 0.f;
          for (int kh = kh0; kh < kh1; kh++)
            for (int kw = kw0; kw < kw1; kw++) acc += xb[(static_cast<int64_t>(kh) * p.dh * p.W + static_cast<int64_t>(kw) * p.dw) * C + c] * w[(kh * p.KW + kw) * C + c];
          o[c] = acc;
        }
      }
    }
}

void dw_input_grad(const float* dy, const float* w, float* dx, const ConvP& p) {
  const int64_t C = p.C;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < p.N; n++) {
    float* img = dx + n * p.H * p.W * C;
    std::memset(img, 0, p.H * p.W * C * sizeof(float));
    for (int64_t oh = 0; oh < p.OH; oh++) {
      const float* gr = dy + (n * p.OH + oh) * p.OW * C;
      for (int kh = 0; kh < p.KH; kh++) {
        const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
        if (ih < 0 || ih >= p.H) continue;
        float* dr = img + ih * p.W * C;
        for (int64_t ow = 0; ow < p.OW; ow++) {
          const float* g = gr + ow * C;
          for (int kw = 0; kw < p.KW; kw++) {
            const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
            if (iw < 0 || iw >= p.W) continue;
            float* d = dr + iw * C;
            const float* wk = w + (kh * p.KW + kw) * C;
#pragma omp simd
            for (int64_t c = 0; c < C; c++) d[c] += g[c] * wk[c];
          }
        }
      }
    }
  }
}

void dw_filter_grad(const float* x, const float* dy, float* dw, const ConvP& p) {
  const int64_t C = p.C, taps = static_cast<int64_t>(p.KH) * p.KW;
  const int nt = max_threads();
  // Per-thread sums in double (a tap sums N*OH*OW products); each image first in float.
  std::vector<double> part(static_cast<size_t>(nt) * taps * C, 0.0);
#pragma omp parallel num_threads(nt)
  {
    double* acc = part.data() + static_cast<size_t>(thread_id()) * taps * C;
    std::vector<float> img(static_cast<size_t>(taps * C));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < p.N; n++) {
      std::fill(img.begin(), img.end(), 0.f);
      for (int64_t oh = 0; oh < p.OH; oh++) {
        const float* gr = dy + (n * p.OH + oh) * p.OW * C;
        for (int kh = 0; kh < p.KH; kh++) {
          const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
          if (ih < 0 || ih >= p.H) continue;
          const float* xr = x + (n * p.H + ih) * p.W * C;
          for (int64_t ow = 0; ow < p.OW; ow++) {
            const float* g = gr + ow * C;
            for (int kw = 0; kw < p.KW; kw++) {
              const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= p.W) continue;
              const float* xi = xr + iw * C;
              float* a = img.data() + (kh * p.KW + kw) * C;
#pragma omp simd
              for (int64_t c = 0; c < C; c++) a[c] += xi[c] * g[c];
            }
          }
        }
      }
      for (int64_t i = 0; i < taps * C; i++) acc[i] += img[i];
    }
  }
  for (int64_t i = 0; i < taps * C; i++) {
    double s = 0;
    for (int t = 0; t < nt; t++) s += part[static_cast<size_t>(t) * taps * C + i];
    dw[i] = static_cast<float>(s);
  }
}

}  // namespace

void conv_run(int kind, float* a, float* b, float* c, const ConvP& p) {
  if (kind < 0 || kind > 2) throw std::invalid_argument("conv kind must be 0, 1 or 2");
  if (p.groups == 1) {
    if (kind == 0) dense_forward(a, b, c, p);
    else if (kind == 1) dense_input_grad(a, b, c, p);
    else dense_filter_grad(a, b, c, p);
    return;
  }
  if (p.groups == p.C && p.O == p.C) {
    if (kind == 0) dw_forward(a, b, c, p);
    else if (kind == 1) dw_input_grad(a, b, c, p);
    else dw_filter_grad(a, b, c, p);
    return;
  }
  throw std::invalid_argument("grouped convolutions other than depthwise with channel multiplier 1 are not implemented");
}

std::string conv_backend() {
  return std::string("own kernels (") + kIsa + ", " + std::to_string(max_threads()) + (max_threads() == 1 ? " thread)" : " threads)");
}

uint32_t conv_cache_entries() { return 0; }

}  // namespace modnas
