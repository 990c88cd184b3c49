import { busPermissions, inboxPrefix } from './bus-permissions';

/** Whether a NATS subject pattern list lets `subject` through (`*` one token, `>` the rest). */
function allows(patterns: string[], subject: string): boolean {
  const tokens = subject.split('.');
  return patterns.some((pattern) => {
    const parts = pattern.split('.');
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === '>') return tokens.length > i;
      if (i >= tokens.length || (parts[i] !== '*' && parts[i] !== tokens[i])) return false;
    }
    return parts.length === tokens.length;
  });
}

describe('busPermissions', () => {
  it("keeps the router to its own: no registry token, no one else's events, no one else's requests", () => {
    const router = busPermissions('router', '');
    expect(allows(router.publish, 'paas.rpc.auth.registryToken')).toBe(false);
    expect(allows(router.publish, 'paas.events.endpoints.changed')).toBe(false);
    expect(allows(router.publish, 'paas.events.route.changed')).toBe(true);
    expect(allows(router.publish, 'paas.rpc.endpoints.list')).toBe(true);
    expect(allows(router.subscribe, 'paas.rpc.routes.create')).toBe(true);
    expect(allows(router.subscribe, 'paas.rpc.auth.registryToken')).toBe(false);
    expect(allows(router.subscribe, '_INBOX.abc')).toBe(false);
    expect(allows(router.subscribe, '_INBOX.router.abc.1')).toBe(true);
    expect(allows(router.subscribe, '_INBOX.deploy-service.abc.1')).toBe(false);
  });

  it('lets every router replica answer a traffic question and announce itself, which only the deploy-service hears and asks', () => {
    const router = busPermissions('router', '');
    const deploy = busPermissions('deploy-service', '');
    expect(allows(router.subscribe, 'paas.rpc.router.traffic')).toBe(true);
    expect(allows(router.publish, 'paas.presence.router')).toBe(true);
    expect(allows(router.publish, 'paas.presence.deploy-service')).toBe(false);
    expect(allows(deploy.publish, 'paas.rpc.router.traffic')).toBe(true);
    expect(allows(deploy.subscribe, 'paas.presence.router')).toBe(true);
    expect(allows(busPermissions('build-service', '').subscribe, 'paas.presence.router')).toBe(false);
    expect(allows(busPermissions('build-service', '').publish, 'paas.rpc.router.traffic')).toBe(false);
  });

  it('lets a service use its stream and its own consumers, bound to what it consumes, and never change or delete the stream', () => {
    const deploy = busPermissions('deploy-service', '');
    expect(allows(deploy.publish, '$JS.API.STREAM.CREATE.PAAS_EVENTS')).toBe(true);
    expect(allows(deploy.publish, '$JS.API.STREAM.UPDATE.PAAS_EVENTS')).toBe(false);
    expect(allows(deploy.publish, '$JS.API.STREAM.DELETE.PAAS_EVENTS')).toBe(false);
    expect(allows(deploy.publish, '$JS.API.STREAM.CREATE.SNOOP')).toBe(false);
    expect(allows(deploy.publish, '$JS.API.CONSUMER.CREATE.PAAS_EVENTS.deploy-service--imagestream-updated.paas.events.imagestream.updated')).toBe(true);
    expect(allows(deploy.publish, '$JS.API.CONSUMER.CREATE.PAAS_EVENTS.deploy-service--imagestream-updated.paas.events.build.completed')).toBe(false);
    expect(allows(deploy.publish, '$JS.API.CONSUMER.MSG.NEXT.PAAS_EVENTS.build-service--build-requested')).toBe(false);
    expect(allows(deploy.publish, '$JS.ACK.PAAS_EVENTS.deploy-service--imagestream-updated.1.2.3.4.5')).toBe(true);
    const router = busPermissions('router', '');
    expect(allows(router.publish, '$JS.API.CONSUMER.CREATE.PAAS_EVENTS.router--endpoints-changed--1a2b3c4d.paas.events.endpoints.changed')).toBe(true);
    expect(allows(router.publish, '$JS.API.CONSUMER.CREATE.PAAS_EVENTS.router--x.paas.events.imagestream.updated')).toBe(false);
    // Its consumers of its own take any name; the other services' durable consumers stay theirs.
    const allowed = (subject: string) => allows(router.publish, subject) && !allows(router.publishDeny, subject);
    expect(allowed('$JS.API.CONSUMER.MSG.NEXT.PAAS_EVENTS.router--route-changed--1a2b3c4d')).toBe(true);
    expect(allowed('$JS.API.CONSUMER.MSG.NEXT.PAAS_EVENTS.build-service--build-requested')).toBe(false);
    expect(allowed('$JS.ACK.PAAS_EVENTS.api-gateway--pod-changed.1.2.3.4.5')).toBe(false);
    expect(deploy.publishDeny).toEqual([]);
  });

  it('follows the bus prefix: the same role on the subjects, stream and inbox of that bus only', () => {
    const build = busPermissions('build-service', 'copy1000');
    expect(allows(build.publish, 'copy1000.paas.events.build.completed')).toBe(true);
    expect(allows(build.publish, 'paas.events.build.completed')).toBe(false);
    expect(allows(build.publish, 'copy1000.paas.rpc.auth.registryToken')).toBe(true);
    expect(allows(build.publish, '$JS.API.STREAM.CREATE.PAAS_EVENTS_COPY1000')).toBe(true);
    expect(allows(build.publish, '$JS.API.STREAM.CREATE.PAAS_EVENTS')).toBe(false);
    expect(allows(build.subscribe, 'copy1000.paas.rpc.buildconfigs.instantiate')).toBe(true);
    expect(allows(build.subscribe, 'paas.rpc.buildconfigs.instantiate')).toBe(false);
    expect(inboxPrefix('build-service', 'copy1000')).toBe('_INBOX.copy1000.build-service');
  });

  it("announces only the service's own kinds, and watches those and the kinds its role names", () => {
    const build = busPermissions('build-service', '');
    expect(allows(build.publish, 'paas.watch.build.demo')).toBe(true);
    expect(allows(build.subscribe, 'paas.watch.build.demo')).toBe(true);
    expect(allows(build.publish, 'paas.watch.pod.demo')).toBe(false);
    expect(allows(build.subscribe, 'paas.watch.route.demo')).toBe(false);
    // Nodes: watched for the build-service's node cache, never announced by it.
    expect(allows(build.subscribe, 'paas.watch.node._cluster')).toBe(true);
    expect(allows(build.publish, 'paas.watch.node._cluster')).toBe(false);
  });

  it('lets the build-service ask for the nodes, and not change them', () => {
    const build = busPermissions('build-service', '');
    expect(allows(build.publish, 'paas.rpc.nodes.list')).toBe(true);
    expect(allows(build.publish, 'paas.rpc.nodes.get')).toBe(true);
    expect(allows(build.publish, 'paas.rpc.nodes.update')).toBe(false);
    expect(allows(build.publish, 'paas.rpc.nodes.drain')).toBe(false);
  });

  it("lets only the gateway and the build-service reach the Binary builds' bucket, and no other stream", () => {
    for (const service of ['api-gateway', 'build-service'] as const) {
      const { publish } = busPermissions(service, '');
      expect(allows(publish, '$O.paas-binary-inputs.C.abc')).toBe(true);
      expect(allows(publish, '$JS.API.STREAM.PURGE.OBJ_paas-binary-inputs')).toBe(true);
      expect(allows(publish, '$JS.API.CONSUMER.CREATE.OBJ_paas-binary-inputs.x.$O.paas-binary-inputs.C.abc')).toBe(true);
      expect(allows(publish, '$JS.API.STREAM.PURGE.PAAS_EVENTS')).toBe(false);
      expect(allows(publish, '$JS.API.STREAM.DELETE.OBJ_paas-binary-inputs')).toBe(false);
    }
    for (const service of ['registry-service', 'deploy-service', 'router'] as const) {
      expect(allows(busPermissions(service, '').publish, '$O.paas-binary-inputs.M.abc')).toBe(false);
    }
    expect(allows(busPermissions('build-service', 't1').publish, '$O.t1_paas-binary-inputs.C.abc')).toBe(true);
    expect(allows(busPermissions('build-service', 't1').publish, '$O.paas-binary-inputs.C.abc')).toBe(false);
  });
});
