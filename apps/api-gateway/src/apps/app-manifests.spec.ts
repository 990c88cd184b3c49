import { newAppRequest } from '@paas/contracts/apps';
import { buildConfigInput } from '@paas/contracts/builds';
import { deploymentConfigInput, serviceInput } from '@paas/contracts/deployments';
import { imageStreamInput } from '@paas/contracts/images';
import { routeInput } from '@paas/contracts/routes';
import { appManifests } from './app-manifests';

const request = (overrides: object = {}) =>
  newAppRequest.parse({ name: 'hello', source: { git: 'https://git.example.test/hello.git' }, builder: 'nodejs', ...overrides });

const nodejs = { type: 'Source', builder: 'nodejs', because: 'builder' } as const;

describe('appManifests', () => {
  it('produces resources every owning service accepts', () => {
    const manifests = appManifests(request(), nodejs);
    expect(imageStreamInput.safeParse(manifests.imagestreams).success).toBe(true);
    expect(serviceInput.safeParse(manifests.services).success).toBe(true);
    expect(routeInput.safeParse(manifests.routes).success).toBe(true);
    expect(deploymentConfigInput.safeParse(manifests.deploymentconfigs).error).toBeUndefined();
    expect(buildConfigInput.safeParse(manifests.buildconfigs).error).toBeUndefined();
  });

  it('builds with the builder, or with the repository\'s Dockerfile', () => {
    expect(appManifests(request(), nodejs).buildconfigs.spec.strategy).toEqual({ type: 'Source', sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' }, env: [], incremental: false } });
    const docker = appManifests(request({ builder: undefined }), { type: 'Docker', because: 'Dockerfile' }).buildconfigs;
    expect(buildConfigInput.parse(docker).spec.strategy).toEqual({ type: 'Docker', dockerStrategy: { dockerfilePath: 'Dockerfile', buildArgs: [], noCache: false } });
  });

  it("builds with a builder stream tag of the namespace or another one, rebuilding on its new images, as oc new-app does; refuses any other builder name", () => {
    const source = (builder: string) => {
      const manifests = appManifests(request({ builder }), { type: 'Source', builder, because: 'builder' });
      return buildConfigInput.parse(manifests.buildconfigs).spec;
    };
    expect(source('builders:node-22')).toMatchObject({ strategy: { sourceStrategy: { from: { kind: 'ImageStreamTag', name: 'builders:node-22' } } }, triggers: expect.arrayContaining([{ type: 'ImageChange', imageChange: {} }]) });
    expect(source('shared/builders:node-22').strategy).toMatchObject({ sourceStrategy: { from: { kind: 'ImageStreamTag', namespace: 'shared', name: 'builders:node-22' } } });
    expect(source('nodejs').triggers.map((trigger) => trigger.type)).toEqual(['ConfigChange', 'GitHub', 'Generic']);
    for (const builder of ['Node JS', 'a/b/c:1', 'shared/builders', ':latest', 'x'.repeat(300)]) {
      expect(newAppRequest.safeParse({ name: 'x', source: { git: 'https://git.example.test/x.git' }, builder }).error?.issues.map((issue) => issue.path.join('.'))).toEqual(['builder']);
    }
  });

  it('makes a binary app a Binary BuildConfig with no trigger: it builds when files are uploaded', () => {
    const binary = appManifests(request({ source: { binary: { asFile: 'app.py' } }, builder: 'python' }), { type: 'Source', builder: 'python', because: 'builder' }).buildconfigs;
    expect(buildConfigInput.parse(binary).spec).toMatchObject({ source: { type: 'Binary', binary: { asFile: 'app.py' } }, triggers: [] });
    const causes = (source: object, more: object = {}) => newAppRequest.safeParse({ name: 'x', source, ...more }).error?.issues.map((issue) => issue.path.join('.'));
    expect(causes({ binary: {} })).toEqual(['builder']);
    expect(causes({ binary: {} }, { strategy: 'Docker' })).toBeUndefined();
    expect(causes({})).toEqual(['source.git']);
    expect(causes({ git: 'https://git.example.test/x.git', binary: {} })).toEqual(['source.binary']);
  });

  it('wires build output, image trigger, service selector and pod labels together', () => {
    const { buildconfigs, deploymentconfigs, services, routes } = appManifests(request({ port: 3000, replicas: 2 }), nodejs);
    expect(buildconfigs.spec.output.to).toEqual({ kind: 'ImageStreamTag', name: 'hello:latest' });
    expect(deploymentconfigs.spec.triggers[0]).toMatchObject({ type: 'ImageChange', imageChangeParams: { from: buildconfigs.spec.output.to, containerNames: ['hello'] } });
    expect(deploymentconfigs.spec.template.metadata.labels).toMatchObject(services.spec.selector);
    expect(deploymentconfigs.spec.replicas).toBe(2);
    expect(services.spec.ports[0]).toMatchObject({ port: 3000, targetPort: 3000 });
    expect(deploymentconfigs.spec.template.spec.containers[0].readinessProbe?.httpGet?.port).toBe(3000);
    expect(routes.spec.to.name).toBe(services.metadata.name);
  });

  it('gives the BuildConfig a GitHub and a generic webhook, each with a secret of its own, different in every app', () => {
    const triggersOf = () => appManifests(request(), nodejs).buildconfigs.spec.triggers as { type: string; secret?: string }[];
    const [first, second] = [triggersOf(), triggersOf()];
    expect(first.map((trigger) => trigger.type)).toEqual(['ConfigChange', 'GitHub', 'Generic']);
    const secrets = [...first, ...second].flatMap((trigger) => (trigger.secret ? [trigger.secret] : []));
    expect(secrets).toHaveLength(4);
    expect(new Set(secrets).size).toBe(4);
    for (const secret of secrets) expect(secret).toMatch(/^[\w-]{20}$/);
  });

  it('gives the container the limits asked in Kubernetes quantities, and none when none are asked', () => {
    const [limited] = appManifests(request({ limits: { memory: '256Mi', cpu: '500m' } }), nodejs).deploymentconfigs.spec.template.spec.containers;
    expect(limited.resources).toEqual({ limits: { memoryBytes: 256 * 1024 ** 2, cpuMillis: 500 } });
    expect(deploymentConfigInput.safeParse(appManifests(request({ limits: { cpu: 2 } }), nodejs).deploymentconfigs).error).toBeUndefined();
    expect(appManifests(request(), nodejs).deploymentconfigs.spec.template.spec.containers[0].resources).toBeUndefined();
    const refused = newAppRequest.safeParse({ name: 'hello', source: { git: 'https://git.example.test/hello.git' }, builder: 'nodejs', limits: { memory: '1Ki', cpu: 'lots' } });
    expect(refused.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['limits.memory', 'limits.cpu']);
  });
});
