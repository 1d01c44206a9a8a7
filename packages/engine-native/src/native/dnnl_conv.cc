// Convolutions on oneDNN (Debian's libdnnl-dev), the engine's optional accelerator: forward,
// input gradient and filter gradient, NHWC activations on the wasm heap (no copies); filters are
// re-laid-out to what oneDNN prefers (small). Linked with module.cc into modnas_dnnl.node.
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "kernels.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace modnas {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& strm() {
  static dnnl::stream s(eng());
  return s;
}

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

}  // namespace

void conv_run(int kind, float* a, float* b, float* c, const ConvP& p) {
  ConvEntry* e = get_conv(kind, p);
  auto& s = strm();
  e->a.user.set_data_handle(a);
  e->b.user.set_data_handle(b);
  e->c.user.set_data_handle(c);
  if (!e->a.same) e->a.to_prim.execute(s, e->a.user, e->a.prim);
  if (!e->b.same) e->b.to_prim.execute(s, e->b.user, e->b.prim);
  e->prim.execute(s, {{e->arg_a, e->a.prim}, {e->arg_b, e->b.prim}, {e->arg_c, e->c.prim}});
  if (!e->c.same) e->c.from_prim.execute(s, e->c.prim, e->c.user);
  s.wait();
}

std::string conv_backend() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + (v->cpu_runtime == DNNL_RUNTIME_OMP ? " (OpenMP)" : "");
}

uint32_t conv_cache_entries() { return static_cast<uint32_t>(conv_cache.size()); }

}  // namespace modnas
