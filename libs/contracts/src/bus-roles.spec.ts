import { BUS_ROLES, EVENT_PUBLISHERS, SERVICES } from './bus-roles';
import { EVENT_TYPES } from './events';
import { RESOURCE_OWNERS, type Plural } from './rpc';

describe('BUS_ROLES', () => {
  const servers = (pattern: string) => SERVICES.filter((service) => BUS_ROLES[service].serves.some((served) => served === pattern || (served.endsWith('.*') && pattern.startsWith(served.slice(0, -1)))));

  it("has each resource's RPCs answered by its owner alone", () => {
    for (const [plural, owner] of Object.entries(RESOURCE_OWNERS) as [Plural, string][]) expect(servers(`${plural}.get`)).toEqual([owner]);
    expect(servers('nodes.get')).toEqual(['deploy-service']);
    expect(servers('imagestreamtags.get')).toEqual(['registry-service']);
  });

  it('leaves auth.* and namespaces.* to the gateway, and lets others ask only the one they need', () => {
    expect(servers('auth.registryToken')).toEqual(['api-gateway']);
    expect(servers('auth.keys')).toEqual(['api-gateway']);
    expect(servers('namespaces.get')).toEqual(['api-gateway']);
    const askers = (method: string) => SERVICES.filter((service) => BUS_ROLES[service].asks.includes(method as never));
    expect(askers('auth.registryToken')).toEqual(['build-service', 'deploy-service']);
    expect(askers('auth.keys')).toEqual(['registry-service']);
    expect(askers('namespaces.get')).toEqual(['registry-service']);
  });

  it('has every event type published by one service and consumed only from a stream someone publishes to', () => {
    expect(Object.keys(EVENT_PUBLISHERS).sort()).toEqual([...EVENT_TYPES].sort());
    for (const service of SERVICES) for (const { type } of BUS_ROLES[service].consumes) expect(EVENT_TYPES).toContain(type);
  });

  it('gives every stored kind one owner', () => {
    const kinds = SERVICES.flatMap((service) => BUS_ROLES[service].kinds);
    expect(new Set(kinds).size).toBe(kinds.length);
  });
});
