// What FetchSource's git work costs a process the size of the build-service, by how many git
// processes it starts: the seven of before 2026-12-07 (init, fetch, log, then the archive beside
// a cat-file for each of .s2i/environment and .s2iignore and an ls-tree of .s2i/bin) against the
// four of now (init, fetch, then the archive beside one `cat-file --batch` for all of it). Node
// forks itself to start a process, copying its page tables, so the cost grows with its memory:
// each side runs with no ballast and with `ballastMiB` of touched memory (the build-service
// holds ~150 MB). Sides alternate per round; medians in ms.
//   node scripts/experiments/git-processes.mjs [rounds=9] [ballastMiB=150]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const rounds = Number(process.argv[2] ?? 9);
const ballastMiB = Number(process.argv[3] ?? 150);
const git = promisify(execFile).bind(null, 'git');
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const scratch = mkdtempSync(path.join(tmpdir(), 'paas-experiment-git-'));
const origin = path.join(scratch, 'origin');
execFileSync('git', ['init', '--quiet', '--initial-branch=main', origin]);
writeFileSync(path.join(origin, 'package.json'), '{"name":"x","version":"1.0.0"}\n');
writeFileSync(path.join(origin, 'server.js'), "require('node:http').createServer((q, s) => s.end('hi')).listen(8080);\n");
execFileSync('git', ['-c', 'user.name=x', '-c', 'user.email=x@x', 'add', '-A'], { cwd: origin });
execFileSync('git', ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '-m', 'x'], { cwd: origin });

async function fetched(name) {
  const dir = path.join(scratch, name);
  await git(['init', '--bare', '--quiet', dir]);
  await git(['fetch', '--quiet', '--depth', '1', '--no-tags', '--', `file://${origin}`, 'main'], { cwd: dir });
  return dir;
}
const archive = (dir) => git(['archive', '--format=tar', `--output=${dir}/source.tar`, 'FETCH_HEAD'], { cwd: dir });
const missing = () => undefined;

const sides = {
  'seven processes': async (dir) => {
    await git(['log', '-1', '--format=%H%n%an <%ae>%n%s', 'FETCH_HEAD'], { cwd: dir });
    const reads = [['cat-file', 'blob', 'FETCH_HEAD:.s2i/environment'], ['cat-file', 'blob', 'FETCH_HEAD:.s2iignore'], ['ls-tree', '--name-only', 'FETCH_HEAD:.s2i/bin']];
    await Promise.all([...reads.map((args) => git(args, { cwd: dir }).catch(missing)), archive(dir)]);
  },
  'four processes': async (dir) => {
    const batch = new Promise((resolve, reject) => {
      const child = execFile('git', ['cat-file', '--batch', '-z'], { cwd: dir }, (error) => (error ? reject(error) : resolve()));
      child.stdin.end(['FETCH_HEAD^{commit}', 'FETCH_HEAD:', 'FETCH_HEAD:.s2i/environment', 'FETCH_HEAD:.s2iignore', 'FETCH_HEAD:.s2i/bin'].map((name) => `${name}\0`).join(''));
    });
    await Promise.all([batch, archive(dir)]);
  },
};

const times = {};
try {
  for (const ballast of [0, ballastMiB]) {
    const held = Buffer.alloc(ballast << 20, 1); // touched, as a service's heap is
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? Object.keys(sides).reverse() : Object.keys(sides);
      for (const side of order) {
        const started = performance.now();
        const dir = await fetched(`${side}-${ballast}-${round}`.replaceAll(' ', '-'));
        await sides[side](dir);
        (times[`${side}, ${ballast} MiB held`] ??= []).push(performance.now() - started);
      }
    }
    held.fill(0);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
for (const [row, values] of Object.entries(times)) console.log(`${row.padEnd(32)} ${median(values).toFixed(1)} ms`);
