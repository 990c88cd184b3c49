import type { Container } from '@paas/contracts/deployments';
import { deployFixture, stopFixture, testCipher, type DeployFixture } from '../testing/fakes';
import { ContainerConfigError, ContainerEnvironment } from './container-env';

const meta = (name: string) => ({ name, namespace: 'demo', uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2030-01-01T00:00:00Z' });

describe('ContainerEnvironment', () => {
  let fixture: DeployFixture;
  let environment: ContainerEnvironment;
  const cipher = testCipher();

  beforeEach(async () => {
    fixture = await deployFixture([]);
    environment = new ContainerEnvironment(fixture.informers, cipher);
    fixture.configMaps.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings'), spec: { data: { MODE: 'fast', LEVEL: '3', 'not a name': 'x' } }, status: {} });
    const data = { PASSWORD: Buffer.from('hunter2').toString('base64'), MODE: Buffer.from('secret-mode').toString('base64') };
    fixture.secrets.seed({ apiVersion: 'v1', kind: 'Secret', metadata: meta('db'), spec: { type: 'Opaque', sealed: cipher.seal(data, 'demo', 'db') }, status: {} });
  });
  afterEach(() => stopFixture(fixture));

  const resolve = (container: Partial<Pick<Container, 'env' | 'envFrom'>>) => environment.resolve('demo', { env: [], ...container });

  it('reads envFrom in order (prefix, invalid names skipped), then env, a later name taking the place of an earlier one', () => {
    const env = resolve({
      envFrom: [{ configMapRef: { name: 'settings', optional: false } }, { secretRef: { name: 'db', optional: false }, prefix: 'DB_' }],
      env: [
        { name: 'LEVEL', value: '4' },
        { name: 'MODE', valueFrom: { secretKeyRef: { name: 'db', key: 'MODE', optional: false } } },
        { name: 'EMPTY' },
      ],
    });
    expect(env).toEqual([
      { name: 'MODE', value: 'secret-mode' },
      { name: 'LEVEL', value: '4' },
      { name: 'DB_PASSWORD', value: 'hunter2' },
      { name: 'DB_MODE', value: 'secret-mode' },
      { name: 'EMPTY', value: '' },
    ]);
  });

  it('names what is missing as Kubernetes does, and leaves an optional reference out', () => {
    const ref = (name: string, key: string, optional = false) => ({ name, key, optional });
    expect(() => resolve({ env: [{ name: 'A', valueFrom: { configMapKeyRef: ref('nope', 'a') } }] })).toThrow(new ContainerConfigError('configmap "nope" not found'));
    expect(() => resolve({ env: [{ name: 'A', valueFrom: { secretKeyRef: ref('nope', 'a') } }] })).toThrow('secret "nope" not found');
    expect(() => resolve({ env: [{ name: 'A', valueFrom: { configMapKeyRef: ref('settings', 'missing') } }] })).toThrow("couldn't find key missing in ConfigMap demo/settings");
    expect(() => resolve({ envFrom: [{ secretRef: { name: 'nope', optional: false } }] })).toThrow('secret "nope" not found');
    expect(
      resolve({
        envFrom: [{ configMapRef: { name: 'nope', optional: true } }],
        env: [
          { name: 'A', valueFrom: { secretKeyRef: ref('db', 'missing', true) } },
          { name: 'B', valueFrom: { configMapKeyRef: ref('nope', 'b', true) } },
        ],
      }),
    ).toEqual([]);
  });

  it('says a Secret that does not decrypt cannot be read, without its contents', () => {
    fixture.secrets.seed({ apiVersion: 'v1', kind: 'Secret', metadata: meta('moved'), spec: { type: 'Opaque', sealed: cipher.seal({ K: 'aHVudGVyMg==' }, 'demo', 'db') }, status: {} });
    expect(() => resolve({ envFrom: [{ secretRef: { name: 'moved', optional: false } }] })).toThrow(/secret "moved" cannot be read: .*does not decrypt/);
  });
});
