import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway } from './support';

type Gateway = Awaited<ReturnType<typeof startGateway>>;
interface AuditItem {
  user: string;
  statusCode: number;
  reason?: string;
  sourceIP?: string;
  path: string;
}

/** Small limits, so that the test sees the penalty grow within seconds. */
const LIMITS = {
  PAAS_LOGIN_FREE_FAILURES_PER_USER: '3',
  PAAS_LOGIN_FREE_FAILURES_PER_ADDRESS: '100',
  PAAS_LOGIN_PENALTY_BASE_SECONDS: '1',
  PAAS_LOGIN_PENALTY_MAX_SECONDS: '4',
};

/**
 * Password checks rate-limited per user and per client address, on in-process gateways with
 * a database of their own (the failures would otherwise count against 127.0.0.1 on the
 * platform's gateway): 429 with Retry-After during a penalty, the right password included;
 * the penalty grows; parallel guesses and a second replica change nothing; tokens are never
 * limited; every failure and refusal is in the audit trail.
 */
describe('api-gateway login throttling', () => {
  const suffix = randomBytes(3).toString('hex');
  let gateway: Gateway;
  let replica: Gateway;

  beforeAll(async () => {
    gateway = await startGateway('login', { ownDatabase: true, env: LIMITS });
    replica = await startGateway('login-replica', { dbPrefix: gateway.dbPrefix, env: LIMITS });
  });
  afterAll(async () => {
    await replica?.close();
    await gateway?.close();
  });

  async function newUser(name: string) {
    const password = randomBytes(12).toString('base64url');
    await gateway.admin.post('/api/v1/users').send({ metadata: { name: `${name}-${suffix}` }, password }).expect(201);
    return { name: `${name}-${suffix}`, password };
  }
  const whoami = (on: Gateway, user: string, password: string) => on.as(user, password).get('/api/v1/users/~');
  const loginEvents = async (user: string) =>
    ((await gateway.admin.get('/api/v1/auditevents').query({ limit: '1000' })).body.items as AuditItem[]).filter((event) => event.user === user && event.reason);

  it('refuses a user after the free failures, the right password too, with Retry-After, and lets them in once it has passed', async () => {
    const ann = await newUser('ann');
    for (let i = 0; i < 3; i++) expect((await whoami(gateway, ann.name, 'wrong password')).status).toBe(401);

    const refused = await whoami(gateway, ann.name, ann.password);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({ kind: 'Status', code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
    // The other replica refuses too: the count is in the database.
    expect((await whoami(replica, ann.name, ann.password)).status).toBe(429);

    await sleep(1100);
    expect((await whoami(gateway, ann.name, ann.password)).status).toBe(200);
    const events = await loginEvents(ann.name);
    expect(events.filter((event) => event.reason === 'LoginFailed')).toHaveLength(3);
    expect(events.filter((event) => event.reason === 'LoginThrottled')).toHaveLength(2);
    expect(events[0]).toMatchObject({ statusCode: 429, sourceIP: expect.stringMatching(/127\.0\.0\.1/), path: '/api/v1/users/~' });
  });

  it('doubles the wait with every further failure, up to the maximum', async () => {
    const bob = await newUser('bob');
    for (let i = 0; i < 3; i++) await whoami(gateway, bob.name, 'wrong');
    const waits = [];
    for (let i = 0; i < 3; i++) {
      const refused = await whoami(replica, bob.name, 'wrong');
      expect(refused.status).toBe(429);
      waits.push(Number(refused.headers['retry-after']));
      await sleep(Number(refused.headers['retry-after']) * 1000 + 50);
      expect((await whoami(i % 2 ? gateway : replica, bob.name, 'wrong')).status).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4]);
    expect((await whoami(gateway, bob.name, bob.password)).headers['retry-after']).toBe('4');
  });

  it('counts parallel guesses as it counts sequential ones', async () => {
    const cid = await newUser('cid');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => whoami(i % 2 ? replica : gateway, cid.name, `guess-${i}`)));
    const checked = answers.filter((res) => res.status === 401).length;
    expect(checked).toBeLessThanOrEqual(3);
    expect(answers.filter((res) => res.status === 429)).toHaveLength(20 - checked);
    expect((await loginEvents(cid.name)).filter((event) => event.reason === 'LoginFailed')).toHaveLength(checked);
  });

  it('takes a client\'s parallel calls with the right password as one login, not a burst', async () => {
    const eve = await newUser('eve');
    const answers = await Promise.all(Array.from({ length: 16 }, () => whoami(gateway, eve.name, eve.password)));
    expect(answers.map((res) => res.status)).toEqual(Array(16).fill(200));
  });

  it('never limits tokens, and answers Docker token requests with TOOMANYREQUESTS', async () => {
    const dan = await newUser('dan');
    const { token } = (await gateway.as(dan.name, dan.password).post('/api/v1/tokens').send({}).expect(201)).body;
    for (let i = 0; i < 3; i++) await whoami(gateway, dan.name, 'wrong');
    expect((await whoami(gateway, dan.name, dan.password)).status).toBe(429);
    for (let i = 0; i < 20; i++) expect((await gateway.withToken(token).get('/api/v1/users/~')).status).toBe(200);
    expect((await gateway.as(dan.name, token).get('/api/v1/users/~')).status).toBe(200);

    const docker = await gateway.as(dan.name, dan.password).get('/auth/token').query({ service: 'paas-registry', scope: 'repository:x/y:pull' });
    expect(docker.status).toBe(429);
    expect(docker.headers['retry-after']).toMatch(/^\d+$/);
    expect(docker.body).toEqual({ errors: [{ code: 'TOOMANYREQUESTS', message: expect.stringContaining('try again in'), detail: null }] });
  });
});

describe('api-gateway login throttling per client address', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway('login-address', { ownDatabase: true, env: { ...LIMITS, PAAS_LOGIN_FREE_FAILURES_PER_USER: '100', PAAS_LOGIN_FREE_FAILURES_PER_ADDRESS: '4' } });
  });
  afterAll(() => gateway?.close());

  it('refuses an address that failed for several user names, whichever user it tries next', async () => {
    for (const user of ['u1', 'u2', 'u3', 'u4']) expect((await gateway.as(user, 'guess').get('/api/v1/namespaces')).status).toBe(401);
    const refused = await gateway.as('admin', 'guess').get('/api/v1/namespaces');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
