/**
 * Plain JavaScript kernels over NHWC float32 arrays: the engine's fallback where the oneDNN
 * addon is absent (correct, single-threaded, not fast).
 */
export interface ConvGeom {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

/** dW of a conv (filter [KH, KW, C, O]) or depthwise conv (filter [KH, KW, C, M], O = C*M). */
export function convBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: ConvGeom, depthwise: boolean): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwd } = g;
  const pt = g.padInfo.top;
  const pl = g.padInfo.left;
  const M = depthwise ? O / C : O;
  const acc = new Float64Array(dw.length);
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const dyBase = ((b * OH + oh) * OW + ow) * O;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw * dwd;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((b * H + ih) * W + iw) * C;
            const wBase = (kh * KW + kw) * C * M;
            if (depthwise) {
              for (let c = 0; c < C; c++) {
                const xv = x[xBase + c];
                for (let m = 0; m < M; m++) acc[wBase + c * M + m] += xv * dy[dyBase + c * M + m];
              }
            } else {
              for (let c = 0; c < C; c++) {
                const xv = x[xBase + c];
                if (xv === 0) continue;
                const row = wBase + c * O;
                for (let o = 0; o < O; o++) acc[row + o] += xv * dy[dyBase + o];
              }
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < dw.length; i++) dw[i] = acc[i];
}

/** dX of a conv or depthwise conv (see convBackpropFilter for the filter layouts). */
export function convBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: ConvGeom, depthwise: boolean): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwd } = g;
  const pt = g.padInfo.top;
  const pl = g.padInfo.left;
  const M = depthwise ? O / C : O;
  dx.fill(0);
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const dyBase = ((b * OH + oh) * OW + ow) * O;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw * dwd;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((b * H + ih) * W + iw) * C;
            const wBase = (kh * KW + kw) * C * M;
            for (let c = 0; c < C; c++) {
              let s = 0;
              if (depthwise) for (let m = 0; m < M; m++) s += w[wBase + c * M + m] * dy[dyBase + c * M + m];
              else for (let o = 0; o < O; o++) s += w[wBase + c * O + o] * dy[dyBase + o];
              dx[xBase + c] += s;
            }
          }
        }
      }
    }
  }
}

export interface PoolGeom {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

/** Max-pool gradient: each output's gradient goes to the first maximum of its window (as tfjs' cpu backend). */
export function maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, g: PoolGeom): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dwd } = g;
  const pt = g.padInfo.top;
  const pl = g.padInfo.left;
  dx.fill(0);
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let at = -1;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh - pt + kh * dh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw - pl + kw * dwd;
              if (iw < 0 || iw >= W) continue;
              const i = ((b * H + ih) * W + iw) * C + c;
              if (x[i] > best || at < 0) {
                best = x[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += dy[((b * OH + oh) * OW + ow) * C + c];
        }
      }
    }
  }
}

/** Training batch norm over the last axis: y, batch mean, biased batch variance. */
export function bnForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, C: number, eps: number): void {
  const M = x.length / C;
  const s = new Float64Array(C);
  for (let i = 0; i < M; i++) for (let c = 0; c < C; c++) s[c] += x[i * C + c];
  for (let c = 0; c < C; c++) s[c] /= M;
  const v = new Float64Array(C);
  for (let i = 0; i < M; i++) {
    for (let c = 0; c < C; c++) {
      const d = x[i * C + c] - s[c];
      v[c] += d * d;
    }
  }
  const a = new Float64Array(C);
  const b = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    mean[c] = s[c];
    variance[c] = v[c] / M;
    a[c] = gamma[c] / Math.sqrt(v[c] / M + eps);
    b[c] = beta[c] - s[c] * a[c];
  }
  for (let i = 0; i < M; i++) for (let c = 0; c < C; c++) y[i * C + c] = x[i * C + c] * a[c] + b[c];
}

/** Gradient of bnForward's y w.r.t. x, gamma and beta (batch statistics differentiated through). */
export function bnBackward(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  C: number,
  eps: number,
): void {
  const M = x.length / C;
  const inv = new Float64Array(C);
  for (let c = 0; c < C; c++) inv[c] = 1 / Math.sqrt(variance[c] + eps);
  const sdy = new Float64Array(C);
  const sdyx = new Float64Array(C);
  for (let i = 0; i < M; i++) {
    for (let c = 0; c < C; c++) {
      const g = dy[i * C + c];
      sdy[c] += g;
      sdyx[c] += g * (x[i * C + c] - mean[c]) * inv[c];
    }
  }
  for (let c = 0; c < C; c++) {
    dbeta[c] = sdy[c];
    dgamma[c] = sdyx[c];
  }
  for (let i = 0; i < M; i++) {
    for (let c = 0; c < C; c++) {
      const xhat = (x[i * C + c] - mean[c]) * inv[c];
      dx[i * C + c] = (gamma[c] * inv[c] * (dy[i * C + c] - sdy[c] / M - (xhat * sdyx[c]) / M));
    }
  }
}
