import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitError, type Git } from '../adapters/git-cli';
import type { BuildSettings } from '../build-settings';
import { DetectBuildStrategy } from './detect-strategy.usecase';

const GIT_URL = 'https://git.example/app.git';

describe('DetectBuildStrategy', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'detect-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A repository whose top directory (and `web/`) hold `files`; `fetchError` makes it unreadable. */
  function detector(files: string[], options: { fetchError?: Error; allowLocalSources?: boolean } = {}) {
    const git = {
      fetch: async () => {
        if (options.fetchError) throw options.fetchError;
      },
      read: async (_dir: string, [at]: string[]) => ({
        revision: { commit: 'c'.repeat(40), author: 'Ann', message: 'first' },
        entries: [at === '' || at === 'web' ? { type: 'directory', names: files } : undefined],
      }),
    } as unknown as Git;
    const settings = { buildsDir: dir, builders: { nodejs: 'paas-builder/nodejs:latest', python: 'paas-builder/python:latest', static: 'paas-builder/static:latest' }, allowLocalSources: options.allowLocalSources ?? true, gitCheckTimeoutMs: 1000 } as unknown as BuildSettings;
    return new DetectBuildStrategy(git, settings);
  }

  const causeOf = (error: { status: { code: number; details?: { causes?: { field?: string; message: string }[] } } }) => ({ code: error.status.code, ...error.status.details?.causes?.[0] });

  it("builds a repository's Dockerfile, unless Source is asked for; then the builder its files call for", async () => {
    await expect(detector(['Dockerfile', 'package.json']).execute({ git: GIT_URL, ref: 'main' })).resolves.toEqual({ type: 'Docker', because: 'Dockerfile' });
    await expect(detector(['Dockerfile', 'package.json']).execute({ git: GIT_URL, ref: 'main', strategy: 'Source' })).resolves.toEqual({ type: 'Source', builder: 'nodejs', because: 'package.json' });
    await expect(detector(['package.json', 'server.js']).execute({ git: GIT_URL, ref: 'main', contextDir: 'web' })).resolves.toEqual({ type: 'Source', builder: 'nodejs', because: 'package.json' });
    await expect(detector(['index.html', 'style.css']).execute({ git: GIT_URL, ref: 'main' })).resolves.toEqual({ type: 'Source', builder: 'static', because: 'index.html' });
    await expect(detector(['requirements.txt', 'wsgi.py']).execute({ git: GIT_URL, ref: 'main' })).resolves.toEqual({ type: 'Source', builder: 'python', because: 'requirements.txt' });
    await expect(detector(['app.py', 'templates']).execute({ git: GIT_URL, ref: 'main' })).resolves.toEqual({ type: 'Source', builder: 'python', because: 'app.py' });
    await expect(detector(['index.html', 'pyproject.toml']).execute({ git: GIT_URL, ref: 'main' })).resolves.toMatchObject({ builder: 'python' });
    // A Node.js app that also has an index.html is a Node.js app.
    await expect(detector(['index.html', 'package.json']).execute({ git: GIT_URL, ref: 'main' })).resolves.toMatchObject({ builder: 'nodejs' });
    // The scratch clone is gone.
    expect(readdirSync(path.join(dir, 'work'))).toEqual([]);
  });

  it('answers a 422 naming the field to change when nothing fits or the repository cannot be read', async () => {
    const refused = (d: DetectBuildStrategy, request: Parameters<DetectBuildStrategy['execute']>[0]) => d.execute(request).catch(causeOf);
    expect(await refused(detector(['README.md']), { git: GIT_URL, ref: 'main' })).toMatchObject({ code: 422, field: 'builder', message: expect.stringContaining('package.json → nodejs') });
    expect(await refused(detector(['package.json']), { git: GIT_URL, ref: 'main', strategy: 'Docker' })).toMatchObject({ code: 422, field: 'strategy', message: expect.stringContaining('no Dockerfile') });
    expect(await refused(detector([]), { git: GIT_URL, ref: 'main', contextDir: 'api' })).toMatchObject({ code: 422, field: 'source.contextDir' });
    const unreachable = detector([], { fetchError: new GitError('could not read from https://user:hunter2@git.example/app.git', 'unreachable') });
    expect(await refused(unreachable, { git: 'https://user:hunter2@git.example/app.git', ref: 'main' })).toMatchObject({ code: 422, field: 'source.git', message: expect.not.stringContaining('hunter2') });
    expect(await refused(detector([], { allowLocalSources: false }), { git: '/srv/app', ref: 'main' })).toMatchObject({ code: 422, field: 'source.git' });
  });
});
