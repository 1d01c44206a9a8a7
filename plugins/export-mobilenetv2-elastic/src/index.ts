import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { mobileNetV2ElasticArchDescExporter } from './elastic-arch-desc-exporter.js';

export { elasticArchDescExporterSchema, mobileNetV2ElasticArchDescExporter } from './elastic-arch-desc-exporter.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [mobileNetV2ElasticArchDescExporter],
});
