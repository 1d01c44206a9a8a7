// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do. The layers' edges are filled with the testkit's TestLin op (their default,
// empty Slots, can't run until a constructor fills them).
import { describeConformance } from '@modnas/testkit';
import plugin from './index.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: {
    DAGLayer: { n_nodes: 2, edge_cls: 'TestLin' },
    MultiChainLayer: { edge_cls: 'TestLin' },
    Constructed: { module: { type: 'DAGLayer', n_nodes: 2, edge_cls: 'TestLin' } },
  },
});
