import type { Build } from '@paas/contracts/builds';
import type { BinaryInputs } from '@paas/platform/binary-inputs';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tarOf } from '@paas/platform/test-archives';
import { extract } from 'tar-stream';
import { GitCli } from '../../adapters/git-cli';
import { BinarySourceFetcher } from './binary-source-fetcher';
import { BuildFailure, type BuildContext, type FetchedSource } from './roles';

const LIMITS = { maxEntries: 1000, maxUnpackedBytes: 1 << 20 };


/** The tar a build hands the builder: each entry's name, and a file's mode (git archive's: 664 or 775) and content, or a link's target. */
async function entriesOf(source: FetchedSource): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (header.type === 'file') seen[header.name] = `${((header.mode ?? 0) & 0o777).toString(8)} ${Buffer.concat(chunks).toString()}`;
      if (header.type === 'symlink') seen[header.name] = `-> ${header.linkname}`;
      next();
    });
  });
  await new Promise((resolve, reject) => source.archive().pipe(reader).on('finish', resolve).on('error', reject));
  return seen;
}

describe('BinarySourceFetcher (real git)', () => {
  let dir: string;
  let stored: Map<string, Buffer>;
  const inputs: BinaryInputs = {
    put: async () => Promise.reject(new Error('not here')),
    download: async (object, file) => {
      const data = stored.get(object);
      if (!data) return undefined;
      writeFileSync(file, data);
      return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    },
    delete: async (object) => void stored.delete(object),
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'paas-binary-fetch-'));
    stored = new Map();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A build of `data` as its upload (as the gateway stores it), and what its log says. */
  function contextFor(data: Buffer, source: Partial<Build['spec']['source']> = {}, upload: Partial<NonNullable<Build['spec']['binary']>> = {}) {
    stored.set('upload-1', data);
    const written: string[] = [];
    const binary = { object: 'upload-1', bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), ...upload };
    const ctx = {
      build: { metadata: { namespace: 'demo', name: 'app-1' }, spec: { source: { type: 'Binary', ...source }, binary, revision: { author: 'ann', message: 'from my laptop' } } } as Build,
      workDir: dir,
      log: { write: async (text: string | Buffer) => void written.push(String(text)), tail: () => '' },
      signal: new AbortController().signal,
    } as unknown as BuildContext;
    return { ctx, written };
  }

  const fetcher = () => new BinarySourceFetcher(new GitCli(), inputs, LIMITS);

  it('reads an archive as a commit: contextDir, .s2i/environment, .s2i/bin, .s2iignore, modes and symlinks as git keeps them', async () => {
    const archive = await tarOf([
      { name: 'README.md', content: 'top' },
      { name: 'web/.s2i/environment', content: 'GREETING=hi\n' },
      { name: 'web/.s2i/bin/assemble', mode: 0o755, content: '#!/bin/sh\necho mine\n' },
      { name: 'web/.s2iignore', content: 'secrets\n' },
      { name: 'web/secrets/key', content: 'do not ship' },
      { name: 'web/server.js', content: 'hello' },
      { name: 'web/current', type: 'symlink', linkname: 'server.js' },
      { name: 'web/a "quoted"\nname', content: 'odd' },
    ]);
    const { ctx, written } = contextFor(archive, { contextDir: 'web' });
    const source = await fetcher().fetch(ctx);
    expect(source.environment).toEqual(['GREETING=hi']);
    expect(source.scripts).toEqual(['assemble']);
    await expect(source.readFile('server.js')).resolves.toBe('hello');
    expect(source.revision).toMatchObject({ author: 'ann', message: 'from my laptop', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const entries = await entriesOf(source);
    expect(entries).toMatchObject({ 'server.js': '664 hello', '.s2i/bin/assemble': '775 #!/bin/sh\necho mine\n', current: '-> server.js', 'a "quoted"\nname': '664 odd' });
    expect(Object.keys(entries).some((name) => name.startsWith('secrets'))).toBe(false);
    expect(written.join('')).toContain('8 file(s)');
  });

  it('takes an asFile upload as that one file, whatever it holds', async () => {
    const { ctx } = contextFor(Buffer.from('print("hi")\n'), {}, { asFile: 'app.py' });
    await expect(entriesOf(await fetcher().fetch(ctx))).resolves.toEqual({ 'app.py': '664 print("hi")\n' });
  });

  it('fails the build with a reason for a refused archive, a missing contextDir, an upload that is gone or not the one received', async () => {
    const failure = (ctx: BuildContext) => fetcher().fetch(ctx).catch((error: BuildFailure) => error);
    const outside = await tarOf([{ name: 'link', type: 'symlink', linkname: '../../../etc/passwd' }]);
    await expect(failure(contextFor(outside).ctx)).resolves.toMatchObject({ reason: 'InvalidBinaryInput', message: expect.stringContaining('"link" points out of the tree') });
    await expect(failure(contextFor(await tarOf([{ name: 'a', content: 'x' }]), { contextDir: 'web' }).ctx)).resolves.toMatchObject({ reason: 'InvalidContextDirectory', message: expect.stringContaining('does not exist in the upload') });
    const { ctx } = contextFor(Buffer.from('x'));
    stored.clear();
    await expect(failure(ctx)).resolves.toMatchObject({ reason: 'FetchSourceFailed', message: expect.stringContaining('the upload is gone') });
    const changed = contextFor(await tarOf([{ name: 'a', content: 'x' }]), {}, { sha256: '0'.repeat(64) });
    await expect(failure(changed.ctx)).resolves.toMatchObject({ reason: 'FetchSourceFailed', message: expect.stringContaining('not the one received') });
  });

  it('leaves nothing unpacked: the scratch directory holds the upload, the repository and the tar only', async () => {
    const { ctx } = contextFor(await tarOf([{ name: 'index.html', content: '<h1>hi</h1>' }]));
    const source = await fetcher().fetch(ctx);
    expect(readdirSync(dir).sort()).toEqual(['repo.git', 'source.tar', 'upload']);
    await expect(entriesOf(source)).resolves.toEqual({ 'index.html': '664 <h1>hi</h1>' });
  });
});
