import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitCli } from './git-cli';

describe('GitCli.read', () => {
  let dir: string;
  let origin: string;
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Ann Author', '-c', 'user.email=ann@example.com', ...args], { cwd: origin }).toString().trim();

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'git-cli-spec-'));
    origin = path.join(dir, 'origin');
    mkdirSync(path.join(origin, '.s2i/bin'), { recursive: true });
    writeFileSync(path.join(origin, '.s2i/environment'), 'GREETING=hello\n');
    writeFileSync(path.join(origin, '.s2i/bin/assemble'), '#!/bin/sh\n');
    writeFileSync(path.join(origin, 'a name with spaces, é'), '');
    writeFileSync(path.join(origin, 'line\nbreak'), 'odd name\n');
    git('init', '--quiet', '--initial-branch=main');
    git('add', '-A');
    // A submodule's entry: a commit id in the tree, whose object the repository does not hold.
    git('update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendored`);
    git('commit', '--quiet', '-m', 'First line\nof the subject\n\nThe body, which the subject leaves out.');
    git('tag', '-a', 'v1', '-m', 'an annotated tag');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function fetched(ref: string) {
    const repo = path.join(dir, `fetched-${ref}`);
    await new GitCli().fetch(origin, ref, repo);
    return repo;
  }

  it('answers the commit as git log tells it, and each path asked for as a file, a directory or nothing, in order', async () => {
    const read = await new GitCli().read(await fetched('main'), ['', '.s2i/environment', 'missing', 'line\nbreak', '.s2i/bin', 'vendored', '.s2i/bin/assemble/']);

    expect(read.revision).toEqual({ commit: git('rev-parse', 'HEAD'), author: 'Ann Author <ann@example.com>', message: git('log', '-1', '--format=%s') });
    expect(read.revision.message).toBe('First line of the subject');
    expect(read.entries).toEqual([
      { type: 'directory', names: ['.s2i', 'a name with spaces, é', 'line\nbreak', 'vendored'] },
      { type: 'file', content: 'GREETING=hello\n' },
      undefined,
      { type: 'file', content: 'odd name\n' },
      { type: 'directory', names: ['assemble'] },
      undefined,
      undefined,
    ]);
  });

  it('fails a read that answers more than 16 MiB, rather than taking the file as absent', async () => {
    const big = path.join(dir, 'big');
    mkdirSync(big);
    writeFileSync(path.join(big, 'huge.env'), Buffer.alloc(17 << 20, 'a'));
    execFileSync('git', ['init', '--quiet', '--initial-branch=main'], { cwd: big });
    execFileSync('git', ['-c', 'user.name=Ann', '-c', 'user.email=ann@example.com', 'add', '-A'], { cwd: big });
    execFileSync('git', ['-c', 'user.name=Ann', '-c', 'user.email=ann@example.com', 'commit', '--quiet', '-m', 'big'], { cwd: big });
    const repo = path.join(dir, 'fetched-big');
    await new GitCli().fetch(big, 'main', repo);

    await expect(new GitCli().read(repo, ['huge.env'])).rejects.toThrow('git cat-file answered more than 16 MiB');
  });

  it("answers an annotated tag's commit", async () => {
    const read = await new GitCli().read(await fetched('v1'), []);

    expect(read.revision.commit).toBe(git('rev-parse', 'HEAD'));
  });
});
