import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ModnasError } from '@modnas/core';
import { isImageFile } from '@modnas/kit-image';

/** The image files of one split, sorted by class then path, with their labels. */
export interface FileList {
  /** Where they were found (root, or root/train ...). */
  readonly dir: string;
  readonly files: readonly string[];
  readonly labels: Int32Array;
  /** Images per class, by label. */
  readonly counts: readonly number[];
}

export interface FolderScan {
  readonly root: string;
  /** 'splits': root/train/<class>/... (and val/, test/); 'classes': root/<class>/... */
  readonly layout: 'splits' | 'classes';
  readonly classes: readonly string[];
  readonly train: FileList;
  /** root/val (or valid, validation). */
  readonly val?: FileList;
  readonly test?: FileList;
  /** Said in the log: non-image files ignored, folders outside the layout, classes missing from val/test. */
  readonly notes: readonly string[];
}

const SPLIT_NAMES = { train: ['train'], val: ['val', 'valid', 'validation'], test: ['test'] } as const;

interface Entry {
  name: string;
  path: string;
  dir: boolean;
}

/** Entries of a folder, hidden ones (a leading '.') left out, sorted by name. */
function entries(dir: string): Entry[] {
  const out: Entry[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    let dirent: boolean;
    try {
      // statSync follows links: a linked class folder counts
      dirent = statSync(path).isDirectory();
    } catch {
      continue; // a dangling link
    }
    out.push({ name, path, dir: dirent });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Image files under dir, at any depth (sorted), and how many other files there were. */
function imagesUnder(dir: string, found: string[], other: { count: number; example?: string }): void {
  for (const e of entries(dir)) {
    if (e.dir) imagesUnder(e.path, found, other);
    else if (isImageFile(e.name)) found.push(e.path);
    else {
      other.count++;
      other.example ??= e.path;
    }
  }
}

function layoutError(code: string, message: string, fix: string, where: string): ModnasError {
  return new ModnasError(code, `ImageFolder: ${message}`, { fix, where });
}

const LAYOUT_FIX = 'put the images in one folder per class: <path>/<class>/*.png|jpg|jpeg|webp (optionally under <path>/train/, <path>/val/ and <path>/test/)';

function listClasses(dir: string, classes: readonly string[], other: { count: number; example?: string }): { files: string[]; labels: number[]; counts: number[] } {
  const files: string[] = [];
  const labels: number[] = [];
  const counts: number[] = [];
  classes.forEach((c, label) => {
    const found: string[] = [];
    // a held-out split may lack a class folder
    if (existsSync(join(dir, c))) imagesUnder(join(dir, c), found, other);
    counts.push(found.length);
    for (const f of found) {
      files.push(f);
      labels.push(label);
    }
  });
  return { files, labels, counts };
}

function fileList(dir: string, l: { files: string[]; labels: number[]; counts: number[] }): FileList {
  return { dir, files: l.files, labels: Int32Array.from(l.labels), counts: l.counts };
}

/**
 * Read the layout of an image folder: classes are the sorted names of the class folders of the
 * training split; files are every PNG, JPEG and WebP under a class folder (any depth, any case of
 * the extension); hidden files and folders are left out, other files are counted and ignored.
 * Throws a coded error naming the folder for: a missing folder, no class folders, one class, an
 * empty class folder, no images, a val/test class folder that training does not have.
 */
export function scanImageFolder(root: string, where = 'data.path'): FolderScan {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw layoutError('MODNAS_E_DATA_MISSING', `${root} is not a folder`, `set ${where} to the folder that holds one folder per class`, where);
  const top = entries(root);
  const named = (names: readonly string[]): Entry[] => top.filter((e) => e.dir && names.includes(e.name.toLowerCase()));
  const [trainDirs, valDirs, testDirs] = [named(SPLIT_NAMES.train), named(SPLIT_NAMES.val), named(SPLIT_NAMES.test)];
  const notes: string[] = [];
  const other = { count: 0, example: undefined as string | undefined };
  if (valDirs.length > 1) {
    throw layoutError('MODNAS_E_DATA_LAYOUT', `${root} has ${valDirs.map((d) => d.name).join(' and ')}: which is the validation split?`, 'keep one of them (rename or move the other out of the folder)', where);
  }
  if (trainDirs.length === 0 && valDirs.length + testDirs.length > 0) {
    throw layoutError('MODNAS_E_DATA_LAYOUT', `${root} has ${[...valDirs, ...testDirs].map((d) => `${d.name}/`).join(' and ')} but no train/ folder`, `add ${join(root, 'train')}/<class>/... with the training images (or, if ${[...valDirs, ...testDirs].map((d) => d.name).join(' and ')} are class names, rename them)`, where);
  }
  const layout = trainDirs.length > 0 ? 'splits' : 'classes';
  const trainDir = layout === 'splits' ? trainDirs[0].path : root;
  const level = layout === 'splits' ? entries(trainDir) : top;
  const loose = level.filter((e) => !e.dir);
  if (layout === 'splits') {
    const extra = top.filter((e) => ![trainDirs[0], valDirs[0], testDirs[0]].includes(e));
    if (extra.length > 0) notes.push(`ignored beside the split folders: ${extra.map((e) => e.name + (e.dir ? '/' : '')).join(', ')}`);
  }
  const classes = level.filter((e) => e.dir).map((e) => e.name);
  const looseImages = loose.filter((e) => isImageFile(e.name));
  if (classes.length === 0) {
    const what = looseImages.length > 0 ? `${looseImages.length} images lie directly in ${trainDir}, in no class folder` : `${trainDir} has no class folders and no images`;
    throw layoutError('MODNAS_E_DATA_NO_IMAGES', what, LAYOUT_FIX, where);
  }
  if (looseImages.length > 0) notes.push(`${looseImages.length} images directly in ${trainDir} (in no class folder) ignored, e.g. ${looseImages[0].name}`);
  const train = listClasses(trainDir, classes, other);
  if (train.files.length === 0) throw layoutError('MODNAS_E_DATA_NO_IMAGES', `no images (png, jpg, jpeg, webp) in the class folders of ${trainDir}${other.count ? ` (${other.count} other files, e.g. ${other.example})` : ''}`, LAYOUT_FIX, where);
  const empty = classes.filter((_, i) => train.counts[i] === 0);
  if (empty.length > 0) {
    throw layoutError('MODNAS_E_DATA_EMPTY_CLASS', `class folder${empty.length > 1 ? 's' : ''} ${empty.map((c) => join(trainDir, c)).join(', ')} hold${empty.length > 1 ? '' : 's'} no images (png, jpg, jpeg, webp)`, `add images to ${empty.length > 1 ? 'them' : 'it'}, or remove ${empty.length > 1 ? 'them' : 'it'} if ${empty.length > 1 ? 'they are' : 'it is'} not a class`, where);
  }
  if (classes.length === 1) {
    throw layoutError('MODNAS_E_DATA_ONE_CLASS', `${trainDir} has one class folder (${classes[0]}): a classifier needs two or more`, `add a folder per class beside ${join(trainDir, classes[0])}`, where);
  }
  const heldOut = (d: Entry | undefined): FileList | undefined => {
    if (!d) return undefined;
    const sub = entries(d.path);
    const names = sub.filter((e) => e.dir).map((e) => e.name);
    const unknown = names.filter((n) => !classes.includes(n));
    if (unknown.length > 0) {
      throw layoutError('MODNAS_E_DATA_CLASSES_MISMATCH', `${d.path} has class folder${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} that ${trainDir} does not have (its classes: ${classes.join(', ')})`, `use the training split's class names in ${d.path} (rename or remove ${unknown.join(', ')}), or add ${unknown.length > 1 ? 'those classes' : 'that class'} to ${trainDir}`, where);
    }
    const l = listClasses(d.path, classes, other);
    const missing = classes.filter((_, i) => l.counts[i] === 0);
    if (missing.length > 0) notes.push(`${d.name}/ has no images of ${missing.join(', ')}`);
    if (l.files.length === 0) {
      notes.push(`${d.name}/ holds no images: not used`);
      return undefined;
    }
    return fileList(d.path, l);
  };
  const val = heldOut(valDirs[0]);
  const test = heldOut(testDirs[0]);
  if (other.count > 0) notes.push(`${other.count} files that are not png, jpg, jpeg or webp ignored, e.g. ${relative(root, other.example!)}`);
  return { root, layout, classes, train: fileList(trainDir, train), val, test, notes };
}
