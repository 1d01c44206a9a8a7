import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { JournalStore, journalStore, journalStoreSchema } from './journal-store.js';

export { JournalStore, journalStore, journalStoreSchema };
export type { JournalStoreConfig } from './journal-store.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [journalStore],
});
