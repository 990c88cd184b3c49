// What a client sees when one of two processes sharing a port (SO_REUSEPORT, as our replicas
// do) is killed under keep-alive traffic: 8 clients; a GET that fails is sent once more on a
// new connection; `rounds` times two servers start and one is killed. Prints how many first
// tries failed (the dead process's own connections) and how many resends failed (connections
// the kernel had queued on the dead listener: reset unless net.ipv4.tcp_migrate_req=1).
// Runs under the services' Node (`.paas/bin/node-v*`, reusePort needs Node 22.12):
//   node scripts/experiments/listener-handover.mjs [rounds]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { artifacts } from '../lib/config.mjs';

const PORT = 18777;
const rounds = Number(process.argv[2] ?? 30);
const SERVER = `require('node:http').createServer((q, s) => s.end('ok'))
  .listen({ port: ${PORT}, host: '127.0.0.1', reusePort: true }, () => console.log('listening'))`;

const startServer = () => new Promise((resolve, reject) => {
  const child = spawn(artifacts.node, ['-e', SERVER]);
  child.stdout.once('data', () => resolve(child));
  child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
});

const get = (agent) => new Promise((resolve, reject) => {
  const req = http.get({ host: '127.0.0.1', port: PORT, agent, timeout: 3000 }, (res) => {
    res.resume();
    res.on('end', resolve);
    res.on('error', reject);
  });
  req.on('timeout', () => req.destroy(new Error('timed out')));
  req.on('error', reject);
});

const migrate = fs.readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim();
let requests = 0, firstFailed = 0, resendFailed = 0;
for (let round = 0; round < rounds; round++) {
  const [doomed, survivor] = [await startServer(), await startServer()];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let stop = false;
  const clients = Array.from({ length: 8 }, async () => {
    for (; !stop; requests++) {
      await get(agent).catch(() => {
        firstFailed++;
        return get(false).catch(() => resendFailed++);
      });
    }
  });
  await sleep(100);
  doomed.kill('SIGKILL');
  await sleep(100);
  stop = true;
  await Promise.all(clients);
  agent.destroy();
  survivor.kill('SIGKILL');
  await sleep(50);
}
console.log(`tcp_migrate_req=${migrate}: ${rounds} kills, ${requests} requests, ${firstFailed} first tries failed, ${resendFailed} resends failed`);
