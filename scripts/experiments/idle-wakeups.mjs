// What an idle process pays for waking up: the services' Node, doing nothing but a timer that
// fires N times a second (inside an AsyncLocalStorage context, as OpenTelemetry keeps one),
// for N = 2, 10 and 35, CPU ms per second from /proc over 20 s each. A service at rest wakes
// about 25 times a second (strace: epoll_pwait calls), ten of them for the MongoDB driver's
// pool maintenance (every 100 ms per client; `minPoolSizeCheckFrequencyMS`, an internal option
// the driver does not take from users), so this is the floor under the control plane at rest.
//   node scripts/experiments/idle-wakeups.mjs
import { spawn } from 'node:child_process';
import { cpuSeconds, sleep } from '../../bench/lib/processes.mjs';
import { artifacts } from '../lib/config.mjs';

const SECONDS = 20;
const RATES = [2, 10, 35];
const program = `
  const { AsyncLocalStorage } = require('node:async_hooks');
  new AsyncLocalStorage().run({}, () => setInterval(() => Promise.resolve().then(() => undefined), 1000 / Number(process.argv[1])));
`;

console.log(`${artifacts.node}: CPU of an otherwise idle process, ${SECONDS} s each`);
for (const rate of RATES) {
  const child = spawn(artifacts.node, ['-e', program, String(rate)], { stdio: 'ignore' });
  try {
    await sleep(2_000);
    const before = cpuSeconds(child.pid);
    await sleep(SECONDS * 1000);
    console.log(`${String(rate).padStart(3)} wakeups/s  ${(((cpuSeconds(child.pid) - before) * 1000) / SECONDS).toFixed(2)} ms/s`);
  } finally {
    child.kill();
  }
}
