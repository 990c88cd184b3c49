import { randomUUID } from 'node:crypto';
import { resourceRepositoryConformance, type Widget } from '../test/support/resource-repository-conformance';
import { InMemoryResourceRepository } from './in-memory-repository';

describe('InMemoryResourceRepository', () => {
  resourceRepositoryConformance({
    make: async (wiring) => new InMemoryResourceRepository<Widget>('Widget', wiring),
    namespace: () => `ns-${randomUUID().slice(0, 8)}`,
  });
});
