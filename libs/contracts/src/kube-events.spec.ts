import { matchesEventFields, type KubeEvent } from './kube-events';
import { parseFieldSelector } from './meta';

const event: KubeEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1-a.0123456789abcdef', namespace: 'demo', uid: 'e1', resourceVersion: '3', creationTimestamp: '2030-01-01T00:00:00.000Z' },
  involvedObject: { kind: 'Pod', name: 'web-1-a', namespace: 'demo', uid: 'p1' },
  reason: 'PodNotReady',
  message: 'Readiness probe failed: GET http://127.0.0.1:40001/ failed 3 times',
  type: 'Warning',
  count: 2,
  firstTimestamp: '2030-01-01T00:00:00.000Z',
  lastTimestamp: '2030-01-01T00:01:00.000Z',
  source: { component: 'deploy-service' },
};

describe('parseFieldSelector', () => {
  it('reads =, == and != terms, as kubectl sends them', () => {
    expect(parseFieldSelector('involvedObject.name=web-1-a, type==Warning,reason!=PodReady')).toEqual([
      { field: 'involvedObject.name', operator: '=', value: 'web-1-a' },
      { field: 'type', operator: '=', value: 'Warning' },
      { field: 'reason', operator: '!=', value: 'PodReady' },
    ]);
    expect(parseFieldSelector(undefined)).toEqual([]);
    expect(parseFieldSelector('')).toEqual([]);
  });

  it('refuses a term that is not field=value or field!=value, naming it', () => {
    for (const selector of ['involvedObject.name', '=web', 'a=b=c', 'a<b']) expect(() => parseFieldSelector(selector)).toThrow(/field selector term/);
  });
});

describe('matchesEventFields', () => {
  it('holds when every term does', () => {
    expect(matchesEventFields(event, parseFieldSelector('involvedObject.name=web-1-a,involvedObject.kind=Pod,type=Warning,source=deploy-service'))).toBe(true);
    expect(matchesEventFields(event, parseFieldSelector('involvedObject.name=web-1-a,reason=PodReady'))).toBe(false);
    expect(matchesEventFields(event, parseFieldSelector('reason!=PodReady'))).toBe(true);
    expect(matchesEventFields(event, parseFieldSelector('involvedObject.uid=p1,metadata.name=web-1-a.0123456789abcdef'))).toBe(true);
  });

  it('reads an absent field as empty', () => {
    const withoutUid = { ...event, involvedObject: { kind: 'Pod', name: 'web-1-a', namespace: 'demo' } };
    expect(matchesEventFields(withoutUid, parseFieldSelector('involvedObject.uid='))).toBe(true);
  });
});
