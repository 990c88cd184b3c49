import { databaseName } from './mongo';

describe('databaseName', () => {
  it('keeps the name for the platform itself', () => {
    expect(databaseName('paas_registry', '')).toBe('paas_registry');
  });

  it('puts a prefix in front, with characters a database name cannot hold replaced', () => {
    expect(databaseName('paas_registry', 'bench-1a2b')).toBe('bench-1a2b_paas_registry');
    expect(databaseName('paas_registry', 'a.b/c')).toBe('a_b_c_paas_registry');
  });
});
