import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic, writeYamlAtomic } from '@modnas/kit-io';

/** Where the reporters write, inside the experiment folder: outputs/ (data) and plot/ (SVG charts, the original's plot/). */
export function writeOutput(outputDir: string, file: string, value: unknown): string {
  const path = join(outputDir, 'outputs', file);
  if (file.endsWith('.yaml')) writeYamlAtomic(path, value);
  else writeJsonAtomic(path, value);
  return path;
}

export function writePlot(outputDir: string, file: string, svg: string): string {
  const path = join(outputDir, 'plot', file);
  writeFileAtomic(path, svg);
  return path;
}

/** A file-name-safe form of an estimator's name. */
export const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');
