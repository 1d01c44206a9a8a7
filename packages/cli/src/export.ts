import { ModnasError } from '@modnas/core';
import type { Logger } from '@modnas/core';
import type * as ModelExportModule from '@modnas/model-export';
import { parse } from './args.js';
import type { Io } from './io.js';

type ModelExport = typeof ModelExportModule;

/**
 * @modnas/model-export, which `modnas export` and `modnas predict` run. It is not a dependency of
 * the cli (TensorFlow.js' converter, protobuf and the image decoder would triple the minimal
 * install): @modnas/all brings it, or npm i it.
 */
async function modelExport(command: string): Promise<ModelExport> {
  try {
    return await import('@modnas/model-export');
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes('@modnas/model-export')) throw e;
    throw new ModnasError('MODNAS_E_CLI_MISSING', `modnas ${command} needs @modnas/model-export, which is not installed`, {
      fix: 'npm i @modnas/model-export (it comes with @modnas/all)',
      cause: e,
    });
  }
}

export const EXPORT_HELP = `Usage: modnas export <experiment-dir> [--format tfjs|onnx|both] [--out <dir>] [--run <id>]

Writes the trained network of the experiment's newest finished run (a "modnas train" run, or a
search with its best architecture applied) as a model other programs load, batch norm folded into
the convolutions:
  <out>/tfjs/  model.json + weight shards: a TensorFlow.js graph model (tf.loadGraphModel, Node or a browser)
  <out>/onnx/  model.onnx (opset 13, NCHW input): onnxruntime-node, onnxruntime-web, ...
each with modnas.json (class names, input shape and layout, preprocessing, architecture, test
accuracy). Each written model is run once on 64 test images against @modnas's own forward pass.

Options:
  --format <f>   tfjs, onnx or both (default both)
  --out <dir>    output folder (default <experiment-dir>/export)
  --run <id>     export this run (default: the newest finished one)
  -q, --quiet    warnings and errors only`;

export const PREDICT_HELP = `Usage: modnas predict <model> <image|folder ...> [--top K] [--json]

Classifies images (PNG, JPEG, WebP; folders are read recursively) with a model "modnas export"
wrote, preparing each image as the training data was (size, channels, normalisation from its
modnas.json). <model> is the export folder (its tfjs model is used), or its tfjs/ or onnx/ folder
(ONNX needs onnxruntime-node installed).

Options:
  --top <K>      the K most likely classes per image (default 3)
  --json         one JSON array: [{ file, top: [{ class, index, prob }] }]`;

export async function exportCommand(argv: string[], io: Io, logger: (quiet: boolean) => Logger): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string' }, out: { type: 'string' }, run: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, debug: { type: 'boolean' } }, EXPORT_HELP);
  if (values.help) {
    io.out(EXPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new ModnasError('MODNAS_E_CLI_USAGE', positionals.length ? `one experiment folder expected, got ${positionals.length}` : 'no experiment folder given', { fix: EXPORT_HELP });
  const { exportExperiment, parseFormats } = await modelExport('export');
  const formats = parseFormats(values.format as string | undefined);
  const res = await exportExperiment(positionals[0], { formats, out: values.out as string | undefined, run: values.run as string | undefined, logger: logger(Boolean(values.quiet)) });
  for (const o of res.outputs) {
    const v = o.meta.verified;
    io.out(`${o.format}: ${o.dir}${v ? ` (checked in ${v.runtime}: max |logit difference| ${v.max_abs_logit_diff.toExponential(1)} on ${v.images} test images)` : ''}`);
  }
  if (res.testAccuracy !== undefined) io.out(`test accuracy ${(res.testAccuracy * 100).toFixed(2)}% (measured in @modnas before export, in modnas.json)`);
  return 0;
}

export async function predictCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { top: { type: 'string' }, json: { type: 'boolean' }, debug: { type: 'boolean' } }, PREDICT_HELP);
  if (values.help) {
    io.out(PREDICT_HELP);
    return 0;
  }
  if (positionals.length < 2) throw new ModnasError('MODNAS_E_CLI_USAGE', 'a model and at least one image or folder are needed', { fix: PREDICT_HELP });
  const top = values.top === undefined ? 3 : Number(values.top);
  if (!Number.isInteger(top) || top < 1) throw new ModnasError('MODNAS_E_CLI_USAGE', `--top must be a positive integer, got ${String(values.top)}`, { fix: 'e.g. --top 3', where: '--top' });
  const [modelPath, ...inputs] = positionals;
  const { formatPrediction, listImages, openModel, predictFiles } = await modelExport('predict');
  const files = listImages(inputs);
  if (files.length === 0) throw new ModnasError('MODNAS_E_PREDICT_INPUT', `no image files (PNG, JPEG, WebP) in ${inputs.join(', ')}`, { fix: 'pass image files or folders that hold some' });
  const model = await openModel(modelPath);
  try {
    const { predictions, failures } = await predictFiles(model, files, { top });
    if (values.json) io.out(JSON.stringify(predictions.map((p) => ({ file: p.file, top: p.top })), null, 2));
    else for (const p of predictions) io.out(formatPrediction(p));
    for (const f of failures) io.err(`error [${f.error.code}]: ${f.error.message.split('\n')[0]}`);
    return failures.length ? 2 : 0;
  } finally {
    model.dispose();
  }
}
