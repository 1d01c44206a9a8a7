/** The WebGPU backend's name in tfjs (and the engine's id). */
export const WEBGPU_BACKEND = 'webgpu';
