// Native kernels for @modnas/engine-wasm: convolution (incl. depthwise), its two gradients and
// training-mode batch norm with its gradient, run by oneDNN (Debian's libdnnl) directly on the
// tfjs wasm backend's heap. Tensors stay where tfjs keeps them (NHWC float32 in wasm linear
// memory); JS passes the heap's ArrayBuffer and the byte offsets of inputs and outputs.
#include <node_api.h>

#include <cstdint>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

dnnl::engine& eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& strm() {
  static dnnl::stream s(eng());
  return s;
}

// Byte offsets into the wasm heap (up to 4 GiB) arrive as int32 bit patterns: read them unsigned.
inline uint8_t* at(uint8_t* base, int32_t off) { return base + static_cast<uint32_t>(off); }

// Conv parameter block (Int32Array from JS), after the three byte offsets.
struct ConvP {
  int32_t N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups;
};

// A user memory (on the wasm heap, fixed layout) and, when the primitive wants another layout,
// a private memory plus the reorder between them.
struct Port {
  memory user;
  memory prim;
  dnnl::reorder to_prim;    // user -> prim (inputs)
  dnnl::reorder from_prim;  // prim -> user (outputs)
  bool same = true;
};

Port make_port(const memory::desc& user_md, const memory::desc& prim_md, bool is_input) {
  Port p;
  p.user = memory(user_md, eng(), DNNL_MEMORY_NONE);
  p.same = user_md == prim_md;
  if (p.same) {
    p.prim = p.user;
  } else {
    p.prim = memory(prim_md, eng());
    if (is_input) p.to_prim = dnnl::reorder(p.user, p.prim);
    else p.from_prim = dnnl::reorder(p.prim, p.user);
  }
  return p;
}

struct ConvEntry {
  dnnl::primitive prim;
  Port a, b, c;  // fwd: src, weights, dst; bwd_data: diff_dst, weights, diff_src; bwd_w: src, diff_dst, diff_weights
  int arg_a, arg_b, arg_c;
};

std::unordered_map<std::string, std::unique_ptr<ConvEntry>> conv_cache;

memory::desc act_md(int64_t n, int64_t c, int64_t h, int64_t w) {
  return memory::desc({n, c, h, w}, dt::f32, tag::nhwc);
}

memory::desc wei_md(const ConvP& p) {
  if (p.groups == 1) return memory::desc({p.O, p.C, p.KH, p.KW}, dt::f32, tag::hwio);
  const int64_t g = p.groups;
  return memory::desc({g, p.O / g, p.C / g, p.KH, p.KW}, dt::f32, tag::hwigo);
}

memory::desc any_like(const memory::desc& md) {
  return memory::desc(md.dims(), dt::f32, tag::any);
}

ConvEntry* get_conv(int kind, const ConvP& p) {
  std::string key(reinterpret_cast<const char*>(&p), sizeof(ConvP));
  key.push_back(static_cast<char>('0' + kind));
  auto it = conv_cache.find(key);
  if (it != conv_cache.end()) return it->second.get();

  auto src = act_md(p.N, p.C, p.H, p.W);
  auto dst = act_md(p.N, p.O, p.OH, p.OW);
  auto wei = wei_md(p);
  memory::dims strides = {p.sh, p.sw}, dil = {p.dh - 1, p.dw - 1}, pl = {p.pt, p.pl}, pr = {p.pb, p.pr};
  // Activations stay NHWC (no copies of the big tensors); weights may be re-laid-out (small).
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                                     any_like(wei), dst, strides, dil, pl, pr);
  dnnl::convolution_forward::primitive_desc fpd(fd, eng());
  auto e = std::make_unique<ConvEntry>();
  if (kind == 0) {
    e->prim = dnnl::convolution_forward(fpd);
    e->a = make_port(src, fpd.src_desc(), true);
    e->b = make_port(wei, fpd.weights_desc(), true);
    e->c = make_port(dst, fpd.dst_desc(), false);
    e->arg_a = DNNL_ARG_SRC; e->arg_b = DNNL_ARG_WEIGHTS; e->arg_c = DNNL_ARG_DST;
  } else if (kind == 1) {
    dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, src, any_like(wei), dst, strides, dil, pl, pr);
    dnnl::convolution_backward_data::primitive_desc bpd(bd, eng(), fpd);
    e->prim = dnnl::convolution_backward_data(bpd);
    e->a = make_port(dst, bpd.diff_dst_desc(), true);
    e->b = make_port(wei, bpd.weights_desc(), true);
    e->c = make_port(src, bpd.diff_src_desc(), false);
    e->arg_a = DNNL_ARG_DIFF_DST; e->arg_b = DNNL_ARG_WEIGHTS; e->arg_c = DNNL_ARG_DIFF_SRC;
  } else {
    dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, src, any_like(wei), dst, strides, dil, pl, pr);
    dnnl::convolution_backward_weights::primitive_desc wpd(wd, eng(), fpd);
    e->prim = dnnl::convolution_backward_weights(wpd);
    e->a = make_port(src, wpd.src_desc(), true);
    e->b = make_port(dst, wpd.diff_dst_desc(), true);
    e->c = make_port(wei, wpd.diff_weights_desc(), false);
    e->arg_a = DNNL_ARG_SRC; e->arg_b = DNNL_ARG_DIFF_DST; e->arg_c = DNNL_ARG_DIFF_WEIGHTS;
  }
  auto* raw = e.get();
  conv_cache.emplace(std::move(key), std::move(e));
  return raw;
}

void run_conv(int kind, uint8_t* base, const int32_t* off, const ConvP& p) {
  ConvEntry* e = get_conv(kind, p);
  auto& s = strm();
  e->a.user.set_data_handle(at(base, off[0]));
  e->b.user.set_data_handle(at(base, off[1]));
  e->c.user.set_data_handle(at(base, off[2]));
  if (!e->a.same) e->a.to_prim.execute(s, e->a.user, e->a.prim);
  if (!e->b.same) e->b.to_prim.execute(s, e->b.user, e->b.prim);
  e->prim.execute(s, {{e->arg_a, e->a.prim}, {e->arg_b, e->b.prim}, {e->arg_c, e->c.prim}});
  if (!e->c.same) e->c.from_prim.execute(s, e->c.prim, e->c.user);
  s.wait();
}

// ---- batch norm (training mode), NHWC ----
struct BnEntry {
  dnnl::primitive fwd, bwd;
  memory data, out, scale, shift, mean, var, ddst, dsrc, dscale, dshift;
  bool has_fwd = false, has_bwd = false;
};
std::unordered_map<std::string, std::unique_ptr<BnEntry>> bn_cache;

BnEntry* get_bn(bool backward, int32_t n, int32_t c, int32_t h, int32_t w, float eps) {
  std::string key = std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w) + "," + std::to_string(eps);
  auto& slot = bn_cache[key];
  if (!slot) slot = std::make_unique<BnEntry>();
  BnEntry* e = slot.get();
  auto md = act_md(n, c, h, w);
  auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc fd(dnnl::prop_kind::forward_training, md, eps, flags);
  if (!e->has_fwd || (backward && !e->has_bwd)) {
    dnnl::batch_normalization_forward::primitive_desc fpd(fd, eng());
    if (!e->has_fwd) {
      e->fwd = dnnl::batch_normalization_forward(fpd);
      e->data = memory(md, eng(), DNNL_MEMORY_NONE);
      e->out = memory(md, eng(), DNNL_MEMORY_NONE);
      auto cmd = memory::desc({c}, dt::f32, tag::a);
      e->scale = memory(cmd, eng(), DNNL_MEMORY_NONE);
      e->shift = memory(cmd, eng(), DNNL_MEMORY_NONE);
      e->mean = memory(fpd.mean_desc(), eng(), DNNL_MEMORY_NONE);
      e->var = memory(fpd.variance_desc(), eng(), DNNL_MEMORY_NONE);
      e->dscale = memory(cmd, eng(), DNNL_MEMORY_NONE);
      e->dshift = memory(cmd, eng(), DNNL_MEMORY_NONE);
      e->ddst = memory(md, eng(), DNNL_MEMORY_NONE);
      e->dsrc = memory(md, eng(), DNNL_MEMORY_NONE);
      e->has_fwd = true;
    }
    if (backward && !e->has_bwd) {
      dnnl::batch_normalization_backward::desc bd(dnnl::prop_kind::backward, md, md, eps, flags);
      dnnl::batch_normalization_backward::primitive_desc bpd(bd, eng(), fpd);
      e->bwd = dnnl::batch_normalization_backward(bpd);
      e->has_bwd = true;
    }
  }
  return e;
}

// ---- elementwise (OpenMP) ----
// relu6Grad: dx = dy * (0 < x <= 6) (as tfjs' Relu6 gradient).
void relu6_grad(const float* dy, const float* x, float* dx, int64_t n) {
// Branch-free (a mask multiply, as tfjs' composition does, so NaN/Inf in dy propagate alike) so
// that it vectorises; a branch per element mispredicts on half of all activations.
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
#define NAPI_OK(call)                                              \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error(env, nullptr, "modnas-dnnl: N-API failure"); \
      return nullptr;                                              \
    }                                                              \
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
    run_conv(kind, base, p, cp);
  } catch (const dnnl::error& e) {
    napi_throw_error(env, "MODNAS_E_ENGINE_DNNL", (std::string("oneDNN convolution failed: ") + e.what()).c_str());
  }
  return nullptr;
}

// bnForward(heap, p: Int32Array[x, gamma, beta, y, mean, var, N, C, H, W], eps)
napi_value BnForward(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* base;
  int32_t* p;
  size_t n;
  double eps;
  if (argc < 3 || !get_buf(env, argv[0], &base) || !get_i32(env, argv[1], &p, &n) || n < 10 || napi_get_value_double(env, argv[2], &eps) != napi_ok) {
    napi_throw_type_error(env, nullptr, "bnForward(heap, Int32Array params, eps)");
    return nullptr;
  }
  try {
    BnEntry* e = get_bn(false, p[6], p[7], p[8], p[9], static_cast<float>(eps));
    e->data.set_data_handle(at(base, p[0]));
    e->scale.set_data_handle(at(base, p[1]));
    e->shift.set_data_handle(at(base, p[2]));
    e->out.set_data_handle(at(base, p[3]));
    e->mean.set_data_handle(at(base, p[4]));
    e->var.set_data_handle(at(base, p[5]));
    e->fwd.execute(strm(), {{DNNL_ARG_SRC, e->data}, {DNNL_ARG_DST, e->out}, {DNNL_ARG_SCALE, e->scale}, {DNNL_ARG_SHIFT, e->shift},
                            {DNNL_ARG_MEAN, e->mean}, {DNNL_ARG_VARIANCE, e->var}});
    strm().wait();
  } catch (const dnnl::error& e) {
    napi_throw_error(env, "MODNAS_E_ENGINE_DNNL", (std::string("oneDNN batch norm failed: ") + e.what()).c_str());
  }
  return nullptr;
}

// bnBackward(heap, p: Int32Array[dy, x, gamma, mean, var, dx, dgamma, dbeta, N, C, H, W], eps)
napi_value BnBackward(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* base;
  int32_t* p;
  size_t n;
  double eps;
  if (argc < 3 || !get_buf(env, argv[0], &base) || !get_i32(env, argv[1], &p, &n) || n < 12 || napi_get_value_double(env, argv[2], &eps) != napi_ok) {
    napi_throw_type_error(env, nullptr, "bnBackward(heap, Int32Array params, eps)");
    return nullptr;
  }
  try {
    BnEntry* e = get_bn(true, p[8], p[9], p[10], p[11], static_cast<float>(eps));
    e->ddst.set_data_handle(at(base, p[0]));
    e->data.set_data_handle(at(base, p[1]));
    e->scale.set_data_handle(at(base, p[2]));
    e->mean.set_data_handle(at(base, p[3]));
    e->var.set_data_handle(at(base, p[4]));
    e->dsrc.set_data_handle(at(base, p[5]));
    e->dscale.set_data_handle(at(base, p[6]));
    e->dshift.set_data_handle(at(base, p[7]));
    // oneDNN 2.6 asks for the shift too, though the gradient does not depend on it: pass scale.
    e->shift.set_data_handle(at(base, p[2]));
    e->bwd.execute(strm(), {{DNNL_ARG_SRC, e->data}, {DNNL_ARG_DIFF_DST, e->ddst}, {DNNL_ARG_SCALE, e->scale}, {DNNL_ARG_SHIFT, e->shift}, {DNNL_ARG_MEAN, e->mean},
                            {DNNL_ARG_VARIANCE, e->var}, {DNNL_ARG_DIFF_SRC, e->dsrc}, {DNNL_ARG_DIFF_SCALE, e->dscale},
                            {DNNL_ARG_DIFF_SHIFT, e->dshift}});
    strm().wait();
  } catch (const dnnl::error& e) {
    napi_throw_error(env, "MODNAS_E_ENGINE_DNNL", (std::string("oneDNN batch norm gradient failed: ") + e.what()).c_str());
  }
  return nullptr;
}

// relu6Grad(heap, p: Int32Array[dy, x, dx, n])
napi_value Relu6Grad(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* base;
  int32_t* p;
  size_t n;
  if (argc < 2 || !get_buf(env, argv[0], &base) || !get_i32(env, argv[1], &p, &n) || n < 4) {
    napi_throw_type_error(env, nullptr, "relu6Grad(heap, Int32Array params)");
    return nullptr;
  }
  relu6_grad(reinterpret_cast<const float*>(at(base, p[0])), reinterpret_cast<const float*>(at(base, p[1])), reinterpret_cast<float*>(at(base, p[2])), static_cast<uint32_t>(p[3]));
  return nullptr;
}

// bnInfer(heap, p: Int32Array[x, mean, var, offset|-1, scale|-1, y, M, C], eps)
napi_value BnInfer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* base;
  int32_t* p;
  size_t n;
  double eps;
  if (argc < 3 || !get_buf(env, argv[0], &base) || !get_i32(env, argv[1], &p, &n) || n < 8 || napi_get_value_double(env, argv[2], &eps) != napi_ok) {
    napi_throw_type_error(env, nullptr, "bnInfer(heap, Int32Array params, eps)");
    return nullptr;
  }
  auto f = [&](int k) { return reinterpret_cast<float*>(at(base, p[k])); };
  bn_infer(f(0), f(1), f(2), p[3] == -1 ? nullptr : f(3), p[4] == -1 ? nullptr : f(4), f(5), static_cast<uint32_t>(p[6]), static_cast<uint32_t>(p[7]), static_cast<float>(eps));
  return nullptr;
}

// info() -> { version, cacheEntries }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, v, ce;
  NAPI_OK(napi_create_object(env, &obj));
  const dnnl_version_t* ver = dnnl_version();
  std::string s = std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch) + (ver->cpu_runtime == DNNL_RUNTIME_OMP ? " (OpenMP)" : "");
  NAPI_OK(napi_create_string_utf8(env, s.c_str(), s.size(), &v));
  NAPI_OK(napi_set_named_property(env, obj, "version", v));
  NAPI_OK(napi_create_uint32(env, static_cast<uint32_t>(conv_cache.size() + bn_cache.size()), &ce));
  NAPI_OK(napi_set_named_property(env, obj, "cacheEntries", ce));
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
