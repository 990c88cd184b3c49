import Fastify from 'fastify';
import { StatusExceptionFilter } from '@paas/platform/status.filter';
import { addCors } from './cors';

/** A bare Fastify with the CORS hook and one route per method, errors rendered as the gateway's filter does. */
async function server(allowed: string[]) {
  const app = Fastify();
  addCors(app, allowed);
  const filter = new StatusExceptionFilter();
  app.setErrorHandler((error, _request, reply) => filter.catch(error, { switchToHttp: () => ({ getResponse: () => reply }) } as never));
  app.get('/api/v1/namespaces', async () => ({ items: [] }));
  app.post('/api/v1/namespaces', async () => ({ created: true }));
  await app.ready();
  return app;
}

describe('addCors', () => {
  it('answers a preflight from a listed origin with what it may send, and no credentials', async () => {
    const app = await server(['https://console.example.test']);
    const res = await app.inject({ method: 'OPTIONS', url: '/api/v1/namespaces', headers: { origin: 'https://console.example.test', 'access-control-request-method': 'PUT' } });
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': 'https://console.example.test', 'access-control-max-age': '600', vary: 'Origin' });
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses a preflight from any origin when none is listed, without a CORS header', async () => {
    const app = await server([]);
    const res = await app.inject({ method: 'OPTIONS', url: '/api/v1/namespaces', headers: { origin: 'https://console.example.test', 'access-control-request-method': 'GET' } });
    expect(res.statusCode).toBe(403);
    expect(Object.keys(res.headers).some((name) => name.startsWith('access-control-'))).toBe(false);
  });

  it('refuses a foreign write but serves a foreign read without an allowance', async () => {
    const app = await server([]);
    const origin = 'null';
    expect((await app.inject({ method: 'POST', url: '/api/v1/namespaces', headers: { origin } })).statusCode).toBe(403);
    const read = await app.inject({ method: 'GET', url: '/api/v1/namespaces', headers: { origin } });
    expect([read.statusCode, read.headers['access-control-allow-origin']]).toEqual([200, undefined]);
  });

  it('leaves calls without an Origin, or from the gateway\'s own origin, alone', async () => {
    const app = await server([]);
    expect((await app.inject({ method: 'POST', url: '/api/v1/namespaces' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/namespaces', headers: { origin: 'http://127.0.0.1:8000', host: '127.0.0.1:8000' } })).statusCode).toBe(200);
  });
});
