import { ARCHIVE_HEAD_BYTES, archiveFormatOf, type ArchiveFormat } from '@paas/contracts/builds';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Headers } from 'tar-stream';
import yauzl from 'yauzl';
import { BuildFailure } from './roles';

/** What one upload may unpack to (BUILD_BINARY_MAX_ENTRIES, BUILD_BINARY_MAX_UNPACKED_BYTES). */
export interface ArchiveLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
}

/** A file or a symbolic link of an archive, at its path in the tree (directories are implied). */
export type ArchiveEntry =
  | { path: string; type: 'file'; executable: boolean; size: number; content: Readable }
  | { path: string; type: 'symlink'; target: string };


/** A symlink's target is read whole: a path, never this long. */
const MAX_LINK_TARGET = 4096;

const invalid = (message: string) => new BuildFailure('InvalidBinaryInput', message);

/** The format the first bytes of the upload in `file` say (archiveFormatOf). */
export async function formatOf(file: string): Promise<ArchiveFormat | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(ARCHIVE_HEAD_BYTES), 0, ARCHIVE_HEAD_BYTES, 0);
    return archiveFormatOf(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * Reads the archive in `file` (tar, tar.gz or zip) and hands each file and symlink to `visit`,
 * which must read a file's content before it resolves; nothing is unpacked on disk. Refused,
 * as an InvalidBinaryInput failure that names the entry: an absolute path or one with `..`, a
 * path that is both a file and a directory, a symlink that is absolute, leads out of the tree
 * or through another symlink, a hard link, a device or FIFO, more entries or bytes than
 * `limits`, an archive that cannot be read or holds no file. `.git` is left out, as s2i does.
 */
export async function readArchive(file: string, limits: ArchiveLimits, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const format = await formatOf(file);
  if (!format) throw invalid('the upload is not a tar, tar.gz or zip archive');
  const tree = new TreeCheck(limits);
  if (format === 'zip') await readZip(file, tree, visit);
  else await readTar(file, format === 'tar.gz', limits, tree, visit);
  tree.finish();
}

async function readTar(file: string, gzipped: boolean, limits: ArchiveLimits, tree: TreeCheck, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const extract = tarExtract();
  let visitError: unknown;
  extract.on('entry', (header, stream, next) => {
    onTarEntry(header, stream, tree, visit).then(
      () => next(),
      (error: unknown) => {
        visitError = error;
        stream.resume();
        extract.destroy(error as Error);
      },
    );
  });
  // A gzip that inflates far beyond what its entries may hold (zeros after the end, say) is cut off too.
  const input = createReadStream(file);
  const read = gzipped ? pipeline(input, createGunzip(), byteCap(limits.maxUnpackedBytes + 1024 * limits.maxEntries + (1 << 20)), extract) : pipeline(input, extract);
  await read.catch((error: Error) => {
    if (visitError) throw visitError;
    if (error instanceof BuildFailure) throw error;
    throw invalid(`the upload is not a readable ${gzipped ? 'tar.gz' : 'tar'} archive: ${error.message}`);
  });
}

async function onTarEntry(header: Headers, stream: Readable, tree: TreeCheck, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const where = tree.pathOf(header.name);
  switch (header.type) {
    case 'directory':
      if (where) tree.directory(where);
      stream.resume();
      return;
    case 'file':
    case 'contiguous-file':
      if (!where) return void stream.resume();
      tree.file(where, header.size ?? 0);
      return visit({ path: where, type: 'file', executable: ((header.mode ?? 0) & 0o111) !== 0, size: header.size ?? 0, content: stream });
    case 'symlink':
      stream.resume();
      if (!where) return;
      tree.symlink(where, header.linkname ?? '');
      return visit({ path: where, type: 'symlink', target: header.linkname ?? '' });
    case 'link':
      throw invalid(`"${header.name}" is a hard link, which a source may not hold`);
    default:
      throw invalid(`"${header.name}" is a ${header.type}, which a source may not hold`);
  }
}

function readZip(file: string, tree: TreeCheck, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (openError, zip) => {
      if (openError || !zip) return reject(invalid(`the upload is not a readable zip archive: ${openError?.message}`));
      const fail = (error: unknown) => {
        zip.close();
        reject(error instanceof BuildFailure ? error : invalid(`the upload is not a readable zip archive: ${(error as Error).message}`));
      };
      if (zip.entryCount > tree.limits.maxEntries) return fail(invalid(`the archive has ${zip.entryCount} entries, more than ${tree.limits.maxEntries} (BUILD_BINARY_MAX_ENTRIES)`));
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        onZipEntry(zip, entry, tree, visit).then(() => zip.readEntry(), fail);
      });
      zip.readEntry();
    });
  });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

async function onZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, tree: TreeCheck, visit: (entry: ArchiveEntry) => Promise<void>): Promise<void> {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & S_IFMT;
  const where = tree.pathOf(entry.fileName);
  if (entry.fileName.endsWith('/') || type === S_IFDIR) {
    if (where) tree.directory(where);
    return;
  }
  // No Unix mode (a zip made on Windows): a plain file.
  if (type !== 0 && type !== S_IFREG && type !== S_IFLNK) throw invalid(`"${entry.fileName}" is not a file, a directory or a symlink, which a source may only hold`);
  if (!where) return;
  const content = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error || !stream ? reject(error) : resolve(stream))));
  if (type === S_IFLNK) {
    if (entry.uncompressedSize > MAX_LINK_TARGET) throw invalid(`the symlink "${where}" has a target of ${entry.uncompressedSize} bytes`);
    const target = Buffer.concat(await content.toArray()).toString('utf8');
    tree.symlink(where, target);
    return visit({ path: where, type: 'symlink', target });
  }
  tree.file(where, entry.uncompressedSize);
  return visit({ path: where, type: 'file', executable: (mode & 0o111) !== 0, size: entry.uncompressedSize, content });
}

/** Passes bytes through, failing once more than `max` went by. */
function byteCap(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max) return done(invalid(`the archive inflates to more than ${max} bytes`));
      done(null, chunk);
    },
  });
}

/** The tree an archive makes, checked entry by entry as it is read, then as a whole. */
export class TreeCheck {
  private entries = 0;
  private bytes = 0;
  private readonly files = new Set<string>();
  private readonly directories = new Set<string>();
  private readonly links = new Map<string, string>();

  constructor(readonly limits: ArchiveLimits) {}

  /** The entry's path in the tree (no `./`, no trailing `/`); undefined for one left out (the root, `.git`). */
  pathOf(name: string): string | undefined {
    if (name.includes('\0')) throw invalid(`"${name.replace(/\0/g, '\\0')}" has a NUL byte in its path`);
    if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) throw invalid(`"${name}" is an absolute path`);
    const parts = name.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) throw invalid(`"${name}" climbs out of the tree with ..`);
    if (parts.length === 0 || parts[0] === '.git') return undefined;
    return parts.join('/');
  }

  directory(where: string): void {
    if (this.files.has(where) || this.links.has(where)) throw invalid(`"${where}" is both a file and a directory`);
    this.parents(where);
    this.directories.add(where);
  }

  file(where: string, size: number): void {
    this.count(where, size);
    this.files.add(where);
  }

  symlink(where: string, target: string): void {
    if (!target) throw invalid(`the symlink "${where}" has no target`);
    if (target.startsWith('/')) throw invalid(`the symlink "${where}" points to the absolute path "${target}"`);
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(where), target));
    if (resolved === '..' || resolved.startsWith('../')) throw invalid(`the symlink "${where}" points out of the tree ("${target}")`);
    this.count(where, 0);
    this.links.set(where, target);
  }

  /** After the last entry: something to build, and no symlink that leads through another. */
  finish(): void {
    if (this.files.size + this.links.size === 0) throw invalid('the archive holds no file');
    for (const [where, target] of this.links) {
      const parts = [...path.posix.dirname(where).split('/').filter((part) => part !== '.'), ...target.split('/')];
      for (let i = 1; i <= parts.length; i++) {
        const through = path.posix.normalize(parts.slice(0, i).join('/'));
        if (through !== where && this.links.has(through)) throw invalid(`the symlink "${where}" leads through the symlink "${through}"`);
      }
    }
  }

  private count(where: string, size: number): void {
    if (++this.entries > this.limits.maxEntries) throw invalid(`the archive has more than ${this.limits.maxEntries} entries (BUILD_BINARY_MAX_ENTRIES)`);
    this.bytes += size;
    if (this.bytes > this.limits.maxUnpackedBytes) throw invalid(`the archive unpacks to more than ${this.limits.maxUnpackedBytes} bytes (BUILD_BINARY_MAX_UNPACKED_BYTES) at "${where}"`);
    if (this.directories.has(where)) throw invalid(`"${where}" is both a file and a directory`);
    this.parents(where);
  }

  /** Every directory above `where` is one: not a file, and not a symlink it would be written through. */
  private parents(where: string): void {
    const parts = where.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.links.has(parent)) throw invalid(`"${where}" is written through the symlink "${parent}"`);
      if (this.files.has(parent)) throw invalid(`"${parent}" is both a file and a directory`);
      this.directories.add(parent);
    }
  }
}
