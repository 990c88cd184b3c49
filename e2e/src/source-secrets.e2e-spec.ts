import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { eventually } from '@paas/platform/testing';
import { api, AppRepository, deleteNamespace, randomSuffix, removeBuiltImages } from './support';

/**
 * A git smart-HTTP server on loopback (`git http-backend` as CGI, as a git host runs it) over
 * the repositories in `root`, that answers only `user`:`password` (401 otherwise), counting the
 * requests it refused and the ones it served.
 */
async function privateGitServer(root: string, user: string, password: string) {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const seen = { refused: 0, served: 0 };
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      seen.refused++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    seen.served++;
    const url = new URL(req.url ?? '/', 'http://git');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        REMOTE_USER: user,
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let body = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (body) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      body = true;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const [name, ...value] = line.split(':');
        if (name.toLowerCase() === 'status') status = Number.parseInt(value.join(':'), 10);
        else headers[name] = value.join(':').trim();
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: (repo: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/${repo}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * A private repository, as a user meets one: its BuildConfig names a Secret with a user and a
 * token (`sourceSecret`), the build-service asks the deploy-service for it and fetches with it;
 * a missing Secret or a wrong token is a 422 when the BuildConfig is made, naming the field.
 */
describe('a private git repository through a source secret', () => {
  const suffix = randomSuffix();
  const namespace = `source-secret-e2e-${suffix}`;
  const token = `tok-${suffix}-hunter2`;
  const repo = new AppRepository();
  let git: Awaited<ReturnType<typeof privateGitServer>>;
  const secret = (name: string, password: string) => ({
    metadata: { name },
    type: 'kubernetes.io/basic-auth',
    data: { username: Buffer.from('ann').toString('base64'), password: Buffer.from(password).toString('base64') },
  });
  const buildConfig = (name: string, secretName?: string) => ({
    metadata: { name },
    spec: {
      source: { git: { uri: git.url(`${path.basename(repo.dir)}/.git`), ref: 'main' }, ...(secretName ? { sourceSecret: { name: secretName } } : {}) },
      strategy: { sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' } } },
      output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } },
    },
  });

  beforeAll(async () => {
    repo.commitServer('private hello');
    git = await privateGitServer(path.dirname(repo.dir), 'ann', token);
    expect((await api().post('/api/v1/namespaces').send({ metadata: { name: namespace } })).status).toBe(201);
  });

  afterAll(async () => {
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['private-1']);
    await git?.close();
    repo.remove();
  });

  it('builds a repository that answers only with the secret, and refuses a missing secret or a wrong token with 422s', async () => {
    expect((await api().post(`/api/v1/namespaces/${namespace}/secrets`).send(secret('repo-token', token))).status).toBe(201);
    expect((await api().post(`/api/v1/namespaces/${namespace}/secrets`).send(secret('stale-token', 'not-it'))).status).toBe(201);

    const without = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('anonymous'));
    expect(without.status).toBe(422);
    expect(without.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.source.git.uri' })]);
    const missing = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('missing', 'no-such-secret'));
    expect(missing.status).toBe(422);
    expect(missing.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.source.sourceSecret.name', reason: 'NotFound' })]);
    const wrong = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('wrong', 'stale-token'));
    expect(wrong.status).toBe(422);
    expect(JSON.stringify(wrong.body)).not.toContain('not-it');

    const created = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('private', 'repo-token'));
    expect(created.status).toBe(201);
    const build = await eventually('the private build to finish', async () => {
      const res = await api().get(`/api/v1/namespaces/${namespace}/builds/private-1`);
      return ['Complete', 'Failed', 'Error'].includes(res.body?.status?.phase) ? res.body : undefined;
    });
    expect(build.status).toMatchObject({ phase: 'Complete' });
    const log = await api().get(`/api/v1/namespaces/${namespace}/builds/private-1/log`);
    expect(log.text).toContain('Using the source secret "repo-token" (user and password)');
    expect(log.text).not.toContain(token);
    expect(git.seen.served).toBeGreaterThan(0);
  });
});
