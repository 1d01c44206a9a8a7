/**
 * `modnas report <folder> --html out.html`: the run view as one file that renders offline: the
 * built page's script and styles and the run's data inlined (no request at all).
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { Registry } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import { guardedWrite, writeFileAtomic } from '@modnas/kit-io';
import { StoreSet } from './data.js';
import { pageAsset } from './page-assets.js';
import type { RunView } from './view.js';

export interface HtmlReportOptions {
  /** An experiment folder (exp/<name>). */
  folder: string;
  out: string;
  /** Which run (default: the newest). */
  run?: string;
  /** Where the store plugins are found (default: discovered from the current project). */
  registry?: Registry;
}

/** JSON that can sit inside a <script> element (no "</script>", no "<!--"). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Text for HTML element content or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const cspHash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page with its assets and `view` inlined. Whatever the store holds, nothing of it becomes
 * markup: the title is escaped, the data is JSON that cannot close its script element, the page
 * renders it as text; and a Content-Security-Policy lets only these exact inline script and style
 * elements run (by hash), so even a missed escape could not run a script.
 */
export function renderHtmlReport(view: RunView): string {
  const css = pageAsset('app.css');
  const js = pageAsset('app.js');
  const html = pageAsset('index.html');
  const link = '<link rel="stylesheet" href="app.css">';
  const script = '<script src="app.js"></script>';
  const title = '<title>modnas</title>';
  if (!html.includes(link) || !html.includes(script) || !html.includes(title)) throw new ModnasError('MODNAS_E_UI_ASSETS', 'the built dashboard page does not reference app.css and app.js as expected', { fix: 'rebuild @modnas/ui' });
  const style = `\n${css.replace(/<\/style/gi, '<\\/style')}\n`;
  const data = `window.__MODNAS_STATIC__ = ${scriptJson({ view })};`;
  const code = `\n${js.replace(/<\/script/gi, '<\\/script')}\n`;
  const csp = `default-src 'none'; script-src ${cspHash(data)} ${cspHash(code)}; style-src ${cspHash(style)}; img-src data:; base-uri 'none'; form-action 'none'`;
  return html
    .replace(title, () => `<meta http-equiv="Content-Security-Policy" content="${csp}">\n<title>${escapeHtml(`modnas report: ${view.run.experiment} ${view.run.id}`)}</title>`)
    .replace(link, () => `<style>${style}</style>`)
    .replace(script, () => `<script>${data}</script>\n<script>${code}</script>`);
}

/** Write the report of one run of an experiment folder; returns the file and the run it shows. */
export async function writeHtmlReport(o: HtmlReportOptions): Promise<{ file: string; run: string; bytes: number }> {
  const folder = resolve(o.folder);
  const stores = await StoreSet.open(folder, o.registry);
  try {
    const dir = stores.dirs().includes('') ? '' : undefined;
    if (dir === undefined) {
      throw new ModnasError('MODNAS_E_UI_NO_STORE', `${folder} holds no experiment store of its own (it is not an experiment folder)`, {
        fix: `pass one experiment's folder, e.g. modnas report ${stores.dirs().map((d) => `${o.folder.replace(/\/$/, '')}/${d}`)[0] ?? 'exp/<name>'} --html ${o.out}`,
      });
    }
    const unreadable = stores.storeError(dir);
    if (unreadable) throw new ModnasError(unreadable.code, unreadable.message, { fix: 'check the store file, or restore it from a copy' });
    const runs = stores.runs(dir);
    const run = o.run ?? runs[runs.length - 1]?.id;
    if (!run) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `the store in ${folder} has no run yet`, { fix: 'run a search first' });
    const view = stores.runView(dir, run);
    view.dir = basename(folder);
    const file = resolve(o.out);
    const html = renderHtmlReport(view);
    guardedWrite('the HTML report', file, () => writeFileAtomic(file, html));
    return { file, run, bytes: Buffer.byteLength(html) };
  } finally {
    stores.close();
  }
}
