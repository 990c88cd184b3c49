// What a container's start costs on this host's engine by the network it joins: none, the
// default bridge, a user-defined bridge (as every pod's namespace network is), each with and
// without a published port. Per kind, `rounds` containers of the same image are created first
// and then started one at a time with the docker CLI (`docker start`, timed from the outside);
// the kinds alternate so that machine noise falls on all. Median per kind. Everything made
// carries the label paas.dev/experiment=container-start and is removed at the end.
//   node scripts/experiments/container-start.mjs [rounds=9] [image=paas-builder/static]
import { execFileSync } from 'node:child_process';

const rounds = Number(process.argv[2] ?? 9);
const image = process.argv[3] ?? 'paas-builder/static';
const LABEL = 'paas.dev/experiment=container-start';
const NETWORK = `paas-experiment-start-${process.pid}`;
const docker = (...args) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

const kinds = {
  'no network': ['--network', 'none'],
  'default bridge': [],
  'default bridge, a published port': ['-p', '127.0.0.1::8080'],
  'user-defined bridge': ['--network', NETWORK],
  'user-defined bridge, a published port': ['--network', NETWORK, '-p', '127.0.0.1::8080'],
};

docker('network', 'create', '--label', LABEL, NETWORK);
try {
  const times = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [kind, flags] of Object.entries(kinds)) {
      const id = docker('create', '--label', LABEL, ...flags, '--entrypoint', '/bin/sleep', image, '300');
      const started = performance.now();
      docker('start', id);
      times[kind].push(performance.now() - started);
    }
  }
  console.log(`docker start, median of ${rounds} (ms), image ${image}`);
  for (const [kind, list] of Object.entries(times)) {
    const sorted = [...list].sort((a, b) => a - b);
    console.log(`  ${sorted[Math.floor(rounds / 2)].toFixed(0).padStart(5)}  ${kind}`);
  }
} finally {
  const made = docker('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean);
  if (made.length) docker('rm', '-f', ...made);
  docker('network', 'rm', NETWORK);
}
