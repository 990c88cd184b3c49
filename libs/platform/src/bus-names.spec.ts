import { busNames } from './bus-names';

describe('busNames', () => {
  it('uses the contract names unchanged for the platform itself', () => {
    const names = busNames('');
    expect(names.stream).toBe('PAAS_EVENTS');
    expect(names.streamSubjects).toBe('paas.events.>');
    expect(names.event('build.completed')).toBe('paas.events.build.completed');
    expect(names.rpc('builds.get')).toBe('paas.rpc.builds.get');
  });

  it('scopes every subject and the stream under a prefix', () => {
    const names = busNames('test-build-1a2b');
    expect(names.stream).toBe('PAAS_EVENTS_TEST_BUILD_1A2B');
    expect(names.streamSubjects).toBe('test-build-1a2b.paas.events.>');
    expect(names.event('build.completed')).toBe('test-build-1a2b.paas.events.build.completed');
    expect(names.rpc('builds.get')).toBe('test-build-1a2b.paas.rpc.builds.get');
  });
});
