import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mergeExporter } from './merge.js';
import { defaultParamsExporter } from './params.js';
import { defaultToFileExporter } from './to-file.js';

export { mergeExporter, mergeExporterSchema } from './merge.js';
export { defaultParamsExporter, formatPython, paramValue, paramsExport } from './params.js';
export { defaultToFileExporter, defaultToFileExporterSchema, toFilePath } from './to-file.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultParamsExporter, defaultToFileExporter, mergeExporter],
});
