import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { collect, tarOf, zipOf, type TarEntry as Entry } from '@paas/platform/test-archives';
import { formatOf, readArchive, type ArchiveEntry, type ArchiveLimits } from './binary-archive';
import { BuildFailure } from './roles';

/** A tar header that says its file has `size` bytes (tar-stream writes the size of what it is given), with its checksum made again. */
function sizedHeader(header: Buffer, size: number): Buffer {
  const copy = Buffer.from(header);
  copy.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  copy.fill(' ', 148, 156);
  const sum = copy.reduce((total, byte) => total + byte, 0);
  copy.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return copy;
}

const LIMITS: ArchiveLimits = { maxEntries: 100, maxUnpackedBytes: 1 << 20 };

describe('readArchive', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'paas-archive-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What readArchive hands over, contents read; or the failure's message. */
  async function read(archive: Buffer, limits = LIMITS): Promise<Record<string, string> | string> {
    const file = path.join(dir, 'upload');
    writeFileSync(file, archive);
    const seen: Record<string, string> = {};
    const visit = async (entry: ArchiveEntry) => {
      if (entry.type === 'symlink') seen[entry.path] = `-> ${entry.target}`;
      else seen[entry.path] = `${entry.executable ? '(x) ' : ''}${(await collect(entry.content)).toString()}`;
    };
    return readArchive(file, limits, visit).then(
      () => seen,
      (error: unknown) => {
        if (!(error instanceof BuildFailure)) throw error;
        expect(error.reason).toBe('InvalidBinaryInput');
        return error.message;
      },
    );
  }

  it('reads a tar, a tar.gz and a zip into the same tree: paths without ./, modes, symlinks in the tree, .git left out', async () => {
    const tree = { 'package.json': '{}', 'bin/start': '(x) #!/bin/sh', 'lib/current': '-> ../bin/start' };
    const tar = await tarOf([
      { name: './', type: 'directory' },
      { name: './package.json', content: '{}' },
      { name: './bin/', type: 'directory' },
      { name: './bin/start', mode: 0o755, content: '#!/bin/sh' },
      { name: 'lib/current', type: 'symlink', linkname: '../bin/start' },
      { name: '.git/HEAD', content: 'ref: refs/heads/main' },
    ]);
    await expect(read(tar)).resolves.toEqual(tree);
    await expect(read(gzipSync(tar))).resolves.toEqual(tree);
    const zip = await zipOf([
      { name: 'package.json', content: '{}' },
      { name: 'bin/' },
      { name: 'bin/start', content: '#!/bin/sh', mode: 0o100755 },
      { name: 'lib/current', content: '../bin/start', mode: 0o120777 },
      { name: '.git/config', content: '[core]' },
    ]);
    await expect(read(zip)).resolves.toEqual(tree);
  });

  it('tells the formats by their first bytes, and refuses anything else', async () => {
    const file = path.join(dir, 'upload');
    writeFileSync(file, await tarOf([{ name: 'a', content: 'a' }]));
    await expect(formatOf(file)).resolves.toBe('tar');
    writeFileSync(file, '{"kind": "not an archive"}');
    await expect(formatOf(file)).resolves.toBeUndefined();
    await expect(read(Buffer.from('hello'))).resolves.toBe('the upload is not a tar, tar.gz or zip archive');
  });

  it.each([
    ['an absolute path', [{ name: '/etc/passwd', content: 'x' }], '"/etc/passwd" is an absolute path'],
    ['a path out of the tree', [{ name: 'src/../../evil', content: 'x' }], 'climbs out of the tree'],
    ['a symlink to an absolute path', [{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }], 'points to the absolute path "/etc/passwd"'],
    ['a symlink out of the tree', [{ name: 'a/up', type: 'symlink', linkname: '../../../etc/passwd' }], 'the symlink "a/up" points out of the tree'],
    ['a file written through a symlink', [{ name: 'dir', type: 'symlink', linkname: 'real' }, { name: 'dir/file', content: 'x' }], '"dir/file" is written through the symlink "dir"'],
    ['a symlink that leads through another', [{ name: 'here', type: 'symlink', linkname: '.' }, { name: 'sub/out', type: 'symlink', linkname: '../here/../x' }], 'leads through the symlink "here"'],
    ['a path that is a file and a directory', [{ name: 'app', content: 'x' }, { name: 'app/index.js', content: 'x' }], '"app" is both a file and a directory'],
    ['a hard link', [{ name: 'a', content: 'x' }, { name: 'b', type: 'link', linkname: 'a' }], '"b" is a hard link'],
    ['a device', [{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }], '"null" is a character-device'],
    ['a FIFO', [{ name: 'pipe', type: 'fifo' }], '"pipe" is a fifo'],
    ['nothing but directories', [{ name: 'empty/', type: 'directory' }], 'the archive holds no file'],
  ] as [string, Entry[], string][])('refuses %s, naming it', async (_what, entries, message) => {
    await expect(read(await tarOf(entries))).resolves.toContain(message);
  });

  it('refuses more entries or bytes than the limits, a zip by its declared sizes before reading', async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, content: 'x'.repeat(100) }));
    await expect(read(await tarOf(files), { maxEntries: 4, maxUnpackedBytes: 1 << 20 })).resolves.toContain('more than 4 entries');
    await expect(read(await tarOf(files), { maxEntries: 100, maxUnpackedBytes: 450 })).resolves.toContain('unpacks to more than 450 bytes (BUILD_BINARY_MAX_UNPACKED_BYTES) at "f4"');
    await expect(read(await zipOf(files), { maxEntries: 4, maxUnpackedBytes: 1 << 20 })).resolves.toContain('has 5 entries, more than 4');
    await expect(read(await zipOf(files), { maxEntries: 100, maxUnpackedBytes: 450 })).resolves.toContain('unpacks to more than 450 bytes');
  });

  it('stops a gzip bomb as it inflates: 4 MiB of zeros in a file that says it holds 1 GiB', async () => {
    const bomb = gzipSync(Buffer.concat([sizedHeader((await tarOf([{ name: 'big' }])).subarray(0, 512), 1 << 30), Buffer.alloc(4 << 20)]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(read(bomb)).resolves.toContain('unpacks to more than 1048576 bytes');
    await expect(read(gzipSync(Buffer.alloc(4 << 20)), { maxEntries: 10, maxUnpackedBytes: 1024 })).resolves.toMatch(/inflates to more than|not a readable tar.gz/);
  });

  it('refuses a truncated tar and a zip whose entry is not the size it declares', async () => {
    const tar = await tarOf([{ name: 'a', content: 'x'.repeat(2000) }]);
    await expect(read(tar.subarray(0, 1024))).resolves.toContain('not a readable tar archive');
    const zip = await zipOf([{ name: 'a', content: 'hello' }]);
    // The central directory's uncompressed size (at 24 from its signature) says 50 bytes; the entry holds 5.
    const central = zip.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    zip.writeUInt32LE(50, central + 24);
    await expect(read(zip)).resolves.toContain('not a readable zip archive');
  });
});
