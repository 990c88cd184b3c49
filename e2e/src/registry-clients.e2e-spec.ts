import { createHash, randomBytes } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@paas/platform/config';
import { eventually } from '@paas/platform/testing';
import { api, deleteNamespace, randomSuffix } from './support';

const REGISTRY = loadConfig().registryHost;
const ADMIN_PASSWORD_FILE = path.join(loadConfig().home, 'secrets', 'admin-password');
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

interface LocalImage {
  /** Local name (repository:tag). */
  name: string;
  /** Image ID: the digest of its config, the same wherever the image travels. */
  id: string;
  files: Record<string, Buffer>;
}

interface TagEvent {
  image: string;
  dockerImageReference: string;
}

/**
 * The platform registry with the clients people use: `docker push`/`docker pull` through the
 * real engine, and Debian's skopeo (docker-daemon and OCI layout sources, inspect, list-tags,
 * delete). Every result is checked against the registry's HTTP API, the image content and
 * the ImageStream the pushes move. Images are made here (`docker import` of a tar, then a
 * `docker build` on top) and labelled paas.dev/test=registry-clients.
 */
describe('docker and skopeo against the platform registry', () => {
  const suffix = randomSuffix();
  const namespace = `registry-clients-${suffix}`;
  const labels = { 'paas.dev/test': 'registry-clients', 'paas.dev/test-run': suffix };
  const work = mkdtempSync(path.join(tmpdir(), 'paas-registry-clients-'));
  const dockerConfig = path.join(work, 'docker-config');
  const password = existsSync(ADMIN_PASSWORD_FILE) ? readFileSync(ADMIN_PASSWORD_FILE, 'utf8').trim() : undefined;
  const authfile = () => (password ? ['--authfile', path.join(dockerConfig, 'config.json')] : []);
  const remote = (name: string, tag: string) => `${REGISTRY}/${namespace}/${name}:${tag}`;
  const docker = (...args: string[]) => run('docker', args, { DOCKER_CONFIG: dockerConfig, DOCKER_BUILDKIT: '0' });
  const skopeo = (...args: string[]) => run('skopeo', args);
  const skopeoJson = async (...args: string[]) => JSON.parse(await skopeo(...args));
  const registry = registryClient(password);
  const tagHistory = (stream: string, tag: string, count: number) =>
    eventually(`ImageStream ${namespace}/${stream} tag ${tag} to have ${count} item(s)`, async () => {
      const res = await api().get(`/api/v1/namespaces/${namespace}/imagestreams/${stream}`);
      const items: TagEvent[] | undefined = res.body.status?.tags?.find((t: { tag: string }) => t.tag === tag)?.items;
      return items?.length === count ? items : undefined;
    }, 15_000);

  let base: LocalImage;
  let first: LocalImage;
  let second: LocalImage;

  beforeAll(async () => {
    expect((await api().post('/api/v1/namespaces').send({ metadata: { name: namespace } })).status).toBe(201);
    mkdirSync(dockerConfig);
    if (password) {
      execFileSync('docker', ['login', '--username', 'admin', '--password-stdin', REGISTRY], {
        input: password, env: { ...process.env, DOCKER_CONFIG: dockerConfig }, stdio: ['pipe', 'ignore', 'pipe'], timeout: 30_000,
      });
    }
    base = await importBase();
    first = await buildOnBase('first');
    second = await buildOnBase('second');
  }, 120_000);

  afterAll(async () => {
    const containers = (await docker('ps', '-aq', '--filter', `label=paas.dev/test-run=${suffix}`)).split('\n').filter(Boolean);
    if (containers.length) await docker('rm', '-f', ...containers);
    // prune -a removes every image with the label, children before parents.
    await docker('image', 'prune', '-a', '-f', '--filter', `label=paas.dev/test-run=${suffix}`);
    await deleteNamespace(namespace);
    rmSync(work, { recursive: true, force: true });
    expect(await docker('images', '-q', '--filter', `label=paas.dev/test-run=${suffix}`)).toBe('');
    expect((await api().get(`/api/v1/namespaces/${namespace}`)).status).toBe(404);
  });

  /** A one-layer image from a tar made here: `docker import`. */
  async function importBase(): Promise<LocalImage> {
    const root = path.join(work, 'base-root');
    const files = { 'data/base.txt': Buffer.from(`base layer of ${namespace}\n`), 'etc/motd': Buffer.from('registry clients\n') };
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), content);
    }
    const tar = path.join(work, 'base.tar');
    await run('tar', ['-C', root, '-cf', tar, '.']);
    const name = `paas-test/registry-clients-base:${suffix}`;
    const changes = Object.entries(labels).flatMap(([key, value]) => ['--change', `LABEL ${key}=${value}`]);
    const id = (await docker('import', ...changes, tar, name)).trim();
    return { name, id, files };
  }

  /** Two more layers on the base (`docker build`): a marker and 256 KiB of random bytes. */
  async function buildOnBase(which: string): Promise<LocalImage> {
    const context = path.join(work, `context-${which}`);
    mkdirSync(context);
    const files = { 'data/marker.txt': Buffer.from(`${which} image\n`), 'data/payload.bin': randomBytes(256 * 1024) };
    writeFileSync(path.join(context, 'marker.txt'), files['data/marker.txt']);
    writeFileSync(path.join(context, 'payload.bin'), files['data/payload.bin']);
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${base.name}\nCOPY marker.txt /data/marker.txt\nCOPY payload.bin /data/payload.bin\n`);
    const name = `paas-test/registry-clients-${which}:${suffix}`;
    const labelArgs = Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    const id = (await docker('build', '-q', ...labelArgs, '-t', name, context)).trim();
    return { name, id, files: { ...base.files, ...files } };
  }

  async function dockerPush(image: LocalImage, target: string): Promise<{ digest: string; output: string }> {
    await docker('tag', image.name, target);
    const output = await docker('push', target);
    const digest = output.match(/: digest: (sha256:[0-9a-f]{64}) size: \d+/)?.[1];
    if (!digest) throw new Error(`docker push printed no digest:\n${output}`);
    return { digest, output };
  }

  async function manifestDigest(name: string, reference: string): Promise<{ status: number; digest: string | null }> {
    const res = await registry('HEAD', `/v2/${namespace}/${name}/manifests/${reference}`, MANIFEST_TYPES);
    return { status: res.status, digest: res.headers.get('docker-content-digest') };
  }

  let pushedFirst: string;
  let pushedSecond: string;

  it('docker push moves the tag, and the ImageStream keeps a history of every push', async () => {
    const pushOne = await dockerPush(first, remote('app', 'v1'));
    expect(await manifestDigest('app', 'v1')).toEqual({ status: 200, digest: pushOne.digest });

    const pushTwo = await dockerPush(second, remote('app', 'v1'));
    expect(pushTwo.output).toMatch(/Layer already exists/); // the shared base layer is not sent again
    expect(pushTwo.digest).not.toBe(pushOne.digest);
    expect(await manifestDigest('app', 'v1')).toEqual({ status: 200, digest: pushTwo.digest });
    expect(await manifestDigest('app', pushOne.digest)).toEqual({ status: 200, digest: pushOne.digest });

    const history = await tagHistory('app', 'v1', 2);
    expect(history.map((item) => item.image)).toEqual([pushTwo.digest, pushOne.digest]);
    expect(history[0].dockerImageReference).toBe(`${REGISTRY}/${namespace}/app@${pushTwo.digest}`);
    [pushedFirst, pushedSecond] = [pushOne.digest, pushTwo.digest];
    // An answer the engine had to retry (a 5xx) costs the user 5 s per layer.
    expect([pushOne.output, pushTwo.output].filter((output) => /Retrying/.test(output))).toEqual([]);
  }, 120_000);

  it('skopeo copies from the engine and from an OCI layout, inspects, lists tags and deletes', async () => {
    const ociDir = path.join(work, 'oci-layout');
    await skopeo('copy', `docker-daemon:${first.name}`, `oci:${ociDir}:first`);
    const layout = JSON.parse(readFileSync(path.join(ociDir, 'index.json'), 'utf8'));
    const ociDigest: string = layout.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === 'first').digest;

    const digestFile = path.join(work, 'digest');
    await skopeo('copy', ...authfile(), '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${ociDir}:first`, `docker://${remote('skopeo', 'oci')}`);
    expect(readFileSync(digestFile, 'utf8').trim()).toBe(ociDigest);
    await skopeo('copy', ...authfile(), '--dest-tls-verify=false', '--digestfile', digestFile, `docker-daemon:${second.name}`, `docker://${remote('skopeo', 'daemon')}`);
    const daemonDigest = readFileSync(digestFile, 'utf8').trim();
    expect(daemonDigest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const inspected = await skopeoJson('inspect', ...authfile(), '--tls-verify=false', `docker://${remote('skopeo', 'oci')}`);
    expect(inspected).toMatchObject({ Digest: ociDigest, Labels: labels, Architecture: 'amd64', Os: 'linux' });
    expect(inspected.Layers).toHaveLength(3);
    // The registry hands back the very bytes that were pushed: their digest is the manifest's.
    const raw = await skopeo('inspect', ...authfile(), '--tls-verify=false', '--raw', `docker://${remote('skopeo', 'oci')}`);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(ociDigest);
    expect(JSON.parse(raw).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const daemonRaw = JSON.parse(await skopeo('inspect', ...authfile(), '--tls-verify=false', '--raw', `docker://${remote('skopeo', 'daemon')}`));
    expect(daemonRaw.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(daemonRaw.config.digest).toBe(second.id);

    const listed = await skopeoJson('list-tags', ...authfile(), '--tls-verify=false', `docker://${REGISTRY}/${namespace}/skopeo`);
    expect(listed.Tags.sort()).toEqual(['daemon', 'oci']);
    expect((await tagHistory('skopeo', 'oci', 1))[0].image).toBe(ociDigest);
    expect((await tagHistory('skopeo', 'daemon', 1))[0].image).toBe(daemonDigest);

    await skopeo('delete', ...authfile(), '--tls-verify=false', `docker://${remote('skopeo', 'daemon')}`);
    expect((await manifestDigest('skopeo', daemonDigest)).status).toBe(404);
    expect((await manifestDigest('skopeo', 'daemon')).status).toBe(404);
    expect(await manifestDigest('skopeo', 'oci')).toEqual({ status: 200, digest: ociDigest });
    expect((await skopeoJson('list-tags', ...authfile(), '--tls-verify=false', `docker://${REGISTRY}/${namespace}/skopeo`)).Tags).toEqual(['oci']);
  }, 120_000);

  it('docker pull brings the pushed image back, byte for byte', async () => {
    // Nothing of it is left in the engine: every layer comes from the registry.
    await docker('rmi', '-f', first.id, second.id, base.id);
    const output = await docker('pull', remote('app', 'v1'));
    expect(output).toContain(`Digest: ${pushedSecond}`);
    expect(output).not.toMatch(/Retrying|Already exists/);

    const [inspected] = JSON.parse(await docker('image', 'inspect', remote('app', 'v1')));
    expect(inspected.Id).toBe(second.id); // the same config, so the same layers (the engine checks their diff IDs)
    expect(inspected.RepoDigests).toContain(`${REGISTRY}/${namespace}/app@${pushedSecond}`);
    expect(inspected.Config.Labels).toMatchObject(labels);

    const container = (await docker('create', ...Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]), remote('app', 'v1'), 'true')).trim();
    for (const [file, content] of Object.entries(second.files)) {
      const copy = path.join(work, 'pulled', file);
      mkdirSync(path.dirname(copy), { recursive: true });
      await docker('cp', `${container}:/${file}`, copy);
      expect(readFileSync(copy).equals(content)).toBe(true);
    }
    // The first push is still pullable by digest.
    expect(await docker('pull', `${REGISTRY}/${namespace}/app@${pushedFirst}`)).toContain(`Digest: ${pushedFirst}`);
  }, 120_000);
});

/** Runs a command; resolves to its stdout, rejects with its stderr when it fails. */
async function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${failed.stderr || failed.stdout || (error as Error).message}`);
  }
}

/**
 * Requests to the registry's HTTP API. Once the registry asks for a token (Docker's token
 * flow), one is fetched from the challenge's realm with the admin's credentials.
 */
function registryClient(password: string | undefined) {
  return async (method: string, urlPath: string, accept: string): Promise<Response> => {
    const url = `http://${REGISTRY}${urlPath}`;
    const first = await fetch(url, { method, headers: { accept } });
    const challenge = first.headers.get('www-authenticate') ?? '';
    if (first.status !== 401 || !password || !challenge.startsWith('Bearer ')) return first;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
    const tokenUrl = new URL(params.realm);
    for (const key of ['service', 'scope']) if (params[key]) tokenUrl.searchParams.set(key, params[key]);
    const basic = Buffer.from(`admin:${password}`).toString('base64');
    const tokenRes = await fetch(tokenUrl, { headers: { authorization: `Basic ${basic}` } });
    if (!tokenRes.ok) throw new Error(`token from ${tokenUrl}: ${tokenRes.status} ${await tokenRes.text()}`);
    const { token } = (await tokenRes.json()) as { token: string };
    return fetch(url, { method, headers: { accept, authorization: `Bearer ${token}` } });
  };
}
