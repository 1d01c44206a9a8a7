// Every test file runs on the backend that users get by default (or MODNAS_BACKEND, if set).
import { discoverPlugins, selectBackend } from '@modnas/core';

await selectBackend({ engines: discoverPlugins({ cwd: process.cwd() }).engines });
