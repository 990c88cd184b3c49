import { deployFixture, stopFixture, testCipher, type DeployFixture } from '../testing/fakes';
import { ConfigMapsService } from '../configmaps/configmaps.service';
import { SecretsService } from './secrets.service';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('SecretsService and ConfigMapsService', () => {
  let fixture: DeployFixture;
  let secrets: SecretsService;
  let configMaps: ConfigMapsService;

  beforeEach(async () => {
    fixture = await deployFixture([]);
    secrets = new SecretsService(fixture.secrets, fixture.informers, testCipher());
    configMaps = new ConfigMapsService(fixture.configMaps, fixture.informers);
  });
  afterEach(() => stopFixture(fixture));

  it('stores a Secret sealed and shows it as Kubernetes does: stringData written into data as base64, never read back', async () => {
    const created = await secrets.create({ namespace: 'demo', body: { metadata: { name: 'db' }, data: { user: b64('ann') }, stringData: { password: 'hunter2' } } });
    expect(created).toEqual(expect.objectContaining({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { user: b64('ann'), password: b64('hunter2') } }));
    expect(created).not.toHaveProperty('stringData');
    const stored = JSON.stringify(await fixture.secrets.get('demo', 'db'));
    expect(stored).not.toMatch(/hunter2|ann"/);
    expect(stored).not.toContain(b64('hunter2'));
    expect((await secrets.list({ namespace: 'demo' })).items.map((item) => item.data)).toEqual([{ user: b64('ann'), password: b64('hunter2') }]);
  });

  it('refuses data that is not base64 with a 422 that does not quote it', async () => {
    const refused = secrets.create({ namespace: 'demo', body: { metadata: { name: 'db' }, data: { password: 'hunter2!' } } });
    await expect(refused).rejects.toMatchObject({ status: expect.objectContaining({ code: 422, message: expect.stringContaining('data.password: must be base64') }) });
    await expect(refused).rejects.not.toMatchObject({ status: expect.objectContaining({ message: expect.stringContaining('hunter2') }) });
  });

  it('keeps an immutable Secret or ConfigMap as it is (labels may change), and a Secret its type', async () => {
    await secrets.create({ namespace: 'demo', body: { metadata: { name: 'db' }, stringData: { password: 'a' }, immutable: true } });
    const again = { metadata: { name: 'db', labels: { team: 'x' } }, stringData: { password: 'a' }, immutable: true };
    expect((await secrets.update({ namespace: 'demo', name: 'db', body: again })).metadata.labels).toEqual({ team: 'x' });
    await expect(secrets.update({ namespace: 'demo', name: 'db', body: { ...again, stringData: { password: 'b' } } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422, message: expect.stringContaining('data: field is immutable when `immutable` is set') }) });
    await expect(secrets.update({ namespace: 'demo', name: 'db', body: { ...again, immutable: false } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422 }) });
    await expect(secrets.update({ namespace: 'demo', name: 'db', body: { ...again, type: 'kubernetes.io/basic-auth' } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422, message: expect.stringContaining('type: field is immutable') }) });

    await configMaps.create({ namespace: 'demo', body: { metadata: { name: 'settings' }, data: { MODE: 'fast' }, immutable: true } });
    await expect(configMaps.update({ namespace: 'demo', name: 'settings', body: { metadata: { name: 'settings' }, data: { MODE: 'slow' }, immutable: true } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422 }) });
    expect((await configMaps.get({ namespace: 'demo', name: 'settings' })).data).toEqual({ MODE: 'fast' });
  });

  it('refuses ConfigMap keys Kubernetes refuses and contents over the size limit', async () => {
    await expect(configMaps.create({ namespace: 'demo', body: { metadata: { name: 'c' }, data: { 'a/b': 'x' } } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422, message: expect.stringContaining('data.a/b') }) });
    await expect(configMaps.create({ namespace: 'demo', body: { metadata: { name: 'c' }, data: { big: 'x'.repeat(300 * 1024) } } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422 }) });
    await expect(configMaps.create({ namespace: 'demo', body: { metadata: { name: 'c' }, data: { k: 'v' }, binaryData: { k: b64('v') } } })).rejects.toMatchObject({ status: expect.objectContaining({ code: 422 }) });
  });
});
