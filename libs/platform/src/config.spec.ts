import { loadConfig } from './config';

describe('loadConfig', () => {
  it('is the platform itself with no offset: default ports, no prefixes, the default instance', () => {
    expect(loadConfig({})).toMatchObject({ registryHost: '127.0.0.1:5000', gatewayUrl: 'http://127.0.0.1:8000', busPrefix: '', dbPrefix: '', instance: 'default' });
  });

  it('makes a copy with moved ports another platform: its own registry, gateway, bus, databases and containers', () => {
    expect(loadConfig({ PAAS_PORT_OFFSET: '1000' })).toMatchObject({
      registryHost: '127.0.0.1:6000',
      gatewayUrl: 'http://127.0.0.1:9000',
      busPrefix: 'copy1000',
      dbPrefix: 'copy1000',
      instance: 'copy1000',
    });
  });

  it('keeps prefixes and addresses given explicitly', () => {
    const config = loadConfig({ PAAS_PORT_OFFSET: '1000', PAAS_BUS_PREFIX: 'ops', PAAS_DB_PREFIX: 'ops_db', REGISTRY_HOST: 'r:1', PAAS_GATEWAY_URL: 'http://g' });
    expect(config).toMatchObject({ busPrefix: 'ops', dbPrefix: 'ops_db', instance: 'ops', registryHost: 'r:1', gatewayUrl: 'http://g' });
  });
});
