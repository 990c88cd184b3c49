import type { ContainerRuntime, ImageInfo, RunSpec } from '../builds/pipeline/container-runtime';
import { aNode, FakeBuildNodes } from '../testing/fake-nodes';
import { DescribeBuilders } from './describe-builders.usecase';

const LABELS = { 'io.k8s.display-name': 'Node.js', 'io.k8s.description': 'Builds Node.js apps', 'io.openshift.tags': 'builder,nodejs', 'io.openshift.s2i.scripts-url': 'image:///usr/libexec/s2i' };

/** An engine that has `images` (reference → what it says of it) and runs a usage script by `usage` (exit code and output per image). */
function engine(images: Record<string, ImageInfo>, usage: Record<string, { exitCode: number; output: string }> = {}) {
  const runs: RunSpec[] = [];
  const removed: string[] = [];
  const runtime = {
    inspectImage: async (reference: string) => images[reference],
    run: async (spec: RunSpec) => {
      runs.push(spec);
      const { exitCode, output } = usage[spec.image] ?? { exitCode: 86, output: '' };
      await spec.onOutput(Buffer.from(output));
      return { containerId: 'usage-1', exitCode };
    },
    remove: async (name: string) => void removed.push(name),
  } as unknown as ContainerRuntime;
  return { runtime, runs, removed };
}

describe('DescribeBuilders', () => {
  const builders = { nodejs: 'paas-builder/nodejs:latest', static: 'paas-builder/static:latest' };

  it("describes each catalog builder from the first schedulable node that has its image, with its usage script's output, run once per image", async () => {
    const cordoned = engine({ 'paas-builder/nodejs:latest': { id: 'sha256:old', labels: {}, user: '1001' } });
    const ready = engine(
      { 'paas-builder/nodejs:latest': { id: 'sha256:node', labels: LABELS, user: '1001' }, 'paas-builder/static:latest': { id: 'sha256:static', labels: {}, user: 'root' } },
      { 'paas-builder/nodejs:latest': { exitCode: 0, output: 'paas-builder/nodejs: how to use it\n' } },
    );
    const nodes = new FakeBuildNodes([aNode('cordoned', { unschedulable: true }), aNode('node-1')], { cordoned: cordoned.runtime, 'node-1': ready.runtime });
    const describe = new DescribeBuilders({ builders }, nodes);

    const list = await describe.execute();
    expect(list).toEqual({
      apiVersion: 'v1',
      kind: 'BuilderList',
      items: [
        { name: 'nodejs', image: builders.nodejs, displayName: 'Node.js', description: 'Builds Node.js apps', tags: ['builder', 'nodejs'], detectedBy: ['package.json'], usage: 'paas-builder/nodejs: how to use it\n' },
        // No usage script (exit 86): no usage.
        { name: 'static', image: builders.static, tags: [], detectedBy: ['index.html'] },
      ],
    });
    expect(cordoned.runs).toEqual([]);
    expect(ready.runs.map((run) => run.cmd.at(-1))).toEqual(['/usr/libexec/s2i/usage', '/usr/libexec/s2i/usage']);
    // Never root, never on the network, within a memory limit; each container removed by its name.
    expect(ready.runs[1]).toMatchObject({ user: '1001', resources: { memoryBytes: 64 << 20, networkDisabled: true }, labels: expect.objectContaining({ 'paas.dev/build': 'usage' }) });
    expect(ready.removed).toEqual(ready.runs.map((run) => run.name));

    await describe.execute();
    // What each image answered, text or none, is kept until the image changes.
    expect(ready.runs).toHaveLength(2);
  });

  it('lists the catalog without what no node can say when no build node has the image or none is registered', async () => {
    const list = await new DescribeBuilders({ builders }, new FakeBuildNodes()).execute();
    expect(list.items).toEqual([
      { name: 'nodejs', image: builders.nodejs, tags: [], detectedBy: ['package.json'] },
      { name: 'static', image: builders.static, tags: [], detectedBy: ['index.html'] },
    ]);
  });
});
