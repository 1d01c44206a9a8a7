// Every test file runs on the backend that users get by default (or MODNAS_BACKEND, if set).
import { selectBackend } from '@modnas/runtime';
import { discoverPlugins } from '@modnas/discovery';

await selectBackend({ engines: discoverPlugins({ cwd: process.cwd() }).engines });
