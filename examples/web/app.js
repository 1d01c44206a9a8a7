/* global document, location, navigator, fetch, createImageBitmap, URLSearchParams */
// The web example's one script: a plain ES module, no bundler, no @modnas package. It reads the
// exported model's modnas.json, loads the TensorFlow.js graph model (tf.loadGraphModel) and the
// ONNX model (onnxruntime-web, wasm), prepares each image exactly as modnas.json says, and shows
// both runtimes' top classes side by side.
import * as ort from './vendor/onnxruntime-web/ort.wasm.min.mjs';

/** @type {any} TensorFlow.js' browser build, loaded by index.html as a classic script. */
const tf = /** @type {any} */ (globalThis).tf;

const params = new URLSearchParams(location.search);
/** The tfjs backend unless ?backend= names another (measured fastest on CPU in headless Chromium: see README). */
const DEFAULT_BACKEND = 'wasm';
const TOP = 3;

const $ = (sel) => /** @type {HTMLElement} */ (document.querySelector(sel));

/** Fetch JSON; null when the file is not there (a model exported in one format only). */
async function fetchJson(url) {
  const res = await fetch(url);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => ok(undefined);
    s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

// ------------------------------------------------------------------ preprocessing (modnas.json)

/** sRGB byte -> linear light. */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/**
 * Luminance as sharp (libvips' sRGB -> B_W) computes it for channels: 1: Rec. 709 weights on
 * linear light, encoded back to sRGB. A grey pixel (r = g = b) keeps its value.
 */
export function luminance(r, g, b) {
  if (r === g && g === b) return r;
  const y = 0.2126 * LINEAR[r] + 0.7152 * LINEAR[g] + 0.0722 * LINEAR[b];
  const v = y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.min(255, Math.max(0, Math.round(v * 255)));
}

/**
 * The network's input for one image: drawn onto a black canvas of the input size (transparency
 * flattened onto black, as sharp's flatten), resized as `resize` says ('fill': stretched to
 * height x width; 'pad': resized to `inner`, or fitted keeping the aspect ratio when there is no
 * `inner`, and centred with offsets rounded down), grey as luminance, then
 * x = (p / 255 - mean[c]) / std[c] in the arithmetic of @modnas's training batches.
 * Returns the input (HWC) and the canvas it was read from.
 */
export function toInput(source, sw, sh, pre) {
  const { height: H, width: W, channels: C } = pre;
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
  g.fillStyle = '#000';
  g.fillRect(0, 0, W, H);
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  let [dw, dh] = [W, H];
  if (pre.resize === 'pad') {
    if (pre.inner) [dh, dw] = pre.inner;
    else {
      const s = Math.min(W / sw, H / sh);
      [dw, dh] = [Math.max(1, Math.round(sw * s)), Math.max(1, Math.round(sh * s))];
    }
  }
  g.drawImage(source, (W - dw) >> 1, (H - dh) >> 1, dw, dh);
  const px = g.getImageData(0, 0, W, H).data;
  const x = new Float32Array(H * W * C);
  for (let i = 0; i < H * W; i++) {
    if (C === 1) x[i] = (Math.fround(luminance(px[4 * i], px[4 * i + 1], px[4 * i + 2]) * (1 / 255)) - pre.mean[0]) / pre.std[0];
    else for (let c = 0; c < 3; c++) x[3 * i + c] = (Math.fround(px[4 * i + c] * (1 / 255)) - pre.mean[c]) / pre.std[c];
  }
  return { x, canvas };
}

/**
 * A drawing (white on black) made MNIST-like: the ink's bounding box scaled so its longer side is
 * 20 pixels, placed in 28x28 with its centre of mass at the centre. Null when nothing is drawn.
 */
export function mnistStyle(pad) {
  const S = pad.width;
  const d = /** @type {CanvasRenderingContext2D} */ (pad.getContext('2d', { willReadFrequently: true })).getImageData(0, 0, S, pad.height).data;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < S; x++) {
      if (d[4 * (y * S + x)] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const [bw, bh] = [x1 - x0 + 1, y1 - y0 + 1];
  const s = 20 / Math.max(bw, bh);
  const [dw, dh] = [Math.max(1, Math.round(bw * s)), Math.max(1, Math.round(bh * s))];
  const small = document.createElement('canvas');
  small.width = dw;
  small.height = dh;
  const sg = /** @type {CanvasRenderingContext2D} */ (small.getContext('2d', { willReadFrequently: true }));
  sg.imageSmoothingEnabled = true;
  sg.imageSmoothingQuality = 'high';
  sg.drawImage(pad, x0, y0, bw, bh, 0, 0, dw, dh);
  const p = sg.getImageData(0, 0, dw, dh).data;
  let [m, mx, my] = [0, 0, 0];
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const v = p[4 * (y * dw + x)];
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
  const ox = clamp(Math.round(14 - mx / m), 28 - dw);
  const oy = clamp(Math.round(14 - my / m), 28 - dh);
  const out = document.createElement('canvas');
  out.width = 28;
  out.height = 28;
  const og = /** @type {CanvasRenderingContext2D} */ (out.getContext('2d'));
  og.fillStyle = '#000';
  og.fillRect(0, 0, 28, 28);
  og.drawImage(small, ox, oy);
  return out;
}

// ------------------------------------------------------------------ the two runtimes

async function openTfjs(meta) {
  const backend = params.get('backend') ?? DEFAULT_BACKEND;
  if (backend === 'wasm') {
    await loadScript('vendor/tfjs-backend-wasm/tf-backend-wasm.min.js');
    tf.wasm.setWasmPaths(new URL('vendor/tfjs-backend-wasm/', location.href).href);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend`);
  await tf.ready();
  const t0 = performance.now();
  const model = await tf.loadGraphModel('model/tfjs/model.json');
  const [, h, w, c] = meta.input.shape;
  /** Logits of n NHWC images (n x classes). */
  const run = async (x, n) => {
    const out = tf.tidy(() => model.execute({ [meta.input.name]: tf.tensor4d(x, [n, h, w, c]) }, meta.output.name));
    try {
      return /** @type {Float32Array} */ (await out.data());
    } finally {
      out.dispose();
    }
  };
  await run(new Float32Array(h * w * c), 1); // compile / warm up
  return { run, backend: tf.getBackend(), version: tf.version.tfjs, loadMs: performance.now() - t0 };
}

async function openOnnx(meta) {
  // threads need cross-origin isolation (serve.mjs sends COOP/COEP); ?threads= overrides
  const threads = Number(params.get('threads') ?? (globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1));
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = new URL('vendor/onnxruntime-web/', location.href).href;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create('model/onnx/model.onnx', { executionProviders: ['wasm'] });
  const [, c, h, w] = meta.input.shape;
  const nchw = meta.input.layout === 'NCHW';
  /** Logits of n NHWC images (n x classes): transposed to the model's NCHW here. */
  const run = async (x, n) => {
    let data = x;
    if (nchw) {
      data = new Float32Array(x.length);
      for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let k = 0; k < c; k++) data[((b * c + k) * h + y) * w + z] = x[((b * h + y) * w + z) * c + k];
    }
    const feeds = { [meta.input.name]: new ort.Tensor('float32', data, nchw ? [n, c, h, w] : [n, h, w, c]) };
    const res = await session.run(feeds);
    return /** @type {Float32Array} */ (res[meta.output.name].data);
  };
  await run(new Float32Array(h * w * c), 1);
  return { run, threads, version: ort.env.versions?.web ?? '', loadMs: performance.now() - t0 };
}

// ------------------------------------------------------------------ the page

function softmax(logits) {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function topList(logits, classes) {
  const p = softmax(Array.from(logits));
  const ol = document.createElement('ol');
  ol.className = 'top';
  for (const i of p.map((_, i) => i).sort((a, b) => p[b] - p[a]).slice(0, TOP)) {
    const li = document.createElement('li');
    li.dataset.index = String(i);
    li.dataset.class = classes[i] ?? String(i);
    li.dataset.prob = String(p[i]);
    const name = document.createElement('span');
    name.textContent = classes[i] ?? String(i);
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${(p[i] * 100).toFixed(1)}%`;
    const pct = document.createElement('span');
    pct.className = 'p';
    pct.textContent = `${(p[i] * 100).toFixed(1)}%`;
    li.append(name, bar, pct);
    ol.append(li);
  }
  return ol;
}

/** @type {{ meta: any, tfjsMeta: any, onnxMeta: any, pre: any, tfjs: any, onnx: any, results: any[] }} */
const app = { meta: null, tfjsMeta: null, onnxMeta: null, pre: null, tfjs: null, onnx: null, results: [] };

/** Classify one image (anything drawImage takes) and add its row to the results. */
async function classify(name, source, sw, sh) {
  const { x, canvas } = toInput(source, sw, sh, app.pre);
  const li = document.createElement('li');
  li.className = 'result';
  li.dataset.name = name;
  const what = document.createElement('div');
  what.className = 'what';
  const label = document.createElement('div');
  label.className = 'name';
  label.textContent = name;
  what.append(canvas, label);
  li.append(what);
  const entry = { name, input: x, tfjs: null, onnx: null };
  for (const [key, rt, title] of [['tfjs', app.tfjs, `TensorFlow.js (${app.tfjs?.backend ?? 'not loaded'})`], ['onnx', app.onnx, 'onnxruntime-web (wasm)']]) {
    const col = document.createElement('div');
    col.className = 'runtime';
    col.dataset.runtime = key;
    const h = document.createElement('h3');
    h.textContent = title;
    col.append(h);
    if (rt) {
      const t0 = performance.now();
      const logits = await rt.run(x, 1);
      const ms = performance.now() - t0;
      entry[key] = logits;
      col.dataset.ms = ms.toFixed(2);
      const t = document.createElement('span');
      t.className = 'ms';
      t.textContent = ` ${ms.toFixed(1)} ms`;
      h.append(t);
      col.append(topList(logits, app.meta.classes));
    } else {
      col.append(Object.assign(document.createElement('div'), { className: 'muted', textContent: 'not in this export' }));
    }
    li.append(col);
  }
  $('#results').prepend(li);
  app.results.push(entry);
  return entry;
}

async function classifyFiles(files) {
  for (const file of files) {
    try {
      const bmp = await createImageBitmap(file);
      await classify(file.name, bmp, bmp.width, bmp.height);
      bmp.close();
    } catch (e) {
      const li = Object.assign(document.createElement('li'), { className: 'result failed', textContent: `${file.name}: cannot classify it: ${/** @type {Error} */ (e).message}` });
      li.dataset.name = file.name;
      li.dataset.failed = 'true';
      $('#results').prepend(li);
    }
  }
}

function setupInputs() {
  const input = /** @type {HTMLInputElement} */ ($('#file'));
  input.addEventListener('change', async () => {
    await classifyFiles([...(input.files ?? [])]);
    input.value = '';
  });
  const drop = $('#drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void classifyFiles([...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/')));
  });

  const pad = /** @type {HTMLCanvasElement} */ ($('#pad'));
  const g = /** @type {CanvasRenderingContext2D} */ (pad.getContext('2d', { willReadFrequently: true }));
  const clear = () => {
    g.fillStyle = '#000';
    g.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  // strokes about as thick, relative to the digit, as MNIST's pen
  g.strokeStyle = '#fff';
  g.lineWidth = 22;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  let drawing = false;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    g.beginPath();
    g.moveTo(x, y);
    g.lineTo(x, y);
    g.stroke();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    g.lineTo(x, y);
    g.stroke();
  });
  const stop = () => {
    drawing = false;
  };
  pad.addEventListener('pointerup', stop);
  pad.addEventListener('pointercancel', stop);
  $('#clear').addEventListener('click', clear);
  let drawings = 0;
  $('#classify-drawing').addEventListener('click', async () => {
    const img = mnistStyle(pad);
    if (!img) return;
    await classify(`drawing ${++drawings}`, img, 28, 28);
  });

  const select = /** @type {HTMLSelectElement} */ ($('#backend'));
  select.value = app.tfjs?.backend ?? params.get('backend') ?? DEFAULT_BACKEND;
  select.addEventListener('change', () => {
    params.set('backend', select.value);
    location.search = params.toString();
  });
}

function describe() {
  const m = app.meta;
  const pre = app.pre;
  const acc = m.metrics?.test_accuracy;
  $('#model-info').textContent = `${m.architecture?.model ?? 'network'} (${(m.architecture?.weights ?? 0).toLocaleString('en-US')} weights) from experiment ${m.experiment?.name ?? '?'}, run ${m.experiment?.run ?? '?'}; ${m.classes.length} classes` +
    (acc !== undefined ? `; test accuracy ${(acc * 100).toFixed(2)}% on ${(m.metrics.test_size ?? 0).toLocaleString('en-US')} ${m.experiment?.dataset ?? ''} images (measured by @modnas before export)` : '');
  $('#pre-info').textContent = `${pre.width}×${pre.height}, ${pre.channels === 1 ? 'grey (luminance)' : 'RGB'}, resize ${pre.resize}${pre.inner ? ` to ${pre.inner[1]}×${pre.inner[0]} inside` : ''}, x = (pixel/255 − [${pre.mean.join(', ')}]) / [${pre.std.join(', ')}]`;
  $('#tfjs-info').textContent = app.tfjs ? `${app.tfjs.version}, backend ${app.tfjs.backend}, model loaded in ${app.tfjs.loadMs.toFixed(0)} ms ` : 'no tfjs/ in this export ';
  $('#onnx-info').textContent = app.onnx ? `${app.onnx.version} (wasm, ${app.onnx.threads} thread${app.onnx.threads === 1 ? '' : 's'}${globalThis.crossOriginIsolated ? ', cross-origin isolated' : ''}), model loaded in ${app.onnx.loadMs.toFixed(0)} ms` : 'no onnx/ in this export';
}

async function main() {
  const [tfjsMeta, onnxMeta] = await Promise.all([fetchJson('model/tfjs/modnas.json'), fetchJson('model/onnx/modnas.json')]);
  const meta = tfjsMeta ?? onnxMeta;
  if (!meta) throw new Error('the server has no model: neither model/tfjs/modnas.json nor model/onnx/modnas.json is there. Start it with the folder modnas export wrote: node examples/web/serve.mjs exp/quickstart-train/export');
  if (!meta.preprocess) throw new Error(`this model was trained on ${meta.experiment?.dataset || 'data'} that are not images (its modnas.json has no preprocess), so the page cannot feed it images`);
  Object.assign(app, { meta, tfjsMeta, onnxMeta, pre: meta.preprocess });
  [app.tfjs, app.onnx] = await Promise.all([tfjsMeta ? openTfjs(tfjsMeta) : null, onnxMeta ? openOnnx(onnxMeta) : null]);
  describe();
  setupInputs();
}

/** For scripts driving the page (the example's tests): the runtimes, the preprocessing and every result so far. */
const ready = main().then(
  () => {
    document.body.dataset.state = 'ready';
  },
  (e) => {
    document.body.dataset.state = 'error';
    $('#error').textContent = `The page could not start: ${e?.message ?? e}`;
    console.error(e);
  },
);
Object.assign(globalThis, {
  modnasWeb: {
    ready,
    app,
    toInput,
    luminance,
    mnistStyle,
    runTfjs: (x, n) => app.tfjs.run(x, n),
    runOnnx: (x, n) => app.onnx.run(x, n),
  },
});
