import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Build, BuildPhase } from '@paas/contracts/builds';
import { aNode, FakeBuildNodes } from '../testing/fake-nodes';
import type { ContainerRuntime, ContainerSummary } from './pipeline/container-runtime';
import { RemoveBuildLeftovers } from './remove-leftovers.usecase';

function build(name: string, phase: BuildPhase, nodeName?: string): Build {
  return { metadata: { name, namespace: 'demo', uid: `uid-${name}` }, status: { phase, stages: [], nodeName } } as unknown as Build;
}

/** An engine holding the build containers of `names`; what is removed from it lands in `removed` as `<node>:<id>`. */
function engine(node: string, names: string[], removed: string[]): ContainerRuntime {
  const containers: ContainerSummary[] = names.map((name) => ({ id: `c-${name}`, name: `paas-build-demo.${name}`, labels: { 'paas.dev/build': `demo.${name}` } }));
  return { listBuildContainers: async () => containers, remove: async (id: string) => void removed.push(`${node}:${id}`) } as unknown as ContainerRuntime;
}

describe('RemoveBuildLeftovers', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'leftovers-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('on start-up, removes the containers and scratch directories of finished or deleted builds on every Ready node, and keeps those of builds in flight there', async () => {
    const builds = [build('app-1', 'Running', 'local'), build('app-2', 'Pending', 'node-1'), build('app-3', 'Complete', 'local'), build('app-4', 'Failed'), build('app-5', 'Running', 'node-1')];
    const removed: string[] = [];
    for (const scratch of ['demo.app-2-def', 'demo.app-4-ghi']) mkdirSync(path.join(dir, 'work', scratch), { recursive: true });
    const nodes = new FakeBuildNodes([aNode('local'), aNode('node-1'), aNode('node-2', { ready: false })], {
      local: engine('local', ['app-1', 'app-3', 'gone-9', 'app-5'], removed),
      'node-1': engine('node-1', ['app-2', 'app-4'], removed),
      'node-2': engine('node-2', ['app-3'], removed),
    });

    await new RemoveBuildLeftovers({ list: async () => builds }, nodes, { buildsDir: dir }).execute();

    // app-5 runs on node-1: its container on local is an earlier attempt's. node-2 is NotReady: not asked.
    expect(removed.sort()).toEqual(['local:c-app-3', 'local:c-app-5', 'local:c-gone-9', 'node-1:c-app-4']);
    expect(existsSync(path.join(dir, 'work', 'demo.app-2-def'))).toBe(true);
    expect(existsSync(path.join(dir, 'work', 'demo.app-4-ghi'))).toBe(false);
  });

  it('sweeps a node when it turns Ready again, and not on every change of it', async () => {
    const removed: string[] = [];
    const nodes = new FakeBuildNodes([aNode('node-1', { ready: false })], { 'node-1': engine('node-1', ['app-1'], removed) });
    const leftovers = new RemoveBuildLeftovers({ list: async () => [build('app-1', 'New')] }, nodes, { buildsDir: dir });
    const stop = leftovers.watchNodes();

    nodes.set(aNode('node-1', { ready: false }));
    nodes.set(aNode('node-1'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // app-1 is New, not yet placed again: its container is kept.
    expect(removed).toEqual([]);

    const finished = new RemoveBuildLeftovers({ list: async () => [build('app-1', 'Failed')] }, nodes, { buildsDir: dir });
    finished.watchNodes();
    nodes.set(aNode('node-1', { ready: false }));
    nodes.set(aNode('node-1'));
    nodes.set(aNode('node-1'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(removed).toEqual(['node-1:c-app-1']);
    stop();
  });

  it('keeps a builder container started ahead once a build in flight there claimed it (renamed its own), and removes one still waiting', async () => {
    const removed: string[] = [];
    const warm = { 'paas.dev/build': 'warm' };
    const containers: ContainerSummary[] = [
      { id: 'c-claimed', name: 'paas-build-demo.app-1', labels: warm },
      { id: 'c-waiting', name: 'paas-build-warm-1a2b3c4d', labels: warm },
      { id: 'c-done', name: 'paas-build-demo.app-2', labels: warm },
    ];
    const runtime = { listBuildContainers: async () => containers, remove: async (id: string) => void removed.push(id) } as unknown as ContainerRuntime;
    const nodes = new FakeBuildNodes([aNode('local')], { local: runtime });

    await new RemoveBuildLeftovers({ list: async () => [build('app-1', 'Running', 'local'), build('app-2', 'Complete', 'local')] }, nodes, { buildsDir: dir }).execute();

    expect(removed.sort()).toEqual(['c-done', 'c-waiting']);
  });
});
