// Every test file runs on the backend that users get by default (or MODNAS_BACKEND, if set).
import { getRegistry } from '@modnas/core';
import { selectBackend } from '@modnas/runtime';
import { discoverPlugins } from '@modnas/discovery';

// the engines are plugins of kind "engine": discovery records them in the registry, selectBackend picks one by priority
const registry = getRegistry();
discoverPlugins({ registry, cwd: process.cwd() });
await selectBackend({ registry });
