import { describeConformance } from '@modnas/testkit';
import { brokenPlugin } from './broken-restore.js';

describeConformance(brokenPlugin, { packageJson: new URL('./broken-restore.package.json', import.meta.url) });
