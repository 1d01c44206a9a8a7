import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { constructed } from './constructed.js';
import { dagLayer } from './dag-layer.js';
import { multiChainLayer } from './multi-chain-layer.js';

export { DAGLayer, dagLayer, dagLayerSchema } from './dag-layer.js';
export type { DAGEdgeDesc, DAGLayerConfig, DAGLayerDesc, DAGLayerOptions } from './dag-layer.js';
export { MultiChainLayer, multiChainLayer, multiChainLayerSchema } from './multi-chain-layer.js';
export type { MultiChainLayerConfig, MultiChainLayerOptions } from './multi-chain-layer.js';
export { constructed, constructedSchema, constructSpecs } from './constructed.js';
export type { ConstructedConfig } from './constructed.js';
export {
  LAYER_DEFS,
  layerDefNames,
  layerDefName,
  layerDefSchema,
  buildAllocator,
  buildEnumerator,
  buildMerger,
  ConcatMerger,
  AvgMerger,
  SumMerger,
  LastMerger,
  CombinationEnumerator,
  FirstNEnumerator,
  LastNEnumerator,
  ReverseEnumerator,
  TreeEnumerator,
  EvenSplitAllocator,
  ReplicateAllocator,
} from './layer-defs.js';
export type { Allocator, Enumerator, LayerDefRole, LayerDefSpec, Merger } from './layer-defs.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [dagLayer, multiChainLayer, constructed],
});
