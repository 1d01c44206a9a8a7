import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { defaultParamsExporter } from './params.js';

export { defaultParamsExporter, formatPython, paramValue, paramsExport } from './params.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [defaultParamsExporter],
});
