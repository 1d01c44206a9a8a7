export { TABLE_FORMAT, once, readTable, writeTable } from './table.js';
export type { PackedTable, Table } from './table.js';
export { runTabularSearch, tabularSearchShape } from './search.js';
export type { TabularBenchmark, TabularQuery, TabularSearchOptions } from './search.js';
