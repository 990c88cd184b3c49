import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { busConnectionOptions, busSettings, SettingError } from './bus-settings';

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

  describe('credentials', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'paas-bus-settings-'));
    const file = (name: string, text: string) => {
      const full = path.join(dir, name);
      writeFileSync(full, text, { mode: 0o600 });
      return full;
    };
    const seed = `SU${'A'.repeat(56)}`;

    it('connects with the NKey of NATS_NKEY_FILE, an inbox of its own on its bus, and its name', () => {
      const options = busConnectionOptions('router', { NATS_NKEY_FILE: file('router.nk', `${seed}\n`), PAAS_BUS_PREFIX: 'copy1000' });
      expect(options).toMatchObject({ servers: ['nats://127.0.0.1:4222'], name: 'router', inboxPrefix: '_INBOX.copy1000.router' });
      expect(typeof options.authenticator).toBe('function');
      expect(busConnectionOptions('router', {}).authenticator).toBeUndefined();
    });

    it('refuses a key file it cannot read or that holds no user seed, without quoting the file', () => {
      expect(() => busSettings({ NATS_NKEY_FILE: path.join(dir, 'missing.nk') })).toThrow(`NATS_NKEY_FILE: cannot read ${path.join(dir, 'missing.nk')} (ENOENT)`);
      const wrong = file('operator.nk', `SO${'B'.repeat(56)}`);
      expect(() => busSettings({ NATS_NKEY_FILE: wrong })).toThrow(`NATS_NKEY_FILE: ${wrong} holds no NKey user seed`);
      expect(() => busSettings({ NATS_NKEY_FILE: wrong })).not.toThrow(/SOBBB/);
    });

    it.each(['a.b', 'x y', '*', '>', 'x'.repeat(65)])('refuses PAAS_BUS_PREFIX=%j: it must be one subject token', (prefix) => {
      expect(() => busSettings({ PAAS_BUS_PREFIX: prefix })).toThrow(SettingError);
      expect(() => busSettings({ PAAS_BUS_PREFIX: prefix })).toThrow('PAAS_BUS_PREFIX must be one NATS subject token');
    });
  });
});
