import http from 'node:http';
import { assertFree, PrivateCopy } from './support';
import { eventually } from '@paas/platform/testing';

/**
 * Two replicas of the api-gateway, started as `npm run up --replicas api-gateway=2` starts
 * them (scripts/lib/services.mjs, on the Node up provisions), share the public port: both
 * answer there, each on its own admin port too, and the port stays served when one of them
 * is killed outright.
 */
const OFFSET = 24_000; // below the ephemeral port range, clear of the platform's own ports
const PUBLIC = 8000 + OFFSET;
const ADMIN = [8001 + OFFSET, 8101 + OFFSET];

/** The replica that answered `/healthz` on `port`, over a fresh connection each time. */
function replicaOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(body) as { replica: number }).replica) : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer on ${port}`)));
    req.on('error', reject);
  });
}

describe('replicas of the api-gateway', () => {
  const copy = new PrivateCopy('replicas', { PAAS_PORT_OFFSET: String(OFFSET) });

  beforeAll(async () => {
    await assertFree([PUBLIC, ...ADMIN]);
    await copy.upStep('start-services', JSON.stringify({ 'api-gateway': 2 }));
  });

  afterAll(async () => {
    await copy.upStep('stop-services');
    await copy.remove(['paas_gateway']);
  });

  it('share the public port, and it stays served when one is killed', async () => {
    expect(await Promise.all(ADMIN.map(replicaOn))).toEqual([0, 1]);
    const seen = new Set<number>();
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await replicaOn(PUBLIC));
    expect([...seen].sort()).toEqual([0, 1]);

    const killed = copy.pid('api-gateway-1');
    process.kill(killed, 'SIGKILL');
    await eventually('the killed replica to be gone', async () => {
      try {
        process.kill(killed, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 10_000, 50);
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await replicaOn(PUBLIC));
    expect(new Set(answers)).toEqual(new Set([0]));
  });
});
