import { randomUUID } from 'node:crypto';
import { resourceRepositoryConformance, type Widget } from '../test/support/resource-repository-conformance';
import { InMemoryResourceRepository } from './in-memory-repository';

describe('InMemoryResourceRepository', () => {
  resourceRepositoryConformance({
    make: async (wiring) => new InMemoryResourceRepository<Widget>('Widget', wiring),
    another: async (first, wiring) => new InMemoryResourceRepository<Widget>('Widget', { ...wiring, sharing: first as InMemoryResourceRepository<Widget> }),
    namespace: () => `ns-${randomUUID().slice(0, 8)}`,
  });
});
