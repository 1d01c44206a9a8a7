/**
 * The page the browser targets run in: TensorFlow.js (and its wasm backend) and onnxruntime-web
 * from the packages installed beside this one, served by Playwright's request routing (no port is
 * opened). `window.modnasLatency.measure` loads one network and times it with the loop of
 * timing.ts, inside the page, so no round trip to Node is timed.
 */
export const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>@modnas latency</title></head><body>
<script>
window.modnasLatency = (() => {
  const loaded = new Map();
  function script(src) {
    if (!loaded.has(src)) loaded.set(src, new Promise((ok, fail) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = ok;
      s.onerror = () => fail(new Error('could not load ' + src));
      document.head.appendChild(s);
    }));
    return loaded.get(src);
  }
  async function sample(run, t) {
    for (let i = 0; i < t.warmup; i++) await run();
    let t0 = performance.now();
    await run();
    const one = performance.now() - t0;
    const inner = Math.max(1, Math.min(1000, Math.ceil(t.min_sample_ms / Math.max(one, 1e-3))));
    const out = [];
    for (let r = 0; r < t.rep; r++) {
      t0 = performance.now();
      for (let k = 0; k < inner; k++) await run();
      out.push((performance.now() - t0) / inner);
    }
    return out;
  }
  const random = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  async function tfjs(backend) {
    await script('/vendor/tfjs/tf.min.js');
    if (backend === 'wasm') {
      await script('/vendor/tfjs-backend-wasm/tf-backend-wasm.min.js');
      tf.wasm.setWasmPaths(location.origin + '/vendor/tfjs-backend-wasm/');
    }
    if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error('TensorFlow.js could not start its ' + backend + ' backend in this browser');
    await tf.ready();
    return tf;
  }
  let ortP;
  async function ort(threads) {
    ortP ??= import('/vendor/onnxruntime-web/ort.wasm.min.mjs');
    const o = await ortP;
    o.env.wasm.numThreads = threads;
    o.env.wasm.wasmPaths = location.origin + '/vendor/onnxruntime-web/';
    return o;
  }
  function gpuInfo() {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return 'no WebGL2';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  }
  return {
    async info(target, threads) {
      const ua = navigator.userAgent.match(/(?:Headless)?Chrome\\/([0-9.]+)/);
      const browser = 'Chromium ' + (ua ? ua[1] : navigator.userAgent);
      if (target === 'onnxruntime-web') {
        const o = await ort(threads);
        return 'onnxruntime-web ' + (o.env.versions?.web ?? '?') + ' (wasm, ' + threads + ' thread' + (threads === 1 ? '' : 's') + ') in ' + browser;
      }
      const backend = target === 'tfjs-webgl' ? 'webgl' : 'wasm';
      const t = await tfjs(backend);
      return 'TensorFlow.js ' + t.version.tfjs + ' ' + backend + ' in ' + browser + (backend === 'webgl' ? ' on ' + gpuInfo() : '');
    },
    async measure(target, url, dims, t, threads) {
      const n = dims.reduce((a, b) => a * b, 1);
      if (target === 'onnxruntime-web') {
        const o = await ort(threads);
        const session = await o.InferenceSession.create(url, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
        try {
          const feeds = { [session.inputNames[0]]: new o.Tensor('float32', random(n), dims) };
          return await sample(async () => { await session.run(feeds); }, t);
        } finally {
          await session.release();
        }
      }
      const tf = await tfjs(target === 'tfjs-webgl' ? 'webgl' : 'wasm');
      const model = await tf.loadGraphModel(url);
      const x = tf.tensor(random(n), dims);
      try {
        // dataSync: the run ends when the result is on the CPU, with no promise turn timed in between
        return await sample(() => { const y = model.execute(x); y.dataSync(); y.dispose(); }, t);
      } finally {
        x.dispose();
        model.dispose();
      }
    },
  };
})();
</script></body></html>`;
