import { BINARY_INPUT_BUCKET } from '@paas/contracts/builds';
import { NatsBinaryInputs } from '@paas/platform/binary-inputs';
import { busNames } from '@paas/platform/bus-names';
import { inboxPrefix } from '@paas/platform/bus-permissions';
import { eventually, requestOn, spawnService } from '@paas/platform/testing';
import { connect, ErrorCode, nkeyAuthenticator, nkeys, type NatsConnection, type NatsError } from 'nats';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { assertFree, PrivateCopy } from './support';

/**
 * The bus as `npm run up` configures it (scripts/lib/nats-auth.mjs, through up-steps.mjs), on
 * ports and a bus prefix of the test's own: NATS refuses a connection without one of the keys up
 * made, and holds each service's key to its role (libs/contracts/src/bus-roles.ts) on the copy's
 * prefix; a service started without credentials stops at once with one line saying what to set;
 * the real deploy-service, with its own key, starts, answers and consumes without one refusal.
 */
const OFFSET = 23_000;
const NATS = { NATS_PORT: 21_522, NATS_CLUSTER_PORT: 21_622, NATS_MONITOR_PORT: 21_722 };
const URL = `nats://127.0.0.1:${NATS.NATS_PORT}`;
const REPO = path.resolve(__dirname, '../../..');

const copy = new PrivateCopy('natsauth', { PAAS_PORT_OFFSET: String(OFFSET), ...Object.fromEntries(Object.entries(NATS).map(([name, port]) => [name, String(port)])) });
const names = busNames(copy.busPrefix);
const open: NatsConnection[] = [];

/** Connects to the copy's NATS with `name`'s key (as that service would: its own inbox). */
async function as(name: string): Promise<NatsConnection> {
  const seed = new TextEncoder().encode(readFileSync(copy.natsKey(name), 'utf8').trim());
  const nats = await connect({ servers: URL, name: `test-as-${name}`, authenticator: nkeyAuthenticator(seed), inboxPrefix: inboxPrefix(name, copy.busPrefix), reconnect: false });
  open.push(nats);
  return nats;
}

/** Resolves to the error code NATS answered a request with (or 'answered'). */
const requestOutcome = (nats: NatsConnection, subject: string) =>
  nats.request(subject, '{}', { timeout: 2_000 }).then(
    () => 'answered',
    (error: NatsError) => error.code,
  );

/** Resolves to the error code NATS ended a subscription with, or 'subscribed' when it kept it. */
async function subscribeOutcome(nats: NatsConnection, subject: string): Promise<string> {
  const subscription = nats.subscribe(subject);
  const ended = (async () => {
    try {
      for await (const _message of subscription) return 'message';
      return 'subscribed';
    } catch (error) {
      return (error as NatsError).code;
    }
  })();
  await nats.flush();
  const outcome = await Promise.race([ended, new Promise<string>((resolve) => setTimeout(() => resolve('subscribed'), 500))]);
  subscription.unsubscribe();
  return outcome;
}

beforeAll(async () => {
  await assertFree([...Object.values(NATS), 8020 + OFFSET]);
  await copy.upStep('start-nats', '1');
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((nats) => nats.close().catch(() => undefined)));
  await copy.upStep('stop-services').catch(() => undefined);
  await copy.upStep('stop-nats');
  await copy.remove(['paas_deploy'], { dropStream: false });
}, 120_000);

describe('the bus as up configures it', () => {
  it('keeps the keys to the operator (0600, in a 0700 folder) and listens on loopback only', () => {
    expect(statSync(path.dirname(copy.natsKey('admin'))).mode & 0o777).toBe(0o700);
    for (const name of ['admin', 'api-gateway', 'build-service', 'registry-service', 'deploy-service', 'router']) expect(statSync(copy.natsKey(name)).mode & 0o777).toBe(0o600);
    const conf = readFileSync(path.join(copy.home, 'secrets', 'nats', 'nats.conf'), 'utf8');
    expect(conf).not.toContain(readFileSync(copy.natsKey('router'), 'utf8').trim());
    // Loopback only, clients and monitor: nothing of the bus leaves the machine (docs/security.md, "TLS").
    const settings = JSON.parse(conf.slice(conf.indexOf('{'))) as { listen: string; http: string };
    expect([settings.listen, settings.http]).toEqual([`127.0.0.1:${NATS.NATS_PORT}`, `127.0.0.1:${NATS.NATS_MONITOR_PORT}`]);
  });

  it('refuses a connection without credentials, or with a key it does not know', async () => {
    await expect(connect({ servers: URL, reconnect: false })).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
    const stranger = nkeyAuthenticator(nkeys.createUser().getSeed());
    await expect(connect({ servers: URL, authenticator: stranger, reconnect: false })).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
  });

  it("refuses each service what is not its role: the router cannot mint a registry token, publish endpoints.changed or read another's replies", async () => {
    // The gateway answers registry tokens; the build-service may ask for one, the router may not.
    const gateway = await as('api-gateway');
    gateway.subscribe(names.rpc('auth.registryToken'), { queue: 'api-gateway', callback: (_error, message) => message.respond('{"ok":true,"result":{"token":"t"}}') });
    await gateway.flush();
    expect(await requestOutcome(await as('build-service'), names.rpc('auth.registryToken'))).toBe('answered');

    const router = await as('router');
    expect(await requestOutcome(router, names.rpc('auth.registryToken'))).toBe(ErrorCode.PermissionsViolation);
    await expect(router.jetstream().publish(names.event('endpoints.changed'), '{}')).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
    expect(await subscribeOutcome(router, '_INBOX.>')).toBe(ErrorCode.PermissionsViolation);
    expect(await subscribeOutcome(router, `${inboxPrefix('build-service', copy.busPrefix)}.>`)).toBe(ErrorCode.PermissionsViolation);
    expect(await subscribeOutcome(router, names.rpc('deploymentconfigs.create'))).toBe(ErrorCode.PermissionsViolation);
    expect(await subscribeOutcome(router, names.rpc('routes.create'))).toBe('subscribed');
    // Its role holds on its copy's bus only: the same subjects without the prefix are not its own.
    expect(await subscribeOutcome(router, busNames('').rpc('routes.create'))).toBe(ErrorCode.PermissionsViolation);
  });

  it("refuses the others what is not theirs: auth.keys to the build-service, auth.registryToken to the registry, another's events, changing the stream", async () => {
    const build = await as('build-service');
    expect(await requestOutcome(build, names.rpc('auth.keys'))).toBe(ErrorCode.PermissionsViolation);
    await expect(build.jetstream().publish(names.event('imagestream.updated'), '{}')).rejects.toMatchObject({ code: ErrorCode.PermissionsViolation });
    const registry = await as('registry-service');
    expect(await requestOutcome(registry, names.rpc('auth.registryToken'))).toBe(ErrorCode.PermissionsViolation);
    expect(await requestOutcome(registry, names.rpc('deploymentconfigs.list'))).toBe(ErrorCode.PermissionsViolation);
    const deploy = await as('deploy-service');
    expect(await requestOutcome(deploy, `$JS.API.STREAM.DELETE.${names.stream}`)).toBe(ErrorCode.PermissionsViolation);
    expect(await requestOutcome(deploy, `$JS.API.STREAM.UPDATE.${names.stream}`)).toBe(ErrorCode.PermissionsViolation);
    expect(await requestOutcome(deploy, '$JS.API.STREAM.CREATE.SNOOP')).toBe(ErrorCode.PermissionsViolation);
  });

  it("keeps Binary builds' uploads between the gateway, which stores them, and the build-service, which reads and deletes them", async () => {
    const bucket = names.bucket(BINARY_INPUT_BUCKET);
    const stored = await new NatsBinaryInputs(await as('api-gateway'), bucket).put([Buffer.from('the files of a build')]);
    const file = path.join(copy.home, 'upload');
    for (const other of ['router', 'deploy-service', 'registry-service']) {
      await expect(new NatsBinaryInputs(await as(other), bucket).download(stored.object, file)).rejects.toBeDefined();
    }
    const build = new NatsBinaryInputs(await as('build-service'), bucket);
    await expect(build.download(stored.object, file)).resolves.toEqual({ bytes: stored.bytes, sha256: stored.sha256 });
    expect(readFileSync(file, 'utf8')).toBe('the files of a build');
    await build.delete(stored.object);
    await expect(build.download(stored.object, file)).resolves.toBeUndefined();
  });

  it('stops a service started without credentials at once, with one line saying what to set', async () => {
    const log = path.join(copy.home, 'deploy-without-key.log');
    const child = spawnService(path.join(REPO, 'apps/deploy-service/dist/main.js'), { ...copy.env, NATS_URL: URL, NATS_NKEY_FILE: '', PORT: String(8020 + OFFSET) }, log);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    const output = readFileSync(log, 'utf8');
    expect(output).toContain(`NATS at ${URL} asks for credentials: set NATS_NKEY_FILE to this service's NKey seed file`);
    expect(output).not.toContain('    at ');
  }, 60_000);

  it('lets the real deploy-service, on its own key, start, answer and consume, refused nothing', async () => {
    await copy.upStep('start-services', JSON.stringify({ 'deploy-service': 1 }));
    const admin = await connect(copy.natsOptions([URL], 'test-admin'));
    open.push(admin);
    await eventually('the deploy-service to answer', async () => (await requestOn(admin, copy.busPrefix, 'deploymentconfigs.list', { namespace: 'auth' })) && true, 60_000);
    const jsm = await admin.jetstreamManager();
    await eventually('its consumer', async () => (await jsm.consumers.info(names.stream, 'deploy-service--imagestream-updated')) && true, 30_000);
    const natsLog = readFileSync(path.join(copy.home, 'logs', 'nats.log'), 'utf8');
    const deployKey = readFileSync(copy.natsKey('deploy-service'), 'utf8').trim();
    const publicKey = nkeys.fromSeed(new TextEncoder().encode(deployKey)).getPublicKey();
    expect(natsLog.split('\n').filter((line) => line.includes('Violation') && line.includes(':deploy-service"') && line.includes(publicKey))).toEqual([]);
  }, 120_000);
});
