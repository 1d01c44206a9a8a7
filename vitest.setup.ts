// Every test file runs on the backend that users get by default (or MODNAS_BACKEND, if set).
import { discoverPlugins } from '@modnas/core';
import { selectBackend } from '@modnas/runtime';

await selectBackend({ engines: discoverPlugins({ cwd: process.cwd() }).engines });
