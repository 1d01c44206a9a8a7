import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { knowledgeDistillLoss } from './knowledge-distill-loss.js';

export type { KnowledgeDistillLossConfig } from './knowledge-distill-loss.js';
export { KnowledgeDistillLoss, knowledgeDistillLoss, knowledgeDistillLossSchema } from './knowledge-distill-loss.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [knowledgeDistillLoss],
});
