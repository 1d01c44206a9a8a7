// The kernels' test harness: a plain main() (no N-API, no Node) that checks the convolutions and
// the batch-norm / ReLU6 kernels of one build against naive double-precision references on random
// inputs, so that the cross builds run it under qemu-user (linux-arm64) and wine (win32-x64).
// Prints one line per kernel and exits 0 when all pass, 1 otherwise. `harness --cpu` prints the
// best ISA level this processor runs (which builds the host can test).
// Built by scripts/compile.mjs (buildHarness); run by src/harness.test.ts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"

using modnas::ConvP;

namespace {

std::mt19937 rng(12345);
std::vector<float> random_vec(size_t n) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

int failures = 0;
// Reports one kernel: the largest error relative to the reference's scale.
void check(const std::string& name, const std::vector<float>& got, const std::vector<double>& want, double tol = 2e-4) {
  double err = 0, scale = 1;
  bool finite = got.size() == want.size();
  for (size_t i = 0; i < want.size() && finite; i++) {
    if (!std::isfinite(got[i])) finite = false;
    err = std::max(err, std::fabs(got[i] - want[i]));
    scale = std::max(scale, std::fabs(want[i]));
  }
  const bool ok = finite && err / scale <= tol;
  if (!ok) failures++;
  std::printf("%-48s %s (max error %.2e of scale %.2e)\n", name.c_str(), ok ? "pass" : "FAIL", err, scale);
}

// One convolution shape: NHWC activations, HWIO filters; depthwise when groups == C.
struct Shape {
  const char* name;
  int N, C, H, W, O, KH, KW, s, d, pt, pl, pb, pr;
  bool depthwise;
};

ConvP params(const Shape& c) {
  ConvP p{};
  p.N = c.N, p.C = c.C, p.H = c.H, p.W = c.W, p.O = c.depthwise ? c.C : c.O, p.KH = c.KH, p.KW = c.KW;
  p.sh = p.sw = c.s, p.dh = p.dw = c.d, p.pt = c.pt, p.pl = c.pl, p.pb = c.pb, p.pr = c.pr;
  p.OH = (c.H + c.pt + c.pb - (c.d * (c.KH - 1) + 1)) / c.s + 1;
  p.OW = (c.W + c.pl + c.pr - (c.d * (c.KW - 1) + 1)) / c.s + 1;
  p.groups = c.depthwise ? c.C : 1;
  return p;
}

// Calls f(xi, wi, yi) for every product x[xi] * w[wi] that contributes to y[yi].
template <class F>
void each_tap(const ConvP& p, F f) {
  const bool dw = p.groups == p.C && p.groups > 1;
  for (int n = 0; n < p.N; n++)
    for (int oh = 0; oh < p.OH; oh++)
      for (int ow = 0; ow < p.OW; ow++)
        for (int kh = 0; kh < p.KH; kh++)
          for (int kw = 0; kw < p.KW; kw++) {
            const int ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            for (int c = 0; c < p.C; c++) {
              const size_t xi = ((static_cast<size_t>(n) * p.H + ih) * p.W + iw) * p.C + c;
              const size_t ybase = ((static_cast<size_t>(n) * p.OH + oh) * p.OW + ow) * p.O;
              if (dw) {
                f(xi, (static_cast<size_t>(kh) * p.KW + kw) * p.C + c, ybase + c);
              } else {
                for (int o = 0; o < p.O; o++) f(xi, ((static_cast<size_t>(kh) * p.KW + kw) * p.C + c) * p.O + o, ybase + o);
              }
            }
          }
}

void conv_case(const Shape& s) {
  const ConvP p = params(s);
  const size_t nx = static_cast<size_t>(p.N) * p.H * p.W * p.C, ny = static_cast<size_t>(p.N) * p.OH * p.OW * p.O;
  const size_t nw = static_cast<size_t>(p.KH) * p.KW * p.C * (s.depthwise ? 1 : p.O);
  std::vector<float> x = random_vec(nx), w = random_vec(nw), dy = random_vec(ny);
  std::vector<double> y_ref(ny, 0.0), dx_ref(nx, 0.0), dw_ref(nw, 0.0);
  each_tap(p, [&](size_t xi, size_t wi, size_t yi) {
    y_ref[yi] += static_cast<double>(x[xi]) * w[wi];
    dx_ref[xi] += static_cast<double>(dy[yi]) * w[wi];
    dw_ref[wi] += static_cast<double>(x[xi]) * dy[yi];
  });
  // Outputs start as garbage: the kernels must overwrite, as tfjs hands them uninitialised memory.
  std::vector<float> y = random_vec(ny), dx = random_vec(nx), dwt = random_vec(nw);
  const std::string name = s.name;
  try {
    modnas::conv_run(0, x.data(), w.data(), y.data(), p);
    check(name + " forward", y, y_ref);
    modnas::conv_run(1, dy.data(), w.data(), dx.data(), p);
    check(name + " input grad", dx, dx_ref);
    modnas::conv_run(2, x.data(), dy.data(), dwt.data(), p);
    check(name + " filter grad", dwt, dw_ref);
  } catch (const std::exception& e) {
    failures++;
    std::printf("%-48s FAIL (threw: %s)\n", name.c_str(), e.what());
  }
}

void batch_norm_case(int64_t m, int64_t c) {
  const double eps = 1e-3;
  std::vector<float> x = random_vec(m * c), g = random_vec(c), b = random_vec(c), dy = random_vec(m * c);
  for (auto& v : x) v = v * 3 + 0.5f;  // a mean away from 0 and a variance away from 1
  std::vector<double> mean(c, 0), var(c, 0), y_ref(m * c), dx_ref(m * c), dg_ref(c, 0), db_ref(c, 0), yi_ref(m * c);
  for (int64_t j = 0; j < c; j++) {
    for (int64_t i = 0; i < m; i++) mean[j] += x[i * c + j];
    mean[j] /= m;
    for (int64_t i = 0; i < m; i++) var[j] += (x[i * c + j] - mean[j]) * (x[i * c + j] - mean[j]);
    var[j] /= m;
    const double inv = 1 / std::sqrt(var[j] + eps);
    double sdy = 0, sdyxh = 0;
    for (int64_t i = 0; i < m; i++) {
      const double xh = (x[i * c + j] - mean[j]) * inv;
      y_ref[i * c + j] = g[j] * xh + b[j];
      sdy += dy[i * c + j];
      sdyxh += dy[i * c + j] * xh;
    }
    db_ref[j] = sdy, dg_ref[j] = sdyxh;
    for (int64_t i = 0; i < m; i++) {
      const double xh = (x[i * c + j] - mean[j]) * inv;
      dx_ref[i * c + j] = g[j] * inv * (dy[i * c + j] - sdy / m - xh * sdyxh / m);
    }
  }
  const std::string tag = " [" + std::to_string(m) + "x" + std::to_string(c) + "]";
  std::vector<float> y = random_vec(m * c), mu(c), v(c), dx = random_vec(m * c), dg(c), db(c);
  modnas::bn_forward(x.data(), g.data(), b.data(), y.data(), mu.data(), v.data(), m, c, static_cast<float>(eps));
  check("batch norm forward" + tag, y, y_ref);
  check("batch norm mean/variance" + tag, [&] { std::vector<float> r(mu); r.insert(r.end(), v.begin(), v.end()); return r; }(),
        [&] { std::vector<double> r(mean); r.insert(r.end(), var.begin(), var.end()); return r; }());
  modnas::bn_backward(dy.data(), x.data(), g.data(), mu.data(), v.data(), dx.data(), dg.data(), db.data(), m, c, static_cast<float>(eps));
  check("batch norm input grad" + tag, dx, dx_ref, 1e-3);
  check("batch norm gamma/beta grad" + tag, [&] { std::vector<float> r(dg); r.insert(r.end(), db.begin(), db.end()); return r; }(),
        [&] { std::vector<double> r(dg_ref); r.insert(r.end(), db_ref.begin(), db_ref.end()); return r; }(), 1e-3);
  // eval mode on the batch's own statistics gives the training output
  std::vector<float> yi = random_vec(m * c);
  modnas::bn_infer(x.data(), mu.data(), v.data(), b.data(), g.data(), yi.data(), m, c, static_cast<float>(eps));
  check("batch norm inference" + tag, yi, y_ref);
}

void relu6_case(int64_t n) {
  std::vector<float> x = random_vec(n), dy = random_vec(n), y(n), dx(n);
  for (auto& v : x) v *= 8;  // both clip points
  std::vector<double> y_ref(n), dx_ref(n);
  for (int64_t i = 0; i < n; i++) {
    y_ref[i] = std::min(std::max<double>(x[i], 0.0), 6.0);
    dx_ref[i] = x[i] > 0 && x[i] <= 6 ? dy[i] : 0;
  }
  const std::string tag = " [" + std::to_string(n) + "]";
  modnas::relu6(x.data(), y.data(), n);
  check("relu6" + tag, y, y_ref, 0);
  modnas::relu6_grad(dy.data(), x.data(), dx.data(), n);
  check("relu6 grad" + tag, dx, dx_ref, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--cpu") == 0) {
    std::printf("%s\n", modnas::cpu_level());
    return 0;
  }
  std::printf("kernel harness: %s build, %s\n", modnas::isa_level(), modnas::conv_backend().c_str());
  const Shape shapes[] = {
      // name                                 N  C   H   W   O  KH KW s  d  pt pl pb pr depthwise
      {"conv 3x3 (k-blocked GEMM)", 2, 40, 9, 9, 24, 3, 3, 1, 1, 1, 1, 1, 1, false},
      {"conv 3x3 stride 2 (same, odd pads)", 2, 6, 10, 10, 12, 3, 3, 2, 1, 0, 0, 1, 1, false},
      {"conv 3x3 dilation 2", 1, 5, 11, 11, 7, 3, 3, 1, 2, 2, 2, 2, 2, false},
      {"conv 1x1 pointwise", 2, 32, 7, 7, 48, 1, 1, 1, 1, 0, 0, 0, 0, false},
      {"conv 1x1 stride 2", 2, 8, 8, 8, 16, 1, 1, 2, 1, 0, 0, 0, 0, false},
      {"depthwise 3x3", 2, 24, 9, 9, 0, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {"depthwise 5x5 stride 2", 2, 19, 12, 12, 0, 5, 5, 2, 1, 1, 1, 2, 2, true},
      {"depthwise 3x3 dilation 2", 1, 16, 10, 10, 0, 3, 3, 1, 2, 2, 2, 2, 2, true},
  };
  for (const Shape& s : shapes) conv_case(s);
  batch_norm_case(300, 20);
  batch_norm_case(4096, 24);  // over the threading threshold
  relu6_case(1001);
  relu6_case(300000);
  std::printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
