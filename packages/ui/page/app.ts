/**
 * The dashboard page. Routes (in the URL hash): the runs of every experiment (#/), one run
 * (#/run?dir=..&run=..), runs side by side (#/compare?runs=dir:run,dir:run). Served by `modnas ui`
 * it reads /api/* and follows a running run by server-sent events; written by
 * `modnas report --html` it renders the one run inlined in window.__MODNAS_STATIC__ (no server).
 * Each view lives in its own module; this one routes.
 */
import type { RunView } from '../src/view.js';
import { app, h, stopLive } from './dom.js';
import { showCompare } from './compare.js';
import { renderRun, showRun } from './run.js';
import { routePath, showRuns } from './runs.js';

declare global {
  interface Window {
    __MODNAS_STATIC__?: { view: RunView };
  }
}

async function route(): Promise<void> {
  stopLive();
  const data = window.__MODNAS_STATIC__;
  try {
    if (data) {
      const archLink = (name: string): string => {
        const f = data.view.arch.find((a) => a.name === name);
        return `data:text/yaml;charset=utf-8,${encodeURIComponent(f?.text ?? '')}`;
      };
      renderRun(data.view, { link: archLink });
      return;
    }
    const path = routePath();
    const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
    if (path === '/run') await showRun(q.get('dir') ?? '', q.get('run') ?? '');
    else if (path === '/compare') await showCompare((q.get('runs') ?? '').split(',').filter(Boolean));
    else await showRuns();
  } catch (e) {
    app.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
