// The contract suite on the contract's reference implementation (the store plugins run it on theirs).
import { MemoryExperimentStore } from '@modnas/services';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('MemoryExperimentStore', () => new MemoryExperimentStore());
