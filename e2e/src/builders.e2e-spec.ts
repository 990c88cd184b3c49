import { execFileSync } from 'node:child_process';
import request from 'supertest';
import { api, engineArgumentsFor, GATEWAY_URL } from './support';

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

/**
 * `npm run up` keeps each builder image in the registry, as the image stream `openshift/<name>`
 * (where OpenShift keeps its builder streams), and every node's copy comes from there. An
 * engine that pulled or pushed a layer knows its registry blob, so an app's first push mounts
 * the builder's layer instead of uploading it, whichever node built it and whatever apps were
 * deleted before (nodes.e2e-spec.ts sees the mount on node-1).
 */
describe("the builder images in the platform's registry", () => {
  interface NodeView {
    metadata: { name: string };
    spec: { engine: { url: string; tlsDir?: string }; registryHost: string };
  }

  it('are the image streams openshift/<builder>:latest, and each node holds its builders as pulled from them', async () => {
    const builders = (await api().get('/api/v1/builders').expect(200)).body.items.map((item: { name: string }) => item.name) as string[];
    const nodes = (await api().get('/api/v1/nodes').expect(200)).body.items as NodeView[];
    expect(nodes.length).toBeGreaterThan(0);
    for (const builder of builders) {
      const stream = (await api().get(`/api/v1/namespaces/openshift/imagestreams/${builder}`).expect(200)).body;
      const digest = stream.status.tags.find((tag: { tag: string }) => tag.tag === 'latest')?.items[0]?.image;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      for (const node of nodes) {
        const engine = engineArgumentsFor(node.spec.engine.url, node.spec.engine.tlsDir);
        const repoDigests = JSON.parse(execFileSync('docker', [...engine, 'image', 'inspect', '--format', '{{json .RepoDigests}}', `paas-builder/${builder}:latest`], { encoding: 'utf8' }));
        expect({ node: node.metadata.name, repoDigests }).toEqual({ node: node.metadata.name, repoDigests: expect.arrayContaining([`${node.spec.registryHost}/openshift/${builder}@${digest}`]) });
      }
    }
  });
});
