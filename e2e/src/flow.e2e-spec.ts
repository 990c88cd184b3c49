import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { eventually } from '@paas/platform/testing';
import request from 'supertest';
import { api, AppRepository, closeRouterConnections, containersIn, deleteNamespace, GATEWAY_URL, randomSuffix, removeBuiltImages, throughRouter, ZIPKIN_URL } from './support';

/**
 * The whole flow on the running platform (`npm run up`): new-app from a git repository,
 * S2I build, push to the platform registry, ImageStream update, rollout, routing; then a
 * second build rolled out without a failed request; then the failure paths.
 */
describe('source to request', () => {
  const namespace = `e2e-${randomSuffix()}`;
  const host = `hello-${namespace}.apps.localhost`;
  const repo = new AppRepository();
  const brokenRepo = new AppRepository();
  const dockerRepo = new AppRepository();
  const traceId = randomBytes(16).toString('hex');

  const get = async (plural: string, name: string) => {
    const res = await api().get(`/api/v1/namespaces/${namespace}/${plural}/${name}`);
    if (res.status !== 200) throw new Error(`GET ${plural}/${name}: ${res.status} ${res.text}`);
    return res.body;
  };
  const buildFinished = (name: string) =>
    eventually(`build ${name} to finish`, async () => {
      const build = await get('builds', name);
      return ['Complete', 'Failed', 'Error', 'Cancelled'].includes(build.status.phase) ? build : undefined;
    });
  const routeServes = (text: string) =>
    eventually(`the route to serve "${text}"`, async () => {
      const res = await throughRouter(host);
      return res.status === 200 && res.body === text ? res : undefined;
    });
  const webhookSecret = async (type: 'GitHub' | 'Generic') => {
    const triggers = (await get('buildconfigs', 'hello')).spec.triggers as { type: string; secret?: string }[];
    return triggers.find((trigger) => trigger.type === type)?.secret as string;
  };
  const sign = (payload: string, secret: string) => `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
  const podsOf = async (app: string) => {
    const res = await api().get(`/api/v1/namespaces/${namespace}/pods`).query({ labelSelector: `deploymentconfig=${app}` });
    return res.body.items as { metadata: { name: string; labels: Record<string, string> }; spec: { nodeName: string }; status: { phase: string; hostIP?: string; hostPort?: number; podIP?: string; containerID?: string; conditions: { type: string; status: string }[] } }[];
  };

  afterAll(async () => {
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['hello-1', 'hello-2', 'hello-3', 'twin-1', 'web-1', 'broken-1']);
    repo.remove();
    brokenRepo.remove();
    dockerRepo.remove();
    closeRouterConnections();
  });

  it('refuses the API to a caller without credentials', async () => {
    const res = await request(GATEWAY_URL).post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'hello', source: { git: repo.dir }, builder: 'nodejs' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
  });

  it('creates an app whose first build is served through the router', async () => {
    repo.commitServer('hello v1');
    const created = await api()
      .post(`/api/v1/namespaces/${namespace}/apps`)
      .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`)
      .send({ name: 'hello', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs' });
    expect(created.status).toBe(201);
    expect(created.body.items.map((item: { kind: string }) => item.kind)).toEqual(['ImageStream', 'Service', 'Route', 'DeploymentConfig', 'BuildConfig']);
    const bindings = await api().get(`/api/v1/namespaces/${namespace}/rolebindings`);
    expect(bindings.body.items).toEqual([expect.objectContaining({ roleRef: { name: 'admin' }, subjects: [{ kind: 'User', name: 'admin' }] })]);

    const build = await buildFinished('hello-1');
    expect(build.status).toMatchObject({ phase: 'Complete', output: { to: { imageDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } } });
    expect(build.status.stages.map((stage: { name: string }) => stage.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'Push']);
    expect(build.spec.revision.commit).toMatch(/^[0-9a-f]{40}$/);

    await routeServes('hello v1');

    const log = await api().get(`/api/v1/namespaces/${namespace}/builds/hello-1/log`);
    expect(log.status).toBe(200);
    expect(log.text.length).toBeGreaterThan(0);

    const digest = build.status.output.to.imageDigest;
    const stream = await get('imagestreams', 'hello');
    expect(stream.status.tags).toEqual([expect.objectContaining({ tag: 'latest', items: [expect.objectContaining({ image: digest })] })]);

    const dc = await get('deploymentconfigs', 'hello');
    expect(dc.status.latestVersion).toBe(1);
    expect(dc.spec.template.spec.containers[0].image).toContain(digest);
    await get('replicationcontrollers', 'hello-1');

    const [pod] = await podsOf('hello');
    expect(pod.metadata.labels.deployment).toBe('hello-1');
    expect(pod.status).toMatchObject({ phase: 'Running', hostIP: expect.any(String), hostPort: expect.any(Number) });
    const node = await api().get(`/api/v1/nodes/${pod.spec.nodeName}`);
    expect(pod.status.hostIP).toBe(node.body.spec.hostIP);
    expect(pod.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]));

    const route = await get('routes', 'hello');
    expect(route.spec.host).toBe(host);
  });

  it("mounts the builder's layers into a second app's repository instead of uploading them again", async () => {
    expect((await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'twin', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs' })).status).toBe(201);
    expect((await buildFinished('twin-1')).status.phase).toBe('Complete');
    const log = await api().get(`/api/v1/namespaces/${namespace}/builds/twin-1/log`);
    // hello-1 pushed the builder's layer to <namespace>/hello: the engine mounts it from there (or from any earlier push).
    expect(log.text).toMatch(/: Mounted from [a-z0-9-]+\/[a-z0-9-]+\n/);
  });

  it("builds a repository with a Dockerfile and no builder named with its Dockerfile (as oc new-app picks), and serves it", async () => {
    dockerRepo.commitServer('hello from a Dockerfile');
    dockerRepo.commitFile('Dockerfile', 'FROM paas-builder/nodejs:latest\nCOPY --chown=1001:0 . /opt/app-root/src/\nCMD ["node", "server.js"]\n');
    const created = await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'web', source: { git: dockerRepo.dir } });
    expect(created.status).toBe(201);
    const buildConfig = created.body.items.find((item: { kind: string }) => item.kind === 'BuildConfig');
    expect(buildConfig.spec.strategy).toEqual({ type: 'Docker', dockerStrategy: { dockerfilePath: 'Dockerfile', buildArgs: [], noCache: false } });
    const build = await buildFinished('web-1');
    expect(build.status.phase).toBe('Complete');
    expect(build.status.stages.map((stage: { name: string }) => stage.name)).toEqual(['FetchSource', 'Build', 'Push']);
    await eventually('the Dockerfile app to answer through the router', async () => {
      const res = await throughRouter(`web-${namespace}.apps.localhost`);
      return res.status === 200 && res.body === 'hello from a Dockerfile' ? res : undefined;
    });
    const refused = await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'nothing', source: { git: repo.dir }, strategy: 'Docker' });
    expect(refused.status).toBe(422);
    expect(refused.body.details.causes).toEqual([expect.objectContaining({ field: 'strategy', message: expect.stringContaining('no Dockerfile') })]);
  });

  it('refuses webhook calls with a wrong secret or signature, and ignores a push to another branch', async () => {
    const hooks = `/apis/build.openshift.io/v1/namespaces/${namespace}/buildconfigs/hello/webhooks`;
    const secret = await webhookSecret('GitHub');
    const body = JSON.stringify({ ref: 'refs/heads/feature', after: 'f'.repeat(40) });
    const push = (path: string, payload: string, signature = sign(payload, secret)) =>
      request(GATEWAY_URL).post(path).set({ 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature }).send(payload);
    expect((await push(`${hooks}/not-the-secret/github`, body)).status).toBe(404);
    expect((await push(`${hooks}/${secret}/github`, body, sign(body, 'not-the-secret'))).status).toBe(403);
    expect((await push(`${hooks}/${secret}/gitlab`, body)).status).toBe(404);
    expect((await push(`${hooks}/${secret}/github`, '{"ref": ')).status).toBe(400);
    const ignored = await push(`${hooks}/${secret}/github`, body);
    expect(ignored.status).toBe(200);
    expect(ignored.body).toMatchObject({ kind: 'Status', status: 'Success', message: expect.stringContaining('refs/heads/feature') });
    expect((await get('buildconfigs', 'hello')).status.lastVersion).toBe(1);
    // The secret is a credential: the audit trail shows the call without it.
    const audit = await api().get('/api/v1/auditevents').query({ namespace, limit: '20' });
    const calls = (audit.body.items as { path: string; statusCode: number }[]).filter((event) => event.path.includes('/webhooks/'));
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(calls)).not.toContain(secret);
  });

  it('rolls out a second build, started by a GitHub push, without failing a request and removes the old pod', async () => {
    const [oldPod] = await podsOf('hello');
    const commit = repo.commitServer('hello v2');
    // A later commit lands before the build fetches: the webhook's build builds the pushed one all the same.
    repo.commitServer('hello v3, not pushed');

    let stop = false;
    const outcomes: { status: number; body: string }[] = [];
    const traffic = (async () => {
      while (!stop) outcomes.push(await throughRouter(host).catch((error: Error) => ({ status: 0, body: error.message })));
    })();

    const secret = await webhookSecret('GitHub');
    const payload = JSON.stringify({ ref: 'refs/heads/main', after: commit, head_commit: { message: 'hello v2', author: { name: 'e2e' } } });
    const pushed = await request(GATEWAY_URL)
      .post(`/apis/build.openshift.io/v1/namespaces/${namespace}/buildconfigs/hello/webhooks/${secret}/github`)
      .set({ 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sign(payload, secret) })
      .send(payload);
    expect(pushed.status).toBe(200);
    expect(pushed.body).toMatchObject({ kind: 'Build', metadata: { name: 'hello-2' } });
    const built = await buildFinished('hello-2');
    expect(built.status.phase).toBe('Complete');
    expect(built.spec.triggeredBy).toEqual([{ message: `GitHub WebHook: push of ${commit.slice(0, 12)} to main by e2e: hello v2` }]);
    expect(built.spec.revision.commit).toBe(commit);
    await routeServes('hello v2');
    await eventually('the old pod to be gone', async () => {
      const pods = await podsOf('hello');
      return pods.length === 1 && pods[0].metadata.labels.deployment === 'hello-2' ? pods : undefined;
    });
    stop = true;
    await traffic;

    const failed = outcomes.filter((outcome) => outcome.status !== 200);
    expect(failed).toEqual([]);
    expect(new Set(outcomes.map((outcome) => outcome.body))).toEqual(new Set(['hello v1', 'hello v2']));
    expect((await get('deploymentconfigs', 'hello')).status.latestVersion).toBe(2);
    expect(execFileSync('docker', ['ps', '-aq', '--filter', `label=paas.dev/pod=${oldPod.metadata.name}`], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('rolls a crashing release back by itself, without a failed request under 8 keep-alive clients, and says why', async () => {
    repo.commitFile('server.js', "console.log('starting on purpose to fail'); process.exit(3);\n");
    let stop = false;
    const outcomes: { status: number; body: string }[] = [];
    const client = async () => {
      while (!stop) outcomes.push(await throughRouter(host).catch((error: Error) => ({ status: 0, body: error.message })));
    };
    const clients = Array.from({ length: 8 }, client);

    expect((await api().post(`/api/v1/namespaces/${namespace}/buildconfigs/hello/instantiate`).send({})).body.metadata.name).toBe('hello-3');
    expect((await buildFinished('hello-3')).status.phase).toBe('Complete');
    const progressing = await eventually('the rollout of revision 3 to fail', async () => {
      const dc = await get('deploymentconfigs', 'hello');
      const condition = dc.status.conditions.find((c: { type: string }) => c.type === 'Progressing');
      return dc.status.latestVersion === 3 && condition?.status === 'False' ? condition : undefined;
    }, 90_000);
    await eventually('revision 3 to have no pod left', async () => ((await podsOf('hello')).every((pod) => pod.metadata.labels.deployment === 'hello-2') ? true : undefined));
    stop = true;
    await Promise.all(clients);

    expect(outcomes.filter((outcome) => outcome.status !== 200 || outcome.body !== 'hello v2')).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(100);
    expect(progressing.reason).toBe('CrashLoopBackOff');
    expect(progressing.message).toMatch(/exited with code 3 .*starting on purpose to fail.*; revision 2 serves again$/);
    const events = async (selector: string) => (await api().get(`/api/v1/namespaces/${namespace}/events`).query({ fieldSelector: selector })).body.items as { involvedObject: { name: string }; message: string }[];
    const failed = await eventually('a RolloutFailed Warning Event', async () => (await events('reason=RolloutFailed,type=Warning')).find((e) => e.involvedObject.name === 'hello'));
    expect(failed.message).toContain('Revision 3 failed: a pod of revision 3 crash-loops');
    const backOff = await eventually('a BackOff Warning Event for the pod', async () => (await events('reason=BackOff')).find((e) => e.involvedObject.name.startsWith('hello-3-')));
    expect(backOff.message).toContain('exited with code 3');
    const rollout = await api().get(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello/log`).query({ version: '3' });
    expect(rollout.status).toBe(200);
    expect(rollout.text).toMatch(/\n--> Failed \(CrashLoopBackOff\): a pod of revision 3 crash-loops: .*; revision 2 serves again\n$/);
  });

  it('rolls back to revision 1 (oc rollback) without a failed request under 8 keep-alive clients; its rollout log, followed, tells each step', async () => {
    let stop = false;
    const outcomes: { status: number; body: string }[] = [];
    const client = async () => {
      while (!stop) outcomes.push(await throughRouter(host).catch((error: Error) => ({ status: 0, body: error.message })));
    };
    const clients = Array.from({ length: 8 }, client);

    const rolledBack = await api().post(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello/rollback`).send({ spec: { revision: 1 } });
    expect(rolledBack.status).toBe(201);
    expect(rolledBack.body.status.latestVersion).toBe(4);
    // Open until revision 4 is Complete.
    const followed = await api().get(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello/log`).query({ follow: 'true' });
    await routeServes('hello v1');
    await eventually('revision 4 alone', async () => ((await podsOf('hello')).every((pod) => pod.metadata.labels.deployment === 'hello-4') ? true : undefined));
    stop = true;
    await Promise.all(clients);

    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    expect(new Set(outcomes.map((outcome) => outcome.body))).toEqual(new Set(['hello v2', 'hello v1']));
    expect(followed.status).toBe(200);
    expect(followed.text).toMatch(/^--> Scaling up hello-4 from 0 to 1, scaling down hello-2 from 1 to 0 \(keep \d+ pods available, don't exceed \d+ pods\)\n( {4}Scaling .*\n)+--> Success\n$/);
  });

  it('stops an old pod only once every router replica has let go of it: a slow request in flight to it through a rollout is answered', async () => {
    const [oldPod] = await podsOf('hello');
    const slow = throughRouter(host, '/?ms=4000');
    // The request reaches the old pod before the rollout starts; the app ends at once on SIGTERM.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await api().post(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello/instantiate`).send({})).status).toBe(201);
    // Answered by the old pod itself, not retried on the new one.
    expect(await slow).toEqual({ status: 200, body: `hello v1 from ${oldPod.metadata.name}` });
    await eventually('revision 5 alone', async () => ((await podsOf('hello')).every((pod) => pod.metadata.labels.deployment === 'hello-5') ? true : undefined));
    expect(execFileSync('docker', ['ps', '-aq', '--filter', `label=paas.dev/pod=${oldPod.metadata.name}`], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('Recreate with lifecycle hooks under 8 keep-alive clients: pre (Abort) and mid (Retry, failing until it may pass) run in the image, a failing post is ignored; only the gap answers 503', async () => {
    const dc = await get('deploymentconfigs', 'hello');
    const containerName = dc.spec.template.spec.containers[0].name;
    const hook = (failurePolicy: string, script: string, env: { name: string; value: string }[] = []) => ({ failurePolicy, execNewPod: { containerName, command: ['node', '-e', script], env } });
    const recreateParams = {
      timeoutSeconds: 120,
      pre: hook('Abort', "console.log('pre ran')"),
      // It fails until 10 s from now: its first run comes a few seconds after the rollout starts (pre, the old pod's drain).
      mid: hook('Retry', 'process.exit(Date.now() < Number(process.env.PASS_FROM) ? 4 : 0)', [{ name: 'PASS_FROM', value: String(Date.now() + 10_000) }]),
      post: hook('Ignore', "console.log('post ran'); process.exit(5)"),
    };
    const updated = await api().put(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello`).send({ ...dc, spec: { ...dc.spec, strategy: { type: 'Recreate', recreateParams } } });
    expect(updated.status).toBe(200);

    let stop = false;
    const outcomes: { status: number; body: string }[] = [];
    const client = async () => {
      while (!stop) outcomes.push(await throughRouter(host).catch((error: Error) => ({ status: 0, body: error.message })));
    };
    const clients = Array.from({ length: 8 }, client);
    const latest = await api().post(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello/instantiate`).send({});
    expect(latest.status).toBe(201);
    const version = latest.body.status.latestVersion;
    const log = await eventually(
      `revision ${version} to complete after its hooks`,
      async () => {
        const res = await api().get(`/api/v1/namespaces/${namespace}/deploymentconfigs/hello/log`).query({ version: String(version) });
        return res.text.includes('--> Success') ? res.text : undefined;
      },
      60_000,
    );
    await routeServes('hello v1');
    stop = true;
    await Promise.all(clients);

    const lines = log.split('\n').filter(Boolean);
    expect(lines).toEqual(
      expect.arrayContaining(['pre ran', '--> pre: Success', '--> mid: Failed (exited with code 4); retrying', '--> mid: Success', 'post ran', '--> post: Failed (exited with code 5); ignored (failurePolicy Ignore)']),
    );
    // pre before the old revision is scaled down, mid between, post last.
    const at = (line: string) => lines.findIndex((l) => l.startsWith(line));
    expect(at('--> pre: Success')).toBeLessThan(at(`    Scaling hello-${version - 1} down`));
    expect(at('--> mid: Success')).toBeLessThan(at(`    Scaling hello-${version} up`));
    expect(at('--> post: Failed')).toBeLessThan(at('--> Success'));
    // No request failed but in the gap Recreate leaves, where the router says so at once.
    expect(outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 503)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.status === 503).length).toBeGreaterThan(0);
    expect(outcomes.at(-1)).toEqual({ status: 200, body: 'hello v1' });
  });

  it("reads a pod's log as kubectl logs does, and refuses a log query it cannot read or a revision that is not there", async () => {
    const [pod] = await podsOf('hello');
    const path = `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/log`;
    const log = await api().get(path).query({ timestamps: 'true', tailLines: '5' });
    expect(log.status).toBe(200);
    expect(log.type).toBe('text/plain');
    for (const line of log.text.split('\n').filter(Boolean)) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z /);
    expect((await api().get(path).query({ tailLines: 'ten' })).status).toBe(400);
    expect((await api().get(path).query({ previous: 'true' })).status).toBe(400);
    expect((await api().get(`/api/v1/namespaces/${namespace}/pods/ghost/log`)).status).toBe(404);
    const rollout = `/api/v1/namespaces/${namespace}/deploymentconfigs/hello/log`;
    expect((await api().get(rollout).query({ version: '0' })).status).toBe(400);
    expect((await api().get(rollout).query({ version: '99' })).status).toBe(404);
    expect((await api().get(`/api/v1/namespaces/${namespace}/deploymentconfigs/ghost/log`)).status).toBe(404);
  });

  it('records the new-app call as one trace across gateway, build, registry and deploy', async () => {
    const services = await eventually('spans of every service in Zipkin', async () => {
      const res = await fetch(`${ZIPKIN_URL}/api/v2/trace/${traceId}`);
      if (res.status !== 200) return undefined;
      const spans = (await res.json()) as { localEndpoint?: { serviceName?: string } }[];
      const names = new Set(spans.map((span) => span.localEndpoint?.serviceName));
      return ['api-gateway', 'build-service', 'registry-service', 'deploy-service'].every((name) => names.has(name)) ? names : undefined;
    }, 30_000, 1_000);
    expect(services.size).toBeGreaterThanOrEqual(4);
  });

  it('ends a build whose assemble fails as Failed with its reason and deploys nothing', async () => {
    brokenRepo.commitFile('README.md', 'no application here\n');
    const created = await api()
      .post(`/api/v1/namespaces/${namespace}/apps`)
      .send({ name: 'broken', source: { git: brokenRepo.dir, ref: 'main' }, builder: 'nodejs' });
    expect(created.status).toBe(201);
    const build = await buildFinished('broken-1');
    expect(build.status).toMatchObject({ phase: 'Failed', reason: 'AssembleFailed', message: expect.any(String) });
    const log = await api().get(`/api/v1/namespaces/${namespace}/builds/broken-1/log`);
    expect(log.text.length).toBeGreaterThan(0);
    expect((await get('deploymentconfigs', 'broken')).status.latestVersion).toBe(0);
    expect(await podsOf('broken')).toEqual([]);
    expect((await throughRouter(`broken-${namespace}.apps.localhost`)).status).toBe(503);
  });

  it.each([
    ['an unknown builder', { builder: 'cobol' }, 'spec.strategy.sourceStrategy.from.name'],
    ['an unreachable git source', { source: { git: '/nonexistent/repository', ref: 'main' } }, 'spec.source.git.uri'],
  ])('refuses %s with 422 and creates nothing', async (_case, override, field) => {
    const res = await api()
      .post(`/api/v1/namespaces/${namespace}/apps`)
      .send({ name: 'ghost', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs', ...override });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'Invalid' });
    expect(JSON.stringify(res.body.details.causes)).toContain(field);
    for (const plural of ['imagestreams', 'services', 'routes', 'deploymentconfigs', 'buildconfigs']) {
      expect((await api().get(`/api/v1/namespaces/${namespace}/${plural}/ghost`)).status).toBe(404);
    }
  });

  it('answers an unknown host with 404 from the router', async () => {
    const res = await throughRouter(`nobody-${namespace}.apps.localhost`);
    expect(res.status).toBe(404);
  });

  it('follows a build log to its end', async () => {
    const followed = await api().get(`/api/v1/namespaces/${namespace}/builds/hello-2/log`).query({ follow: 'true' });
    expect(followed.status).toBe(200);
    expect(followed.text).toContain('Push successful');
    expect((await api().get(`/api/v1/namespaces/${namespace}/builds/nope-1/log`)).status).toBe(404);
  });

  it('deletes a namespace with everything in it', async () => {
    const deleted = await api().delete(`/api/v1/namespaces/${namespace}`);
    expect(deleted.status).toBe(200);
    for (const plural of ['routes', 'services', 'deploymentconfigs', 'buildconfigs', 'builds', 'imagestreams', 'rolebindings', 'serviceaccounts']) {
      expect((await api().get(`/api/v1/namespaces/${namespace}/${plural}`)).body.items).toEqual([]);
    }
    expect((await api().get(`/api/v1/namespaces/${namespace}`)).status).toBe(404);
    await eventually('the pods and their containers to be gone', async () => ((await podsOf('hello')).length === 0 && containersIn(namespace) === '' ? true : undefined), 30_000);
    expect((await throughRouter(host)).status).toBe(404);
  });
});
