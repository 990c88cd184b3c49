import { objectMetaInput } from '@paas/contracts/meta';
import { z } from 'zod';
import type { AnyResource } from './resource-repository';
import { dryRunPreview, labelSelectorOf, parseBody, resourceList } from './rpc-input';

const widgetInput = z.object({ metadata: objectMetaInput, spec: z.object({ size: z.number().int().min(1) }) });
const widget = (metadata: Record<string, unknown>, size: unknown = 1) => ({ metadata: { name: 'w', ...metadata }, spec: { size } });
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('parseBody', () => {
  it('accepts a body without a namespace or with the request one', () => {
    expect(parseBody(widgetInput, widget({}), 'Widget', 'demo').metadata.name).toBe('w');
    expect(parseBody(widgetInput, widget({ namespace: 'demo' }), 'Widget', 'demo').metadata.namespace).toBe('demo');
  });

  it('refuses a body naming another namespace with a 400 that names both', () => {
    expect(thrown(() => parseBody(widgetInput, widget({ namespace: 'other' }), 'Widget', 'demo'))).toMatchObject({
      status: { code: 400, reason: 'BadRequest', message: expect.stringMatching(/other.*does not match.*demo/) },
    });
  });

  it('answers an invalid body with a 422 naming the field and the object', () => {
    expect(thrown(() => parseBody(widgetInput, widget({}, 0), 'Widget', 'demo'))).toMatchObject({
      status: { code: 422, reason: 'Invalid', message: expect.stringContaining('Widget "w" is invalid'), details: { causes: [expect.objectContaining({ field: 'spec.size' })] } },
    });
    expect(thrown(() => parseBody(widgetInput, null, 'Widget', 'demo'))).toMatchObject({ status: { code: 422 } });
  });
});

describe('labelSelectorOf', () => {
  it('parses a selector and treats none as match-all', () => {
    expect(labelSelectorOf('app=web,tier=front')).toEqual({ app: 'web', tier: 'front' });
    expect(labelSelectorOf(undefined)).toEqual({});
  });

  it('answers a malformed selector with a 400 Status', () => {
    expect(thrown(() => labelSelectorOf('no-equals'))).toMatchObject({ status: { code: 400, reason: 'BadRequest', message: expect.stringContaining('labelSelector') } });
  });
});

describe('resourceList', () => {
  it('wraps the items in a <Kind>List', () => {
    expect(resourceList('Pod', [1, 2])).toEqual({ apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [1, 2] });
  });
});

describe('dryRunPreview', () => {
  it('answers the resource as it would be stored, with no server-assigned identity', () => {
    const preview = dryRunPreview<AnyResource>('Widget', { metadata: { name: 'w', namespace: 'demo', labels: { app: 'web' } }, spec: { size: 1 }, status: { ready: false } });
    expect(preview).toEqual({
      apiVersion: 'v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'demo', labels: { app: 'web' }, uid: '', resourceVersion: '', generation: 1, creationTimestamp: expect.any(String) },
      spec: { size: 1 },
      status: { ready: false },
    });
    expect(Date.parse(preview.metadata.creationTimestamp)).not.toBeNaN();
  });
});
