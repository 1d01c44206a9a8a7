// N-API module of @modnas/engine-native's native kernels, run in place on tensors where tfjs keeps
// them (NHWC float32: views of the wasm heap, or the native backend's own arrays); no copies.
// The kernels come from the linked kernels.cc (batch norm, ReLU6, elementwise, reductions) and
// own_conv.cc or dnnl_conv.cc (convolutions).
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <unordered_map>
#include <string>
#include <vector>

#include "kernels.h"

namespace {

using modnas::ConvP;
using modnas::max_threads;
using namespace modnas;  // the kernels (kernels.h)

// ---- N-API glue: every tensor arrives as a Float32Array (a view of the wasm heap, or a tensor's
// own array on the native backend), dimensions as numbers or an Int32Array ----
#define NAPI_OK(call)                                                \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, nullptr, "modnas-kernels: N-API failure"); \
      return nullptr;                                                \
    }                                                                \
  } while (0)

// Float32Array (or null/undefined when optional) -> data pointer; false when malformed.
bool get_f32(napi_env env, napi_value v, float** out, bool optional = false) {
  napi_valuetype vt;
  if (optional && napi_typeof(env, v, &vt) == napi_ok && (vt == napi_null || vt == napi_undefined)) {
    *out = nullptr;
    return true;
  }
  napi_typedarray_type t;
  size_t len = 0, off = 0;
  void* data = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != napi_float32_array) return false;
  *out = static_cast<float*>(data);
  return true;
}

bool get_i64(napi_env env, napi_value v, int64_t* out) { return napi_get_value_int64(env, v, out) == napi_ok; }

struct Args {
  napi_value v[12];
  size_t n = 12;
};

bool read_args(napi_env env, napi_callback_info info, Args* a, size_t want, const char* usage) {
  if (napi_get_cb_info(env, info, &a->n, a->v, nullptr, nullptr) != napi_ok || a->n < want) {
    napi_throw_type_error(env, nullptr, usage);
    return false;
  }
  return true;
}

// conv(kind: 0|1|2, a, b, c: Float32Array, p: Int32Array ConvP)
napi_value Conv(napi_env env, napi_callback_info info) {
  const char* usage = "conv(kind, a, b, c: Float32Array, p: Int32Array[18])";
  Args a;
  if (!read_args(env, info, &a, 5, usage)) return nullptr;
  int32_t kind;
  float* t[3];
  napi_typedarray_type ty;
  size_t len = 0, off = 0;
  void* data = nullptr;
  napi_value ab;
  bool ok = napi_get_value_int32(env, a.v[0], &kind) == napi_ok;
  for (int k = 0; k < 3 && ok; k++) ok = get_f32(env, a.v[1 + k], &t[k]);
  if (!ok) {
    napi_throw_type_error(env, nullptr, usage);
    return nullptr;
  }
  if (napi_get_typedarray_info(env, a.v[4], &ty, &len, &data, &ab, &off) != napi_ok || ty != napi_int32_array || len * 4 < sizeof(ConvP)) {
    napi_throw_type_error(env, nullptr, usage);
    return nullptr;
  }
  ConvP cp;
  std::memcpy(&cp, data, sizeof(ConvP));
  try {
    modnas::conv_run(kind, t[0], t[1], t[2], cp);
  } catch (const std::exception& e) {
    napi_throw_error(env, "MODNAS_E_ENGINE_NATIVE", (std::string("native convolution failed: ") + e.what()).c_str());
  }
  return nullptr;
}

// Arguments by a format: F Float32Array, f Float32Array or null, i integer, d number, b boolean.
struct Parsed {
  float* f[8];
  int64_t i[4];
  double d = 0;
  bool b = false;
};
bool parse(napi_env env, napi_callback_info info, const char* format, const char* usage, Parsed* p) {
  Args a;
  const size_t n = std::strlen(format);
  if (!read_args(env, info, &a, n, usage)) return false;
  size_t nf = 0, ni = 0;
  bool ok = true;
  for (size_t k = 0; k < n && ok; k++) {
    switch (format[k]) {
      case 'F': ok = get_f32(env, a.v[k], &p->f[nf++]); break;
      case 'f': ok = get_f32(env, a.v[k], &p->f[nf++], true); break;
      case 'i':
        ok = get_i64(env, a.v[k], &p->i[ni]) && p->i[ni] >= 0;
        ni++;
        break;
      case 'd': ok = napi_get_value_double(env, a.v[k], &p->d) == napi_ok; break;
      default: ok = napi_get_value_bool(env, a.v[k], &p->b) == napi_ok; break;
    }
  }
  if (!ok) napi_throw_type_error(env, nullptr, usage);
  return ok;
}

napi_value BnForward(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "FFFFFFiid", "bnForward(x, gamma, beta, y, mean, var: Float32Array, m, c, eps)", &p))
    bn_forward(p.f[0], p.f[1], p.f[2], p.f[3], p.f[4], p.f[5], p.i[0], p.i[1], static_cast<float>(p.d));
  return nullptr;
}

napi_value BnBackward(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "FFFFFFFFiid", "bnBackward(dy, x, gamma, mean, var, dx, dgamma, dbeta: Float32Array, m, c, eps)", &p))
    bn_backward(p.f[0], p.f[1], p.f[2], p.f[3], p.f[4], p.f[5], p.f[6], p.f[7], p.i[0], p.i[1], static_cast<float>(p.d));
  return nullptr;
}

napi_value Relu6Grad(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "FFFi", "relu6Grad(dy, x, dx: Float32Array, n)", &p)) relu6_grad(p.f[0], p.f[1], p.f[2], p.i[0]);
  return nullptr;
}

napi_value BnInfer(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "FFFffFiid", "bnInfer(x, mean, var, offset|null, scale|null, y: Float32Array, m, c, eps)", &p))
    bn_infer(p.f[0], p.f[1], p.f[2], p.f[3], p.f[4], p.f[5], p.i[0], p.i[1], static_cast<float>(p.d));
  return nullptr;
}

napi_value Relu6(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "FFi", "relu6(x, y: Float32Array, n)", &p)) relu6(p.f[0], p.f[1], p.i[0]);
  return nullptr;
}

// binary(op, big, small, c, outer, mid, inner, swap)
napi_value Binary(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "iFFFiiib", "binary(op, big, small, c: Float32Array, outer, mid, inner, swap)", &p))
    binary(static_cast<int>(p.i[0]), p.f[0], p.f[1], p.f[2], p.i[1], p.i[2], p.i[3], p.b);
  return nullptr;
}

napi_value ReduceMid(napi_env env, napi_callback_info info) {
  Parsed p;
  if (parse(env, info, "FFiiib", "reduceMid(x, y: Float32Array, outer, mid, inner, mean)", &p)) reduce_mid(p.f[0], p.f[1], p.i[0], p.i[1], p.i[2], p.b);
  return nullptr;
}

// ---- tensor memory of the native backend: a caching allocator ----
// Tensors of one step recur with the same sizes every step, so freed blocks wait in per-size free
// lists (no zeroing, no page faults, no waiting for V8's GC). alloc() hands out an external
// ArrayBuffer; release() (the backend's disposeData) detaches it and returns the block at once.
// Blocks V8 collects without a release() come back through the finalizer.
struct Block {
  void* p;
  size_t bytes;
  bool released;
};
std::unordered_map<size_t, std::vector<void*>> free_blocks;
std::unordered_map<void*, Block*> live_blocks;
size_t pooled_bytes = 0, live_bytes = 0;
size_t pool_limit() {
  static const size_t limit = [] {
    const char* v = std::getenv("MODNAS_ENGINE_POOL_MB");
    return (v ? static_cast<size_t>(std::atoll(v)) : size_t{4096}) << 20;
  }();
  return limit;
}
void give_back(void* p, size_t bytes) {
  live_bytes -= bytes;
  if (pooled_bytes + bytes > pool_limit()) return aligned_free(p);
  free_blocks[bytes].push_back(p);
  pooled_bytes += bytes;
}
void finalize_block(napi_env, void*, void* hint) {
  Block* b = static_cast<Block*>(hint);
  if (!b->released) {
    auto it = live_blocks.find(b->p);
    if (it != live_blocks.end() && it->second == b) live_blocks.erase(it);
    give_back(b->p, b->bytes);
  }
  delete b;
}

// alloc(bytes) -> ArrayBuffer (uninitialised)
napi_value Alloc(napi_env env, napi_callback_info info) {
  Args a;
  int64_t want;
  if (!read_args(env, info, &a, 1, "alloc(bytes)") ) return nullptr;
  if (!get_i64(env, a.v[0], &want) || want < 0) {
    napi_throw_type_error(env, nullptr, "alloc(bytes)");
    return nullptr;
  }
  const size_t bytes = (std::max<size_t>(static_cast<size_t>(want), 64) + 63) / 64 * 64;
  void* p = nullptr;
  auto it = free_blocks.find(bytes);
  if (it != free_blocks.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    pooled_bytes -= bytes;
  } else {
    p = aligned_malloc(bytes);
    if (!p && pooled_bytes > 0) {  // out of memory: drop the cache and try once more
      for (auto& kv : free_blocks)
        for (void* q : kv.second) aligned_free(q);
      free_blocks.clear();
      pooled_bytes = 0;
      p = aligned_malloc(bytes);
    }
    if (!p) {
      napi_throw_range_error(env, "MODNAS_E_ENGINE_OOM", ("native backend: out of memory allocating " + std::to_string(bytes >> 20) + " MiB").c_str());
      return nullptr;
    }
  }
  Block* b = new Block{p, bytes, false};
  live_blocks[p] = b;
  live_bytes += bytes;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, static_cast<size_t>(want), finalize_block, b, &ab) != napi_ok) {
    live_blocks.erase(p);
    give_back(p, bytes);
    delete b;
    napi_throw_error(env, nullptr, "native backend: napi_create_external_arraybuffer failed");
    return nullptr;
  }
  return ab;
}

// release(arrayBuffer) -> bool: detach it and return its block now (false: not one of ours).
napi_value Release(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, &a, 1, "release(arrayBuffer)")) return nullptr;
  void* data = nullptr;
  size_t len = 0;
  bool ok = false;
  if (napi_get_arraybuffer_info(env, a.v[0], &data, &len) == napi_ok) {
    auto it = live_blocks.find(data);
    if (it != live_blocks.end()) {
      Block* b = it->second;
      live_blocks.erase(it);
      b->released = true;
      napi_detach_arraybuffer(env, a.v[0]);
      give_back(b->p, b->bytes);
      ok = true;
    }
  }
  napi_value r;
  NAPI_OK(napi_get_boolean(env, ok, &r));
  return r;
}

// poolInfo() -> { liveBytes, pooledBytes }
napi_value PoolInfo(napi_env env, napi_callback_info) {
  napi_value obj, v1, v2;
  NAPI_OK(napi_create_object(env, &obj));
  NAPI_OK(napi_create_double(env, static_cast<double>(live_bytes), &v1));
  NAPI_OK(napi_create_double(env, static_cast<double>(pooled_bytes), &v2));
  NAPI_OK(napi_set_named_property(env, obj, "liveBytes", v1));
  NAPI_OK(napi_set_named_property(env, obj, "pooledBytes", v2));
  return obj;
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
  NAPI_OK(napi_create_uint32(env, static_cast<uint32_t>(max_threads()), &th));
  NAPI_OK(napi_set_named_property(env, obj, "threads", th));
  NAPI_OK(napi_create_string_utf8(env, isa_level(), NAPI_AUTO_LENGTH, &v));
  NAPI_OK(napi_set_named_property(env, obj, "isa", v));
  return obj;
}

// cpu() -> the best ISA level this processor runs ("avx512", "avx2", "x86-64", "neon"): the
// loader asks the baseline build, then loads the addon built for that level.
napi_value Cpu(napi_env env, napi_callback_info) {
  napi_value v;
  NAPI_OK(napi_create_string_utf8(env, cpu_level(), NAPI_AUTO_LENGTH, &v));
  return v;
}

// setThreads(n): the OpenMP threads of kernels called from this thread from now on (OpenMP keeps
// the count per calling thread, so each worker_thread of a process sets its own share).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(env, info, &a, 1, "setThreads(n: positive integer)")) return nullptr;
  int32_t n = 0;
  if (napi_get_value_int32(env, a.v[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "setThreads(n): n must be a positive integer");
    return nullptr;
  }
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnForward", nullptr, BnForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnBackward", nullptr, BnBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relu6Grad", nullptr, Relu6Grad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnInfer", nullptr, BnInfer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relu6", nullptr, Relu6, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceMid", nullptr, ReduceMid, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"alloc", nullptr, Alloc, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"poolInfo", nullptr, PoolInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cpu", nullptr, Cpu, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
