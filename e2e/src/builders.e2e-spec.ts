import request from 'supertest';
import { api, GATEWAY_URL } from './support';

/** The builder catalog through the gateway: what each image says of itself, and its s2i usage text, run on a build node. */
describe('GET /api/v1/builders', () => {
  it('lists every catalog builder with its image, description, the files new-app picks it by and its usage; one by name; 404 for another', async () => {
    const list = await api().get('/api/v1/builders');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ apiVersion: 'v1', kind: 'BuilderList' });
    expect(list.body.items.map((item: { name: string }) => item.name)).toEqual(expect.arrayContaining(['nodejs', 'python', 'static']));
    for (const item of list.body.items) {
      expect(item).toMatchObject({ image: `paas-builder/${item.name}:latest`, description: expect.any(String), tags: expect.arrayContaining(['builder']), detectedBy: expect.any(Array) });
      expect(item.usage).toContain(`paas-builder/${item.name}: a source-to-image (S2I) builder`);
    }
    const python = await api().get('/api/v1/builders/python');
    expect(python.status).toBe(200);
    expect(python.body).toMatchObject({ apiVersion: 'v1', kind: 'Builder', name: 'python', detectedBy: ['requirements.txt', 'pyproject.toml', 'setup.py', 'app.py'] });
    expect((await api().get('/api/v1/builders/cobol')).status).toBe(404);
    expect((await request(GATEWAY_URL).get('/api/v1/builders')).status).toBe(401);
  });
});
