import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { SqliteStore, sqliteStore, sqliteStoreSchema } from './sqlite.js';

export { SqliteStore, sqliteStore, sqliteStoreSchema };
export type { SqliteStoreConfig } from './sqlite.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [sqliteStore],
});
