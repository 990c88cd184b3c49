import { busSettings, SettingError } from './bus-settings';

describe('busSettings', () => {
  it('is the local single server with no replica count by default', () => {
    expect(busSettings({})).toEqual({ servers: ['nats://127.0.0.1:4222'], streamReplicas: undefined });
  });

  it('lists every server of a comma-separated NATS_URL, as nats.js takes them', () => {
    const settings = busSettings({ NATS_URL: 'nats://127.0.0.1:4222, nats://127.0.0.1:4223,127.0.0.1:4224', PAAS_STREAM_REPLICAS: '3' });
    expect(settings).toEqual({ servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223', '127.0.0.1:4224'], streamReplicas: 3 });
  });

  it('takes credentials, TLS and a host without a port', () => {
    expect(busSettings({ NATS_URL: 'tls://user:secret@nats.example:4443,nats://nats-2' }).servers).toEqual(['tls://user:secret@nats.example:4443', 'nats://nats-2']);
  });

  it.each([
    ['nats://127.0.0.1:abc', /"nats:\/\/127.0.0.1:abc" is not an address/],
    ['nats://127.0.0.1:4222,', /an empty entry/],
    ['nats://a:4222,,nats://b:4222', /an empty entry/],
    ['http://127.0.0.1:4222', /has the scheme http, not nats or tls/],
    ['nats://127.0.0.1:', /has no valid port/],
    ['nats://127.0.0.1:0', /has no valid port/],
    ['nats://127.0.0.1:4222/path', /has a path or query/],
  ])('refuses NATS_URL=%s with a message saying what is wrong', (url, reason) => {
    expect(() => busSettings({ NATS_URL: url })).toThrow(SettingError);
    expect(() => busSettings({ NATS_URL: url })).toThrow(reason);
  });

  it.each(['0', '6', '2.5', 'three'])('refuses PAAS_STREAM_REPLICAS=%s: JetStream keeps a stream on 1 to 5 servers', (value) => {
    expect(() => busSettings({ PAAS_STREAM_REPLICAS: value })).toThrow(new SettingError(`PAAS_STREAM_REPLICAS must be a whole number from 1 to 5 (JetStream's limit), not "${value}"`));
  });
});
